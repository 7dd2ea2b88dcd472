package changes

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// A Seal is what a Snapshot saw, kept to tell later whether anything at
// those paths changed: for each path, the stat data of the file or
// directory there, or that nothing was there. Changed reports every path
// whose stat data (size, mtime, ctime, inode, device and mode) is not
// exactly that again. A file's content, or a directory's listing, cannot change
// without changing its stat data, provided it was last changed well before
// it was looked at (the racy rule of StatCache): so a Seal is only made
// when every file and directory it covers is more than two seconds older
// than the Snapshot, and only where stat data has ctime, inode and device.
//
// pkg/pipeline seals the paths a clean check looked at, so that the next
// check of the same inputs can take the same verdict after one lstat per
// path, and check again only what relates to the paths that changed
// (Changed).
type Seal struct {
	paths []string // sorted
	stats []sealEntry
}

type sealEntry struct {
	st     statKey
	absent bool
}

// ErrNotSealable is returned by Snapshot.Seal when a path changed too
// recently (or the platform's stat data is too coarse) for a Seal to be
// trusted.
var ErrNotSealable = errors.New("tree changed too recently to be sealed")

// Seal makes a Seal of every path the snapshot holds, with the snapshot's
// creation time as the horizon. Paths whose lookup failed with an error
// other than "does not exist" are not in a snapshot; a symbolic link or
// special file makes the snapshot unsealable.
func (s *Snapshot) Seal() (*Seal, error) {
	if statPlatform != statFull || s.incomplete.Load() {
		return nil, ErrNotSealable
	}
	horizon := s.horizon() - int64(racyWindow)
	n := s.m.Len() + len(s.basePaths)
	// Sized once and sorted in place: at 10,000 sites a seal covers some
	// 130,000 paths, made while the rest of a check is still held.
	x := &Seal{paths: make([]string, 0, n), stats: make([]sealEntry, 0, n)}
	var err error
	s.each(func(rel string, fi *keyInfo) bool {
		var se sealEntry
		switch {
		case fi == nil:
			se.absent = true
		case (fi.Mode().IsRegular() || fi.IsDir()) && fi.full:
			if fi.k.mtime >= horizon || fi.k.ctime >= horizon {
				err = fmt.Errorf("%s: %w", rel, ErrNotSealable)
				return false
			}
			se.st = fi.k
		default:
			err = fmt.Errorf("%s: %w", rel, ErrNotSealable)
			return false
		}
		x.paths = append(x.paths, rel)
		x.stats = append(x.stats, se)
		return true
	})
	if err != nil {
		return nil, err
	}
	sort.Sort(bySealPath{x})
	return x, nil
}

// bySealPath sorts a seal's paths, and their stat data with them.
type bySealPath struct{ x *Seal }

func (b bySealPath) Len() int           { return len(b.x.paths) }
func (b bySealPath) Less(i, j int) bool { return b.x.paths[i] < b.x.paths[j] }
func (b bySealPath) Swap(i, j int) {
	b.x.paths[i], b.x.paths[j] = b.x.paths[j], b.x.paths[i]
	b.x.stats[i], b.x.stats[j] = b.x.stats[j], b.x.stats[i]
}

// Len is the number of paths the seal covers.
func (x *Seal) Len() int {
	if x == nil {
		return 0
	}
	return len(x.paths)
}

// Changed looks up every path of the seal under root, on every CPU, and
// returns those whose stat data differs from the seal's, sorted. ok is
// false when more than limit paths changed (the search then stops early),
// and for a seal of no paths, which vouches for nothing.
// fill puts every lookup into a snapshot, for the steps that follow; the
// snapshot's horizon is the start of Changed.
func (x *Seal) Changed(root string, limit int) (changed []string, ok bool, fill func(*Snapshot)) {
	if len(x.paths) == 0 {
		return nil, false, nil
	}
	start := time.Now().UnixNano()
	var r *os.Root
	if rr, err := os.OpenRoot(root); err == nil {
		r = rr
		defer r.Close()
	}
	type seen struct {
		fi  fs.FileInfo
		err error
	}
	results := make([]seen, len(x.paths))
	var (
		next, count atomic.Int64
		mu          sync.Mutex
		wg          sync.WaitGroup
	)
	const chunk = 256
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			lstat, release := RootLstat(r)
			defer release()
			if lstat == nil {
				lstat = func(rel string) (fs.FileInfo, error) { return os.Lstat(filepath.Join(root, filepath.FromSlash(rel))) }
			}
			for count.Load() <= int64(limit) {
				lo := int(next.Add(chunk)) - chunk
				if lo >= len(x.paths) {
					return
				}
				for i := lo; i < min(lo+chunk, len(x.paths)); i++ {
					rel := x.paths[i]
					var fi fs.FileInfo
					var err error
					if rel == "" {
						fi, err = os.Lstat(root)
					} else {
						fi, err = lstat(rel)
					}
					results[i] = seen{fi, err}
					if !x.stats[i].matches(fi, err) {
						count.Add(1)
						mu.Lock()
						changed = append(changed, rel)
						mu.Unlock()
					}
				}
			}
		})
	}
	wg.Wait()
	if count.Load() > int64(limit) {
		return nil, false, nil
	}
	sort.Strings(changed)
	fill = func(snap *Snapshot) {
		if snap.Now != nil {
			start = snap.now()
		}
		snap.once.Do(func() { snap.created = start })
		seen := make([]*keyInfo, len(results))
		for i, r := range results {
			switch {
			case r.err == nil:
				seen[i] = compact(x.paths[i], r.fi)
			case errors.Is(r.err, fs.ErrNotExist):
			default:
				// A lookup failed: the snapshot goes without these
				// lookups, and cannot be sealed.
				snap.incomplete.Store(true)
				return
			}
		}
		snap.basePaths, snap.baseSeen = x.paths, seen
	}
	return changed, true, fill
}

func (e sealEntry) matches(fi fs.FileInfo, err error) bool {
	switch {
	case e.absent:
		return errors.Is(err, fs.ErrNotExist)
	case err != nil:
		return false
	case fi.Mode().IsRegular():
		st, ok := statKeyOf(fi)
		return ok && st == e.st
	case fi.IsDir():
		st, ok := dirKeyOf(fi)
		return ok && st == e.st
	}
	return false
}

// Seal binary format, all integers varints (encoding/binary):
//
//	magic "fleetgen-seal\n", version byte
//	path count
//	per path, sorted: length of the prefix shared with the previous path,
//	  rest of the path (length, bytes), kind (0 absent, 1 stat data), then
//	  for stat data: size, mtime, ctime - mtime, inode - previous inode,
//	  device - previous device, mode
//	SHA-256 of everything before it
const (
	sealMagic   = "fleetgen-seal\n"
	sealVersion = 1
)

// MarshalBinary encodes the seal.
func (x *Seal) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, 32+len(x.paths)*40)
	b = append(b, sealMagic...)
	b = append(b, sealVersion)
	b = binary.AppendUvarint(b, uint64(len(x.paths)))
	prev := ""
	var prevSt statKey
	for i, p := range x.paths {
		b = appendShared(b, prev, p)
		e := x.stats[i]
		if e.absent {
			b = append(b, 0)
		} else {
			b = append(b, 1)
			b = appendStat(b, e.st, &prevSt)
			b = binary.AppendUvarint(b, uint64(e.st.mode))
		}
		prev = p
	}
	sum := sha256.Sum256(b)
	return append(b, sum[:]...), nil
}

// UnmarshalSeal decodes a seal. Any damage, or another version, is an
// error.
func UnmarshalSeal(data []byte) (*Seal, error) {
	bad := func(what string) (*Seal, error) { return nil, fmt.Errorf("seal unreadable: %s", what) }
	if statPlatform != statFull {
		return bad("platform without full stat data")
	}
	if len(data) < len(sealMagic)+1+sha256.Size {
		return bad("too short")
	}
	body, sum := data[:len(data)-sha256.Size], data[len(data)-sha256.Size:]
	if got := sha256.Sum256(body); string(got[:]) != string(sum) {
		return bad("checksum mismatch")
	}
	if string(body[:len(sealMagic)]) != sealMagic || body[len(sealMagic)] != sealVersion {
		return bad("other format")
	}
	d := &statDecoder{b: body[len(sealMagic)+1:]}
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.b)) {
		return bad("count exceeds the data")
	}
	// The paths are decoded into one buffer and cut from one string: a
	// seal of a 10,000-site tree holds some 90,000, and the lookups wait
	// for them.
	x := &Seal{stats: make([]sealEntry, 0, n)}
	buf, ends := make([]byte, 0, len(d.b)), make([]int, 0, n)
	prevStart := 0
	var prevSt statKey
	for i := uint64(0); i < n && d.err == nil; i++ {
		shared, rest := d.uvarint(), d.uvarint()
		if shared > uint64(len(buf)-prevStart) || rest > uint64(len(d.b)) {
			return bad(fmt.Sprintf("path %d out of order", i))
		}
		start := len(buf)
		buf = append(buf, buf[prevStart:prevStart+int(shared)]...)
		buf = append(buf, d.bytes(int(rest))...)
		if i > 0 && bytes.Compare(buf[start:], buf[prevStart:start]) <= 0 {
			return bad(fmt.Sprintf("path %d out of order", i))
		}
		ends = append(ends, len(buf))
		prevStart = start
		var ok bool
		var e sealEntry
		switch kind := d.byte(); kind {
		case 0:
			e.absent = true
		case 1:
			if e.st, ok = d.stat(&prevSt); !ok {
				return bad(fmt.Sprintf("path %d: bad size", i))
			}
			mode := d.uvarint()
			if mode > 1<<32-1 {
				return bad(fmt.Sprintf("path %d: bad mode", i))
			}
			e.st.mode = uint32(mode)
		default:
			return bad(fmt.Sprintf("path %d: bad kind", i))
		}
		x.stats = append(x.stats, e)
	}
	if d.err != nil || len(d.b) != 0 {
		return bad("truncated or trailing data")
	}
	all := string(buf)
	x.paths = make([]string, len(ends))
	start := 0
	for i, end := range ends {
		x.paths[i], start = all[start:end], end
	}
	return x, nil
}

// now reads the snapshot's clock.
func (s *Snapshot) now() int64 {
	if s.Now != nil {
		return s.Now().UnixNano()
	}
	return time.Now().UnixNano()
}

// horizon returns the snapshot's creation time, set by the first call.
func (s *Snapshot) horizon() int64 {
	s.once.Do(func() { s.created = s.now() })
	return s.created
}
