package tree

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/fleetgen/fleetgen/pkg/render"
)

// ledgerFiles returns the content of every file of the ledger directory.
func ledgerFiles(t *testing.T, root string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(root, filepath.FromSlash(ledgerDir)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		rel := ledgerDir + "/" + e.Name()
		out[rel], _ = readFile(t, root, rel)
	}
	return out
}

// toLegacy rewrites the ledger of root in the one-file layout of earlier
// releases, without .gitignore, as such a release left it.
func toLegacy(t *testing.T, root string) *Ledger {
	t.Helper()
	l, err := ReadLedger(root)
	if err != nil {
		t.Fatal(err)
	}
	data, err := l.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(root, filepath.FromSlash(ledgerDir))); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(root, filepath.FromSlash(gitignoreFile)))
	writeFile(t, root, legacyLedgerFile, string(data))
	return l
}

// TestAddingASiteChangesOnlyItsLedgerFile: the ledger is one file per site;
// adding a site adds its file and leaves every other byte-identical, and no
// file grows with the number of sites.
func TestAddingASiteChangesOnlyItsLedgerFile(t *testing.T) {
	root := filepath.Join(t.TempDir(), "out")
	applyTree(t, root, bigTree(1, 0, 20), PlanOptions{})
	before := ledgerFiles(t, root)
	if len(before) != 21 {
		t.Fatalf("%d ledger files for 20 sites and the fleet-level files, want 21", len(before))
	}
	applyTree(t, root, bigTree(1, 0, 21), PlanOptions{})
	after := ledgerFiles(t, root)
	var changed []string
	for rel, data := range after {
		if before[rel] != data {
			changed = append(changed, rel)
		}
	}
	for rel := range before {
		if _, ok := after[rel]; !ok {
			changed = append(changed, rel)
		}
	}
	sort.Strings(changed)
	if want := []string{ledgerFileOf("s020")}; !reflect.DeepEqual(changed, want) {
		t.Errorf("ledger files changed by adding site s020: %q, want %q", changed, want)
	}
	// Bounded: a site's file holds its own entries only.
	if n := strings.Count(after[ledgerFileOf("s020")], "\n"); n != 11 {
		t.Errorf("s020's ledger file has %d lines, want the header and 10 entries", n)
	}
	// Removing the site removes its file.
	applyTree(t, root, bigTree(1, 0, 20), PlanOptions{})
	if got := ledgerFiles(t, root); !reflect.DeepEqual(got, before) {
		t.Errorf("ledger after removing s020 differs from before adding it")
	}
}

// TestLedgerMigratesFromOneFile: a tree whose ledger is the one file of
// earlier releases is read as before; the plan says it will be converted;
// the apply converts it (same entries), removes the old file, keeps user
// files, and the tree is then in sync. A crash during the conversion is
// recovered from.
func TestLedgerMigratesFromOneFile(t *testing.T) {
	for _, crash := range []bool{false, true} {
		t.Run(map[bool]string{false: "clean", true: "crash"}[crash], func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "out")
			applyTree(t, root, sample(), PlanOptions{})
			writeFile(t, root, "overlays/a/notes.md", "mine\n")
			old := toLegacy(t, root)

			l, err := ReadLedger(root)
			if err != nil || l.State != LedgerPresent || !reflect.DeepEqual(l.Entries, old.Entries) {
				t.Fatalf("one-file ledger read as %+v, %v", l, err)
			}
			tr := with(sample(), file(ovB, "b", "changed\n"))
			p, err := MakePlan(root, tr, PlanOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(strings.Join(p.Notes, "\n"), "will be converted to "+ledgerDir) || len(p.Conflicts()) > 0 {
				t.Fatalf("notes %q, conflicts %s", p.Notes, describe(p.Conflicts()))
			}
			if crash {
				p.hook = func(step, _ string) {
					if step == "ledger-file" {
						runtime.Goexit()
					}
				}
				done := make(chan struct{})
				go func() { defer close(done); Apply(context.Background(), p) }()
				<-done
				if !exists(t, root, journalFile) || !exists(t, root, legacyLedgerFile) {
					t.Fatal("the interrupted conversion left no journal or no old ledger")
				}
				if p, err = MakePlan(root, tr, PlanOptions{}); err != nil || p.Ledger != LedgerRecovered {
					t.Fatalf("after the crash: %v, state %v", err, p.Ledger)
				}
			}
			if err := Apply(context.Background(), p); err != nil {
				t.Fatal(err)
			}
			if exists(t, root, legacyLedgerFile) || exists(t, root, journalFile) {
				t.Error("the old ledger or the journal is left")
			}
			if got, _ := readFile(t, root, "overlays/a/notes.md"); got != "mine\n" {
				t.Error("user file lost")
			}
			mustInSync(t, root, tr)
			l, err = ReadLedger(root)
			if err != nil || l.legacy || len(l.sums) != 3 {
				t.Fatalf("converted ledger: %+v, %v", l, err)
			}
		})
	}
}

func TestLedgerDirCorrupt(t *testing.T) {
	h := hashOf(nil)
	tests := []struct {
		name, file, data, want string
	}{
		{"one-file header", ledgerFileOf("a"), ledgerHeader + "\n", "first line"},
		{"entry of another site", ledgerFileOf("a"), ledgerDirHeader + "\n" + h + "  b  overlays/b/x\n", `belongs to site "b"`},
		{"fleet entry in a site file", ledgerFileOf("a"), ledgerDirHeader + "\n" + h + "  -  base/x\n", `belongs to site ""`},
		{"same path in two files", ledgerFileOf("a"), ledgerDirHeader + "\n" + h + "  a  base/kustomization.yaml\n", "is also in"},
		{"bad file name", ledgerDir + "/_other.ledger", ledgerDirHeader + "\n", "file name"},
		{"both layouts", legacyLedgerFile, ledgerHeader + "\n", "both"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "out")
			applyTree(t, root, sample(), PlanOptions{})
			writeFile(t, root, tc.file, tc.data)
			_, err := ReadLedger(root)
			var ce *LedgerCorruptError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want a LedgerCorruptError mentioning %q", err, tc.want)
			}
		})
	}
	// Temporary files and other names are left alone.
	root := filepath.Join(t.TempDir(), "out")
	applyTree(t, root, sample(), PlanOptions{})
	writeFile(t, root, ledgerDir+"/README", "notes\n")
	writeFile(t, root, ledgerDir+"/"+tmpPrefix+"x", "partial")
	if l, err := ReadLedger(root); err != nil || len(l.Entries) != len(sample().Files) {
		t.Fatalf("ledger with extra files: %v", err)
	}
}

// git runs git in dir with a configuration of its own.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=fleetgen test", "-c", "user.email=test@example.invalid",
		"-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL="+os.DevNull, "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestLedgerBranchesMergeInGit: two branches that each add a site with a
// neighbouring name merge with git without conflict, the merged ledger is
// that of the merged tree, and the lock is not committed.
func TestLedgerBranchesMergeInGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed: the merge test needs it")
	}
	root := t.TempDir()
	union := func(a, b *render.Tree) *render.Tree { return with(a, b.Files...) }
	generate := func(tr *render.Tree) {
		t.Helper()
		unlock, err := Lock(root)
		if err != nil {
			t.Fatal(err)
		}
		defer unlock()
		applyTree(t, root, tr, PlanOptions{})
	}
	git(t, root, "init", "-q")
	generate(bigTree(1, 0, 10))
	git(t, root, "add", "-A")
	if st := git(t, root, "status", "--porcelain", "--ignored"); !strings.Contains(st, "!! .fleetgen/lock") {
		t.Errorf("the lock is not ignored:\n%s", st)
	}
	git(t, root, "commit", "-q", "-m", "ten sites")

	git(t, root, "checkout", "-q", "-b", "add-s010")
	generate(bigTree(1, 0, 11))
	git(t, root, "add", "-A")
	git(t, root, "commit", "-q", "-m", "add s010")

	git(t, root, "checkout", "-q", "main")
	generate(union(bigTree(1, 0, 10), bigTree(1, 11, 12)))
	git(t, root, "add", "-A")
	git(t, root, "commit", "-q", "-m", "add s011")

	git(t, root, "merge", "-q", "--no-edit", "add-s010") // fails the test on a conflict
	mustInSync(t, root, bigTree(1, 0, 12))
	if st := git(t, root, "status", "--porcelain"); st != "" {
		t.Errorf("work tree not clean after the merge:\n%s", st)
	}
}

// A ledger file that parses marshals back to the same bytes.
func FuzzParseLedgerFile(f *testing.F) {
	h := hashOf([]byte("x"))
	f.Add("s", []byte(ledgerDirHeader+"\n"+h+"  s  overlays/s/a.yaml\n"+h+"  s  overlays/s/b.yaml\n"))
	f.Add("", []byte(ledgerDirHeader+"\n"+h+"  -  base/kustomization.yaml\n"))
	f.Add("s", []byte(ledgerDirHeader+"\n"))
	f.Fuzz(func(t *testing.T, site string, data []byte) {
		if validSite(site) != nil {
			return
		}
		rel := ledgerFileOf(site)
		es, err := parseLedgerFile(rel, site, data)
		if err != nil {
			return
		}
		files, err := marshalLedgerFiles(es)
		if err != nil {
			t.Fatalf("entries of a parsed file do not marshal: %v", err)
		}
		if len(es) == 0 {
			return // an empty file is not written
		}
		if len(files) != 1 || string(files[rel]) != string(data) {
			t.Fatalf("round trip of %q: %q", data, files)
		}
	})
}
