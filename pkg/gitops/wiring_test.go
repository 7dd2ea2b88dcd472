package gitops_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"filippo.io/age"
	"go.yaml.in/yaml/v3"

	"github.com/fleetgen/fleetgen/pkg/inventory"
	"github.com/fleetgen/fleetgen/pkg/pipeline"
	"github.com/fleetgen/fleetgen/pkg/render"
	"github.com/fleetgen/fleetgen/templates"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// renderFixture renders an inventory with the default template set.
func renderFixture(t *testing.T, name string, data []byte) (*inventory.Fleet, *render.Tree) {
	t.Helper()
	res, err := pipeline.Run(context.Background(), pipeline.Options{Inventory: name, InventoryData: data})
	if err != nil {
		t.Fatalf("render %s: %v", name, err)
	}
	return res.Fleet, res.Tree
}

func isWiring(p string) bool {
	return p == ".sops.yaml" || strings.HasSuffix(p, "/secrets/.sops.yaml") || strings.HasPrefix(p, "clusters/") || strings.HasPrefix(p, "argocd/") ||
		(strings.HasPrefix(p, "overlays/") && strings.HasSuffix(p, "/argocd-site.json"))
}

// TestGolden renders each fixture under testdata/ and compares its wiring
// files (clusters/, argocd/, .sops.yaml) with testdata/<case>/golden/.
// Refresh with go test -update and review the diff.
func TestGolden(t *testing.T) {
	cases, _ := filepath.Glob("testdata/*/inventory.yaml")
	if len(cases) == 0 {
		t.Fatal("no fixtures")
	}
	for _, inv := range cases {
		dir := filepath.Dir(inv)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			data, err := os.ReadFile(inv)
			if err != nil {
				t.Fatal(err)
			}
			_, tree := renderFixture(t, inv, data)
			golden := filepath.Join(dir, "golden")
			got := map[string][]byte{}
			for _, f := range tree.Files {
				if isWiring(f.Path) {
					got[f.Path] = f.Data
				}
			}
			if *update {
				os.RemoveAll(golden)
				for p, d := range got {
					fp := filepath.Join(golden, filepath.FromSlash(p))
					if err := os.MkdirAll(filepath.Dir(fp), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(fp, d, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				return
			}
			want := map[string][]byte{}
			filepath.WalkDir(golden, func(p string, d os.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				rel, _ := filepath.Rel(golden, p)
				b, _ := os.ReadFile(p)
				want[filepath.ToSlash(rel)] = b
				return nil
			})
			for p, d := range got {
				if w, ok := want[p]; !ok {
					t.Errorf("%s: generated, not in golden (run go test -update)", p)
				} else if !bytes.Equal(w, d) {
					t.Errorf("%s differs from golden (run go test -update and review):\n%s", p, d)
				}
			}
			for p := range want {
				if _, ok := got[p]; !ok {
					t.Errorf("%s: in golden, not generated", p)
				}
			}
		})
	}
}

func TestSampleIsWiredForFlux(t *testing.T) {
	fleet, tree := renderFixture(t, "sample", templates.SampleInventory())
	if fleet.GitOps.Engine != inventory.EngineFlux {
		t.Fatalf("sample engine = %q, want flux", fleet.GitOps.Engine)
	}
	for _, s := range fleet.Sites {
		if _, ok := tree.Lookup("clusters/" + s.Name + "/fleet-sync.yaml"); !ok {
			t.Errorf("site %s: no clusters/%s/fleet-sync.yaml", s.Name, s.Name)
		}
	}
}

// docs decodes every YAML document of data.
func docs(t *testing.T, data []byte) []map[string]any {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []map[string]any
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			break
		}
		out = append(out, m)
	}
	return out
}

func get(v any, keys ...any) any {
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			s, _ := v.([]any)
			if k >= len(s) {
				return nil
			}
			v = s[k]
		}
	}
	return v
}

func TestFluxNetworkProfiles(t *testing.T) {
	data, _ := os.ReadFile("testdata/flux-networks/inventory.yaml")
	_, tree := renderFixture(t, "flux-networks", data)
	for _, tc := range []struct {
		site                                         string
		sourceKind, interval, retryInterval, timeout string
		decryption                                   bool
		sourceURL                                    string
	}{
		{"site-online", "GitRepository", "10m", "2m", "5m", true, "ssh://git@git.example.com/edge/fleet.git"},
		{"site-intermittent", "GitRepository", "30m", "10m", "15m", true, "ssh://git@git.example.com/edge/fleet.git"},
		{"site-airgapped", "OCIRepository", "30m", "5m", "10m", false, "oci://mirror.site.local:5000/edge/fleetgen/profiles"},
	} {
		t.Run(tc.site, func(t *testing.T) {
			f, ok := tree.Lookup("clusters/" + tc.site + "/fleet-sync.yaml")
			if !ok {
				t.Fatal("no fleet-sync.yaml")
			}
			ds := docs(t, f.Data)
			if len(ds) != 2 {
				t.Fatalf("%d documents, want source and Kustomization", len(ds))
			}
			src, ks := ds[0], ds[1]
			if src["kind"] != tc.sourceKind || get(src, "spec", "url") != tc.sourceURL {
				t.Errorf("source = %v %v, want %s %s", src["kind"], get(src, "spec", "url"), tc.sourceKind, tc.sourceURL)
			}
			for field, want := range map[string]string{"interval": tc.interval, "retryInterval": tc.retryInterval, "timeout": tc.timeout} {
				if got := get(ks, "spec", field); got != want {
					t.Errorf("spec.%s = %v, want %s", field, got, want)
				}
			}
			if got := get(ks, "spec", "path"); got != "./fleet/edge/overlays/"+tc.site {
				t.Errorf("spec.path = %v", got)
			}
			if get(ks, "spec", "prune") != true || get(ks, "spec", "sourceRef", "kind") != tc.sourceKind {
				t.Errorf("prune/sourceRef wrong: %v", ks["spec"])
			}
			hasDecryption := get(ks, "spec", "decryption", "secretRef", "name") == "sops-age" && get(ks, "spec", "decryption", "provider") == "sops"
			if hasDecryption != tc.decryption {
				t.Errorf("decryption wired = %v, want %v", hasDecryption, tc.decryption)
			}
		})
	}
}

// TestSOPSRules checks .sops.yaml the way sops reads it (first rule whose
// path_regex matches wins) and then encrypts with the chosen recipients:
// the site and the admins can decrypt, no other site can.
func TestSOPSRules(t *testing.T) {
	const sites = 3
	var ids []*age.X25519Identity
	for range sites + 1 {
		id, err := age.GenerateX25519Identity()
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	admin := ids[sites]
	var b strings.Builder
	b.WriteString("apiVersion: fleetgen.dev/v1alpha1\nkind: Inventory\nfleet: f\n")
	b.WriteString("gitops: {engine: flux, repo: https://git.example.com/f.git, adminRecipients: [" + admin.Recipient().String() + "]}\n")
	b.WriteString("defaults: {type: store, region: r, arch: arm64, images: {app: r.example.com/app:1}}\nsites:\n")
	names := []string{"a-site", "a-site-2", "b-site"}
	for i, n := range names {
		b.WriteString("  - name: " + n + "\n    ageRecipient: " + ids[i].Recipient().String() + "\n")
	}
	b.WriteString("  - name: no-key\n")
	_, tree := renderFixture(t, "sops", []byte(b.String()))
	type config struct {
		CreationRules []struct {
			PathRegex string `yaml:"path_regex"`
			Age       string `yaml:"age"`
		} `yaml:"creation_rules"`
	}
	// rulesFor is what sops picks for file (as given on its command line)
	// run in cwd (both relative to the tree root): the first .sops.yaml
	// from cwd upwards, and in it the first rule matching file; nil when
	// there is none, and sops refuses.
	rulesFor2 := func(cwd, file string) []string {
		for dir := cwd; ; dir = path.Dir(dir) {
			if f, ok := tree.Lookup(path.Join(dir, ".sops.yaml")); ok {
				var cfg config
				if err := yaml.Unmarshal(f.Data, &cfg); err != nil {
					t.Fatal(err)
				}
				for _, r := range cfg.CreationRules {
					if regexp.MustCompile(r.PathRegex).MatchString(file) {
						return strings.Split(r.Age, ",")
					}
				}
				return nil
			}
			if dir == "." {
				return nil
			}
		}
	}
	rulesFor := func(p string) []string { return rulesFor2(".", p) }
	for i, n := range names {
		dir := "overlays/" + n + "/secrets"
		for _, run := range []struct{ cwd, file string }{{dir, "db.enc.yaml"}, {dir, "x/y.enc.yml"}, {dir + "/x", "y.enc.yaml"}} {
			p := run.cwd + ": " + run.file
			got := rulesFor2(run.cwd, run.file)
			want := []string{ids[i].Recipient().String(), admin.Recipient().String()}
			if !slices.Equal(got, want) {
				t.Fatalf("%s: recipients %v, want the site's and the admin's %v", p, got, want)
			}
			var recips []age.Recipient
			for _, r := range got {
				rec, err := age.ParseX25519Recipient(r)
				if err != nil {
					t.Fatal(err)
				}
				recips = append(recips, rec)
			}
			var ct bytes.Buffer
			w, err := age.Encrypt(&ct, recips...)
			if err != nil {
				t.Fatal(err)
			}
			w.Write([]byte("password: hunter2\n"))
			w.Close()
			for j, id := range ids {
				_, err := age.Decrypt(bytes.NewReader(ct.Bytes()), id)
				canRead := err == nil
				if wantRead := j == i || id == admin; canRead != wantRead {
					t.Errorf("%s: identity %d can decrypt = %v, want %v", p, j, canRead, wantRead)
				}
			}
		}
		// From the tree root, a site's secret matches no rule: sops
		// refuses rather than encrypting it to the admins alone.
		if got := rulesFor(dir + "/db.enc.yaml"); got != nil {
			t.Errorf("from the root, %s/db.enc.yaml matched %v, want no rule", dir, got)
		}
	}
	// A site without a key has no rule; shared secrets are the admins'.
	if got := rulesFor2("overlays/no-key/secrets", "db.enc.yaml"); got != nil {
		t.Errorf("site without a key: %v, want no rule", got)
	}
	if got := rulesFor("secrets/registry.enc.yaml"); !slices.Equal(got, []string{admin.Recipient().String()}) {
		t.Errorf("shared secret: recipients %v, want the admin only", got)
	}
	// The root file does not grow with the fleet.
	_, one := renderFixture(t, "sops-one", []byte(strings.Replace(b.String(), "  - name: no-key\n", "", 1)[:strings.Index(b.String(), "  - name: a-site-2")]))
	root, _ := tree.Lookup(".sops.yaml")
	rootOne, ok := one.Lookup(".sops.yaml")
	if !ok || !bytes.Equal(root.Data, rootOne.Data) {
		t.Errorf(".sops.yaml differs between a 1-site and a 4-site fleet:\n%s\n---\n%s", rootOne.Data, root.Data)
	}
	// A plain file matches no rule: sops refuses to pick keys for it.
	if got := rulesFor("overlays/a-site/secrets/readme.md"); got != nil {
		t.Errorf("plain file matched a rule: %v", got)
	}
}
