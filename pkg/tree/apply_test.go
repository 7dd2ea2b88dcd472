package tree

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetgen/fleetgen/pkg/render"
)

func TestApplyLeavesUnchangedFilesAlone(t *testing.T) {
	root := filepath.Join(t.TempDir(), "out")
	applyTree(t, root, sample(), PlanOptions{})
	ageAll(t, root)
	before := snapshot(t, root)

	// Same tree: nothing at all is touched, not even the ledger.
	p := applyTree(t, root, sample(), PlanOptions{})
	if !p.InSync() {
		t.Fatalf("second plan not in sync: %s", describe(p.Pending()))
	}
	if d := diffSnapshots(before, snapshot(t, root)); len(d) > 0 {
		t.Fatalf("in-sync apply changed the tree: %v", d)
	}

	// One changed file: only it (and its directory entry, and the ledger)
	// change.
	applyTree(t, root, with(sample(), file(ovA, "a", "changed\n")), PlanOptions{})
	d := diffSnapshots(before, snapshot(t, root))
	want := []string{"content .fleetgen/ledger.d/a.ledger", "content overlays/a/kustomization.yaml", "mtime .fleetgen", "mtime .fleetgen/ledger.d", "mtime overlays/a"}
	if strings.Join(d, ",") != strings.Join(want, ",") {
		t.Fatalf("changes after one update:\n got %v\nwant %v", d, want)
	}
}

func TestApplyConflictWritesNothing(t *testing.T) {
	root := filepath.Join(t.TempDir(), "out")
	applyTree(t, root, sample(), PlanOptions{})
	writeFile(t, root, ovA, "edited by hand\n")
	ageAll(t, root)
	before := snapshot(t, root)

	// Site a conflicts; every other kind of change is pending elsewhere.
	tr := with(without(sample(), ovB),
		file(ovA, "a", "new a\n"),
		file(baseD, "", "kind: Deployment\nspec: {}\n"),
		file("overlays/c/kustomization.yaml", "c", "new site\n"))
	p, err := MakePlan(root, tr, PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(p.Conflicts()); got != 1 {
		t.Fatalf("%d conflicts, want 1", got)
	}
	err = Apply(context.Background(), p)
	var ce *ConflictError
	if !errors.As(err, &ce) || len(ce.Conflicts) != 1 || ce.Conflicts[0].Path != ovA {
		t.Fatalf("Apply error = %v, want a ConflictError for %s", err, ovA)
	}
	if d := diffSnapshots(before, snapshot(t, root)); len(d) > 0 {
		t.Fatalf("apply with a conflict changed the tree: %v", d)
	}
}

func TestApplyConflictDoesNotCreateRoot(t *testing.T) {
	// A plan can only conflict with an existing root, but make sure the
	// refusal comes before any directory creation too.
	root := filepath.Join(t.TempDir(), "out")
	writeFile(t, root, ovA, "mine\n")
	ageAll(t, root)
	before := snapshot(t, root)
	p, err := MakePlan(root, sample(), PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := Apply(context.Background(), p); err == nil {
		t.Fatal("Apply succeeded despite a conflict")
	}
	if d := diffSnapshots(before, snapshot(t, root)); len(d) > 0 {
		t.Fatalf("tree changed: %v", d)
	}
}

func TestApplyPrunesEmptiedDirectoriesOnly(t *testing.T) {
	tmp := t.TempDir()
	root := filepath.Join(tmp, "out")
	tr := with(sample(),
		file("overlays/c/kustomization.yaml", "c", "c\n"),
		file("overlays/c/patches/replicas.yaml", "c", "r\n"))
	applyTree(t, root, tr, PlanOptions{})
	writeFile(t, root, "overlays/b/notes.md", "user notes\n")
	if err := os.Mkdir(filepath.Join(root, "overlays", "empty-by-user"), 0o755); err != nil {
		t.Fatal(err)
	}

	// Sites b and c go away.
	applyTree(t, root, without(tr, ovB, "overlays/c/kustomization.yaml", "overlays/c/patches/replicas.yaml"), PlanOptions{})
	for rel, want := range map[string]bool{
		"overlays/c":             false, // emptied, with its subdirectory
		"overlays/b":             true,  // still holds the user's file
		"overlays/b/notes.md":    true,
		"overlays/empty-by-user": true, // empty, but not emptied by fleetgen
		"overlays":               true,
	} {
		if got := exists(t, root, rel); got != want {
			t.Errorf("%s exists = %v, want %v", rel, got, want)
		}
	}

	// Everything goes away: the root and .fleetgen stay, as do user files.
	applyTree(t, root, mkTree(), PlanOptions{})
	for rel, want := range map[string]bool{
		"base":                false,
		"overlays/a":          false,
		"overlays/b/notes.md": true,
		".fleetgen/ledger.d":  true,
	} {
		if got := exists(t, root, rel); got != want {
			t.Errorf("%s exists = %v, want %v", rel, got, want)
		}
	}
	if _, err := os.Stat(root); err != nil {
		t.Fatalf("root removed: %v", err)
	}
	if entries, err := os.ReadDir(filepath.Join(root, filepath.FromSlash(ledgerDir))); err != nil || len(entries) != 0 {
		t.Fatalf("ledger after removing everything: %v, %v", entries, err)
	}
}

func TestApplyRefusesStalePlan(t *testing.T) {
	root := filepath.Join(t.TempDir(), "out")
	applyTree(t, root, sample(), PlanOptions{})
	p, err := MakePlan(root, with(sample(), file(ovB, "b", "new b\n")), PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, root, ovA, "edited after the plan\n")
	ageAll(t, root)
	before := snapshot(t, root)
	if err := Apply(context.Background(), p); !errors.Is(err, ErrStalePlan) || !strings.Contains(err.Error(), ovA) {
		t.Fatalf("Apply error = %v, want ErrStalePlan naming %s", err, ovA)
	}
	if d := diffSnapshots(before, snapshot(t, root)); len(d) > 0 {
		t.Fatalf("stale apply changed the tree: %v", d)
	}
}

func TestApplyKeepsFileMode(t *testing.T) {
	root := filepath.Join(t.TempDir(), "out")
	applyTree(t, root, sample(), PlanOptions{})
	if err := os.Chmod(filepath.Join(root, ovA), 0o600); err != nil {
		t.Fatal(err)
	}
	applyTree(t, root, with(sample(), file(ovA, "a", "changed\n")), PlanOptions{})
	fi, err := os.Stat(filepath.Join(root, ovA))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode after update = %v, want 0600", fi.Mode().Perm())
	}
}

func TestApplyInterruptedIsFinishedByNextRun(t *testing.T) {
	root := filepath.Join(t.TempDir(), "out")
	v1 := bigTree(1, 0, 20)
	applyTree(t, root, v1, PlanOptions{})
	v2 := bigTree(2, 5, 25) // sites 0-4 dropped, 20-24 added, the rest changed

	// Cancel after a few files: the journal stays, some files are new.
	interrupt := func(tr *render.Tree, after int) {
		t.Helper()
		p, err := MakePlan(root, tr, PlanOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Conflicts()) > 0 {
			t.Fatalf("conflicts: %s", describe(p.Conflicts()))
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		n := 0
		p.hook = func(step, path string) {
			if step == "written" || step == "deleted" {
				if n++; n == after {
					cancel()
				}
			}
		}
		if err := Apply(ctx, p); !errors.Is(err, context.Canceled) {
			t.Fatalf("Apply error = %v, want context.Canceled", err)
		}
		if !exists(t, root, journalFile) {
			t.Fatal("interrupted apply left no journal")
		}
	}
	interrupt(v2, 30)

	p, err := MakePlan(root, v2, PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Ledger != LedgerRecovered || !strings.Contains(strings.Join(p.Notes, " "), "interrupted") {
		t.Fatalf("ledger state %v, notes %q; want recovered with a note", p.Ledger, p.Notes)
	}
	if len(p.Conflicts()) > 0 {
		t.Fatalf("recovered plan has conflicts: %s", describe(p.Conflicts()))
	}

	// Interrupt the recovery run too, with yet another tree that drops
	// files the first run wrote: ownership must survive both journals.
	v3 := bigTree(3, 10, 25)
	interrupt(v3, 20)
	applyTree(t, root, v3, PlanOptions{})
	mustInSync(t, root, v3)
	if exists(t, root, journalFile) {
		t.Fatal("journal left after a completed apply")
	}
	for s := 0; s < 10; s++ {
		if exists(t, root, siteDir(s)) {
			t.Errorf("%s not removed", siteDir(s))
		}
	}
}

func TestRecoveredHandEditIsStillAConflict(t *testing.T) {
	root := filepath.Join(t.TempDir(), "out")
	applyTree(t, root, sample(), PlanOptions{})
	tr := with(sample(), file(ovA, "a", "new a\n"), file(ovB, "b", "new b\n"))
	p, err := MakePlan(root, tr, PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.hook = func(step, path string) {
		if step == "written" {
			cancel()
		}
	}
	if err := Apply(ctx, p); !errors.Is(err, context.Canceled) {
		t.Fatalf("Apply error = %v", err)
	}
	// overlays/a was written; the user edits it before the next run.
	writeFile(t, root, ovA, "edited after the crash\n")
	p, err = MakePlan(root, tr, PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(p); got[ovA] != Conflict || got[ovB] != Update {
		t.Fatalf("actions %v, want %s conflict and %s update", got, ovA, ovB)
	}
}

func TestApplyLeftoverTemporaryFileOfUnknownOrigin(t *testing.T) {
	root := filepath.Join(t.TempDir(), "out")
	applyTree(t, root, sample(), PlanOptions{})
	tmp := tmpName(ovA)
	writeFile(t, root, tmp, "not from a journal\n")
	p, err := MakePlan(root, with(sample(), file(ovA, "a", "new\n")), PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	err = Apply(context.Background(), p)
	if err == nil || !strings.Contains(err.Error(), "temporary file") {
		t.Fatalf("Apply error = %v, want one about the temporary file", err)
	}
	if got, _ := readFile(t, root, tmp); got != "not from a journal\n" {
		t.Fatal("unknown temporary file was touched")
	}
}
