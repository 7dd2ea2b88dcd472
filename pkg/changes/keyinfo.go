package changes

import (
	"io/fs"
	"path"
	"time"
)

// keyInfo is an fs.FileInfo that holds no more than the stat data fleetgen
// compares (statKey): 80 bytes, where the os package's FileInfo on Linux,
// with its whole syscall.Stat_t, takes 208. A check of a 10,000-site tree
// holds one for each of some 130,000 paths (Snapshot, Seal.Changed). Its
// Sys is nil; statKeyOf and dirKeyOf read the key directly.
type keyInfo struct {
	name string
	k    statKey
	// full is set when k carries the platform's ctime, inode and device
	// (platformStat succeeded).
	full bool
}

func (i *keyInfo) Name() string       { return i.name }
func (i *keyInfo) Size() int64        { return i.k.size }
func (i *keyInfo) Mode() fs.FileMode  { return fs.FileMode(i.k.mode) }
func (i *keyInfo) ModTime() time.Time { return time.Unix(0, i.k.mtime) }
func (i *keyInfo) IsDir() bool        { return i.Mode().IsDir() }
func (i *keyInfo) Sys() any           { return nil }

// compact returns fi as a *keyInfo named after rel's last element (the
// name shares rel's memory), or fi itself when it is one already. rel ""
// (the root) keeps fi's name.
func compact(rel string, fi fs.FileInfo) *keyInfo {
	if ki, ok := fi.(*keyInfo); ok {
		return ki
	}
	ki := &keyInfo{name: fi.Name()}
	if rel != "" {
		ki.name = path.Base(rel)
	}
	ki.k, ki.full = fileKey(fi)
	return ki
}

// keyOf is the stat data of fi, whatever its kind; false when the platform's
// part of it is missing from fi.
func keyOf(fi fs.FileInfo) (statKey, bool) {
	if ki, ok := fi.(*keyInfo); ok {
		return ki.k, ki.full
	}
	k, full := fileKey(fi)
	if !full {
		return statKey{}, false
	}
	return k, true
}

// fileKey is the stat data of fi, an os or other non-compact FileInfo:
// size, mtime and mode always, and full when platformStat added the rest.
func fileKey(fi fs.FileInfo) (k statKey, full bool) {
	k = statKey{size: fi.Size(), mtime: fi.ModTime().UnixNano(), mode: uint32(fi.Mode())}
	return k, platformStat(fi, &k)
}
