package changes

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// StatCache remembers the content hash of files under one root by their stat
// data (size, mtime, ctime, inode, device and mode where the platform offers
// them; size, mtime and mode elsewhere), so that files whose stat data has
// not changed need not be read again. Like git's untracked cache, it also
// remembers the listings of directories under the root (ReadDir) by the
// directory's own stat data, so that a directory whose stat data has not
// changed need not be read again. It is safe for concurrent use; the zero
// value is an empty cache.
//
// It is an optimisation only: with tree.PlanOptions.Stats nil, or an empty cache,
// tree.MakePlan returns the same plan. The rules that keep it from ever yielding a
// wrong hash or a wrong listing:
//
//   - Only pairs observed consistently are recorded: the file's Lstat before
//     it is read must equal the Fstat of the opened file after the read.
//     Symlinks and anything but regular files are never recorded or matched.
//     tree.Apply records a file it wrote only if the stat after the rename shows
//     the very file it wrote (same inode, size, mtime and mode).
//   - Racy entries are not trusted. A file modified within the filesystem's
//     timestamp granularity after its hash was taken can keep its stat data.
//     So an entry is trusted only if the file's mtime is older than the
//     moment its hash was taken minus two seconds (the time of Record), and
//     an entry that was not trusted then is never saved: a later save time
//     must not vouch for it. Loaded entries are trusted against the save
//     time, which is later than the time of their Record. An untrusted entry
//     is hashed again and re-recorded. A file is therefore read by every run
//     until a run comes more than two seconds after its last change; right
//     after a run that wrote N files, the next run reads those N files
//     again, and no others.
//   - MarshalBinary writes only the entries recorded or matched (Hash ok)
//     since the cache was created or loaded: files that disappeared drop out,
//     and so do entries loaded but never looked up. A plan limited to some
//     sites (PlanOptions.Only) therefore leaves the other sites' files to be
//     hashed again by the next full plan.
//   - A directory's listing (names and entry types) is matched on the
//     directory's stat data: adding, removing or renaming an entry gives
//     the directory a new mtime and ctime. Listings are kept apart from
//     file entries (a path's file entry is never taken for its listing),
//     recorded only when the directory's stat after the read equals its
//     Lstat before, and never for a symbolic link. They are recorded and
//     matched only where the stat data carries ctime, inode and device
//     (POSIX systems); elsewhere ReadDir always reads.
//   - Racy listings are not trusted either: a listing is trusted only if
//     the directory's mtime and ctime are both older than the moment it
//     was vouched for minus two seconds, that moment being the save time
//     for a loaded listing and the moment just before the directory was
//     read for one recorded in this process. A listing that is not trusted
//     at that moment is not saved at all (a later save time would vouch
//     for a change made right after the read that left the directory's
//     times as they were), so a directory changed within two seconds
//     before it was read is read again by the next run, and no other.
//   - MarshalBinary writes only the listings read or matched (ReadDir)
//     since the cache was created or loaded, as for files.
//   - A blob that is damaged in any way, or that comes from another format
//     version or a platform with different stat data, is an error from
//     UnmarshalBinary; the caller then starts with an empty cache.
type StatCache struct {
	mu      sync.Mutex
	entries map[string]*statEntry
	// dirs are the directory listings, by the directory's path relative
	// to the root ("" for the root).
	dirs map[string]*dirListing
	// now is the clock for record and save times (tests move it forward).
	now func() time.Time
	// changed is set when an entry or a listing was recorded, replaced or
	// dropped in this process (see Dirty).
	changed bool
	// dirReads counts the directories read by ReadDir and ReadDirStat.
	dirReads atomic.Int64
}

// statKey is the stat data an entry is matched on. Fields the platform does
// not offer are zero.
type statKey struct {
	size  int64
	mtime int64 // ns since the Unix epoch
	ctime int64 // ns since the Unix epoch
	ino   uint64
	dev   uint64
	mode  uint32 // fs.FileMode bits
}

type statEntry struct {
	st   statKey
	hash [sha256.Size]byte
	// horizon (ns since the Unix epoch) is when the pair was last vouched
	// for: the save time of a loaded entry, the record time of a recorded
	// one. The entry is trusted only if st.mtime < horizon - racyWindow.
	horizon int64
	// used is set when the entry was recorded or matched in this process;
	// only used entries are saved.
	used bool
}

// racyWindow covers the coarsest file timestamp granularity fleetgen expects
// (FAT and some network filesystems: 2 s).
const racyWindow = 2 * time.Second

// NewStatCache returns an empty cache.
func NewStatCache() *StatCache {
	return &StatCache{entries: map[string]*statEntry{}}
}

// SetClock makes the cache read record and save times from now instead of
// time.Now (tests set one ahead of time.Now to age what they just wrote).
func (c *StatCache) SetClock(now func() time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = now
}

func (c *StatCache) clock() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

// Hash returns the recorded hash (lowercase hex SHA-256) of the file at rel,
// and true, when a trusted entry for rel matches fi exactly. An entry that no
// longer matches fi is dropped.
func (c *StatCache) Hash(rel string, fi fs.FileInfo) (hash string, ok bool) {
	k, ok := statKeyOf(fi)
	if !ok {
		return "", false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[rel]
	switch {
	case e == nil:
		return "", false
	case e.st != k:
		delete(c.entries, rel)
		c.changed = true
		return "", false
	case k.mtime >= e.horizon-int64(racyWindow):
		return "", false
	}
	e.used = true
	return hex.EncodeToString(e.hash[:]), true
}

// Record remembers that the file at rel, as described by fi, has the content
// hash (lowercase hex SHA-256). The caller must have observed the pair
// consistently (see the type's documentation). Symlinks, non-regular files,
// an empty rel and a malformed hash are ignored.
func (c *StatCache) Record(rel string, fi fs.FileInfo, hash string) {
	k, ok := statKeyOf(fi)
	if !ok || rel == "" || len(hash) != 2*sha256.Size {
		return
	}
	e := &statEntry{st: k, used: true}
	if _, err := hex.Decode(e.hash[:], []byte(hash)); err != nil {
		return
	}
	e.horizon = c.clock().UnixNano()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string]*statEntry{}
	}
	c.entries[rel] = e
	c.changed = true
}

// Forget drops the entry of rel (the file was deleted, or a write to it
// could not be confirmed).
func (c *StatCache) Forget(rel string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[rel]; ok {
		delete(c.entries, rel)
		c.changed = true
	}
}

// Dirty reports whether MarshalBinary would save something other than
// what was loaded: an entry or a listing was recorded, replaced or dropped,
// or a loaded entry or listing was not used (and would be left out). A
// cache that is not dirty need not be saved again.
func (c *StatCache) Dirty() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.changed {
		return true
	}
	for _, e := range c.entries {
		if !e.used {
			return true
		}
	}
	for _, l := range c.dirs {
		if !l.used {
			return true
		}
	}
	return false
}

// statKeyOf returns the stat data of a regular file; false for anything else
// or when the platform's stat data is missing from fi.
func statKeyOf(fi fs.FileInfo) (statKey, bool) {
	if fi == nil || !fi.Mode().IsRegular() {
		return statKey{}, false
	}
	return keyOf(fi)
}

// sameStat reports whether a and b are the same regular file with the same
// stat data.
func sameStat(a, b fs.FileInfo) bool {
	ka, ok := statKeyOf(a)
	if !ok {
		return false
	}
	kb, ok := statKeyOf(b)
	return ok && ka == kb
}

// SameWrite reports whether after (a stat taken after renaming a temporary
// file into place) shows the file whose descriptor gave tmp: the same file,
// size, mtime and mode. The ctime is left out, as a rename may update it.
func SameWrite(tmp, after fs.FileInfo) bool {
	return tmp != nil && after != nil && os.SameFile(tmp, after) &&
		tmp.Size() == after.Size() && tmp.ModTime().Equal(after.ModTime()) && tmp.Mode() == after.Mode()
}

// ReadRoot reads the file name under r (rel relative to the tree's root),
// whose Lstat is fi, and returns its content and hash (lowercase hex
// SHA-256). It records the hash for rel when the Fstat of the opened file
// after the read agrees with fi (so the content read belongs to that stat
// data).
func (c *StatCache) ReadRoot(r *os.Root, name, rel string, fi fs.FileInfo) (data []byte, hash string, err error) {
	f, err := r.Open(name)
	if err != nil {
		return nil, "", err
	}
	data, consistent, err := readOpened(f, fi)
	if err != nil {
		return nil, "", err
	}
	hash = hashOf(data)
	if consistent {
		c.Record(rel, fi, hash)
	}
	return data, hash, nil
}

// SameFile reports whether a and b are the same file with the same size,
// mtime and mode, and, when withCtime is set and the platform records it,
// the same ctime (a rename may change the ctime).
func SameFile(a, b fs.FileInfo, withCtime bool) bool {
	if a == nil || b == nil {
		return false
	}
	ka, okA := keyOf(a)
	kb, okB := keyOf(b)
	if okA && okB {
		if !withCtime {
			ka.ctime, kb.ctime = 0, 0
		}
		return ka == kb
	}
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime()) && a.Mode() == b.Mode()
}

// ReadFile reads the file at path, whose Lstat is fi, and returns its content
// and hash (lowercase hex SHA-256). It records the hash for rel when the
// stat of the opened file after the read agrees with fi, as tree.MakePlan does
// for the files it reads. Callers outside the tree (files left on disk that
// a build may read) use it so that the next run need not read them again.
func (c *StatCache) ReadFile(path, rel string, fi fs.FileInfo) (data []byte, hash string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, "", err
	}
	data, consistent, err := readOpened(f, fi)
	if err != nil {
		return nil, "", err
	}
	hash = hashOf(data)
	if consistent {
		c.Record(rel, fi, hash)
	}
	return data, hash, nil
}

// readOpened reads f, whose Lstat before opening is fi, and closes it.
func readOpened(f *os.File, fi fs.FileInfo) (data []byte, consistent bool, err error) {
	defer f.Close()
	size := fi.Size()
	if size < 0 || size > math.MaxInt32 {
		size = 0
	}
	buf := bytes.NewBuffer(make([]byte, 0, int(size)+512))
	if _, err := buf.ReadFrom(f); err != nil {
		return nil, false, err
	}
	data = buf.Bytes()
	after, err := f.Stat()
	consistent = err == nil && int64(len(data)) == fi.Size() && sameStat(fi, after)
	return data, consistent, nil
}

// Binary format, all integers varints (encoding/binary):
//
//	magic "fleetgen-stat-cache\n", version byte, platform byte
//	save time (ns since the Unix epoch), entry count
//	per entry, sorted by path:
//	  length of the prefix shared with the previous path, rest of the path
//	  (length, bytes), size, mtime, [full: ctime - mtime, inode - previous
//	  inode, device - previous device], mode, 32-byte SHA-256 of the content
//	name count
//	the names of the listings' entries, each once, sorted: length of the
//	  prefix shared with the previous name, rest of the name (length, bytes)
//	listing count
//	per listing, sorted by the directory's path ("" for the root first):
//	  path as for entries, size, mtime, [full: ctime - mtime, inode -
//	  previous listing's inode, device - previous listing's device], mode
//	  without fs.ModeDir, entry count
//	  per entry, sorted by name: its name's index in the names minus one
//	  past the previous entry's (0 for the first entry: its index), type
//	  (bit i set for entryTypes[i]; 0 for a regular file)
//	SHA-256 of everything before it
const (
	statMagic   = "fleetgen-stat-cache\n"
	statVersion = 2
	// Platforms: which stat data the entries carry.
	statBasic = 0 // size, mtime, mode
	statFull  = 1 // also ctime, inode, device
)

// MarshalBinary encodes the entries and the trusted listings recorded or
// matched since the cache was created or loaded, with the current time as
// the save time.
func (c *StatCache) MarshalBinary() ([]byte, error) {
	save := c.clock().UnixNano()
	c.mu.Lock()
	paths := make([]string, 0, len(c.entries))
	for p, e := range c.entries {
		// An entry that was racy when its hash was taken is not saved:
		// the save time would vouch for it, although the file may have
		// changed after the hash was taken without changing its stat.
		if e.used && e.st.mtime < e.horizon-int64(racyWindow) {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	es := make([]statEntry, len(paths))
	for i, p := range paths {
		es[i] = *c.entries[p]
	}
	dirPaths := make([]string, 0, len(c.dirs))
	for p, l := range c.dirs {
		if l.used && l.trusted() {
			dirPaths = append(dirPaths, p)
		}
	}
	sort.Strings(dirPaths)
	ls := make([]dirListing, len(dirPaths))
	for i, p := range dirPaths {
		ls[i] = *c.dirs[p]
	}
	c.mu.Unlock()

	b := make([]byte, 0, 64+len(paths)*72+len(dirPaths)*80)
	b = append(b, statMagic...)
	b = append(b, statVersion, statPlatform)
	b = binary.AppendVarint(b, save)
	b = binary.AppendUvarint(b, uint64(len(paths)))
	prev := ""
	var prevSt statKey
	for i, p := range paths {
		e := &es[i]
		b = appendShared(b, prev, p)
		b = appendStat(b, e.st, &prevSt)
		b = binary.AppendUvarint(b, uint64(e.st.mode))
		b = append(b, e.hash[:]...)
		prev = p
	}
	b = appendListings(b, dirPaths, ls)
	sum := sha256.Sum256(b)
	return append(b, sum[:]...), nil
}

// errStatCache is wrapped by every UnmarshalBinary error.
var errStatCache = errors.New("stat cache unreadable")

// UnmarshalBinary replaces the cache's entries and listings with those in
// data. Any damage, another format version or another platform's stat data
// is an error, and the cache is left as it was.
func (c *StatCache) UnmarshalBinary(data []byte) error {
	entries, dirs, err := decodeStatCache(data)
	if err != nil {
		return fmt.Errorf("%w: %v", errStatCache, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = entries
	c.dirs = dirs
	return nil
}

func decodeStatCache(data []byte) (map[string]*statEntry, map[string]*dirListing, error) {
	if len(data) < len(statMagic)+2+sha256.Size {
		return nil, nil, errors.New("too short")
	}
	body, sum := data[:len(data)-sha256.Size], data[len(data)-sha256.Size:]
	if want := sha256.Sum256(body); !bytes.Equal(sum, want[:]) {
		return nil, nil, errors.New("checksum mismatch")
	}
	if string(body[:len(statMagic)]) != statMagic {
		return nil, nil, errors.New("not a fleetgen stat cache")
	}
	d := &statDecoder{b: body[len(statMagic):]}
	if v := d.byte(); v != statVersion {
		return nil, nil, fmt.Errorf("format version %d, want %d", v, statVersion)
	}
	if p := d.byte(); p != statPlatform {
		return nil, nil, fmt.Errorf("stat data of kind %d, this platform records kind %d", p, statPlatform)
	}
	save := d.varint()
	entries, err := decodeEntries(d, save)
	if err != nil {
		return nil, nil, err
	}
	dirs, err := decodeListings(d, save)
	if err != nil {
		return nil, nil, err
	}
	if len(d.b) != 0 {
		return nil, nil, fmt.Errorf("%d bytes of trailing data", len(d.b))
	}
	return entries, dirs, nil
}

// decodeEntries decodes the file entries of a blob saved at save.
func decodeEntries(d *statDecoder, save int64) (map[string]*statEntry, error) {
	n := d.uvarint()
	// Every entry takes at least 35 bytes: refuse counts the data cannot hold
	// before allocating for them.
	if d.err == nil && n > uint64(len(d.b))/35 {
		return nil, fmt.Errorf("entry count %d exceeds the data", n)
	}
	entries := make(map[string]*statEntry, n)
	prev := ""
	var prevSt statKey
	for i := uint64(0); i < n && d.err == nil; i++ {
		p, ok := d.shared(prev)
		if !ok {
			return nil, fmt.Errorf("entry %d: bad path length", i)
		}
		if p == "" || (i > 0 && p <= prev) {
			return nil, fmt.Errorf("entry %d: path %q out of order", i, p)
		}
		e := &statEntry{horizon: save}
		if e.st, ok = d.stat(&prevSt); !ok {
			return nil, fmt.Errorf("entry %d: bad size", i)
		}
		mode := d.uvarint()
		if mode > math.MaxUint32 || !fs.FileMode(mode).IsRegular() {
			return nil, fmt.Errorf("entry %d: bad mode", i)
		}
		e.st.mode = uint32(mode)
		copy(e.hash[:], d.bytes(sha256.Size))
		entries[p] = e
		prev = p
	}
	if d.err != nil {
		return nil, d.err
	}
	return entries, nil
}

// statDecoder reads varints and bytes, remembering the first error.
// appendStat encodes the stat data file entries and listings share: size,
// mtime and, with full stat data, ctime (from mtime), inode and device
// (from the previous record's).
func appendStat(b []byte, st statKey, prev *statKey) []byte {
	b = binary.AppendUvarint(b, uint64(st.size))
	b = binary.AppendVarint(b, st.mtime)
	if statPlatform == statFull {
		b = binary.AppendVarint(b, st.ctime-st.mtime)
		b = binary.AppendVarint(b, int64(st.ino-prev.ino))
		b = binary.AppendVarint(b, int64(st.dev-prev.dev))
		*prev = st
	}
	return b
}

// stat decodes what appendStat encoded; ok is false for a bad size.
func (d *statDecoder) stat(prev *statKey) (st statKey, ok bool) {
	size := d.uvarint()
	if size > math.MaxInt64 {
		return st, false
	}
	st.size = int64(size)
	st.mtime = d.varint()
	if statPlatform == statFull {
		st.ctime = st.mtime + d.varint()
		st.ino = prev.ino + uint64(d.varint())
		st.dev = prev.dev + uint64(d.varint())
		*prev = st
	}
	return st, true
}

type statDecoder struct {
	b   []byte
	err error
}

func (d *statDecoder) fail() {
	if d.err == nil {
		d.err = io.ErrUnexpectedEOF
	}
	d.b = nil
}

func (d *statDecoder) byte() byte {
	if len(d.b) < 1 {
		d.fail()
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *statDecoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *statDecoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *statDecoder) bytes(n int) []byte {
	if n < 0 || n > len(d.b) {
		d.fail()
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func sharedPrefix(a, b string) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// hashOf is the lowercase hex SHA-256 of data, the form the stat cache
// records and pkg/tree's ledger uses.
func hashOf(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
