package changes

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"slices"
	"strings"
	"syscall"
)

// DirEntry is one entry of a directory listing returned by
// StatCache.ReadDir.
type DirEntry struct {
	Name string
	// Type holds the type bits of the entry's mode only (fs.ModeDir,
	// fs.ModeSymlink, ...; 0 for a regular file), as fs.DirEntry.Type
	// reports them.
	Type fs.FileMode
}

// dirListing is a directory's listing and the directory's stat data when
// the listing was read.
type dirListing struct {
	st      statKey
	entries []DirEntry // sorted by name; never modified once stored
	// horizon (ns since the Unix epoch) is when the listing was last
	// vouched for: the save time of a loaded listing, the moment just
	// before the directory was read for a recorded one. The listing is
	// trusted only if both st.mtime and st.ctime are older than horizon -
	// racyWindow.
	horizon int64
	// used is set when the listing was recorded or matched in this
	// process; only used listings are saved.
	used bool
}

// dirCacheable reports whether listings are recorded and matched on this
// platform: only where the stat data carries ctime, inode and device, that
// is on the POSIX systems whose directories must get a new mtime and ctime
// whenever an entry is added, removed or renamed in them. Elsewhere (on
// Windows a FAT volume keeps a directory's time when its entries change)
// ReadDir always reads the directory.
const dirCacheable = statPlatform == statFull

// trusted reports whether the listing can be returned for a directory
// whose stat data equals l.st (see dirListing.horizon).
func (l *dirListing) trusted() bool {
	h := l.horizon - int64(racyWindow)
	return l.st.mtime < h && l.st.ctime < h
}

// dirKeyOf returns the stat data of a directory; false for anything else
// (symbolic links included) or when the platform's stat data is missing
// from fi.
func dirKeyOf(fi fs.FileInfo) (statKey, bool) {
	if fi == nil || !fi.Mode().IsDir() {
		return statKey{}, false
	}
	return keyOf(fi)
}

// ReadDir returns the entries of the directory at path, sorted by name, and
// the directory's Lstat. rel is the directory's path relative to the
// cache's root, slash-separated, "" for the root itself; it is the key the
// listing is cached under.
//
// When the directory's Lstat matches a trusted listing recorded earlier,
// that listing is returned without reading the directory. Otherwise the
// directory is read, and the listing is recorded when the read was
// consistent: the stat of the opened directory after the read equals the
// Lstat taken before it. A path that is not a directory, a symbolic link
// included, is an error (wrapping syscall.ENOTDIR), as is one that
// os.Lstat or os.ReadDir fails on. The caller owns the returned slice.
func (c *StatCache) ReadDir(path, rel string) ([]DirEntry, fs.FileInfo, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, nil, err
	}
	entries, err := c.ReadDirStat(path, rel, fi)
	if err != nil {
		return nil, nil, err
	}
	return entries, fi, nil
}

// ReadDirStat is ReadDir for a caller that already holds fi, the
// directory's Lstat: it makes no system call when fi matches a trusted
// listing. The listing returned is the directory's listing when fi was
// taken or a later one; the listing read is recorded only if the
// directory's stat after the read still equals fi. A nil fi, or one that
// is not a directory, is an error.
func (c *StatCache) ReadDirStat(path, rel string, fi fs.FileInfo) ([]DirEntry, error) {
	if fi == nil || !fi.Mode().IsDir() {
		return nil, &fs.PathError{Op: "readdir", Path: path, Err: syscall.ENOTDIR}
	}
	k, cacheable := dirKeyOf(fi)
	cacheable = cacheable && dirCacheable
	if cacheable {
		if entries, ok := c.listing(rel, k); ok {
			return slices.Clone(entries), nil
		}
	}
	// The horizon is taken before the read: a change to the directory
	// after it gives the directory an mtime no older than horizon -
	// racyWindow, so a listing trusted at this horizon cannot miss it.
	horizon := c.clock().UnixNano()
	entries, after, err := readDirAndStat(path)
	c.dirReads.Add(1)
	if err != nil {
		return nil, err
	}
	if cacheable {
		if ka, ok := dirKeyOf(after); ok && ka == k {
			c.recordDir(rel, &dirListing{st: k, entries: entries, horizon: horizon, used: true})
			return slices.Clone(entries), nil
		}
	}
	return entries, nil
}

// listing returns the entries of the trusted listing of rel recorded with
// the stat data k; a listing of rel recorded with other stat data is
// dropped.
func (c *StatCache) listing(rel string, k statKey) ([]DirEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.dirs[rel]
	switch {
	case l == nil:
		return nil, false
	case l.st != k:
		delete(c.dirs, rel)
		c.changed = true
		return nil, false
	case !l.trusted():
		return nil, false
	}
	l.used = true
	return l.entries, true
}

func (c *StatCache) recordDir(rel string, l *dirListing) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dirs == nil {
		c.dirs = map[string]*dirListing{}
	}
	c.dirs[rel] = l
	c.changed = true
}

// readDirAndStat reads the directory at path and returns its entries
// sorted by name and the stat of the opened directory after the read (nil
// if that stat failed).
func readDirAndStat(path string) ([]DirEntry, fs.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	des, err := f.ReadDir(-1)
	if err != nil {
		return nil, nil, err
	}
	after, err := f.Stat()
	if err != nil {
		after = nil
	}
	entries := make([]DirEntry, len(des))
	for i, d := range des {
		entries[i] = DirEntry{Name: d.Name(), Type: d.Type() & fs.ModeType}
	}
	slices.SortFunc(entries, func(a, b DirEntry) int { return strings.Compare(a.Name, b.Name) })
	return entries, after, nil
}

// entryTypes are the type bits a listing's entry type is encoded with: bit
// i of the encoded value stands for entryTypes[i].
var entryTypes = [...]fs.FileMode{fs.ModeDir, fs.ModeSymlink, fs.ModeNamedPipe, fs.ModeSocket,
	fs.ModeDevice, fs.ModeCharDevice, fs.ModeIrregular}

func encodeEntryType(t fs.FileMode) uint64 {
	var v uint64
	for i, m := range entryTypes {
		if t&m != 0 {
			v |= 1 << i
		}
	}
	return v
}

func decodeEntryType(v uint64) (fs.FileMode, bool) {
	if v >= 1<<len(entryTypes) {
		return 0, false
	}
	var t fs.FileMode
	for i, m := range entryTypes {
		if v&(1<<i) != 0 {
			t |= m
		}
	}
	return t, true
}

// appendListings encodes listings (sorted by path) as the stat cache's
// binary format describes: first the table of the names of their entries,
// each name once, then the listings, whose entries refer to the table.
func appendListings(b []byte, paths []string, ls []dirListing) []byte {
	index := map[string]uint64{}
	for i := range ls {
		for _, e := range ls[i].entries {
			index[e.Name] = 0
		}
	}
	names := make([]string, 0, len(index))
	for n := range index {
		names = append(names, n)
	}
	slices.Sort(names)
	b = binary.AppendUvarint(b, uint64(len(names)))
	prevName := ""
	for i, n := range names {
		index[n] = uint64(i)
		b = appendShared(b, prevName, n)
		prevName = n
	}

	b = binary.AppendUvarint(b, uint64(len(paths)))
	prev := ""
	var prevSt statKey
	for i, p := range paths {
		l := &ls[i]
		b = appendShared(b, prev, p)
		b = appendStat(b, l.st, &prevSt)
		b = binary.AppendUvarint(b, uint64(fs.FileMode(l.st.mode)&^fs.ModeDir))
		b = binary.AppendUvarint(b, uint64(len(l.entries)))
		// Entries are sorted by name, and so are the names in the table:
		// each entry's index is past the previous one's.
		next := uint64(0)
		for _, e := range l.entries {
			x := index[e.Name]
			b = binary.AppendUvarint(b, x-next)
			b = binary.AppendUvarint(b, encodeEntryType(e.Type))
			next = x + 1
		}
		prev = p
	}
	return b
}

// appendShared encodes s after prev: the length of their shared prefix,
// then the rest of s (length, bytes).
func appendShared(b []byte, prev, s string) []byte {
	n := sharedPrefix(prev, s)
	b = binary.AppendUvarint(b, uint64(n))
	b = binary.AppendUvarint(b, uint64(len(s)-n))
	return append(b, s[n:]...)
}

// shared decodes a string encoded by appendShared after prev.
func (d *statDecoder) shared(prev string) (string, bool) {
	shared, rest := d.uvarint(), d.uvarint()
	if shared > uint64(len(prev)) || rest > uint64(len(d.b)) {
		return "", false
	}
	var b strings.Builder // one allocation, not two
	b.Grow(int(shared + rest))
	b.WriteString(prev[:shared])
	b.Write(d.bytes(int(rest)))
	return b.String(), true
}

// decodeListings decodes the listings of a blob saved at save.
func decodeListings(d *statDecoder, save int64) (map[string]*dirListing, error) {
	// Every name takes at least 3 bytes, every listing 6 and every entry
	// 2: refuse counts the data cannot hold before allocating for them.
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.b))/3 {
		return nil, fmt.Errorf("name count %d exceeds the data", n)
	}
	names := make([]string, 0, n)
	prevName := ""
	for i := uint64(0); i < n && d.err == nil; i++ {
		name, ok := d.shared(prevName)
		if !ok {
			return nil, fmt.Errorf("name %d: bad length", i)
		}
		if err := checkEntryName(name); err != nil {
			return nil, fmt.Errorf("name %d: %v", i, err)
		}
		if i > 0 && name <= prevName {
			return nil, fmt.Errorf("name %d: %q out of order", i, name)
		}
		names = append(names, name)
		prevName = name
	}

	n = d.uvarint()
	if d.err == nil && n > uint64(len(d.b))/6 {
		return nil, fmt.Errorf("listing count %d exceeds the data", n)
	}
	dirs := make(map[string]*dirListing, n)
	prev := ""
	var prevSt statKey
	for i := uint64(0); i < n && d.err == nil; i++ {
		p, ok := d.shared(prev)
		if !ok {
			return nil, fmt.Errorf("listing %d: bad path length", i)
		}
		if i > 0 && p <= prev {
			return nil, fmt.Errorf("listing %d: path %q out of order", i, p)
		}
		l := &dirListing{horizon: save}
		if l.st, ok = d.stat(&prevSt); !ok {
			return nil, fmt.Errorf("listing %d: bad size", i)
		}
		mode := d.uvarint()
		if mode > math.MaxUint32 || fs.FileMode(mode)&fs.ModeType != 0 {
			return nil, fmt.Errorf("listing %d: bad mode", i)
		}
		l.st.mode = uint32(fs.FileMode(mode) | fs.ModeDir)
		count := d.uvarint()
		if d.err == nil && count > uint64(len(names)) {
			return nil, fmt.Errorf("listing %d: entry count %d exceeds the names", i, count)
		}
		l.entries = make([]DirEntry, 0, count)
		next := uint64(0)
		for j := uint64(0); j < count && d.err == nil; j++ {
			x := next + d.uvarint()
			if x < next || x >= uint64(len(names)) {
				return nil, fmt.Errorf("listing %d, entry %d: bad name index", i, j)
			}
			t, ok := decodeEntryType(d.uvarint())
			if !ok {
				return nil, fmt.Errorf("listing %d, entry %d: bad type", i, j)
			}
			l.entries = append(l.entries, DirEntry{Name: names[x], Type: t})
			next = x + 1
		}
		dirs[p] = l
		prev = p
	}
	if d.err != nil {
		return nil, d.err
	}
	return dirs, nil
}

// checkEntryName reports whether name can be the name of an entry in a
// directory.
func checkEntryName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return errors.New("bad name")
	}
	return nil
}
