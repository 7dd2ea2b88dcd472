package pipeline

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetgen/fleetgen/pkg/benchfleet"
	"github.com/fleetgen/fleetgen/pkg/cache"
)

// The applier of a site grants the kinds of its rendered charts: a chart
// edit that adds a kind re-renders the applier files in an incremental run,
// and the tree is the one a cold run makes.
func TestChartKindsReachTheApplier(t *testing.T) {
	dir, inv := chartsFleet(t, 6, "0.3.1")
	c, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	generateCharts(t, dir, inv, c)
	applier := filepath.Join(dir, "fleet", "clusters", benchfleet.SiteName(1), "applier.yaml")
	before, err := os.ReadFile(applier)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(before, []byte("poddisruptionbudgets")) {
		t.Fatal("the applier grants poddisruptionbudgets before the chart has one")
	}

	pdb := "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  maxUnavailable: 1\n  selector:\n    matchLabels: {app: {{ .Release.Name }}}\n"
	if err := os.WriteFile(filepath.Join(dir, "charts", "edge-agent", "templates", "pdb.yaml"), []byte(pdb), 0o644); err != nil {
		t.Fatal(err)
	}
	if n := generateCharts(t, dir, inv, c); n != 6 {
		t.Errorf("a chart edit verified %d sites, want all 6", n)
	}
	after, err := os.ReadFile(applier)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(after, []byte(`- apiGroups: ["policy"]`+"\n"+`    resources: ["poddisruptionbudgets"]`)) {
		t.Errorf("after the chart gained a PodDisruptionBudget, the applier does not grant it:\n%s", after)
	}

	// A cold run with an empty cache writes the same tree.
	cold := t.TempDir()
	if err := os.CopyFS(cold, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(cold, "fleet")); err != nil {
		t.Fatal(err)
	}
	c2, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	generateCharts(t, cold, inv, c2)
	want, got := treeFiles(t, filepath.Join(cold, "fleet")), treeFiles(t, filepath.Join(dir, "fleet"))
	if len(want) != len(got) {
		t.Errorf("incremental tree has %d files, cold %d", len(got), len(want))
	}
	for p, data := range want {
		if !bytes.Equal(got[p], data) {
			t.Errorf("%s differs between the incremental and the cold run", p)
		}
	}
}

// treeFiles reads every file of a generated tree but its state directory.
func treeFiles(t *testing.T, root string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if strings.HasPrefix(rel, ".fleetgen") {
			return nil
		}
		out[rel], err = os.ReadFile(p)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
