//go:build linux

package changes

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// RootLstat answers what os.Lstat answers, down to the stat data the stat
// cache compares: entries are recorded through both.
func TestRootLstatMatchesOS(t *testing.T) {
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "a", "b", "f.yaml"), []byte("x: 1\n"), 0o640))
	must(os.Chmod(filepath.Join(dir, "a"), 0o2755))
	must(os.Symlink("b", filepath.Join(dir, "a", "link")))
	must(syscall.Mkfifo(filepath.Join(dir, "a", "fifo"), 0o600))
	r, err := os.OpenRoot(dir)
	must(err)
	defer r.Close()
	lstat, release := RootLstat(r)
	defer release()
	if lstat == nil {
		t.Fatal("RootLstat unavailable")
	}
	for _, rel := range []string{"a", "a/b", "a/b/f.yaml", "a/link", "a/fifo"} {
		want, err := os.Lstat(filepath.Join(dir, rel))
		must(err)
		got, err := lstat(rel)
		must(err)
		if got.Name() != want.Name() || got.Mode() != want.Mode() || got.Size() != want.Size() ||
			!got.ModTime().Equal(want.ModTime()) || got.IsDir() != want.IsDir() {
			t.Errorf("%s: RootLstat = %v %v %d %v, os.Lstat = %v %v %d %v", rel,
				got.Name(), got.Mode(), got.Size(), got.ModTime(), want.Name(), want.Mode(), want.Size(), want.ModTime())
		}
		k1, ok1 := keyOf(got)
		k2, ok2 := keyOf(want)
		if k1 != k2 || !ok1 || !ok2 {
			t.Errorf("%s: stat data differ: %+v, %v / %+v, %v", rel, k1, ok1, k2, ok2)
		}
		if !SameFile(got, want, true) || !SameFile(want, got, true) {
			t.Errorf("%s: SameFile says RootLstat's and os.Lstat's answers differ", rel)
		}
	}
	if _, err := lstat("a/missing"); !os.IsNotExist(err) {
		t.Errorf("missing path: %v, want not-exist", err)
	}
}
