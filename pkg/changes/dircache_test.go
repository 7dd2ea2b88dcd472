package changes

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"syscall"
	"testing"
	"time"
)

// skipWithoutDirCache skips tests of listings matched without a read on
// platforms where ReadDir always reads.
func skipWithoutDirCache(t testing.TB) {
	t.Helper()
	if !dirCacheable {
		t.Skip("this platform's stat data has no ctime or inode: listings are not cached")
	}
}

// oldTime is an mtime well before any clock a test sets.
var oldTime = time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)

// ageDirs sets the mtime of the directories rel (under root) to oldTime, so
// that a change to their entries shows in their stat data even within the
// filesystem's timestamp granularity.
func ageDirs(t testing.TB, root string, rels ...string) {
	t.Helper()
	for _, rel := range rels {
		if err := os.Chtimes(filepath.Join(root, filepath.FromSlash(rel)), oldTime, oldTime); err != nil {
			t.Fatal(err)
		}
	}
}

// listing is the listing of the directory at p as os.ReadDir gives it.
func listing(t testing.TB, p string) []DirEntry {
	t.Helper()
	des, err := os.ReadDir(p)
	if err != nil {
		t.Fatal(err)
	}
	es := make([]DirEntry, len(des))
	for i, d := range des {
		es[i] = DirEntry{Name: d.Name(), Type: d.Type()}
	}
	return es
}

// readDir calls c.ReadDir and checks that the listing is the directory's
// and the FileInfo its Lstat.
func readDir(t testing.TB, c *StatCache, root, rel string) []DirEntry {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	es, fi, err := c.ReadDir(p, rel)
	if err != nil {
		t.Fatal(err)
	}
	if want := listing(t, p); !reflect.DeepEqual(es, want) {
		t.Fatalf("ReadDir(%q) = %v, want %v", rel, es, want)
	}
	if lst, err := os.Lstat(p); err != nil || !os.SameFile(fi, lst) || !fi.ModTime().Equal(lst.ModTime()) {
		t.Fatalf("ReadDir(%q) returned a FileInfo that is not the directory's Lstat", rel)
	}
	return es
}

// TestStatCacheReadDirChanges: a listing is returned without a read while
// the directory's entries stay the same, and read again after any change
// to its entries.
func TestStatCacheReadDirChanges(t *testing.T) {
	skipWithoutDirCache(t)
	tests := []struct {
		name   string
		change func(t *testing.T, dir string)
		// read is whether the change must make ReadDir read the directory.
		read bool
	}{
		{"unchanged", func(*testing.T, string) {}, false},
		{"file rewritten in place", func(t *testing.T, dir string) { writeFile(t, dir, "a.yaml", "new content\n") }, false},
		{"entry added", func(t *testing.T, dir string) { writeFile(t, dir, "c.yaml", "c\n") }, true},
		{"entry removed", func(t *testing.T, dir string) { rm(t, dir, "a.yaml") }, true},
		{"entry renamed", func(t *testing.T, dir string) { mv(t, dir, "a.yaml", "z.yaml") }, true},
		{"entry renamed over another", func(t *testing.T, dir string) { mv(t, dir, "a.yaml", "b.yaml") }, true},
		{"file replaced by a directory", func(t *testing.T, dir string) {
			rm(t, dir, "a.yaml")
			if err := os.Mkdir(filepath.Join(dir, "a.yaml"), 0o755); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"file replaced by a symlink", func(t *testing.T, dir string) {
			rm(t, dir, "a.yaml")
			if err := os.Symlink("b.yaml", filepath.Join(dir, "a.yaml")); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"directory replaced by a file", func(t *testing.T, dir string) {
			rm(t, dir, "sub")
			writeFile(t, dir, "sub", "now a file\n")
		}, true},
		{"permissions changed", func(t *testing.T, dir string) {
			if err := os.Chmod(dir, 0o700); err != nil {
				t.Fatal(err)
			}
		}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			writeFile(t, root, "d/a.yaml", "a\n")
			writeFile(t, root, "d/b.yaml", "b\n")
			if err := os.Mkdir(filepath.Join(root, "d", "sub"), 0o755); err != nil {
				t.Fatal(err)
			}
			ageDirs(t, root, "d")
			c := NewStatCache()
			c.now = later(time.Hour)
			before := readDir(t, c, root, "d")
			if n := c.dirReads.Load(); n != 1 {
				t.Fatalf("first ReadDir read %d directories, want 1", n)
			}
			tc.change(t, filepath.Join(root, "d"))
			after := readDir(t, c, root, "d")
			var want int64 = 1
			if tc.read {
				want = 2
			}
			if n := c.dirReads.Load(); n != want {
				t.Errorf("ReadDir after the change: %d directories read in all, want %d", n, want)
			}
			if tc.read != !reflect.DeepEqual(before, after) && tc.name != "permissions changed" {
				t.Fatalf("the change left the listing %v, the case does not test what it says", after)
			}
			// The listing read after the change is recorded in its turn.
			readDir(t, c, root, "d")
			if n := c.dirReads.Load(); n != want {
				t.Errorf("ReadDir once more: %d directories read in all, want %d", n, want)
			}
		})
	}
}

func rm(t *testing.T, dir, name string) {
	t.Helper()
	if err := os.Remove(filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

func mv(t *testing.T, dir, from, to string) {
	t.Helper()
	if err := os.Rename(filepath.Join(dir, from), filepath.Join(dir, to)); err != nil {
		t.Fatal(err)
	}
}

// TestStatCacheRacyListings checks that a listing is trusted only if the
// directory's mtime and ctime are more than 2 s older than the moment the
// listing was vouched for, and that a listing recorded racy is not saved.
func TestStatCacheRacyListings(t *testing.T) {
	skipWithoutDirCache(t)
	tests := []struct {
		name string
		// mtime is the directory's mtime relative to its ctime; 0 for an
		// mtime long past.
		mtime time.Duration
		// recorded and saved are the record and save times, relative to
		// the directory's ctime; saved 0 means no save and load.
		recorded, saved time.Duration
		trusted         bool
	}{
		{"recorded at ctime, same process", 0, 0, 0, false},
		{"recorded 2 s after ctime, same process", 0, 2 * time.Second, 0, false},
		{"recorded 2 s + 1 ns after ctime, same process", 0, 2*time.Second + 1, 0, true},
		{"recorded 2 s + 1 ns after ctime, mtime a second later", time.Second, 2*time.Second + 1, 0, false},
		{"recorded an hour after ctime, mtime an hour later", time.Hour, time.Hour, 0, false},
		{"recorded 2 s + 1 ns after ctime, mtime an hour earlier", -time.Hour, 2*time.Second + 1, 0, true},
		{"recorded and saved 2 s + 1 ns after ctime", 0, 2*time.Second + 1, 2*time.Second + 1, true},
		{"recorded and saved an hour later", 0, time.Hour, time.Hour, true},
		{"recorded late, saved early", 0, time.Hour, 1, false},
		{"recorded at ctime, saved an hour later", 0, 0, time.Hour, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			writeFile(t, root, "d/f", "f\n")
			ageDirs(t, root, "d")
			p := filepath.Join(root, "d")
			lstat := func() (fs.FileInfo, time.Time) {
				fi, err := os.Lstat(p)
				if err != nil {
					t.Fatal(err)
				}
				k, _ := dirKeyOf(fi)
				return fi, time.Unix(0, k.ctime)
			}
			fi, ctime := lstat()
			if tc.mtime != 0 {
				if err := os.Chtimes(p, oldTime, ctime.Add(tc.mtime)); err != nil {
					t.Fatal(err)
				}
				// Chtimes set a new ctime, at most moments later: the
				// times below are relative to it.
				fi, ctime = lstat()
			}

			c := NewStatCache()
			c.now = at(ctime.Add(tc.recorded))
			if _, err := c.ReadDirStat(p, "d", fi); err != nil {
				t.Fatal(err)
			}
			if tc.saved != 0 {
				c = reload(t, c, at(ctime.Add(tc.saved)))
			} else {
				c.dirReads.Store(0)
			}
			es, err := c.ReadDirStat(p, "d", fi)
			if err != nil || !reflect.DeepEqual(es, []DirEntry{{Name: "f"}}) {
				t.Fatalf("ReadDirStat = %v, %v", es, err)
			}
			if read := c.dirReads.Load() == 1; read == tc.trusted {
				t.Errorf("directory read %v, want trusted %v", read, tc.trusted)
			}
		})
	}
}

// TestStatCacheListingRoundTrip: listings go through MarshalBinary and
// UnmarshalBinary and are then returned without a read; only the listings
// used in this process are saved.
func TestStatCacheListingRoundTrip(t *testing.T) {
	skipWithoutDirCache(t)
	root := t.TempDir()
	writeFile(t, root, "f", "f\n")
	writeFile(t, root, "a/c.yaml", "c\n")
	writeFile(t, root, "a/b/x", "x\n")
	writeFile(t, root, "d/e.yaml", "e\n")
	if err := os.Symlink("../f", filepath.Join(root, "d", "link")); err != nil {
		t.Fatal(err)
	}
	dirs := []string{"", "a", "a/b", "d"}
	ageDirs(t, root, dirs...)
	c := NewStatCache()
	c.now = later(time.Hour)
	want := map[string][]DirEntry{}
	for _, rel := range dirs {
		want[rel] = readDir(t, c, root, rel)
	}
	save := c.now
	blob, err := c.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if len(blob) > 64+sha256.Size+len(dirs)*100 {
		t.Errorf("%d bytes for %d listings, want a compact encoding", len(blob), len(dirs))
	}

	// Loaded, every listing used, saved at the same time: the same bytes.
	d := NewStatCache()
	if err := d.UnmarshalBinary(blob); err != nil {
		t.Fatal(err)
	}
	for _, rel := range dirs {
		if got := readDir(t, d, root, rel); !reflect.DeepEqual(got, want[rel]) {
			t.Errorf("%q: %v, want %v", rel, got, want[rel])
		}
	}
	if n := d.dirReads.Load(); n != 0 {
		t.Errorf("loaded cache read %d directories, want 0", n)
	}
	if d.Dirty() {
		t.Error("loaded cache with every listing used and none changed is dirty")
	}
	d.now = save
	again, err := d.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(blob) {
		t.Error("marshal after unmarshal gives different bytes")
	}

	tests := []struct {
		name   string
		use    []string
		change func(t *testing.T) // before the listings are used
		saved  int
		dirty  bool
	}{
		{"nothing used", nil, nil, 0, true},
		{"two used", dirs[:2], nil, 2, true},
		{"all used", dirs, nil, len(dirs), false},
		{"all used, one changed", dirs, func(t *testing.T) { writeFile(t, root, "d/new", "n\n") }, len(dirs), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.change != nil {
				tc.change(t)
			}
			e := NewStatCache()
			if err := e.UnmarshalBinary(blob); err != nil {
				t.Fatal(err)
			}
			e.now = later(time.Hour)
			for _, rel := range tc.use {
				readDir(t, e, root, rel)
			}
			if e.Dirty() != tc.dirty {
				t.Errorf("Dirty = %v, want %v", e.Dirty(), tc.dirty)
			}
			if got := len(reload(t, e, save).dirs); got != tc.saved {
				t.Errorf("%d listings saved, want %d", got, tc.saved)
			}
		})
	}
}

// TestStatCacheListingsApartFromFiles: a path's file entry and its listing
// never stand in for each other.
func TestStatCacheListingsApartFromFiles(t *testing.T) {
	skipWithoutDirCache(t)
	root := t.TempDir()
	writeFile(t, root, "x", "a file\n")
	p := filepath.Join(root, "x")
	fileFI, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	c := NewStatCache()
	c.now = later(time.Hour)
	c.Record("x", fileFI, hashOf([]byte("a file\n")))

	// x becomes a directory: its listing is recorded beside the file entry.
	rm(t, root, "x")
	writeFile(t, root, "x/y", "y\n")
	readDir(t, c, root, "x")
	if _, err := c.ReadDirStat(p, "x", fileFI); !errors.Is(err, syscall.ENOTDIR) {
		t.Errorf("ReadDirStat with a file's FileInfo: %v, want ENOTDIR", err)
	}
	c = reload(t, c, later(time.Hour))
	if _, ok := c.Hash("x", fileFI); !ok {
		t.Error("the file entry of x was lost")
	}
	readDir(t, c, root, "x")
	if n := c.dirReads.Load(); n != 0 {
		t.Errorf("the listing of x was lost: %d directories read", n)
	}
	dirFI, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Hash("x", dirFI); ok {
		t.Error("Hash matched a directory")
	}
}

func TestStatCacheReadDirErrors(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "dir/f", "f\n")
	if err := os.Symlink("dir", filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		rel  string
		want error
	}{
		{"missing", "missing", fs.ErrNotExist},
		{"regular file", "dir/f", syscall.ENOTDIR},
		{"symlink to a directory", "link", syscall.ENOTDIR},
		{"below a file", "dir/f/g", syscall.ENOTDIR},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := NewStatCache()
			c.now = later(time.Hour)
			p := filepath.Join(root, filepath.FromSlash(tc.rel))
			es, fi, err := c.ReadDir(p, tc.rel)
			if !errors.Is(err, tc.want) || es != nil || fi != nil {
				t.Errorf("ReadDir = %v, %v, %v; want an error wrapping %v", es, fi, err, tc.want)
			}
			if lst, lerr := os.Lstat(p); lerr == nil {
				if _, err := c.ReadDirStat(p, tc.rel, lst); !errors.Is(err, tc.want) {
					t.Errorf("ReadDirStat: %v, want an error wrapping %v", err, tc.want)
				}
			}
			if len(c.dirs) != 0 || c.Dirty() {
				t.Error("a failed ReadDir recorded a listing")
			}
		})
	}
	c := NewStatCache()
	if _, err := c.ReadDirStat(root, "", nil); err == nil {
		t.Error("ReadDirStat with a nil FileInfo: no error")
	}
}

// TestDirKeyOf: only a directory's stat data keys a listing.
func TestDirKeyOf(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "d/f", "f\n")
	if err := os.Symlink("d", filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		rel string
		ok  bool
	}{
		{"d", true},
		{"d/f", false},
		{"link", false},
	}
	for _, tc := range tests {
		fi, err := os.Lstat(filepath.Join(root, tc.rel))
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := dirKeyOf(fi); ok != tc.ok {
			t.Errorf("dirKeyOf(%s) ok = %v, want %v", tc.rel, ok, tc.ok)
		}
	}
	if _, ok := dirKeyOf(nil); ok {
		t.Error("dirKeyOf(nil) ok")
	}
}

// TestStatCacheReadDirInconsistent: a directory that changes between its
// Lstat and the end of the read is returned as read, and not recorded.
func TestStatCacheReadDirInconsistent(t *testing.T) {
	skipWithoutDirCache(t)
	root := t.TempDir()
	writeFile(t, root, "d/a", "a\n")
	ageDirs(t, root, "d")
	p := filepath.Join(root, "d")
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, root, "d/b", "b\n")
	c := NewStatCache()
	c.now = later(time.Hour)
	es, err := c.ReadDirStat(p, "d", fi)
	if err != nil {
		t.Fatal(err)
	}
	if want := listing(t, p); !reflect.DeepEqual(es, want) {
		t.Errorf("ReadDirStat = %v, want the listing read, %v", es, want)
	}
	if c.dirs["d"] != nil {
		t.Error("a listing read inconsistently was recorded")
	}
}

// TestStatCacheReadDirReturnsCopy: changing a returned listing does not
// change the cached one.
func TestStatCacheReadDirReturnsCopy(t *testing.T) {
	skipWithoutDirCache(t)
	root := t.TempDir()
	writeFile(t, root, "a", "a\n")
	c := NewStatCache()
	c.now = later(time.Hour)
	for range 3 {
		es := readDir(t, c, root, "")
		es[0].Name = "changed"
	}
	if n := c.dirReads.Load(); n != 1 {
		t.Errorf("%d directories read, want 1", n)
	}
}

// TestStatCacheReadDirConcurrent reads directories from several goroutines
// at once, some the same; run with -race.
func TestStatCacheReadDirConcurrent(t *testing.T) {
	root := t.TempDir()
	var dirs []string
	for i := range 16 {
		rel := fmt.Sprintf("s%02d", i)
		dirs = append(dirs, rel)
		writeFile(t, root, rel+"/kustomization.yaml", "k\n")
		writeFile(t, root, rel+"/patch.yaml", "p\n")
	}
	c := NewStatCache()
	c.now = later(time.Hour)
	want := map[string][]DirEntry{}
	for _, rel := range dirs {
		want[rel] = listing(t, filepath.Join(root, rel))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8*len(dirs))
	for g := range 8 {
		wg.Go(func() {
			for i := range dirs {
				rel := dirs[(i+g)%len(dirs)]
				es, _, err := c.ReadDir(filepath.Join(root, rel), rel)
				if err != nil {
					errs <- err
				} else if !reflect.DeepEqual(es, want[rel]) {
					errs <- fmt.Errorf("%s: %v, want %v", rel, es, want[rel])
				}
			}
		})
	}
	wg.Go(func() { c.Dirty() })
	wg.Go(func() { c.MarshalBinary() })
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if !dirCacheable {
		return
	}
	c.dirReads.Store(0)
	for _, rel := range dirs {
		readDir(t, c, root, rel)
	}
	if n := c.dirReads.Load(); n != 0 {
		t.Errorf("%d directories read after every one was read, want 0", n)
	}
}

// TestStatCacheUnmarshalBadListings: the decoder refuses listings that a
// directory cannot have.
func TestStatCacheUnmarshalBadListings(t *testing.T) {
	good := func() *dirListing {
		return &dirListing{
			st:      statKey{size: 4096, mtime: 1e18, ctime: 1e18 + 5, ino: 12, dev: 3, mode: uint32(fs.ModeDir | 0o755)},
			entries: []DirEntry{{Name: "a"}, {Name: "b", Type: fs.ModeDir}},
			horizon: 2e18,
			used:    true,
		}
	}
	tests := []struct {
		name   string
		change func(l *dirListing)
		ok     bool
	}{
		{"good", func(*dirListing) {}, true},
		{"no entries", func(l *dirListing) { l.entries = nil }, true},
		{"every entry type", func(l *dirListing) {
			l.entries = nil
			for i, m := range entryTypes {
				l.entries = append(l.entries, DirEntry{Name: fmt.Sprint("t", i), Type: m})
			}
			l.entries = append(l.entries, DirEntry{Name: "tc", Type: fs.ModeDevice | fs.ModeCharDevice})
		}, true},
		{"not a directory", func(l *dirListing) { l.st.mode = uint32(fs.ModeSymlink | fs.ModeDir | 0o777) }, false},
		{"names out of order", func(l *dirListing) { l.entries[0].Name = "c" }, false},
		{"name twice", func(l *dirListing) { l.entries[0].Name = "b" }, false},
		{"empty name", func(l *dirListing) { l.entries[0].Name = "" }, false},
		{"name with a slash", func(l *dirListing) { l.entries[0].Name = "a/" }, false},
		{"name with a NUL", func(l *dirListing) { l.entries[0].Name = "a\x00" }, false},
		{"dot", func(l *dirListing) { l.entries[0].Name = "." }, false},
		{"dot dot", func(l *dirListing) { l.entries[0].Name = ".." }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := good()
			tc.change(l)
			c := NewStatCache()
			c.now = at(time.Unix(0, 2e18))
			c.dirs = map[string]*dirListing{"": good(), "x": l}
			blob, err := c.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			d := NewStatCache()
			err = d.UnmarshalBinary(blob)
			if (err == nil) != tc.ok {
				t.Fatalf("UnmarshalBinary: %v, want ok %v", err, tc.ok)
			}
			if err != nil {
				if !errors.Is(err, errStatCache) {
					t.Errorf("%v does not wrap errStatCache", err)
				}
				return
			}
			got := d.dirs["x"]
			if got.st != l.st || len(got.entries) != len(l.entries) || len(l.entries) > 0 && !reflect.DeepEqual(got.entries, l.entries) {
				t.Errorf("decoded %+v, want %+v", got, l)
			}
		})
	}

	// An entry type with a bit no type has.
	c := NewStatCache()
	c.now = at(time.Unix(0, 2e18))
	c.dirs = map[string]*dirListing{"": good()}
	blob, err := c.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	body := blob[:len(blob)-sha256.Size]
	if body[len(body)-1] != byte(encodeEntryType(fs.ModeDir)) {
		t.Fatal("the blob does not end with the last entry's type")
	}
	body = append(append([]byte(nil), body[:len(body)-1]...), 0x80, 0x01)
	sum := sha256.Sum256(body)
	if err := NewStatCache().UnmarshalBinary(append(body, sum[:]...)); !errors.Is(err, errStatCache) {
		t.Errorf("entry type 128: %v, want an error", err)
	}
}

// BenchmarkReadDir lists 10,000 directories (three files each) with
// os.ReadDir and through a stat cache: cold (every directory read and
// recorded), warm (loaded from its blob: an Lstat per directory), and warm
// with the caller's Lstat (no system call).
func BenchmarkReadDir(b *testing.B) {
	skipWithoutDirCache(b)
	const n = 10000
	root := b.TempDir()
	rels := make([]string, n)
	paths := make([]string, n)
	for i := range n {
		rels[i] = fmt.Sprintf("overlays/s%05d", i)
		paths[i] = filepath.Join(root, filepath.FromSlash(rels[i]))
		if err := os.MkdirAll(paths[i], 0o755); err != nil {
			b.Fatal(err)
		}
		for _, f := range []string{"kustomization.yaml", "deployment-patch.yaml", "configmap.yaml"} {
			if err := os.WriteFile(filepath.Join(paths[i], f), []byte("x: 1\n"), 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	ageDirs(b, root, rels...)
	c := NewStatCache()
	c.now = later(time.Hour)
	for i := range n {
		if _, _, err := c.ReadDir(paths[i], rels[i]); err != nil {
			b.Fatal(err)
		}
	}
	blob, err := c.MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	perDir := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/dir")
	}
	loaded := func(b *testing.B) *StatCache {
		c := NewStatCache()
		if err := c.UnmarshalBinary(blob); err != nil {
			b.Fatal(err)
		}
		return c
	}
	b.Run("os.ReadDir", func(b *testing.B) {
		for b.Loop() {
			for _, p := range paths {
				if _, err := os.ReadDir(p); err != nil {
					b.Fatal(err)
				}
			}
		}
		perDir(b)
	})
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			c := NewStatCache()
			c.now = later(time.Hour)
			for i, p := range paths {
				if _, _, err := c.ReadDir(p, rels[i]); err != nil {
					b.Fatal(err)
				}
			}
		}
		perDir(b)
	})
	b.Run("warm", func(b *testing.B) {
		c := loaded(b)
		for b.Loop() {
			for i, p := range paths {
				if _, _, err := c.ReadDir(p, rels[i]); err != nil {
					b.Fatal(err)
				}
			}
		}
		if r := c.dirReads.Load(); r != 0 {
			b.Fatalf("%d directories read", r)
		}
		perDir(b)
	})
	b.Run("warm-stat-given", func(b *testing.B) {
		c := loaded(b)
		fis := make([]fs.FileInfo, n)
		for i, p := range paths {
			fi, err := os.Lstat(p)
			if err != nil {
				b.Fatal(err)
			}
			fis[i] = fi
		}
		for b.Loop() {
			for i, p := range paths {
				if _, err := c.ReadDirStat(p, rels[i], fis[i]); err != nil {
					b.Fatal(err)
				}
			}
		}
		if r := c.dirReads.Load(); r != 0 {
			b.Fatalf("%d directories read", r)
		}
		perDir(b)
	})
	b.Run("load-warm-save", func(b *testing.B) {
		for b.Loop() {
			c := loaded(b)
			for i, p := range paths {
				if _, _, err := c.ReadDir(p, rels[i]); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := c.MarshalBinary(); err != nil {
				b.Fatal(err)
			}
		}
		perDir(b)
		b.ReportMetric(float64(len(blob))/n, "cache-bytes/dir")
	})
}
