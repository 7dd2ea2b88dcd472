package tree

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/fleetgen/fleetgen/pkg/render"
)

// helperEnv selects the helper a re-executed test binary runs.
const helperEnv = "FLEETGEN_TREE_TEST_HELPER"

func siteDir(s int) string { return fmt.Sprintf("overlays/s%03d", s) }

// bigTree renders a fleet of sites [lo, hi): fleet-level files plus ten
// files per site (some in a subdirectory). Every line of every file names
// the version, so a file mixing two versions, or cut short, is detectable.
func bigTree(version, lo, hi int) *render.Tree {
	content := func(p string) []byte {
		var b strings.Builder
		for i := 0; i < 40; i++ {
			fmt.Fprintf(&b, "# v%d %s line %02d ..............................\n", version, p, i)
		}
		fmt.Fprintf(&b, "end: v%d\n", version)
		return []byte(b.String())
	}
	var files []render.File
	for i := 0; i < 10; i++ {
		p := fmt.Sprintf("base/resource-%02d.yaml", i)
		files = append(files, render.File{Path: p, Data: content(p)})
	}
	for s := lo; s < hi; s++ {
		site := fmt.Sprintf("s%03d", s)
		for i := 0; i < 10; i++ {
			p := fmt.Sprintf("%s/file-%02d.yaml", siteDir(s), i)
			if i >= 7 {
				p = fmt.Sprintf("%s/patches/patch-%02d.yaml", siteDir(s), i)
			}
			files = append(files, render.File{Path: p, Site: site, Data: content(p)})
		}
	}
	return mkTree(files...)
}

// TestHelperApply is not a test: the crash test runs the test binary again
// with helperEnv=apply to apply a plan in a child that kills itself at the
// Apply step numbered by helperEnv_KILL_AT (0 for the first step).
func TestHelperApply(t *testing.T) {
	if os.Getenv(helperEnv) != "apply" {
		t.Skip("helper process for TestCrashDuringApply")
	}
	root := os.Getenv(helperEnv + "_ROOT")
	killAt, err := strconv.Atoi(os.Getenv(helperEnv + "_KILL_AT"))
	if err != nil {
		fmt.Println("error: bad", helperEnv+"_KILL_AT:", err)
		os.Exit(3)
	}
	p, err := MakePlan(root, bigTree(2, 5, 35), PlanOptions{})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(3)
	}
	n := 0
	p.hook = func(step, path string) {
		if n == killAt {
			fmt.Printf("killed at %d: %s %s\n", n, step, path)
			self, _ := os.FindProcess(os.Getpid())
			self.Kill()
			select {} // the kill is on its way
		}
		n++
	}
	if err := Apply(context.Background(), p); err != nil {
		fmt.Println("error:", err)
		os.Exit(3)
	}
	fmt.Println("done")
	os.Exit(0)
}

// applySteps applies tr over a copy of template in process and returns the
// steps Apply reported through its hook, in order ("journal",
// "synced", "written", "deleted", "ledger").
func applySteps(t *testing.T, template string, tr *render.Tree) []string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "count")
	copyDir(t, template, root)
	p, err := MakePlan(root, tr, PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var steps []string
	p.hook = func(step, path string) { steps = append(steps, step) }
	if err := Apply(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	return steps
}

// TestCrashDuringApply kills a child applying v2 over v1 at chosen steps
// of Apply (through the plan's hook, so the point of the crash does not
// depend on timing): right after the journal, before and after the first
// and a middle rename, at the first and last deletion, and after the new
// ledger is written. Every file must then hold the old or the new content,
// and the next run must finish the job without conflicts.
func TestCrashDuringApply(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	v1, v2 := bigTree(1, 0, 30), bigTree(2, 5, 35)
	template := filepath.Join(t.TempDir(), "v1")
	applyTree(t, template, v1, PlanOptions{})

	steps := applySteps(t, template, v2)
	// firstAfter is the index of the first step named step after from.
	firstAfter := func(step string, from int) int {
		for i := from + 1; i < len(steps); i++ {
			if steps[i] == step {
				return i
			}
		}
		t.Fatalf("Apply reported no step %q after step %d (steps: %v)", step, from, steps)
		return -1
	}
	last := func(step string) int {
		for i := len(steps) - 1; i >= 0; i-- {
			if steps[i] == step {
				return i
			}
		}
		t.Fatalf("Apply never reported step %q", step)
		return -1
	}
	// Writing the journal itself reports steps (its temporary file is
	// synced); the changes start after it.
	journal := firstAfter("journal", -1)
	deleted := firstAfter("deleted", journal)
	synced := firstAfter("synced", journal)
	mid := firstAfter("synced", synced+(deleted-synced)/2-1)
	// Each write is synced, checked again against the plan (verify) and
	// renamed into place (written); each delete renames the file aside,
	// checks it and removes it; each changed ledger file is written before
	// the journal goes.
	kills := []int{
		journal, synced, firstAfter("written", journal),
		mid, mid + 1, mid + 2,
		firstAfter("aside", journal), deleted, last("deleted"), last("written"),
		firstAfter("ledger-file", journal), last("ledger-file"),
		last("ledger"),
	}
	if steps[mid+1] != "verify" || steps[mid+2] != "written" || last("ledger") != len(steps)-1 {
		t.Fatalf("unexpected order of Apply steps: %v", steps)
	}

	for _, killAt := range kills {
		root := filepath.Join(t.TempDir(), "out")
		copyDir(t, template, root)

		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperApply$", "-test.count=1")
		cmd.Env = append(os.Environ(), helperEnv+"=apply", helperEnv+"_ROOT="+root,
			helperEnv+"_KILL_AT="+strconv.Itoa(killAt))
		out, err := cmd.Output()
		if !strings.Contains(string(out), fmt.Sprintf("killed at %d: %s ", killAt, steps[killAt])) {
			t.Fatalf("kill at step %d (%s): the child did not stop there (%v): %s", killAt, steps[killAt], err, out)
		}
		if err == nil {
			t.Fatalf("kill at step %d: the child exited cleanly", killAt)
		}
		// A journal is left behind by every kill between the journal and
		// the ledger's removal of it.
		if !exists(t, root, journalFile) {
			t.Errorf("kill at step %d (%s): no journal left behind", killAt, steps[killAt])
		}

		checkOldOrNew(t, root, v1, v2)

		p, err := MakePlan(root, v2, PlanOptions{})
		if err != nil {
			t.Fatalf("kill at step %d (%s): MakePlan: %v", killAt, steps[killAt], err)
		}
		if cs := p.Conflicts(); len(cs) > 0 {
			t.Fatalf("kill at step %d (%s): %d conflicts after the crash, first %s: %s", killAt, steps[killAt], len(cs), cs[0].Path, cs[0].Reason)
		}
		if err := Apply(context.Background(), p); err != nil {
			t.Fatalf("kill at step %d (%s): Apply after the crash: %v", killAt, steps[killAt], err)
		}
		mustInSync(t, root, v2)
		checkExactly(t, root, v2)
		for s := 0; s < 5; s++ {
			if exists(t, root, siteDir(s)) {
				t.Errorf("kill at step %d: %s not removed", killAt, siteDir(s))
			}
		}
	}
}

// copyDir copies the regular files and directories under src to dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// checkOldOrNew asserts every rendered path holds the v1 or the v2 content
// (or nothing, where one version lacks it) and never anything else.
func checkOldOrNew(t *testing.T, root string, v1, v2 *render.Tree) {
	t.Helper()
	paths := map[string]bool{}
	for _, f := range v1.Files {
		paths[f.Path] = true
	}
	for _, f := range v2.Files {
		paths[f.Path] = true
	}
	for p := range paths {
		got, ok := readFile(t, root, p)
		f1, in1 := v1.Lookup(p)
		f2, in2 := v2.Lookup(p)
		switch {
		case ok && in1 && got == string(f1.Data):
		case ok && in2 && got == string(f2.Data):
		case !ok && !(in1 && in2):
		default:
			t.Fatalf("%s: neither old nor new after a crash (exists %v, %d bytes)", p, ok, len(got))
		}
	}
}

// checkExactly asserts the regular files under root, outside .fleetgen, are
// exactly the tree's: no temporary files, nothing stale.
func checkExactly(t *testing.T, root string, tr *render.Tree) {
	t.Helper()
	n := 0
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if rel == stateDir {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			if _, ok := tr.Lookup(rel); !ok {
				t.Errorf("unexpected file %s", rel)
			}
			n++
		}
		return nil
	})
	if n != len(tr.Files) {
		t.Errorf("%d files on disk, want %d", n, len(tr.Files))
	}
	entries, _ := os.ReadDir(filepath.Join(root, stateDir))
	for _, e := range entries {
		if e.Name() != "ledger.d" && e.Name() != "lock" && e.Name() != ".gitignore" {
			t.Errorf("unexpected %s/%s", stateDir, e.Name())
		}
	}
	entries, _ = os.ReadDir(filepath.Join(root, filepath.FromSlash(ledgerDir)))
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ledgerExt) || strings.HasPrefix(e.Name(), tmpPrefix) {
			t.Errorf("unexpected %s/%s", ledgerDir, e.Name())
		}
	}
}
