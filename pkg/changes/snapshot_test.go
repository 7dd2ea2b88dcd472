package changes

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

// A Snapshot answers each path as it was when first asked.
func TestSnapshotKeepsFirstAnswer(t *testing.T) {
	root := t.TempDir()
	p := filepath.Join(root, "a")
	if err := os.WriteFile(p, []byte("a"), 0o644); err != nil {
		t.Fatal(err)
	}
	var s Snapshot
	fi, err := s.Lstat(p, "a")
	if err != nil || fi.Size() != 1 {
		t.Fatalf("Lstat = %v, %v", fi, err)
	}
	if _, err := s.Lstat(filepath.Join(root, "b"), "b"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Lstat(b) = %v, want not exist", err)
	}
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "b"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if fi, err := s.Lstat(p, "a"); err != nil || fi.Size() != 1 {
		t.Errorf("a after removal = %v, %v; want the first answer", fi, err)
	}
	if _, err := s.Lstat(filepath.Join(root, "b"), "b"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("b after creation = %v; want the first answer", err)
	}
	var nilSnap *Snapshot
	if _, _, ok := nilSnap.lookup("a"); ok {
		t.Error("a nil Snapshot answered")
	}
}

// What a Snapshot keeps is the stat data alone, and it compares equal to a
// fresh os.Lstat of the same file or directory; lookups from many
// goroutines at once each see the one answer kept.
func TestSnapshotKeepsStatData(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "d", "f"), []byte("abc"), 0o640); err != nil {
		t.Fatal(err)
	}
	var s Snapshot
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for _, rel := range []string{"d", "d/f", "d/missing"} {
				s.Lstat(filepath.Join(root, filepath.FromSlash(rel)), rel)
			}
		})
	}
	wg.Wait()
	for _, rel := range []string{"d", "d/f"} {
		want, err := os.Lstat(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		got, err, ok := s.lookup(rel)
		if !ok || err != nil {
			t.Fatalf("%s: lookup = %v, %v", rel, err, ok)
		}
		if _, compact := got.(*keyInfo); !compact {
			t.Errorf("%s: the snapshot keeps a %T", rel, got)
		}
		if got.Name() != want.Name() || got.Mode() != want.Mode() || got.Size() != want.Size() || !got.ModTime().Equal(want.ModTime()) {
			t.Errorf("%s: snapshot = %s %v %d %v, os.Lstat = %s %v %d %v", rel,
				got.Name(), got.Mode(), got.Size(), got.ModTime(), want.Name(), want.Mode(), want.Size(), want.ModTime())
		}
		if !SameFile(got, want, true) {
			t.Errorf("%s: SameFile(snapshot, os.Lstat) = false", rel)
		}
	}
	if _, err, ok := s.lookup("d/missing"); !ok || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("d/missing: lookup = %v, %v; want a kept not-exist", err, ok)
	}
	n := 0
	s.each(func(string, *keyInfo) bool { n++; return true })
	if n != 3 {
		t.Errorf("the snapshot holds %d paths, want 3", n)
	}
}

// BenchmarkSnapshotMemory reports what a Snapshot keeps per path (live
// B/path) when filled with the os package's answers, for as many paths as a
// check of a 10,000-site tree looks up (some 130,000).
func BenchmarkSnapshotMemory(b *testing.B) {
	const paths = 130_000
	file := filepath.Join(b.TempDir(), "kustomization.yaml")
	if err := os.WriteFile(file, []byte("resources: []\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	rels := make([]string, paths)
	for i := range rels {
		rels[i] = fmt.Sprintf("overlays/store-%06d/f%d.yaml", i/13, i%13)
	}
	lstat := func(string) (fs.FileInfo, error) { return os.Lstat(file) }
	var live uint64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		s := &Snapshot{}
		through := s.Through(lstat)
		for _, rel := range rels {
			if _, err := through(rel); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		live = after.HeapAlloc - before.HeapAlloc
		runtime.KeepAlive(s)
	}
	b.ReportMetric(float64(live)/paths, "live-B/path")
}
