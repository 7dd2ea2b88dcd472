package tree

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/fleetgen/fleetgen/pkg/render"
)

const (
	baseK = "base/kustomization.yaml"
	baseD = "base/deploy.yaml"
	ovA   = "overlays/a/kustomization.yaml"
	ovB   = "overlays/b/kustomization.yaml"
)

func TestMakePlanRules(t *testing.T) {
	changedA := file(ovA, "a", "resources: [../../base]\nnamePrefix: a2-\n")
	tests := []struct {
		name string
		// setup prepares root; the sample tree has been applied first
		// when applied is true.
		applied bool
		setup   func(t *testing.T, root string)
		tree    *render.Tree
		force   bool
		want    map[string]Action
		// reason, per path, is a substring the change's Reason must have.
		reason map[string]string
		// old, per path, is the Old content the change must carry.
		old    map[string]string
		inSync bool
		state  LedgerState
		note   string // substring of a note, if any note is expected
		// after, if set, runs after applying the plan (only for plans
		// without conflicts).
		after func(t *testing.T, root string)
	}{
		{
			name:  "new files are created",
			tree:  sample(),
			want:  map[string]Action{baseK: Create, baseD: Create, ovA: Create, ovB: Create},
			state: LedgerMissing,
		},
		{
			name:    "same tree again is in sync",
			applied: true,
			tree:    sample(),
			want:    map[string]Action{baseK: Unchanged, baseD: Unchanged, ovA: Unchanged, ovB: Unchanged},
			inSync:  true,
			state:   LedgerPresent,
		},
		{
			name:    "owned file with new content is updated",
			applied: true,
			tree:    with(sample(), changedA),
			want:    map[string]Action{baseK: Unchanged, baseD: Unchanged, ovA: Update, ovB: Unchanged},
			old:     map[string]string{ovA: "resources: [../../base]\nnamePrefix: a-\n"},
			state:   LedgerPresent,
		},
		{
			name:   "differing file not written by fleetgen is a conflict",
			setup:  func(t *testing.T, root string) { writeFile(t, root, ovA, "mine\n") },
			tree:   sample(),
			want:   map[string]Action{baseK: Create, baseD: Create, ovA: Conflict, ovB: Create},
			reason: map[string]string{ovA: "exists and was not written by fleetgen"},
			old:    map[string]string{ovA: "mine\n"},
			state:  LedgerMissing,
			note:   "no ledger",
		},
		{
			name:   "differing file not written by fleetgen is overwritten with force",
			setup:  func(t *testing.T, root string) { writeFile(t, root, ovA, "mine\n") },
			tree:   sample(),
			force:  true,
			want:   map[string]Action{baseK: Create, baseD: Create, ovA: Update, ovB: Create},
			reason: map[string]string{ovA: "forced"},
			state:  LedgerMissing,
			note:   "no ledger",
		},
		{
			name: "identical file not written by fleetgen is adopted",
			setup: func(t *testing.T, root string) {
				writeFile(t, root, ovA, "resources: [../../base]\nnamePrefix: a-\n")
			},
			tree:   sample(),
			want:   map[string]Action{baseK: Create, baseD: Create, ovA: Unchanged, ovB: Create},
			reason: map[string]string{ovA: "adopted"},
			state:  LedgerMissing,
			note:   "no ledger",
			after: func(t *testing.T, root string) {
				l, err := ReadLedger(root)
				if err != nil {
					t.Fatal(err)
				}
				if _, ok := l.Lookup(ovA); !ok {
					t.Errorf("adopted %s not recorded in the ledger", ovA)
				}
			},
		},
		{
			name: "adoption alone is not in sync: the ledger must record it",
			setup: func(t *testing.T, root string) {
				for _, f := range sample().Files {
					writeFile(t, root, f.Path, string(f.Data))
				}
			},
			tree:  sample(),
			want:  map[string]Action{baseK: Unchanged, baseD: Unchanged, ovA: Unchanged, ovB: Unchanged},
			state: LedgerMissing,
			note:  "no ledger",
			after: func(t *testing.T, root string) { mustInSync(t, root, sample()) },
		},
		{
			name:    "hand-edited file is a conflict carrying the disk content",
			applied: true,
			setup:   func(t *testing.T, root string) { writeFile(t, root, ovA, "edited\n") },
			tree:    with(sample(), changedA),
			want:    map[string]Action{baseK: Unchanged, baseD: Unchanged, ovA: Conflict, ovB: Unchanged},
			reason:  map[string]string{ovA: "edited by hand"},
			old:     map[string]string{ovA: "edited\n"},
			state:   LedgerPresent,
		},
		{
			name:    "hand-edited file conflicts even when the tree did not change",
			applied: true,
			setup:   func(t *testing.T, root string) { writeFile(t, root, ovA, "edited\n") },
			tree:    sample(),
			want:    map[string]Action{baseK: Unchanged, baseD: Unchanged, ovA: Conflict, ovB: Unchanged},
			state:   LedgerPresent,
		},
		{
			name:    "hand-edited file is overwritten with force",
			applied: true,
			setup:   func(t *testing.T, root string) { writeFile(t, root, ovA, "edited\n") },
			tree:    with(sample(), changedA),
			force:   true,
			want:    map[string]Action{baseK: Unchanged, baseD: Unchanged, ovA: Update, ovB: Unchanged},
			old:     map[string]string{ovA: "edited\n"},
			state:   LedgerPresent,
			after:   func(t *testing.T, root string) { mustInSync(t, root, with(sample(), changedA)) },
		},
		{
			name:    "hand edit equal to the new content is accepted",
			applied: true,
			setup:   func(t *testing.T, root string) { writeFile(t, root, ovA, string(changedA.Data)) },
			tree:    with(sample(), changedA),
			want:    map[string]Action{baseK: Unchanged, baseD: Unchanged, ovA: Unchanged, ovB: Unchanged},
			state:   LedgerPresent,
		},
		{
			name:    "owned file removed from disk is recreated",
			applied: true,
			setup:   func(t *testing.T, root string) { os.Remove(filepath.Join(root, ovA)) },
			tree:    sample(),
			want:    map[string]Action{baseK: Unchanged, baseD: Unchanged, ovA: Create, ovB: Unchanged},
			reason:  map[string]string{ovA: "removed from disk"},
			state:   LedgerPresent,
		},
		{
			name:    "file no longer rendered is deleted",
			applied: true,
			tree:    without(sample(), ovB),
			want:    map[string]Action{baseK: Unchanged, baseD: Unchanged, ovA: Unchanged, ovB: Delete},
			old:     map[string]string{ovB: "resources: [../../base]\nnamePrefix: b-\n"},
			state:   LedgerPresent,
			after: func(t *testing.T, root string) {
				if exists(t, root, "overlays/b") {
					t.Error("overlays/b should have been removed once empty")
				}
			},
		},
		{
			name:    "hand-edited file no longer rendered is a conflict",
			applied: true,
			setup:   func(t *testing.T, root string) { writeFile(t, root, ovB, "edited\n") },
			tree:    without(sample(), ovB),
			want:    map[string]Action{baseK: Unchanged, baseD: Unchanged, ovA: Unchanged, ovB: Conflict},
			reason:  map[string]string{ovB: "would be deleted"},
			old:     map[string]string{ovB: "edited\n"},
			state:   LedgerPresent,
		},
		{
			name:    "hand-edited file no longer rendered is deleted with force",
			applied: true,
			setup:   func(t *testing.T, root string) { writeFile(t, root, ovB, "edited\n") },
			tree:    without(sample(), ovB),
			force:   true,
			want:    map[string]Action{baseK: Unchanged, baseD: Unchanged, ovA: Unchanged, ovB: Delete},
			state:   LedgerPresent,
			after: func(t *testing.T, root string) {
				if exists(t, root, ovB) {
					t.Error("forced delete left the file")
				}
			},
		},
		{
			name:    "file no longer rendered and already gone is dropped from the ledger",
			applied: true,
			setup:   func(t *testing.T, root string) { os.Remove(filepath.Join(root, ovB)) },
			tree:    without(sample(), ovB),
			want:    map[string]Action{baseK: Unchanged, baseD: Unchanged, ovA: Unchanged, ovB: Unchanged},
			reason:  map[string]string{ovB: "already gone"},
			state:   LedgerPresent,
			after: func(t *testing.T, root string) {
				l, _ := ReadLedger(root)
				if _, ok := l.Lookup(ovB); ok {
					t.Error("ledger still lists the removed file")
				}
				mustInSync(t, root, without(sample(), ovB))
			},
		},
		{
			name:    "files fleetgen did not write are not in the plan",
			applied: true,
			setup:   func(t *testing.T, root string) { writeFile(t, root, "overlays/a/notes.md", "mine\n") },
			tree:    sample(),
			want:    map[string]Action{baseK: Unchanged, baseD: Unchanged, ovA: Unchanged, ovB: Unchanged},
			inSync:  true,
			state:   LedgerPresent,
		},
		{
			name:    "missing ledger makes every existing file the user's",
			applied: true,
			setup: func(t *testing.T, root string) {
				os.RemoveAll(filepath.Join(root, ledgerDir))
			},
			tree:  with(without(sample(), ovB), changedA),
			want:  map[string]Action{baseK: Unchanged, baseD: Unchanged, ovA: Conflict},
			state: LedgerMissing,
			note:  "no ledger",
		},
		{
			name:    "corrupt ledger: nothing is owned and the plan explains how to adopt",
			applied: true,
			setup: func(t *testing.T, root string) {
				writeFile(t, root, ledgerFileOf("b"), "garbage\n")
			},
			tree:  with(without(sample(), ovB), changedA),
			want:  map[string]Action{baseK: Unchanged, baseD: Unchanged, ovA: Conflict},
			state: LedgerCorrupt,
			note:  "delete .fleetgen/ledger.d/b.ledger",
		},
		{
			name:    "corrupt ledger with force overwrites and rewrites the ledger",
			applied: true,
			setup: func(t *testing.T, root string) {
				writeFile(t, root, ledgerFileOf(""), "garbage\n")
			},
			tree:  with(sample(), changedA),
			force: true,
			want:  map[string]Action{baseK: Unchanged, baseD: Unchanged, ovA: Update, ovB: Unchanged},
			state: LedgerCorrupt,
			note:  "--force",
			after: func(t *testing.T, root string) { mustInSync(t, root, with(sample(), changedA)) },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "out")
			if tc.applied {
				applyTree(t, root, sample(), PlanOptions{})
			}
			if tc.setup != nil {
				tc.setup(t, root)
			}
			p, err := MakePlan(root, tc.tree, PlanOptions{Force: tc.force})
			if err != nil {
				t.Fatalf("MakePlan: %v", err)
			}
			if got := actions(p); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("actions:\n got %v\nwant %v", got, tc.want)
			}
			for path, r := range tc.reason {
				if c := findChange(t, p, path); !strings.Contains(c.Reason, r) {
					t.Errorf("%s: reason %q, want it to mention %q", path, c.Reason, r)
				}
			}
			for path, o := range tc.old {
				if c := findChange(t, p, path); string(c.Old) != o {
					t.Errorf("%s: Old = %q, want %q", path, c.Old, o)
				}
			}
			if p.InSync() != tc.inSync {
				t.Errorf("InSync() = %v, want %v", p.InSync(), tc.inSync)
			}
			if p.Ledger != tc.state {
				t.Errorf("ledger state %v, want %v", p.Ledger, tc.state)
			}
			notes := strings.Join(p.Notes, "\n")
			if tc.note != "" && !strings.Contains(notes, tc.note) {
				t.Errorf("notes %q, want one mentioning %q", notes, tc.note)
			}
			if tc.note == "" && len(p.Notes) > 0 {
				t.Errorf("unexpected notes %q", notes)
			}
			for _, c := range p.Changes {
				if c.Action == Create && c.Old != nil || c.Action == Delete && c.New != nil {
					t.Errorf("%s: %v with Old=%q New=%q", c.Path, c.Action, c.Old, c.New)
				}
			}
			if len(p.Conflicts()) == 0 {
				if err := Apply(context.Background(), p); err != nil {
					t.Fatalf("Apply: %v", err)
				}
				if !tc.inSync {
					mustInSync(t, root, tc.tree)
				}
				if tc.after != nil {
					tc.after(t, root)
				}
			}
		})
	}
}

func TestMakePlanDoesNotCreateRoot(t *testing.T) {
	root := filepath.Join(t.TempDir(), "a", "out")
	if _, err := MakePlan(root, sample(), PlanOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Dir(root)); !os.IsNotExist(err) {
		t.Fatalf("MakePlan created %s (err %v)", filepath.Dir(root), err)
	}
}

func TestMakePlanRejectsBadTrees(t *testing.T) {
	tests := []struct {
		name string
		tree *render.Tree
		want string
	}{
		{"absolute", mkTree(file("/etc/passwd", "", "x")), "relative"},
		{"dot dot", mkTree(file("overlays/../../x", "", "x")), ".."},
		{"dot element", mkTree(file("overlays/./x", "", "x")), "element"},
		{"empty element", mkTree(file("overlays//x", "", "x")), "empty path element"},
		{"empty", mkTree(file("", "", "x")), "empty path"},
		{"bookkeeping dir", mkTree(file(".fleetgen/ledger", "", "x")), "reserved"},
		{"temporary name", mkTree(file("base/.fleetgen-tmp-0011", "", "x")), "reserved"},
		{"temporary name at the top", mkTree(file(".fleetgen-tmp-0011", "", "x")), "reserved"},
		{"bookkeeping name", mkTree(file(".fleetgen", "", "x")), "reserved"},
		{"trailing slash", mkTree(file("base/", "", "x")), "empty path element"},
		{"newline", mkTree(file("base/a\nb", "", "x")), "control"},
		{"duplicate", &render.Tree{Files: []render.File{file("a", "", "x"), file("a", "", "y")}}, "duplicate"},
		{"file and directory", mkTree(file("base", "", "x"), file("base/k.yaml", "", "y")), "parent directory"},
		{"site with space", mkTree(file("a", "my site", "x")), "white space"},
		{"site dash", mkTree(file("a", "-", "x")), "reserved"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := MakePlan(filepath.Join(t.TempDir(), "out"), tc.tree, PlanOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func TestPlanBySite(t *testing.T) {
	root := filepath.Join(t.TempDir(), "out")
	applyTree(t, root, sample(), PlanOptions{})
	tr := with(without(sample(), ovB),
		file(ovA, "a", "changed\n"),
		file("overlays/c/kustomization.yaml", "c", "new\n"),
		file("components/x.yaml", "", "new\n"))
	p, err := MakePlan(root, tr, PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, g := range p.BySite() {
		for _, c := range g.Changes {
			got = append(got, g.Site+":"+c.Action.String()+":"+c.Path)
		}
	}
	want := []string{
		":create:components/x.yaml",
		"a:update:overlays/a/kustomization.yaml",
		"b:delete:overlays/b/kustomization.yaml",
		"c:create:overlays/c/kustomization.yaml",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("BySite:\n got %q\nwant %q", got, want)
	}
}

func TestActionStrings(t *testing.T) {
	for a, want := range map[Action]string{Create: "create", Update: "update", Delete: "delete", Unchanged: "unchanged", Conflict: "conflict"} {
		if a.String() != want {
			t.Errorf("%d.String() = %q, want %q", int(a), a.String(), want)
		}
	}
}
