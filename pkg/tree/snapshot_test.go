package tree

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"reflect"
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

// A plan with a Snapshot of the tree is the plan without it.
func TestPlanWithSnapshot(t *testing.T) {
	root := t.TempDir()
	applyTree(t, root, sample(), PlanOptions{})
	v2 := with(sample(), file(ovA, "a", "new a\n"))
	var s Snapshot
	for _, f := range v2.Files {
		for dir := path.Dir(f.Path); dir != "."; dir = path.Dir(dir) {
			_, _ = s.Lstat(filepath.Join(root, dir), dir)
		}
		_, _ = s.Lstat(filepath.Join(root, filepath.FromSlash(f.Path)), f.Path)
	}
	if err := os.WriteFile(filepath.Join(root, filepath.FromSlash(ovB)), []byte("edited\n"), 0o644); err != nil {
		t.Fatal(err) // after the snapshot: the plan reads it anyway
	}
	want, err := MakePlan(root, v2, PlanOptions{Stats: NewStatCache()})
	if err != nil {
		t.Fatal(err)
	}
	got, err := MakePlan(root, v2, PlanOptions{Stats: NewStatCache(), Snapshot: &s})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(describe(got.Changes), describe(want.Changes)) {
		t.Errorf("with snapshot: %s\nwithout: %s", describe(got.Changes), describe(want.Changes))
	}
}
