package k3s

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/fleetgen/fleetgen/pkg/inventory"
)

func TestResolve(t *testing.T) {
	set := fstest.MapFS{
		"base/deployment.yaml":                  {Data: []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec:\n  template:\n    spec:\n      nodeSelector:\n        kubernetes.io/os: linux\n        acme.example/zone: front\n")},
		"components/web/ingress.yaml":           {Data: []byte("apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: w}\n")},
		"components/scale/hpa.yaml":             {Data: []byte("apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: b}\nspec:\n  template:\n    spec:\n      affinity:\n        nodeAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n            nodeSelectorTerms:\n              - matchExpressions:\n                  - {key: acme.example/tier, operator: In, values: [gold]}\n")},
		"overlays/{{ .Site.Name }}/x.yaml.tmpl": {Data: []byte("{{ not yaml")},
	}
	sc, err := ScanTemplates(set)
	if err != nil {
		t.Fatal(err)
	}
	site := func(mem string, components ...string) *inventory.Site {
		return &inventory.Site{Name: "s", Region: "eu", Type: "store", Components: components,
			Capacity: inventory.Capacity{Memory: mem},
			K3s:      &inventory.SiteK3s{Version: inventory.K3sVersion, Servers: 1, Datastore: "auto", Disable: []string{"local-storage"}}}
	}
	for _, tc := range []struct {
		name        string
		site        *inventory.Site
		disable     []string
		extraLabels []string
	}{
		{"big device", site("8Gi"), []string{"local-storage"}, []string{"acme.example/zone=front"}},
		{"unknown memory", site(""), []string{"local-storage"}, nil},
		{"small device", site("2Gi"), []string{"local-storage", "metrics-server", "servicelb", "traefik"}, nil},
		{"just below 4Gi", site("4095Mi"), []string{"local-storage", "metrics-server", "servicelb", "traefik"}, nil},
		{"4Gi is not small", site("4Gi"), []string{"local-storage"}, nil},
		{"small with ingress keeps traefik and servicelb", site("2Gi", "web"), []string{"local-storage", "metrics-server"}, nil},
		{"small with hpa keeps metrics-server", site("1Gi", "scale"), []string{"local-storage", "servicelb", "traefik"}, []string{"acme.example/tier=gold"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Resolve(tc.site, sc.Site(tc.site.Components))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(r.Disable, tc.disable) {
				t.Errorf("disable = %q, want %q", r.Disable, tc.disable)
			}
			for _, l := range append([]string{"fleetgen.dev/site=s", "fleetgen.dev/region=eu", "fleetgen.dev/type=store"}, tc.extraLabels...) {
				if !slices.Contains(r.NodeLabels, l) {
					t.Errorf("node labels %q lack %q", r.NodeLabels, l)
				}
			}
			if slices.ContainsFunc(r.NodeLabels, func(l string) bool { return strings.HasPrefix(l, "kubernetes.io/") }) {
				t.Errorf("node labels %q set a kubelet label", r.NodeLabels)
			}
			if r.Datastore != "sqlite" || r.KubeletArgs[0] != "kube-reserved=cpu=500m,memory=768Mi" {
				t.Errorf("datastore %q, kubelet args %q", r.Datastore, r.KubeletArgs)
			}
			for i := range r.Disable {
				if r.Reasons["k3s.resolved.disable["+string(rune('0'+i))+"]"] == "" {
					t.Errorf("disable[%d] has no reason", i)
				}
			}
		})
	}
}

func TestMirrors(t *testing.T) {
	s := &inventory.Site{ImageRegistry: "mirror.local:5000/edge", Images: map[string]string{
		"app": "registry.example.com/shop/app:1", "db": "postgres:16", "cache": "localhost/cache:2"}}
	got := Mirrors(s)
	var regs []string
	for _, m := range got {
		regs = append(regs, m.Registry)
		if m.Endpoint != "https://mirror.local:5000" || m.Rewrite["^(.*)$"] != "edge/$1" {
			t.Errorf("mirror %+v", m)
		}
	}
	if want := []string{"docker.io", "localhost", "registry.example.com"}; !slices.Equal(regs, want) {
		t.Errorf("registries = %q, want %q", regs, want)
	}
	s.ImageRegistry = "mirror.local"
	if m := Mirrors(s)[0]; m.Rewrite != nil {
		t.Errorf("a mirror without a path rewrites: %+v", m)
	}
}
