package changes

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// at returns a clock that always reads t.
func at(t time.Time) func() time.Time { return func() time.Time { return t } }

// later returns a clock that always reads d after now.
func later(d time.Duration) func() time.Time { return at(time.Now().Add(d)) }

// reload saves c as if at the time save gives and loads the blob into a new
// cache, as the next process would.
func reload(t *testing.T, c *StatCache, save func() time.Time) *StatCache {
	t.Helper()
	old := c.now
	c.now = save
	b, err := c.MarshalBinary()
	c.now = old
	if err != nil {
		t.Fatal(err)
	}
	n := NewStatCache()
	if err := n.UnmarshalBinary(b); err != nil {
		t.Fatalf("UnmarshalBinary of a fresh blob: %v", err)
	}
	return n
}

// TestStatCacheRacyEntries checks that an entry is trusted only if the file's
// mtime is more than 2 s older than the moment the entry was vouched for.
func TestStatCacheRacyEntries(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := os.WriteFile(p, []byte("data\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	h := hashOf([]byte("data\n"))
	mtime := fi.ModTime()
	tests := []struct {
		name string
		// recorded and saved are the record and save times, relative to
		// the file's mtime; saved 0 means no save and load.
		recorded, saved time.Duration
		trusted         bool
	}{
		{"recorded at mtime, same process", 0, 0, false},
		{"recorded 1.9 s after mtime, same process", 1900 * time.Millisecond, 0, false},
		{"recorded 2 s after mtime, same process", 2 * time.Second, 0, false},
		{"recorded 2 s + 1 ns after mtime, same process", 2*time.Second + 1, 0, true},
		{"saved at mtime", 0, 1, false},
		{"saved 2 s after mtime", 0, 2 * time.Second, false},
		// Racy when recorded: not saved, whatever the save time.
		{"recorded at mtime, saved 2 s + 1 ns after mtime", 0, 2*time.Second + 1, false},
		{"recorded at mtime, saved an hour later", 0, time.Hour, false},
		{"recorded 2 s + 1 ns after mtime, saved an hour later", 2*time.Second + 1, time.Hour, true},
		{"recorded late, saved early", time.Hour, 1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := NewStatCache()
			c.now = at(mtime.Add(tc.recorded))
			c.Record("f", fi, h)
			if tc.saved != 0 {
				c = reload(t, c, at(mtime.Add(tc.saved)))
			}
			got, ok := c.Hash("f", fi)
			if ok != tc.trusted || ok && got != h {
				t.Errorf("Hash = %q, %v; want trusted %v", got, ok, tc.trusted)
			}
		})
	}
}

// recordFiles writes files under a new directory and records them in a new
// cache whose clock is an hour ahead (so every entry is trusted).
func recordFiles(t *testing.T, names ...string) (*StatCache, string) {
	t.Helper()
	dir := t.TempDir()
	c := NewStatCache()
	c.now = later(time.Hour)
	for _, n := range names {
		writeFile(t, dir, n, "content of "+n+"\n")
		fi, err := os.Lstat(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		c.Record(n, fi, hashOf([]byte("content of "+n+"\n")))
	}
	return c, dir
}

func TestStatCacheMarshalRoundTrip(t *testing.T) {
	names := []string{"base/a.yaml", "base/b.yaml", "overlays/s1/k.yaml", "overlays/s10/k.yaml", "overlays/s2/k.yaml"}
	c, dir := recordFiles(t, names...)
	save := at(time.Now().Add(time.Hour))
	c.now = save
	blob, err := c.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if per := len(blob) / len(names); per > 80 {
		t.Errorf("%d bytes per entry, want a compact encoding", per)
	}

	// Loaded, every entry looked up, saved at the same time: the same bytes.
	d := NewStatCache()
	if err := d.UnmarshalBinary(blob); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		fi, _ := os.Lstat(filepath.Join(dir, n))
		if h, ok := d.Hash(n, fi); !ok || h != hashOf([]byte("content of "+n+"\n")) {
			t.Errorf("Hash(%s) = %q, %v", n, h, ok)
		}
	}
	d.now = save
	again, err := d.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(blob) {
		t.Error("marshal after unmarshal gives different bytes")
	}

	// Entries loaded but never looked up, or forgotten, are not saved.
	tests := []struct {
		name   string
		lookup []string
		forget []string
		want   int
	}{
		{"nothing looked up", nil, nil, 0},
		{"two looked up", names[:2], nil, 2},
		{"three looked up, one forgotten", names[:3], names[1:2], 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := NewStatCache()
			if err := e.UnmarshalBinary(blob); err != nil {
				t.Fatal(err)
			}
			for _, n := range tc.lookup {
				fi, _ := os.Lstat(filepath.Join(dir, n))
				e.Hash(n, fi)
			}
			for _, n := range tc.forget {
				e.Forget(n)
			}
			if got := len(reload(t, e, save).entries); got != tc.want {
				t.Errorf("%d entries saved, want %d", got, tc.want)
			}
		})
	}

	var zero StatCache
	if got := len(reload(t, &zero, time.Now).entries); got != 0 {
		t.Errorf("zero cache round trip: %d entries", got)
	}
}

func TestStatCacheUnmarshalDamaged(t *testing.T) {
	c, dir := recordFiles(t, "a", "b/c", "b/d")
	for _, rel := range []string{"", "b"} {
		if _, _, err := c.ReadDir(filepath.Join(dir, rel), rel); err != nil {
			t.Fatal(err)
		}
	}
	blob, err := c.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if dirCacheable && len(reload(t, c, c.now).dirs) != 2 {
		t.Fatal("the blob does not hold the listings")
	}
	// resum recomputes the checksum, so that only the content is wrong.
	resum := func(b []byte) []byte {
		body := b[:len(b)-sha256.Size]
		sum := sha256.Sum256(body)
		return append(append([]byte(nil), body...), sum[:]...)
	}
	edit := func(f func(b []byte)) []byte {
		b := append([]byte(nil), blob...)
		f(b)
		return resum(b)
	}
	bad := map[string][]byte{
		"empty":          nil,
		"other version":  edit(func(b []byte) { b[len(statMagic)]++ }),
		"version 1":      edit(func(b []byte) { b[len(statMagic)] = 1 }),
		"other platform": edit(func(b []byte) { b[len(statMagic)+1] ^= 1 }),
		"other magic":    edit(func(b []byte) { b[0] = 'F' }),
		"trailing byte":  resum(append(append([]byte(nil), blob[:len(blob)-sha256.Size]...), 0, 0)),
	}
	for i := range len(blob) {
		bad[fmt.Sprintf("truncated to %d", i)] = blob[:i]
		b := append([]byte(nil), blob...)
		b[i] ^= 0x10
		bad[fmt.Sprintf("byte %d flipped", i)] = b
	}
	for name, b := range bad {
		d, keep := recordFiles(t, "keep")
		if _, _, err := d.ReadDir(keep, ""); err != nil {
			t.Fatal(err)
		}
		dirs := len(d.dirs)
		if err := d.UnmarshalBinary(b); err == nil {
			t.Errorf("%s: no error", name)
		} else if !errors.Is(err, errStatCache) {
			t.Errorf("%s: %v does not wrap errStatCache", name, err)
		}
		if _, ok := d.entries["keep"]; !ok || len(d.entries) != 1 || len(d.dirs) != dirs {
			t.Errorf("%s: failed unmarshal changed the cache", name)
		}
	}
}

// FuzzStatCacheUnmarshal feeds UnmarshalBinary data as it is and, so that
// the decoder behind the checksum is reached, data with its checksum
// appended.
func FuzzStatCacheUnmarshal(f *testing.F) {
	body := func(blob []byte) []byte { return blob[:len(blob)-sha256.Size] }
	c := NewStatCache()
	c.entries = map[string]*statEntry{
		"a/b": {st: statKey{size: 3, mtime: 1e18, ctime: 1e18 + 5, ino: 99, dev: 7, mode: 0o644}, used: true},
		"a/c": {st: statKey{size: 0, mtime: -4, ino: 98, dev: 7, mode: 0o600}, used: true},
	}
	blob, _ := c.MarshalBinary()
	f.Add(blob)
	f.Add(body(blob))
	dirMode := uint32(fs.ModeDir | 0o755)
	c.dirs = map[string]*dirListing{
		"": {st: statKey{size: 4096, mtime: 5, ctime: 6, ino: 2, dev: 7, mode: dirMode}, horizon: 1e18, used: true,
			entries: []DirEntry{{Name: "a", Type: fs.ModeDir}, {Name: "kustomization.yaml"}}},
		"a": {st: statKey{size: 4096, mtime: 7, ctime: 9, ino: 3, dev: 7, mode: dirMode | uint32(fs.ModeSetgid)}, horizon: 1e18, used: true,
			entries: []DirEntry{{Name: "b"}, {Name: "c"}, {Name: "link", Type: fs.ModeSymlink}}},
		"a/d": {st: statKey{mtime: 7, ctime: 9, ino: 4, dev: 7, mode: dirMode}, horizon: 1e18, used: true},
	}
	c.now = at(time.Unix(0, 2e18))
	blob, _ = c.MarshalBinary()
	f.Add(blob)
	f.Add(body(blob))
	f.Add([]byte(statMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		sum := sha256.Sum256(data)
		checkStatCacheBlob(t, data)
		checkStatCacheBlob(t, append(data[:len(data):len(data)], sum[:]...))
	})
}

// checkStatCacheBlob is FuzzStatCacheUnmarshal's check of one blob: if
// UnmarshalBinary accepts it, what it loaded is what a cache can hold.
func checkStatCacheBlob(t *testing.T, data []byte) {
	d := NewStatCache()
	if err := d.UnmarshalBinary(data); err != nil {
		return
	}
	for p, e := range d.entries {
		if p == "" || !os.FileMode(e.st.mode).IsRegular() || e.st.size < 0 {
			t.Fatalf("accepted a bad entry %q %+v", p, e)
		}
	}
	for p, l := range d.dirs {
		if !fs.FileMode(l.st.mode).IsDir() || l.st.size < 0 {
			t.Fatalf("accepted a bad listing %q %+v", p, l)
		}
		for i, e := range l.entries {
			if checkEntryName(e.Name) != nil || i > 0 && e.Name <= l.entries[i-1].Name || e.Type&^fs.ModeType != 0 {
				t.Fatalf("accepted a bad listing %q %+v", p, l)
			}
		}
	}
}

// ReadFile hashes what it reads and records it, so the next lookup by the
// same stat data needs no read.
func TestStatCacheReadFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f.yaml")
	if err := os.WriteFile(p, []byte("a: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	c := NewStatCache()
	data, h, err := c.ReadFile(p, "f.yaml", fi)
	if err != nil || string(data) != "a: 1\n" || h != hashOf(data) {
		t.Fatalf("ReadFile = %q, %s, %v", data, h, err)
	}
	if c.entries["f.yaml"] == nil || hex.EncodeToString(c.entries["f.yaml"].hash[:]) != h {
		t.Error("a consistent read was not recorded")
	}
	if _, _, err := c.ReadFile(filepath.Join(filepath.Dir(p), "missing"), "missing", fi); err == nil {
		t.Error("a missing file read without error")
	}
}

func TestStatCacheRecordsOnlyRegularFilesReadConsistently(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "f", "data\n")
	writeFile(t, dir, "g", "other\n")
	if err := os.Symlink("f", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	lstat := func(name string) os.FileInfo {
		fi, err := r.Lstat(name)
		if err != nil {
			t.Fatal(err)
		}
		return fi
	}

	c := NewStatCache()
	c.now = later(time.Hour)
	for _, name := range []string{"link", "."} {
		c.Record(name, lstat(name), hashOf(nil))
		if len(c.entries) != 0 {
			t.Errorf("%s (%v) recorded", name, lstat(name).Mode().Type())
		}
	}

	tests := []struct {
		name    string
		change  func(t *testing.T) // between the Lstat and the read
		want    string
		consist bool
	}{
		{"unchanged", func(*testing.T) {}, "data\n", true},
		{"appended to", func(t *testing.T) {
			f, err := os.OpenFile(filepath.Join(dir, "f"), os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString("more\n")
			f.Close()
		}, "data\nmore\n", false},
		{"replaced", func(t *testing.T) {
			if err := os.Rename(filepath.Join(dir, "g"), filepath.Join(dir, "f")); err != nil {
				t.Fatal(err)
			}
		}, "other\n", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := NewStatCache()
			fi := lstat("f")
			tc.change(t)
			data, hash, err := c.ReadRoot(r, "f", "f", fi)
			if err != nil {
				t.Fatal(err)
			}
			if hash != hashOf(data) {
				t.Fatal("hash is not of the data read")
			}
			_, recorded := c.entries["f"]
			if string(data) != tc.want || recorded != tc.consist {
				t.Errorf("read %q, recorded %v; want %q, %v", data, recorded, tc.want, tc.consist)
			}
		})
	}
}
