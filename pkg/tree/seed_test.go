package tree

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/fleetgen/fleetgen/pkg/render"
)

func seed(path, site, data string) render.File {
	f := file(path, site, data)
	f.Seed = true
	return f
}

// TestSeedFiles checks the life of a seed: written when missing, never
// updated, never a conflict, never recorded, never deleted with its site.
func TestSeedFiles(t *testing.T) {
	root := t.TempDir()
	v1 := mkTree(
		file("overlays/a/kustomization.yaml", "a", "gen: 1\n"),
		seed("overlays/a/local/kustomization.yaml", "a", "seed: 1\n"),
	)
	applyTree(t, root, v1, PlanOptions{})
	if got, _ := readFile(t, root, "overlays/a/local/kustomization.yaml"); got != "seed: 1\n" {
		t.Fatalf("seed not written: %q", got)
	}
	led, err := ReadLedger(root)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := led.Lookup("overlays/a/local/kustomization.yaml"); ok {
		t.Fatal("seed recorded in the ledger")
	}

	// The user edits the seed; a new seed content does not touch it and is
	// no conflict, not even with Force.
	writeFile(t, root, "overlays/a/local/kustomization.yaml", "mine\n")
	v2 := mkTree(
		file("overlays/a/kustomization.yaml", "a", "gen: 1\n"),
		seed("overlays/a/local/kustomization.yaml", "a", "seed: 2\n"),
	)
	for _, force := range []bool{false, true} {
		p, err := MakePlan(root, v2, PlanOptions{Force: force})
		if err != nil {
			t.Fatal(err)
		}
		if !p.InSync() {
			t.Fatalf("force=%v: plan not in sync: %+v", force, p.Pending())
		}
	}

	// Removing the site deletes the generated file but keeps the seed.
	applyTree(t, root, mkTree(), PlanOptions{})
	if exists(t, root, "overlays/a/kustomization.yaml") {
		t.Error("generated file of removed site still there")
	}
	if got, _ := readFile(t, root, "overlays/a/local/kustomization.yaml"); got != "mine\n" {
		t.Errorf("seed of removed site changed: %q", got)
	}

	// A deleted seed is written again.
	root2 := t.TempDir()
	applyTree(t, root2, v1, PlanOptions{})
	if err := os.Remove(filepath.Join(root2, "overlays/a/local/kustomization.yaml")); err != nil {
		t.Fatal(err)
	}
	p, err := MakePlan(root2, v1, PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pend := p.Pending(); len(pend) != 1 || pend[0].Action != Create || pend[0].Path != "overlays/a/local/kustomization.yaml" {
		t.Fatalf("deleted seed: want one create, got %+v", pend)
	}
}

// TestPlanOnly: a plan limited to some sites leaves the others' files and
// ledger entries alone, also when they are no longer rendered.
func TestPlanOnly(t *testing.T) {
	root := t.TempDir()
	v1 := mkTree(
		file("base/k.yaml", "", "base: 1\n"),
		file("overlays/a/k.yaml", "a", "a: 1\n"),
		file("overlays/b/k.yaml", "b", "b: 1\n"),
	)
	applyTree(t, root, v1, PlanOptions{})
	// b is edited by hand and no longer rendered; a and base change.
	writeFile(t, root, "overlays/b/k.yaml", "b: mine\n")
	v2 := mkTree(
		file("base/k.yaml", "", "base: 2\n"),
		file("overlays/a/k.yaml", "a", "a: 2\n"),
	)
	only := func(site string) bool { return site == "a" }
	p := applyTree(t, root, v2, PlanOptions{Only: only})
	for _, c := range p.Changes {
		if c.Site == "b" {
			t.Errorf("plan touches unselected site: %+v", c)
		}
	}
	if got, _ := readFile(t, root, "overlays/a/k.yaml"); got != "a: 2\n" {
		t.Errorf("selected site not updated: %q", got)
	}
	if got, _ := readFile(t, root, "base/k.yaml"); got != "base: 2\n" {
		t.Errorf("fleet file not updated: %q", got)
	}
	if got, _ := readFile(t, root, "overlays/b/k.yaml"); got != "b: mine\n" {
		t.Errorf("unselected site's file changed: %q", got)
	}
	led, err := ReadLedger(root)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := led.Lookup("overlays/b/k.yaml"); !ok {
		t.Error("unselected site's ledger entry dropped")
	}
}
