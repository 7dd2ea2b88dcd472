//go:build linux

package changes

import (
	"io/fs"
	"os"
	"path"

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

// newStatInfo is the keyInfo of st: the mode bits, size, times, inode and
// device os.Lstat would report for the same file.
func newStatInfo(name string, st *unix.Stat_t) *keyInfo {
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
	return &keyInfo{name: name, full: true, k: statKey{
		size:  int64(st.Size),
		mtime: st.Mtim.Nano(),
		ctime: st.Ctim.Nano(),
		ino:   uint64(st.Ino),
		dev:   uint64(st.Dev),
		mode:  uint32(m),
	}}
}
