package render

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/fleetgen/fleetgen/pkg/inventory"
	"github.com/fleetgen/fleetgen/templates"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/golden")

// nastyConfig are config values that break naive templating or kustomize's
// literal parsing.
var nastyConfig = map[string]string{
	"PROTOCOL_VERSION": "1.10",
	"TELEMETRY":        "no",
	"ENABLED":          "yes",
	"NOTHING":          "null",
	"TILDE":            "~",
	"FEATURE_MASK":     "0x10",
	"OCTAL":            "0755",
	"GREETING":         "Welcome: scan your card # at the reader",
	"SHIFT_PLAN":       "early: 06:00-14:00\nlate: 14:00-22:00\n",
	"TRAILING_LINES":   "x\n\n",
	"PRICE_PREFIX":     "  € ",
	"LINE_NAME":        `"Line A"`,
	"SINGLE_QUOTED":    `'single'`,
	"LONE_QUOTE":       `"`,
	"TWO_QUOTES":       `""`,
	"EMPTY":            "",
	"RECEIPT_FOOTER":   "{{ not a template }}",
	"ALIAS":            "*ref",
	"ANCHOR":           "&a b",
	"TAG":              "!important",
	"DIRECTIVE":        "%YAML",
	"DASH":             "- item",
	"EQUALS":           "a=b==c",
	"BACKSLASHES":      `C:\edge\n`,
	"TABS":             "a\tb",
	"CRLF":             "a\r\nb",
	"UNICODE":          "Grüße 日本 🚀",
	"JSON":             `{"a": [1, 2]}`,
}

func defaultFleet() *inventory.Fleet {
	img := map[string]string{"app": "registry.acme.example/retail/edge-app:1.10"}
	return &inventory.Fleet{
		Name: "acme-retail",
		Sites: []inventory.Site{
			{
				Name: "factory-lyon-01", Type: "factory", Region: "eu-west", Arch: "amd64",
				Groups:     []string{"eu", "gpu-sites"},
				Capacity:   inventory.Capacity{CPU: "8", Memory: "16Gi"},
				Config:     nastyConfig,
				Images:     map[string]string{"app": "registry.example:5000/retail/edge-app@sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945"},
				Components: []string{"eu-compliance", "gpu"},
				Labels:     map[string]string{"acme.example/legal-entity": "acme-europe-bv", "tier": "no"},
			},
			{
				Name: "store-boston-014", Type: "store", Region: "us-east", Arch: "arm64",
				Config: map[string]string{"LOG_LEVEL": "info"},
				Images: img,
			},
			{
				Name: "store-empty-config", Type: "store", Region: "us-west", Arch: "arm64",
				Images: map[string]string{"app": "edge-app"},
				Labels: map[string]string{},
			},
		},
	}
}

func renderDefault(t testing.TB, f *inventory.Fleet) *Tree {
	t.Helper()
	e, err := Load(templates.FS())
	if err != nil {
		t.Fatal(err)
	}
	tr, err := e.Render(f)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestDefaultSetGolden(t *testing.T) {
	tr := renderDefault(t, defaultFleet())
	again := renderDefault(t, defaultFleet())
	if !reflect.DeepEqual(tr, again) {
		t.Fatal("rendering twice gave different trees")
	}
	dir := filepath.Join("testdata", "golden")
	if *update {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		for _, f := range tr.Files {
			p := filepath.Join(dir, filepath.FromSlash(f.Path))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, f.Data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		data, err := os.ReadFile(p)
		want[filepath.ToSlash(rel)] = data
		return err
	})
	if err != nil {
		t.Fatalf("reading golden tree (run with -update to create it): %v", err)
	}
	for _, f := range tr.Files {
		w, ok := want[f.Path]
		if !ok {
			t.Errorf("%s: not in golden tree (run go test -update)", f.Path)
			continue
		}
		if !bytes.Equal(w, f.Data) {
			t.Errorf("%s differs from golden file (run go test -update and review the diff):\n%s", f.Path, f.Data)
		}
		delete(want, f.Path)
	}
	for p := range want {
		t.Errorf("%s: in golden tree but not rendered", p)
	}
	// Site tags.
	for _, f := range tr.Files {
		wantSite := ""
		if strings.HasPrefix(f.Path, "overlays/") {
			wantSite = strings.Split(f.Path, "/")[1]
		}
		if f.Site != wantSite {
			t.Errorf("%s: Site = %q, want %q", f.Path, f.Site, wantSite)
		}
	}
	if _, ok := tr.Lookup("overlays/store-boston-014/resourcequota.yaml"); ok {
		t.Error("resourcequota.yaml written for a site without capacity")
	}
	for _, f := range tr.Files {
		if strings.HasPrefix(filepath.Base(f.Path), "_") {
			t.Errorf("partial %s written", f.Path)
		}
	}
}

// buildOverlays builds every overlay of the tree with krusty from an
// in-memory filesystem and returns the built objects per site.
func buildOverlays(t *testing.T, tr *Tree) map[string][]map[string]any {
	t.Helper()
	fsys := filesys.MakeFsInMemory()
	for _, f := range tr.Files {
		if err := fsys.WriteFile("/fleet/"+f.Path, f.Data); err != nil {
			t.Fatal(err)
		}
	}
	opts := krusty.MakeDefaultOptions()
	opts.LoadRestrictions = types.LoadRestrictionsRootOnly
	opts.Reorder = krusty.ReorderOptionLegacy
	k := krusty.MakeKustomizer(opts)
	out := map[string][]map[string]any{}
	for _, f := range tr.Files {
		if f.Site == "" || filepath.Base(f.Path) != "kustomization.yaml" {
			continue
		}
		rm, err := k.Run(fsys, "/fleet/"+filepath.ToSlash(filepath.Dir(f.Path)))
		if err != nil {
			t.Fatalf("site %q: kustomize build: %v", f.Site, err)
		}
		y, err := rm.AsYaml()
		if err != nil {
			t.Fatalf("site %q: %v", f.Site, err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(y))
		for {
			var obj map[string]any
			if err := dec.Decode(&obj); err != nil {
				if err.Error() == "EOF" {
					break
				}
				t.Fatalf("site %q: parsing built output: %v", f.Site, err)
			}
			out[f.Site] = append(out[f.Site], obj)
		}
	}
	return out
}

func dig(obj any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := obj.(map[string]any)
			if !ok {
				return nil
			}
			obj = m[k]
		case int:
			l, ok := obj.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			obj = l[k]
		}
	}
	return obj
}

func find(objs []map[string]any, kind, namePrefix string) map[string]any {
	for _, o := range objs {
		name, _ := dig(o, "metadata", "name").(string)
		if o["kind"] == kind && strings.HasPrefix(name, namePrefix) {
			return o
		}
	}
	return nil
}

func TestDefaultSetBuildsWithKustomize(t *testing.T) {
	fleet := defaultFleet()
	built := buildOverlays(t, renderDefault(t, fleet))
	if len(built) != len(fleet.Sites) {
		t.Fatalf("built %d overlays, want %d", len(built), len(fleet.Sites))
	}
	for _, site := range fleet.Sites {
		objs := built[site.Name]
		t.Run(site.Name, func(t *testing.T) {
			wantLabels := map[string]string{
				"fleetgen.dev/site":   site.Name,
				"fleetgen.dev/region": site.Region,
				"fleetgen.dev/type":   site.Type,
			}
			for k, v := range site.Labels {
				wantLabels[k] = v
			}
			eu := contains(site.Components, "eu-compliance")
			for _, o := range objs {
				for k, v := range wantLabels {
					if got := dig(o, "metadata", "labels", k); got != v {
						t.Errorf("%s/%s: label %s = %v, want %q", o["kind"], dig(o, "metadata", "name"), k, got, v)
					}
				}
				if got := dig(o, "metadata", "labels", "compliance.fleetgen.dev/data-residency"); eu && o["kind"] != "ConfigMap" && got != "eu" {
					t.Errorf("%s: data-residency label = %v", o["kind"], got)
				} else if !eu && got != nil {
					t.Errorf("%s: data-residency label on a non-EU site", o["kind"])
				}
				if ns := dig(o, "metadata", "namespace"); o["kind"] != "Namespace" && ns != "edge-app" {
					t.Errorf("%s: namespace = %v", o["kind"], ns)
				}
			}
			dep := find(objs, "Deployment", "edge-app")
			if dep == nil {
				t.Fatal("no Deployment")
			}
			sel := dig(dep, "spec", "selector", "matchLabels").(map[string]any)
			if !reflect.DeepEqual(sel, map[string]any{"app.kubernetes.io/name": "edge-app"}) {
				t.Errorf("selector changed: %v", sel)
			}
			if got := dig(dep, "spec", "template", "metadata", "labels", "fleetgen.dev/site"); got != site.Name {
				t.Errorf("pod template label = %v", got)
			}
			pod := dig(dep, "spec", "template", "spec")
			if got := dig(pod, "nodeSelector", "kubernetes.io/arch"); got != site.Arch {
				t.Errorf("nodeSelector arch = %v, want %s", got, site.Arch)
			}
			ref, _ := SplitImageRef(site.Images["app"])
			wantImage := ref.Name
			if ref.Tag != "" {
				wantImage += ":" + ref.Tag
			}
			if ref.Digest != "" {
				wantImage += "@" + ref.Digest
			}
			if got := dig(pod, "containers", 0, "image"); got != wantImage {
				t.Errorf("image = %v, want %s", got, wantImage)
			}
			gpu := contains(site.Components, "gpu")
			if got := dig(pod, "runtimeClassName"); gpu != (got == "nvidia") {
				t.Errorf("runtimeClassName = %v (gpu %v)", got, gpu)
			}
			if got := dig(pod, "containers", 0, "resources", "limits", "nvidia.com/gpu"); gpu != (got == "1") {
				t.Errorf("gpu limit = %v (gpu %v)", got, gpu)
			}
			if gpu && dig(pod, "nodeSelector", "kubernetes.io/arch") == nil {
				t.Error("gpu patch replaced the arch nodeSelector")
			}
			if got := dig(pod, "containers", 0, "env", 0, "name"); eu != (got == "DATA_RESIDENCY") {
				t.Errorf("env[0] = %v (eu %v)", got, eu)
			}
			cm := find(objs, "ConfigMap", "site-config-")
			if cm == nil {
				t.Fatal("no site-config ConfigMap")
			}
			if got := dig(pod, "containers", 0, "envFrom", 0, "configMapRef", "name"); got != dig(cm, "metadata", "name") {
				t.Errorf("envFrom refers to %v, ConfigMap is %v", got, dig(cm, "metadata", "name"))
			}
			data := map[string]string{}
			if m, ok := cm["data"].(map[string]any); ok {
				for k, v := range m {
					s, ok := v.(string)
					if !ok {
						t.Errorf("data.%s is %T %v, not a string", k, v, v)
					}
					data[k] = s
				}
			}
			if cm["binaryData"] != nil {
				t.Errorf("unexpected binaryData: %v", cm["binaryData"])
			}
			want := site.Config
			if want == nil {
				want = map[string]string{}
			}
			if !reflect.DeepEqual(data, want) {
				for k, v := range want {
					if data[k] != v {
						t.Errorf("config %s: built %q, want %q", k, data[k], v)
					}
				}
				t.Errorf("built ConfigMap data has %d keys, want %d", len(data), len(want))
			}
			quota := find(objs, "ResourceQuota", "site-capacity")
			if hasCap := site.Capacity.CPU != "" || site.Capacity.Memory != ""; hasCap != (quota != nil) {
				t.Errorf("ResourceQuota present = %v, capacity %+v", quota != nil, site.Capacity)
			} else if quota != nil && dig(quota, "spec", "hard", "limits.memory") != site.Capacity.Memory {
				t.Errorf("quota memory = %v", dig(quota, "spec", "hard", "limits.memory"))
			}
			for _, kind := range []string{"Namespace", "ServiceAccount", "Role", "RoleBinding", "Service", "NetworkPolicy"} {
				if find(objs, kind, "") == nil {
					t.Errorf("no %s", kind)
				}
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestDefaultSetRejectsReservedLabelsAndMissingImage(t *testing.T) {
	e, err := Load(templates.FS())
	if err != nil {
		t.Fatal(err)
	}
	f := defaultFleet()
	f.Sites[1].Labels = map[string]string{"fleetgen.dev/site": "x"}
	f.Sites[2].Images = nil
	_, err = e.Render(f)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{`label "fleetgen.dev/site": keys under fleetgen.dev/ are set by fleetgen`, `site "store-empty-config": images.app is required`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

type overlayKustomization struct {
	ConfigMapGenerator []struct {
		Name     string   `yaml:"name"`
		Literals []string `yaml:"literals"`
	} `yaml:"configMapGenerator"`
}

func FuzzRenderConfig(f *testing.F) {
	e, err := Load(templates.FS())
	if err != nil {
		f.Fatal(err)
	}
	for k, v := range nastyConfig {
		f.Add(k, v)
	}
	f.Fuzz(func(t *testing.T, key, value string) {
		if checkConfigMapKey(key) != nil || !utf8.ValidString(value) || strings.ContainsAny(value, "\u0085\u2028\u2029") {
			t.Skip()
		}
		fleet := &inventory.Fleet{Name: "fuzz", Sites: []inventory.Site{{
			Name: "s", Type: "store", Region: "r", Arch: "arm64",
			Config: map[string]string{key: value},
			Images: map[string]string{"app": "app:1"},
		}}}
		tr, err := e.Render(fleet)
		if err != nil {
			t.Fatal(err)
		}
		kf, ok := tr.Lookup("overlays/s/kustomization.yaml")
		if !ok {
			t.Fatal("no overlay kustomization")
		}
		var k overlayKustomization
		if err := yaml.Unmarshal(kf.Data, &k); err != nil {
			t.Fatalf("parsing overlay: %v\n%s", err, kf.Data)
		}
		if len(k.ConfigMapGenerator) != 1 || len(k.ConfigMapGenerator[0].Literals) != 1 {
			t.Fatalf("unexpected generator: %+v", k.ConfigMapGenerator)
		}
		gotKey, gotValue, ok := kustomizeLiteral(k.ConfigMapGenerator[0].Literals[0])
		if !ok || gotKey != key || gotValue != value {
			t.Fatalf("literal %q: kustomize reads %q=%q, want %q=%q", k.ConfigMapGenerator[0].Literals[0], gotKey, gotValue, key, value)
		}
	})
}
