package tree

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/fleetgen/fleetgen/pkg/changes"
	"github.com/fleetgen/fleetgen/pkg/render"
)

const ovCX = "overlays/c/x.yaml"
const ovDK = "overlays/d/k.yaml"

// raceTrees: v1 has sites a, b, c; v2 updates a and b, drops c and adds d.
func raceTrees() (v1, v2 *render.Tree) {
	v1 = with(sample(), file(ovCX, "c", "kind: C\n"))
	v2 = with(sample(),
		file(ovA, "a", "resources: [../../base]\nnamePrefix: a2-\n"),
		file(ovB, "b", "resources: [../../base]\nnamePrefix: b2-\n"),
		file(ovDK, "d", "kind: D\n"))
	return v1, v2
}

func appendFile(t *testing.T, root, rel, data string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(root, filepath.FromSlash(rel)), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(data); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestApplyKeepsEditsMadeWhileWriting edits targets after the plan was
// checked and the journal written, at each step before a file is replaced,
// created or deleted: the edit must survive, be reported as kept, every
// other change must be applied, and the next plan must show the kept files
// as conflicts.
func TestApplyKeepsEditsMadeWhileWriting(t *testing.T) {
	const edit = "# edited by hand while fleetgen was writing\n"
	type target struct {
		path string
		step string // hook step at which the edit is made
	}
	cases := []struct {
		name  string
		edits []target
	}{
		{"after the journal", []target{{ovA, "journal"}, {ovCX, "journal"}, {ovDK, "journal"}}},
		{"right before the update", []target{{ovA, "verify"}}},
		{"right before the create", []target{{ovDK, "verify"}}},
		{"right before the delete", []target{{ovCX, "verify"}}},
		{"after the rename aside of a delete", []target{{ovCX, "aside"}}},
	}
	for _, tc := range cases {
		for _, cached := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/stat cache %v", tc.name, cached), func(t *testing.T) {
				root := filepath.Join(t.TempDir(), "out")
				v1, v2 := raceTrees()
				applyTree(t, root, v1, PlanOptions{})
				opts := PlanOptions{}
				if cached {
					opts.Stats = changes.NewStatCache()
				}
				p, err := MakePlan(root, v2, opts)
				if err != nil {
					t.Fatal(err)
				}
				want := map[string]string{}
				p.hook = func(step, path string) {
					for _, e := range tc.edits {
						switch {
						case e.step == "journal" && step == "journal",
							e.step == "verify" && step == "verify" && path == e.path:
						case e.step == "aside" && step == "aside" && path == asideName(e.path):
							// Written through the name the file has now,
							// as a process that had it open would.
							old, _ := readFile(t, root, path)
							appendFile(t, root, path, edit)
							want[e.path] = old + edit
							continue
						default:
							continue
						}
						if old, ok := readFile(t, root, e.path); ok {
							appendFile(t, root, e.path, edit)
							want[e.path] = old + edit
						} else {
							writeFile(t, root, e.path, edit)
							want[e.path] = edit
						}
					}
				}
				err = Apply(context.Background(), p)
				var ce *ChangedDuringApplyError
				if !errors.As(err, &ce) {
					t.Fatalf("Apply error = %v, want a *ChangedDuringApplyError", err)
				}
				var kept []string
				for _, c := range ce.Kept {
					kept = append(kept, c.Path)
					if c.Action != Conflict || c.Reason == "" {
						t.Errorf("kept %s: action %v, reason %q", c.Path, c.Action, c.Reason)
					}
				}
				var edited []string
				for p, content := range want {
					edited = append(edited, p)
					if got, _ := readFile(t, root, p); got != content {
						t.Errorf("%s: edit lost:\ngot  %q\nwant %q", p, got, content)
					}
				}
				sort.Strings(edited)
				sort.Strings(kept)
				if strings.Join(kept, " ") != strings.Join(edited, " ") {
					t.Errorf("kept %q, want %q", kept, edited)
				}
				if !strings.Contains(err.Error(), "every other change was applied") {
					t.Errorf("error %q does not say the rest was applied", err)
				}
				// Every change not kept was made.
				for _, f := range v2.Files {
					if _, ok := want[f.Path]; ok {
						continue
					}
					if got, _ := readFile(t, root, f.Path); got != string(f.Data) {
						t.Errorf("%s = %q, want %q", f.Path, got, f.Data)
					}
				}
				if _, ok := want[ovCX]; !ok && exists(t, root, ovCX) {
					t.Errorf("%s not deleted", ovCX)
				}
				if exists(t, root, journalFile) || exists(t, root, asideName(ovCX)) || exists(t, root, tmpName(ovDK)) {
					t.Error("journal or temporary file left behind")
				}
				// The next run sees the kept files as conflicts.
				next, err := MakePlan(root, v2, PlanOptions{})
				if err != nil {
					t.Fatal(err)
				}
				got := actions(next)
				for _, p := range edited {
					if got[p] != Conflict {
						t.Errorf("next plan: %s is %v, want conflict", p, got[p])
					}
				}
				if len(next.Conflicts()) != len(edited) {
					t.Errorf("next plan conflicts: %s", describe(next.Conflicts()))
				}
			})
		}
	}
}

// TestApplyRestoresAsideFileAfterCrash stops an apply right after it renamed
// a file to delete aside (as a crash would) and edits the renamed file: the
// next run puts it back, reports it, and finishes the rest. Without the edit
// the next run just completes the delete.
func TestApplyRestoresAsideFileAfterCrash(t *testing.T) {
	for _, edited := range []bool{false, true} {
		t.Run(fmt.Sprintf("edited %v", edited), func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "out")
			v1, v2 := raceTrees()
			applyTree(t, root, v1, PlanOptions{})
			p, err := MakePlan(root, v2, PlanOptions{})
			if err != nil {
				t.Fatal(err)
			}
			p.hook = func(step, path string) {
				if step == "aside" {
					if edited {
						appendFile(t, root, path, "# mine\n")
					}
					runtime.Goexit() // the process dies here
				}
			}
			done := make(chan struct{})
			go func() {
				defer close(done)
				Apply(context.Background(), p)
			}()
			<-done
			if !exists(t, root, journalFile) || !exists(t, root, asideName(ovCX)) {
				t.Fatal("the stopped apply left no journal or no aside file")
			}
			p, err = MakePlan(root, v2, PlanOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if cs := p.Conflicts(); len(cs) > 0 {
				t.Fatalf("conflicts: %s", describe(cs))
			}
			err = Apply(context.Background(), p)
			if exists(t, root, asideName(ovCX)) || exists(t, root, journalFile) {
				t.Error("aside file or journal left behind")
			}
			if !edited {
				if err != nil {
					t.Fatalf("Apply: %v", err)
				}
				if exists(t, root, ovCX) {
					t.Errorf("%s not deleted", ovCX)
				}
				mustInSync(t, root, v2)
				return
			}
			var ce *ChangedDuringApplyError
			if !errors.As(err, &ce) || len(ce.Kept) != 1 || ce.Kept[0].Path != ovCX {
				t.Fatalf("Apply error = %v, want %s kept", err, ovCX)
			}
			if got, _ := readFile(t, root, ovCX); got != "kind: C\n# mine\n" {
				t.Errorf("%s = %q, want the edit", ovCX, got)
			}
			next, err := MakePlan(root, v2, PlanOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := actions(next); got[ovCX] != Conflict || len(next.Conflicts()) != 1 {
				t.Errorf("next plan: %s", describe(next.Pending()))
			}
		})
	}
}

// TestApplyNeverLosesConcurrentEdits runs Apply while two goroutines append
// to files of the tree. An edit that completes outside the window between a
// target's last check and its replacement or deletion (the hook brackets
// that window; docs/regeneration.md describes it) must be on disk afterwards,
// and the next plan must report every edited file as a conflict.
func TestApplyNeverLosesConcurrentEdits(t *testing.T) {
	for round := range 4 {
		t.Run(fmt.Sprint(round), func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "out")
			v1, v2 := bigTree(1, 0, 20), bigTree(2, 5, 25)
			applyTree(t, root, v1, PlanOptions{})
			var paths []string
			for _, f := range v1.Files {
				paths = append(paths, f.Path)
			}
			for _, f := range v2.Files {
				paths = append(paths, f.Path)
			}
			p, err := MakePlan(root, v2, PlanOptions{Stats: changes.NewStatCache()})
			if err != nil {
				t.Fatal(err)
			}
			var window sync.Mutex // held by Apply from a target's check to its replacement
			inWindow := false
			start := make(chan struct{})
			p.hook = func(step, path string) {
				switch step {
				case "journal":
					close(start)
				case "verify":
					window.Lock()
					inWindow = true
				case "written", "deleted", "kept":
					if inWindow {
						inWindow = false
						window.Unlock()
					}
				}
			}
			type editRec struct{ path, line string }
			var mu sync.Mutex
			var edits []editRec
			stop := make(chan struct{})
			var wg sync.WaitGroup
			for g := range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					rng := rand.New(rand.NewPCG(uint64(round), uint64(g)))
					for n := range 150 {
						select {
						case <-stop:
							return
						default:
						}
						path := paths[rng.IntN(len(paths))]
						line := fmt.Sprintf("# edit %d-%d\n", g, n)
						window.Lock()
						f, err := os.OpenFile(filepath.Join(root, filepath.FromSlash(path)), os.O_WRONLY|os.O_APPEND, 0)
						if err == nil {
							_, err = f.WriteString(line)
							if cerr := f.Close(); err == nil {
								err = cerr
							}
							if err == nil {
								mu.Lock()
								edits = append(edits, editRec{path, line})
								mu.Unlock()
							}
						}
						window.Unlock()
						runtime.Gosched()
					}
				}()
			}
			err = Apply(context.Background(), p)
			if inWindow {
				window.Unlock()
			}
			close(stop)
			wg.Wait()
			var ce *ChangedDuringApplyError
			if err != nil && !errors.As(err, &ce) {
				t.Fatalf("Apply: %v", err)
			}
			next, err := MakePlan(root, v2, PlanOptions{})
			if err != nil {
				t.Fatal(err)
			}
			got := actions(next)
			for _, e := range edits {
				data, _ := readFile(t, root, e.path)
				if !strings.Contains(data, e.line) {
					t.Errorf("%s: edit %q lost", e.path, strings.TrimSpace(e.line))
				}
				if got[e.path] != Conflict {
					t.Errorf("%s: edited, but the next plan says %v", e.path, got[e.path])
				}
			}
			if len(edits) == 0 {
				t.Log("no edit landed during the apply")
			}
		})
	}
}
