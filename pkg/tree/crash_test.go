package tree

import (
	"bufio"
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
// with helperEnv=apply to apply a plan slowly in a child it then kills.
func TestHelperApply(t *testing.T) {
	if os.Getenv(helperEnv) != "apply" {
		t.Skip("helper process for TestCrashDuringApply")
	}
	root := os.Getenv(helperEnv + "_ROOT")
	p, err := MakePlan(root, bigTree(2, 5, 35), PlanOptions{})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(3)
	}
	p.hook = func(step, path string) {
		if step == "journal" {
			fmt.Println("journal")
		}
		time.Sleep(300 * time.Microsecond)
	}
	fmt.Println("applying")
	if err := Apply(context.Background(), p); err != nil {
		fmt.Println("error:", err)
		os.Exit(3)
	}
	fmt.Println("done")
	os.Exit(0)
}

func TestCrashDuringApply(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	v1, v2 := bigTree(1, 0, 30), bigTree(2, 5, 35)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))

	// Apply v1 once; every round starts from a copy of it. The time this
	// apply takes bounds the child's, which sleeps at every step besides.
	template := filepath.Join(t.TempDir(), "v1")
	start := time.Now()
	applyTree(t, template, v1, PlanOptions{})
	span := time.Since(start)

	const rounds = 6
	midway := 0
	for round := 0; round < rounds; round++ {
		root := filepath.Join(t.TempDir(), "out")
		copyDir(t, template, root)

		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperApply$", "-test.count=1")
		cmd.Env = append(os.Environ(), helperEnv+"=apply", helperEnv+"_ROOT="+root)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 16)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		// Round 0 kills around the start of Apply; the others after the
		// journal is written, at a random point of the apply.
		wait, delay := "journal", time.Duration(rng.Int64N(int64(span)))
		if round == 0 {
			wait, delay = "applying", time.Duration(rng.Int64N(int64(2*time.Millisecond)))
		}
		for line := range lines {
			if line == wait {
				break
			}
			if strings.HasPrefix(line, "error:") {
				t.Fatalf("helper: %s", line)
			}
		}
		time.Sleep(delay)
		cmd.Process.Kill()
		cmd.Wait()
		for range lines {
		}
		if exists(t, root, journalFile) {
			midway++
		}

		checkOldOrNew(t, root, v1, v2)

		p, err := MakePlan(root, v2, PlanOptions{})
		if err != nil {
			t.Fatalf("round %d (killed after %v): MakePlan: %v", round, delay, err)
		}
		if cs := p.Conflicts(); len(cs) > 0 {
			t.Fatalf("round %d (killed after %v): %d conflicts after the crash, first %s: %s", round, delay, len(cs), cs[0].Path, cs[0].Reason)
		}
		if err := Apply(context.Background(), p); err != nil {
			t.Fatalf("round %d: Apply after the crash: %v", round, err)
		}
		mustInSync(t, root, v2)
		checkExactly(t, root, v2)
		for s := 0; s < 5; s++ {
			if exists(t, root, siteDir(s)) {
				t.Errorf("round %d: %s not removed", round, siteDir(s))
			}
		}
	}
	t.Logf("%d of %d kills landed mid-apply (journal left behind)", midway, rounds)
	if midway == 0 {
		t.Fatal("no kill landed during an apply; the test exercised nothing")
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
