//go:build linux || openbsd || dragonfly || solaris || darwin || freebsd || netbsd

package changes

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// statOverride is a FileInfo whose stat data is changed.
type statOverride struct {
	fs.FileInfo
	st *syscall.Stat_t
}

func (s statOverride) Sys() any { return s.st }

// TestStatCacheMatchesInodeAndDevice: a file with the same size, mtime, ctime
// and mode but another inode or device is another file.
func TestStatCacheMatchesInodeAndDevice(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "f", "data\n")
	fi, err := os.Lstat(filepath.Join(dir, "f"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		change func(st *syscall.Stat_t)
		match  bool
	}{
		{"same", func(*syscall.Stat_t) {}, true},
		{"other inode", func(st *syscall.Stat_t) { st.Ino++ }, false},
		{"other device", func(st *syscall.Stat_t) { st.Dev++ }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := NewStatCache()
			c.now = later(time.Hour)
			c.Record("f", fi, hashOf([]byte("data\n")))
			st := *fi.Sys().(*syscall.Stat_t)
			tc.change(&st)
			if _, ok := c.Hash("f", statOverride{fi, &st}); ok != tc.match {
				t.Errorf("Hash ok = %v, want %v", ok, tc.match)
			}
		})
	}
}
