package k3s_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetgen/fleetgen/pkg/k3s"
	"github.com/fleetgen/fleetgen/pkg/pipeline"
	"github.com/fleetgen/fleetgen/pkg/policy"
	"github.com/fleetgen/fleetgen/pkg/render"
)

var update = flag.Bool("update", false, "rewrite the golden bundles")

// renderBundles renders testdata/inventory.yaml with the default template
// set.
func renderBundles(t *testing.T) *render.Tree {
	t.Helper()
	res, err := pipeline.Run(context.Background(), pipeline.Options{Inventory: "testdata/inventory.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	return res.Tree
}

// TestGoldenBundles compares every bootstrap/ file of the four sites with
// testdata/golden/ (refresh with -update and review the diff).
func TestGoldenBundles(t *testing.T) {
	tree := renderBundles(t)
	got := map[string][]byte{}
	for _, f := range tree.Files {
		if strings.HasPrefix(f.Path, "bootstrap/") {
			got[f.Path] = f.Data
		}
	}
	golden := filepath.Join("testdata", "golden")
	if *update {
		if err := os.RemoveAll(golden); err != nil {
			t.Fatal(err)
		}
		for p, data := range got {
			dst := filepath.Join(golden, filepath.FromSlash(p))
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(dst, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := map[string][]byte{}
	err := filepath.WalkDir(golden, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(golden, p)
		want[filepath.ToSlash(rel)] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for p, data := range got {
		if w, ok := want[p]; !ok {
			t.Errorf("%s: generated, not in the golden files (run go test -update)", p)
		} else if !bytes.Equal(w, data) {
			t.Errorf("%s differs from the golden file (run go test -update and review the diff):\n%s", p, data)
		}
	}
	for p := range want {
		if _, ok := got[p]; !ok {
			t.Errorf("%s: in the golden files, no longer generated", p)
		}
	}
	for _, site := range []string{"single", "ha", "airgapped", "small"} {
		if _, ok := got[path.Join("bootstrap", site, k3s.ServerConfig)]; !ok {
			t.Errorf("site %s has no bundle", site)
		}
	}
}

// TestGeneratedBundlesPass checks that every generated bundle passes Check
// with the site's built objects, and that the reserve of the small site is
// its own.
func TestGeneratedBundlesPass(t *testing.T) {
	res, err := pipeline.Run(context.Background(), pipeline.Options{Inventory: "testdata/inventory.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	fleet, tree := res.Fleet, res.Tree
	for _, s := range fleet.Sites {
		files := map[string][]byte{}
		for _, f := range tree.Files {
			if rel, ok := strings.CutPrefix(f.Path, "bootstrap/"+s.Name+"/"); ok {
				files[rel] = f.Data
			}
		}
		if _, ok := files["manifests/fleet-sync.yaml"]; !ok {
			t.Errorf("site %s has no first-boot manifest", s.Name)
		}
		facts, _ := pipeline.SiteFacts(s)
		if fs := k3s.Check(s.Name, files, nil, facts); len(fs) > 0 {
			t.Errorf("site %s: generated bundle has findings: %v", s.Name, fs)
		}
		if s.Name == "small" && !strings.Contains(string(files[k3s.ServerConfig]), "kube-reserved=cpu=300m,memory=640Mi") {
			t.Errorf("small site's config has not its own reserve:\n%s", files[k3s.ServerConfig])
		}
		cpu, mem, _ := policy.Reserve(facts)
		if want := k3s.KubeReservedArg(cpu, mem); !strings.Contains(string(files[k3s.ServerConfig]), want) {
			t.Errorf("site %s: config lacks %s", s.Name, want)
		}
	}
}
