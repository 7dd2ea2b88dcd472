//go:build linux

package changes

import (
	"io/fs"
	"os"
	"path"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// RootLstat returns an Lstat of paths relative to r that costs one system
// call (fstatat on a descriptor of the root), and a function releasing it;
// nil when the root cannot be opened that way. It follows symbolic links
// in the parent directories of the path, so callers use it only for paths
// whose parents they checked with Lstat first (the inspector does), and
// never to decide what to write: pkg/tree's Apply checks again through r.
func RootLstat(r *os.Root) (LstatFunc, func()) {
	if r == nil {
		return nil, func() {}
	}
	f, err := os.Open(r.Name())
	if err != nil {
		return nil, func() {}
	}
	// The descriptor must be the directory r holds.
	a, errA := f.Stat()
	b, errB := r.Stat(".")
	if errA != nil || errB != nil || !os.SameFile(a, b) {
		f.Close()
		return nil, func() {}
	}
	fd := int(f.Fd())
	lstat := func(rel string) (fs.FileInfo, error) {
		var st unix.Stat_t
		for {
			err := unix.Fstatat(fd, rel, &st, unix.AT_SYMLINK_NOFOLLOW)
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				return nil, &fs.PathError{Op: "lstat", Path: rel, Err: err}
			}
			break
		}
		return newStatInfo(path.Base(rel), &st), nil
	}
	return lstat, func() { f.Close() }
}

// statInfo is an fs.FileInfo from fstatat, identical to what os.Lstat
// returns for the same file (mode bits, times, and a *syscall.Stat_t).
type statInfo struct {
	name string
	sys  syscall.Stat_t
	mode fs.FileMode
}

func newStatInfo(name string, st *unix.Stat_t) *statInfo {
	fi := &statInfo{name: name, sys: syscall.Stat_t{
		Dev: st.Dev, Ino: st.Ino, Nlink: st.Nlink, Mode: st.Mode, Uid: st.Uid, Gid: st.Gid,
		Rdev: st.Rdev, Size: st.Size, Blksize: st.Blksize, Blocks: st.Blocks,
		Atim: syscall.Timespec{Sec: st.Atim.Sec, Nsec: st.Atim.Nsec},
		Mtim: syscall.Timespec{Sec: st.Mtim.Sec, Nsec: st.Mtim.Nsec},
		Ctim: syscall.Timespec{Sec: st.Ctim.Sec, Nsec: st.Ctim.Nsec},
	}}
	// As os does (os/stat_linux.go).
	m := fs.FileMode(st.Mode & 0o777)
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFBLK:
		m |= fs.ModeDevice
	case unix.S_IFCHR:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFDIR:
		m |= fs.ModeDir
	case unix.S_IFIFO:
		m |= fs.ModeNamedPipe
	case unix.S_IFLNK:
		m |= fs.ModeSymlink
	case unix.S_IFSOCK:
		m |= fs.ModeSocket
	}
	if st.Mode&unix.S_ISGID != 0 {
		m |= fs.ModeSetgid
	}
	if st.Mode&unix.S_ISUID != 0 {
		m |= fs.ModeSetuid
	}
	if st.Mode&unix.S_ISVTX != 0 {
		m |= fs.ModeSticky
	}
	fi.mode = m
	return fi
}

func (s *statInfo) Name() string       { return s.name }
func (s *statInfo) Size() int64        { return s.sys.Size }
func (s *statInfo) Mode() fs.FileMode  { return s.mode }
func (s *statInfo) ModTime() time.Time { return time.Unix(s.sys.Mtim.Sec, s.sys.Mtim.Nsec) }
func (s *statInfo) IsDir() bool        { return s.mode.IsDir() }
func (s *statInfo) Sys() any           { return &s.sys }
