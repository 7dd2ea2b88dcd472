package changes

import (
	"crypto/sha256"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// sealTree writes a small tree and returns a snapshot of every path in it
// and of an absent one, taken as if 3 s after everything was written.
func sealTree(t *testing.T) (root string, snap *Snapshot) {
	t.Helper()
	root = t.TempDir()
	for _, p := range []string{"d/a.yaml", "d/b.yaml", "e/c.yaml"} {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	snap = &Snapshot{}
	snap.once.Do(func() { snap.created = time.Now().Add(3 * time.Second).UnixNano() })
	for _, p := range []string{"", "d", "d/a.yaml", "d/b.yaml", "e", "e/c.yaml", "d/missing.yaml"} {
		if _, err := snap.Lstat(filepath.Join(root, filepath.FromSlash(p)), p); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
	}
	return root, snap
}

// A seal holds until anything at a path it covers changes: a file's
// content or mode, a directory's entries, something appearing where
// nothing was.
func TestSealHolds(t *testing.T) {
	if statPlatform != statFull {
		t.Skip("no full stat data on this platform")
	}
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, root string)
		holds  bool
		want   []string // changed paths
	}{
		{"unchanged", func(*testing.T, string) {}, true, nil},
		{"file rewritten, same size", func(t *testing.T, root string) { write(t, root, "d/a.yaml", "d/A.yaml") }, false, []string{"d/a.yaml"}},
		{"file touched", func(t *testing.T, root string) {
			if err := os.Chtimes(filepath.Join(root, "d", "a.yaml"), time.Now(), time.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
		}, false, []string{"d/a.yaml"}},
		{"file chmod", func(t *testing.T, root string) {
			if err := os.Chmod(filepath.Join(root, "e", "c.yaml"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, false, []string{"e/c.yaml"}},
		{"file removed", func(t *testing.T, root string) { remove(t, root, "d/b.yaml") }, false, []string{"d", "d/b.yaml"}},
		{"absent path created", func(t *testing.T, root string) { write(t, root, "d/missing.yaml", "x") }, false, []string{"d", "d/missing.yaml"}},
		{"new entry in a directory", func(t *testing.T, root string) { write(t, root, "e/new.yaml", "x") }, false, []string{"e"}},
		{"new top-level entry", func(t *testing.T, root string) { write(t, root, "top.yaml", "x") }, false, []string{""}},
		{"file replaced by a symlink", func(t *testing.T, root string) {
			remove(t, root, "e/c.yaml")
			if err := os.Symlink("../d/a.yaml", filepath.Join(root, "e", "c.yaml")); err != nil {
				t.Fatal(err)
			}
		}, false, []string{"e", "e/c.yaml"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root, snap := sealTree(t)
			seal, err := snap.Seal()
			if err != nil {
				t.Fatal(err)
			}
			data, err := seal.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			back, err := UnmarshalSeal(data)
			if err != nil || back.Len() != 7 {
				t.Fatalf("round trip: %v, %d paths", err, back.Len())
			}
			tc.change(t, root)
			changed, ok, fill := back.Changed(root, 10)
			if !ok || !reflect.DeepEqual(changed, tc.want) {
				t.Fatalf("Changed = %q, %v; want %q", changed, ok, tc.want)
			}
			filled := &Snapshot{}
			filled.once.Do(func() { filled.created = time.Now().Add(3 * time.Second).UnixNano() })
			fill(filled)
			if _, _, ok := filled.lookup("d/a.yaml"); !ok {
				t.Error("Changed did not fill the snapshot")
			}
			// Sealing what Changed saw covers every path again.
			if reseal, err := filled.Seal(); tc.holds && (err != nil || reseal.Len() != back.Len()) {
				t.Errorf("resealed: %v, %d paths, want %d", err, reseal.Len(), back.Len())
			}
			if !tc.holds {
				if _, ok, _ := back.Changed(root, 0); ok {
					t.Error("Changed with limit 0 found changes and still answered")
				}
			}
		})
	}
}

// Recent changes, links and incomplete snapshots are never sealed.
func TestSealRefuses(t *testing.T) {
	if statPlatform != statFull {
		t.Skip("no full stat data on this platform")
	}
	root := t.TempDir()
	write(t, root, "a.yaml", "a")
	recent := &Snapshot{}
	_, _ = recent.Lstat(filepath.Join(root, "a.yaml"), "a.yaml")
	if _, err := recent.Seal(); !errors.Is(err, ErrNotSealable) {
		t.Errorf("a file written just now: %v, want ErrNotSealable", err)
	}
	if err := os.Symlink("a.yaml", filepath.Join(root, "l.yaml")); err != nil {
		t.Fatal(err)
	}
	link := &Snapshot{}
	link.once.Do(func() { link.created = time.Now().Add(time.Hour).UnixNano() })
	_, _ = link.Lstat(filepath.Join(root, "l.yaml"), "l.yaml")
	if _, err := link.Seal(); !errors.Is(err, ErrNotSealable) {
		t.Errorf("a symlink: %v, want ErrNotSealable", err)
	}
	incomplete := &Snapshot{}
	incomplete.once.Do(func() { incomplete.created = time.Now().Add(time.Hour).UnixNano() })
	_, _ = incomplete.Lstat(filepath.Join(root, "a.yaml"), "a.yaml")
	incomplete.incomplete.Store(true)
	if _, err := incomplete.Seal(); !errors.Is(err, ErrNotSealable) {
		t.Errorf("an incomplete snapshot: %v, want ErrNotSealable", err)
	}
	if _, ok, _ := (&Seal{}).Changed(root, 10); ok {
		t.Error("an empty seal vouches for the tree")
	}
}

// A damaged seal is an error, never a seal.
func TestSealDamaged(t *testing.T) {
	if statPlatform != statFull {
		t.Skip("no full stat data on this platform")
	}
	_, snap := sealTree(t)
	seal, err := snap.Seal()
	if err != nil {
		t.Fatal(err)
	}
	data, _ := seal.MarshalBinary()
	for i := range data {
		bad := append([]byte(nil), data...)
		bad[i] ^= 0x40
		if _, err := UnmarshalSeal(bad); err == nil {
			t.Errorf("byte %d flipped: no error", i)
		}
	}
	for i := range len(data) {
		if _, err := UnmarshalSeal(data[:i]); err == nil {
			t.Errorf("truncated to %d bytes: no error", i)
		}
	}
}

func write(t *testing.T, root, rel, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(root, filepath.FromSlash(rel)), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func remove(t *testing.T, root, rel string) {
	t.Helper()
	if err := os.Remove(filepath.Join(root, filepath.FromSlash(rel))); err != nil {
		t.Fatal(err)
	}
}

// Decoding arbitrary bytes never panics, and a seal that decodes encodes
// and decodes back to itself. The fuzzer's input gets a valid checksum
// too, so that it reaches the decoder.
func FuzzSealUnmarshal(f *testing.F) {
	x := &Seal{paths: []string{"", "a", "a/b.yaml", "c"}, stats: []sealEntry{
		{st: statKey{size: 4096, mtime: 5, ctime: 6, ino: 2, dev: 7, mode: uint32(fs.ModeDir | 0o755)}},
		{st: statKey{size: 4096, mtime: 7, ctime: 9, ino: 3, dev: 7, mode: uint32(fs.ModeDir | 0o755)}},
		{st: statKey{size: 3, mtime: 1e18, ctime: 1e18 + 5, ino: 99, dev: 7, mode: 0o644}},
		{absent: true},
	}}
	blob, err := x.MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(blob)
	f.Add(blob[:len(blob)-sha256.Size])
	f.Fuzz(func(t *testing.T, data []byte) {
		sum := sha256.Sum256(data)
		for _, in := range [][]byte{data, append(append([]byte(nil), data...), sum[:]...)} {
			s, err := UnmarshalSeal(in)
			if err != nil {
				continue
			}
			again, err := s.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			back, err := UnmarshalSeal(again)
			if err != nil || !reflect.DeepEqual(back, s) {
				t.Fatalf("a decoded seal does not round-trip: %v", err)
			}
		}
	})
}
