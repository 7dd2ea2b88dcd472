package changes

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
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
