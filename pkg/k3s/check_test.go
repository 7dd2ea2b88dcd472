package k3s

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fleetgen/fleetgen/pkg/inventory"
	"github.com/fleetgen/fleetgen/pkg/policy"
)

// goldenBundle reads a golden bundle of testdata/golden/bootstrap/<site>.
func goldenBundle(t *testing.T, site string) map[string][]byte {
	t.Helper()
	dir := filepath.Join("testdata", "golden", "bootstrap", site)
	names, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, n := range names {
		if n.IsDir() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, n.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[n.Name()] = data
	}
	if data, err := os.ReadFile(filepath.Join(dir, ManifestsDir, "fleet-sync.yaml")); err == nil {
		files[ManifestsDir+"/fleet-sync.yaml"] = data
	}
	return files
}

func deployment(selector map[string]any, affinity []any) policy.Object {
	spec := map[string]any{}
	if selector != nil {
		spec["nodeSelector"] = selector
	}
	if affinity != nil {
		spec["affinity"] = map[string]any{"nodeAffinity": map[string]any{
			"requiredDuringSchedulingIgnoredDuringExecution": map[string]any{"nodeSelectorTerms": affinity}}}
	}
	return policy.Object{"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "app", "namespace": "edge"},
		"spec":     map[string]any{"template": map[string]any{"spec": spec}}}
}

func TestCheck(t *testing.T) {
	haFacts := policy.Facts{Site: "ha", Arch: "amd64", CPU: "4", Memory: "8Gi"}
	smallFacts := policy.Facts{Site: "small", Arch: "arm64", CPU: "2", Memory: "2Gi", ReserveCPU: "300m", ReserveMemory: "640Mi"}
	replace := func(file, old, new string) func(map[string][]byte) {
		return func(f map[string][]byte) {
			if !strings.Contains(string(f[file]), old) {
				panic(file + " has no " + old)
			}
			f[file] = []byte(strings.Replace(string(f[file]), old, new, 1))
		}
	}
	appendTo := func(file, text string) func(map[string][]byte) {
		return func(f map[string][]byte) { f[file] = append(f[file], []byte(text)...) }
	}
	for _, tc := range []struct {
		name  string
		site  string
		facts policy.Facts
		edit  func(map[string][]byte)
		objs  []policy.Object
		want  []string // substrings of the findings, in order; none: passes
	}{
		{name: "ha passes", site: "ha", facts: haFacts,
			objs: []policy.Object{deployment(map[string]any{"kubernetes.io/arch": "amd64", "nvidia.com/gpu.present": "true"}, nil)}},
		{name: "small passes", site: "small", facts: smallFacts},
		{"unknown key", "ha", haFacts, appendTo(ServerConfig, "node-lable: [a=b]\n"), nil,
			[]string{`Bootstrap/ha/config.yaml node-lable: line `, `unknown K3s server flag "node-lable" in K3s v1.33.5+k3s1 (did you mean "node-label"?)`}},
		{"bool as string", "ha", haFacts, replace(ServerConfig, "secrets-encryption: true", `secrets-encryption: "true"`), nil,
			[]string{`config.yaml secrets-encryption: line `, `bool flag: want true or false, got str "true"`}},
		{"mode as number", "ha", haFacts, replace(ServerConfig, `write-kubeconfig-mode: "0600"`, `write-kubeconfig-mode: 0600`), nil,
			[]string{`write-kubeconfig-mode: line`, `string flag: want a string (quote numbers such as "0600"), got int "0600"`}},
		{"list as mapping", "ha", haFacts, appendTo(AgentConfig, "kube-proxy-arg: {a: b}\n"), nil,
			[]string{`agent.yaml kube-proxy-arg`, `want a list of strings, got a mapping`}},
		{"server flag in agent", "ha", haFacts, appendTo(AgentConfig, "cluster-init: true\n"), nil,
			[]string{`agent.yaml cluster-init: line `, `"cluster-init" is a server flag; an agent's config cannot set it`}},
		{"agent flag in server", "ha", haFacts, appendTo(ServerConfig, "disable-apiserver-lb: true\n"), nil,
			[]string{`config.yaml disable-apiserver-lb: line `, `"disable-apiserver-lb" is an agent-only flag; a server's config cannot set it`}},
		{"removed flag name", "ha", haFacts, appendTo(AgentConfig, "flannel-cni-conf-file: /etc/cni.conf\n"), nil,
			[]string{`agent.yaml flannel-cni-conf-file: line `, `unknown K3s agent flag "flannel-cni-conf-file" in K3s v1.33.5+k3s1 (did you mean "flannel-cni-conf"?)`}},
		{"duration flag", "ha", haFacts, appendTo(ServerConfig, "etcd-snapshot-reconcile-interval: 10m\n"), nil, nil},
		{"etcd without cluster-init", "ha", haFacts, replace(ServerConfig, "cluster-init: true\n", ""), nil,
			[]string{`config.yaml cluster-init: the first server of an embedded etcd cluster needs cluster-init: true`}},
		{"sqlite with cluster-init", "small", smallFacts, appendTo(ServerConfig, "cluster-init: true\n"), nil,
			[]string{`cluster-init starts embedded etcd, but the datastore is sqlite`}},
		{"join without server", "ha", haFacts, replace(JoinConfig, "server: https://10.0.0.10:6443\n", ""), nil,
			[]string{`server-join.yaml server: a joining node needs server:`}},
		{"token in git", "ha", haFacts, appendTo(AgentConfig, "token: K10abc\n"), nil,
			[]string{`agent.yaml token: a K3s token must never be in Git`}},
		{"endpoint in git", "small", smallFacts, appendTo(ServerConfig, "datastore-endpoint: postgres://u:p@db/k3s\n"), nil,
			[]string{`datastore-endpoint: the datastore endpoint carries credentials`}},
		{"reserve differs", "small", smallFacts, replace(ServerConfig, "kube-reserved=cpu=300m", "kube-reserved=cpu=200m"), nil,
			[]string{`kubelet-arg: kube-reserved=cpu=200m,memory=640Mi differs from the capacity policy's reserve cpu=300m,memory=640Mi`}},
		{"reserve in other units", "small", smallFacts, replace(ServerConfig, "kube-reserved=cpu=300m", "kube-reserved=cpu=0.3"), nil, nil},
		{"reserve missing", "small", smallFacts, replace(ServerConfig, "  - kube-reserved=cpu=300m,memory=640Mi\n", ""), nil,
			[]string{`kubelet-arg: has no kube-reserved: the kubelet must keep back the capacity policy's reserve (cpu=300m,memory=640Mi)`}},
		{"agents file missing", "ha", haFacts, func(f map[string][]byte) { delete(f, AgentConfig) }, nil,
			[]string{`agent.yaml: is missing from the bundle (agents is 2)`}},
		{"join file on sqlite", "small", smallFacts, func(f map[string][]byte) { f[JoinConfig] = f[ServerConfig] }, nil,
			[]string{`server-join.yaml: is in the bundle but should not be (servers is 1)`}},
		{"even etcd in description", "ha", haFacts, replace(BundleFile, "servers: 3", "servers: 2"), nil,
			[]string{`fleetgen-k3s.yaml datastore: embedded etcd needs an odd number of servers, got 2`}},
		{"other minor release", "ha", haFacts, replace(BundleFile, "v1.33.5+k3s1", "v1.34.1+k3s1"), nil,
			[]string{`fleetgen-k3s.yaml version: K3s v1.34.1+k3s1: the flag table is of v1.33.5+k3s1`}},
		{"missing label", "ha", haFacts, nil,
			[]policy.Object{deployment(map[string]any{"acme.example/zone": "cold"}, nil)},
			[]string{`config.yaml node-label: no node of the bundle has the labels Deployment/edge/app selects: acme.example/zone In cold (nodeSelector.acme.example/zone)`}},
		{"wrong arch", "ha", haFacts, nil,
			[]policy.Object{deployment(map[string]any{"kubernetes.io/arch": "arm64"}, nil)},
			[]string{`kubernetes.io/arch In arm64`}},
		{"affinity met by one term", "ha", haFacts, nil,
			[]policy.Object{deployment(nil, []any{
				map[string]any{"matchExpressions": []any{map[string]any{"key": "zone", "operator": "In", "values": []any{"x"}}}},
				map[string]any{"matchExpressions": []any{map[string]any{"key": "fleetgen.dev/site", "operator": "In", "values": []any{"ha"}}}},
			})}, nil},
		{"affinity unmet", "ha", haFacts, nil,
			[]policy.Object{deployment(nil, []any{
				map[string]any{"matchExpressions": []any{map[string]any{"key": "fleetgen.dev/site", "operator": "NotIn", "values": []any{"ha"}}}},
			})}, []string{`fleetgen.dev/site NotIn ha`}},
		{"ingress with traefik off", "small", smallFacts, nil,
			[]policy.Object{{"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": map[string]any{"name": "web", "namespace": "edge"}}},
			[]string{`config.yaml disable: traefik is disabled but Ingress/edge/web needs an ingress controller`}},
		{"hpa with metrics-server off", "small", smallFacts, nil,
			[]policy.Object{{"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": map[string]any{"name": "web", "namespace": "edge"}}},
			[]string{`metrics-server is disabled but HorizontalPodAutoscaler/edge/web needs resource metrics`}},
		{"flux field mistyped", "ha", haFacts, replace("manifests/fleet-sync.yaml", "  prune: true", "  prune: \"yes\""), nil,
			[]string{`Bootstrap/ha/manifests/fleet-sync.yaml spec.prune: Kustomization/flux-system/fleet-wiring: `}},
		{"flux unknown field", "ha", haFacts, replace("manifests/fleet-sync.yaml", "  prune: true", "  prunne: true"), nil,
			[]string{`manifests/fleet-sync.yaml spec.prunne: Kustomization/flux-system/fleet-wiring: `}},
		{"flux path of another site", "ha", haFacts, replace("manifests/fleet-sync.yaml", "./clusters/ha", "./clusters/other"), nil,
			[]string{`manifests/fleet-sync.yaml spec.path: Kustomization/flux-system/fleet-wiring applies "./clusters/other", not the site's wiring directory clusters/ha/`}},
		{"description missing", "ha", haFacts, func(f map[string][]byte) { delete(f, BundleFile) }, nil,
			[]string{`fleetgen-k3s.yaml: is missing`}},
		{"not yaml", "ha", haFacts, func(f map[string][]byte) { f[ServerConfig] = []byte("a: [\n") }, nil,
			[]string{`config.yaml: is not YAML`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := goldenBundle(t, tc.site)
			if tc.edit != nil {
				tc.edit(files)
			}
			got := Check(tc.site, files, tc.objs, tc.facts)
			var lines []string
			for _, f := range got {
				if f.Policy != PolicyID {
					t.Errorf("finding of policy %q", f.Policy)
				}
				lines = append(lines, f.String())
			}
			all := strings.Join(lines, "\n")
			if len(tc.want) == 0 {
				if len(got) > 0 {
					t.Fatalf("unexpected findings:\n%s", all)
				}
				return
			}
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("findings do not contain %q:\n%s", w, all)
				}
			}
		})
	}
}

func TestFlagTable(t *testing.T) {
	for _, tc := range []struct {
		role Role
		key  string
		kind Kind
		ok   bool
	}{
		{Server, "cluster-init", Bool, true},
		{Server, "node-label", StringSlice, true},
		{Server, "disable", StringSlice, true},
		{Server, "etcd-snapshot-retention", Int, true},
		{Server, "etcd-s3-timeout", Duration, true},
		{Agent, "node-label", StringSlice, true},
		{Agent, "kubelet-arg", StringSlice, true},
		{Agent, "cluster-init", 0, false},
		{Agent, "disable", 0, false},
		{Server, "no-deploy", 0, false},
	} {
		k, ok := Flag(tc.role, tc.key)
		if ok != tc.ok || k != tc.kind {
			t.Errorf("Flag(%s, %q) = %s, %v; want %s, %v", tc.role, tc.key, k, ok, tc.kind, tc.ok)
		}
	}
	// The three tables are disjoint: a flag is either on every node, or
	// on agents only, or on servers only.
	for name, only := range map[string]map[string]Kind{"agent-only": agentOnlyFlags, "server-only": serverOnlyFlags} {
		for k := range only {
			if _, dup := nodeFlags[k]; dup {
				t.Errorf("flag %q is listed as a node flag and %s", k, name)
			}
		}
	}
	for k := range agentOnlyFlags {
		if _, dup := serverOnlyFlags[k]; dup {
			t.Errorf("flag %q is listed as agent-only and server-only", k)
		}
	}
}

// TestFlagTablePinned pins flags whose name, type and roles were checked
// against the K3s v1.33 flag set (see the sources in flags.go): the flags
// the bundle writes, flags whose type is easy to get wrong, the flags the
// table gained when it was checked, and names that do not exist. An edit of
// the table that drops, retypes or moves one of them fails here.
func TestFlagTablePinned(t *testing.T) {
	const none Kind = 0
	for _, tc := range []struct {
		key           string
		server, agent Kind // none: not a flag of that role
	}{
		// Written by the bundle.
		{"cluster-init", Bool, none},
		{"server", String, String},
		{"token-file", String, String},
		{"datastore-endpoint", String, none},
		{"write-kubeconfig-mode", String, none},
		{"secrets-encryption", Bool, none},
		{"protect-kernel-defaults", Bool, Bool},
		{"kube-apiserver-arg", StringSlice, none},
		{"kubelet-arg", StringSlice, StringSlice},
		{"node-label", StringSlice, StringSlice},
		{"node-taint", StringSlice, StringSlice},
		{"disable", StringSlice, none},
		{"embedded-registry", Bool, none},
		// Types easy to get wrong.
		{"tls-san", StringSlice, none},
		{"cluster-cidr", StringSlice, none},
		{"cluster-dns", StringSlice, none},
		{"node-ip", StringSlice, StringSlice},
		{"v", Int, Int},
		{"lb-server-port", Int, Int},
		{"https-listen-port", Int, none},
		{"etcd-snapshot-retention", Int, none},
		{"etcd-s3-timeout", Duration, none},
		{"secrets-encryption-provider", String, none},
		{"agent-token-file", String, none},
		// Gained when the table was checked against K3s v1.33.
		{"etcd-snapshot-reconcile-interval", Duration, none},
		{"etcd-s3-retention", Int, none},
		{"etcd-s3-session-token", String, none},
		{"kine-tls", Bool, none},
		{"flannel-cni-conf", String, String},
		{"disable-apiserver-lb", none, Bool},
		// Not flags of K3s v1.33.
		{"flannel-cni-conf-file", none, none},
		{"no-deploy", none, none},
		{"no-flannel", none, none},
		{"cluster-secret", none, none},
		{"disable-servicelb", none, none},
		{"kube-controller-arg", none, none},
		{"config", none, none},
	} {
		for _, r := range []struct {
			role Role
			want Kind
		}{{Server, tc.server}, {Agent, tc.agent}} {
			k, ok := Flag(r.role, tc.key)
			if ok != (r.want != none) || k != r.want {
				t.Errorf("Flag(%s, %q) = %s, %v; want %s, %v", r.role, tc.key, k, ok, r.want, r.want != none)
			}
		}
	}
	// The listing agrees with the lookup.
	for _, role := range []Role{Server, Agent} {
		names := Flags(role)
		seen := map[string]bool{}
		for _, n := range names {
			if seen[n] {
				t.Errorf("Flags(%s) lists %q twice", role, n)
			}
			seen[n] = true
			if _, ok := Flag(role, n); !ok {
				t.Errorf("Flags(%s) lists %q, which Flag does not know", role, n)
			}
		}
	}
	if n, want := len(Flags(Server)), len(nodeFlags)+len(serverOnlyFlags); n != want {
		t.Errorf("len(Flags(server)) = %d, want %d", n, want)
	}
}

// TestPackagedComponents pins the valid items of K3s v1.33's --disable
// ("coredns, servicelb, traefik, local-storage, metrics-server, runtimes").
func TestPackagedComponents(t *testing.T) {
	got := slices.Clone(inventory.K3sPackagedComponents)
	slices.Sort(got)
	want := []string{"coredns", "local-storage", "metrics-server", "runtimes", "servicelb", "traefik"}
	if !slices.Equal(got, want) {
		t.Errorf("K3sPackagedComponents = %v, want %v", got, want)
	}
}

// FuzzCheck feeds arbitrary config files to Check: it must never panic,
// and every finding names the site's bundle.
func FuzzCheck(f *testing.F) {
	f.Add([]byte("cluster-init: true\nnode-label: [a=b]\n"), []byte("server: https://h:6443\n"))
	f.Add([]byte("kubelet-arg: kube-reserved=cpu=1\n"), []byte("- a\n"))
	f.Add([]byte("a: [\n"), []byte("{}"))
	desc := []byte("apiVersion: fleetgen.dev/v1alpha1\nkind: K3sBundle\nsite: s\nversion: v1.33.5+k3s1\nservers: 3\nagents: 1\ndatastore: etcd\n")
	f.Fuzz(func(t *testing.T, server, agent []byte) {
		files := map[string][]byte{BundleFile: desc, ServerConfig: server, JoinConfig: server, AgentConfig: agent}
		for _, fd := range Check("s", files, []policy.Object{deployment(map[string]any{"x": "y"}, nil)}, policy.Facts{Site: "s"}) {
			if !strings.HasPrefix(fd.Object, "Bootstrap/s/") {
				t.Errorf("finding names %q", fd.Object)
			}
		}
	})
}
