//go:build linux || openbsd || dragonfly || solaris || darwin || freebsd || netbsd

package tree

import (
	"os"
	"path/filepath"
	"testing"
)

// On these platforms the stat cache matches ctime, inode and device too.

// TestStatCacheSameSizeAndMtime edits a file keeping its size and mtime: the
// ctime or the inode still gives the edit away where the platform has them.
func TestStatCacheSameSizeAndMtime(t *testing.T) {
	edited := "resources: [../../base]\nnamePrefix: z-\n"
	tests := []struct {
		name string
		edit func(t *testing.T, p string)
	}{
		{"in place (new ctime)", func(t *testing.T, p string) {
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteAt([]byte(edited), 0); err != nil {
				t.Fatal(err)
			}
		}},
		{"replaced (new inode)", func(t *testing.T, p string) {
			tmp := p + ".new"
			if err := os.WriteFile(tmp, []byte(edited), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(tmp, p); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			applyTree(t, root, sample(), PlanOptions{})
			ageAll(t, root)
			c := warm(t, root, sample())
			p := filepath.Join(root, ovA)
			before, err := os.Lstat(p)
			if err != nil {
				t.Fatal(err)
			}
			tc.edit(t, p)
			if err := os.Chtimes(p, before.ModTime(), before.ModTime()); err != nil {
				t.Fatal(err)
			}
			after, err := os.Lstat(p)
			if err != nil {
				t.Fatal(err)
			}
			if after.Size() != before.Size() || !after.ModTime().Equal(before.ModTime()) || after.Mode() != before.Mode() {
				t.Fatalf("edit changed size, mtime or mode: the test does not test anything")
			}
			plan, err := MakePlan(root, sample(), PlanOptions{Stats: c})
			if err != nil {
				t.Fatal(err)
			}
			ch := findChange(t, plan, ovA)
			if ch.Action != Conflict || string(ch.Old) != edited {
				t.Errorf("%s: %v with Old %q, want a conflict with the edit", ovA, ch.Action, ch.Old)
			}
		})
	}
}
