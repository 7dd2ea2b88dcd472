package tree

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/fleetgen/fleetgen/pkg/render"
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

// warm plans tr against root with a new cache and returns the cache as the
// next process would load it, saved late enough for every entry to be
// trusted.
func warm(t *testing.T, root string, tr *render.Tree) *StatCache {
	t.Helper()
	c := NewStatCache()
	if _, err := MakePlan(root, tr, PlanOptions{Stats: c}); err != nil {
		t.Fatal(err)
	}
	return reload(t, c, later(3*time.Second))
}

// comparable strips what may legitimately differ between plans made with and
// without a stat cache: the cache itself, and the stat data kept for Apply's
// re-checks (taken by different calls).
func comparable(p *Plan) Plan {
	q := *p
	q.stats = nil
	q.Changes = append([]Change(nil), p.Changes...)
	for i := range q.Changes {
		q.Changes[i].disk.stat = nil
	}
	return q
}

func TestStatCachePlanIsIdentical(t *testing.T) {
	const (
		seedA = "overlays/a/local/kustomization.yaml"
		extra = "overlays/c/x.yaml"
		userC = "overlays/c/new.yaml"
	)
	v1 := with(sample(), seed(seedA, "a", "seed\n"), file(extra, "c", "x: 1\n"))
	changedA := file(ovA, "a", "resources: [../../base]\nnamePrefix: a2-\n")
	tests := []struct {
		name   string
		mutate func(t *testing.T, root string)
		tree   *render.Tree
		opts   PlanOptions
		// want, per path, is the action the plan must have (a sanity check
		// that the case exercises what it says).
		want map[string]Action
		// reads is how many files the plan with the warm cache reads: the
		// files whose stat data changed, and those whose change shows
		// their content.
		reads int64
	}{
		{name: "unchanged", tree: v1, want: map[string]Action{ovA: Unchanged, seedA: Unchanged}, reads: 0},
		{
			name:   "edited by hand",
			mutate: func(t *testing.T, root string) { writeFile(t, root, ovA, "edited\n") },
			tree:   v1,
			want:   map[string]Action{ovA: Conflict, ovB: Unchanged},
			reads:  2,
		},
		{
			name: "edited by hand, same size",
			mutate: func(t *testing.T, root string) {
				writeFile(t, root, ovA, "resources: [../../base]\nnamePrefix: z-\n")
			},
			tree:  v1,
			want:  map[string]Action{ovA: Conflict},
			reads: 2,
		},
		{
			name:   "deleted by hand",
			mutate: func(t *testing.T, root string) { os.Remove(filepath.Join(root, ovB)) },
			tree:   v1,
			want:   map[string]Action{ovB: Create},
			reads:  0,
		},
		{name: "no longer rendered", tree: without(v1, baseD, extra), want: map[string]Action{baseD: Delete, extra: Delete}, reads: 2},
		{
			name:   "no longer rendered, edited",
			mutate: func(t *testing.T, root string) { writeFile(t, root, extra, "x: 2\n") },
			tree:   without(v1, extra),
			want:   map[string]Action{extra: Conflict},
			reads:  2,
		},
		{name: "rendered content changed", tree: with(v1, changedA), want: map[string]Action{ovA: Update}, reads: 1},
		{
			name:   "seed edited",
			mutate: func(t *testing.T, root string) { writeFile(t, root, seedA, "mine\n") },
			tree:   with(v1, seed(seedA, "a", "seed 2\n")),
			want:   map[string]Action{seedA: Unchanged},
			reads:  1,
		},
		{
			name:   "user's file in the way",
			mutate: func(t *testing.T, root string) { writeFile(t, root, userC, "mine\n") },
			tree:   with(v1, file(userC, "c", "generated\n")),
			want:   map[string]Action{userC: Conflict},
			reads:  2,
		},
		{
			name:   "forced",
			mutate: func(t *testing.T, root string) { writeFile(t, root, ovA, "edited\n") },
			tree:   with(v1, changedA),
			opts:   PlanOptions{Force: true},
			want:   map[string]Action{ovA: Update},
			reads:  2,
		},
		{
			name:   "limited to one site",
			mutate: func(t *testing.T, root string) { writeFile(t, root, ovB, "edited\n") },
			tree:   with(v1, changedA),
			opts:   PlanOptions{Only: func(s string) bool { return s == "a" }},
			want:   map[string]Action{ovA: Update},
			reads:  1,
		},
		{
			name:   "ledger deleted",
			mutate: func(t *testing.T, root string) { os.RemoveAll(filepath.Join(root, ledgerDir)) },
			tree:   v1,
			want:   map[string]Action{ovA: Unchanged, baseK: Unchanged},
			reads:  0,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			applyTree(t, root, v1, PlanOptions{})
			ageAll(t, root)
			warmed := warm(t, root, v1)
			if tc.mutate != nil {
				tc.mutate(t, root)
			}
			plan := func(stats *StatCache) *Plan {
				opts := tc.opts
				opts.Stats = stats
				p, err := MakePlan(root, tc.tree, opts)
				if err != nil {
					t.Fatal(err)
				}
				return p
			}
			want := plan(nil)
			got := actions(want)
			for path, a := range tc.want {
				if got[path] != a {
					t.Errorf("%s: %v, want %v", path, got[path], a)
				}
			}
			for name, stats := range map[string]*StatCache{"empty cache": NewStatCache(), "warm cache": warmed} {
				p := plan(stats)
				if !reflect.DeepEqual(comparable(p), comparable(want)) {
					t.Errorf("%s: plan differs from the plan without a cache:\ngot  %s\nwant %s",
						name, describe(p.Changes), describe(want.Changes))
				}
				pc, wc := comparable(p).Changes, comparable(want).Changes
				for i := range pc {
					if !reflect.DeepEqual(pc[i], wc[i]) {
						t.Errorf("%s: %s: got %+v, want %+v", name, pc[i].Path, pc[i], wc[i])
					}
				}
			}
			if n := warmed.reads.Load(); n != tc.reads {
				t.Errorf("warm cache: %d files read, want %d", n, tc.reads)
			}
		})
	}
}

// TestStatCacheSameSizeAndMtime edits a file keeping its size and mtime: the
// ctime or the inode still gives the edit away where the platform has them.
func TestStatCacheSameSizeAndMtime(t *testing.T) {
	if statPlatform != statFull {
		t.Skip("this platform's stat data has no ctime or inode")
	}
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

// TestStatCacheRacyFilesAreReadAgain: right after a run that wrote N files,
// the next run reads those N again (and records them, so the run after it
// reads nothing).
func TestStatCacheRacyFilesAreReadAgain(t *testing.T) {
	root := t.TempDir()
	applyTree(t, root, sample(), PlanOptions{})
	ageAll(t, root)
	c := warm(t, root, sample())
	v2 := with(sample(), file(ovA, "a", "new a\n"), file(ovB, "b", "new b\n"))
	applyTree(t, root, v2, PlanOptions{Stats: c})

	c = reload(t, c, time.Now) // saved right after the write
	p, err := MakePlan(root, v2, PlanOptions{Stats: c})
	if err != nil {
		t.Fatal(err)
	}
	if !p.InSync() {
		t.Fatalf("not in sync: %s", describe(p.Pending()))
	}
	if n := c.reads.Load(); n != 2 {
		t.Errorf("next run read %d files, want the 2 just written", n)
	}
	// They were recorded right after they were written: racy, not saved.
	// A run more than 2 s after the write reads them once more and
	// records them for good.
	for i, want := range []int64{2, 0} {
		c = reload(t, c, later(time.Duration(3+i)*time.Second))
		c.now = later(time.Duration(3+i) * time.Second)
		if _, err := MakePlan(root, v2, PlanOptions{Stats: c}); err != nil {
			t.Fatal(err)
		}
		if n := c.reads.Load(); n != want {
			t.Errorf("run %d after the write read %d files, want %d", i+2, n, want)
		}
	}
}

func TestApplyRecordsInStatCache(t *testing.T) {
	root := t.TempDir()
	c := NewStatCache()
	applyTree(t, root, sample(), PlanOptions{Stats: c})
	// inSyncReading plans the tree as a run s seconds from now would, after
	// the cache was saved and loaded, and checks how many files it read.
	inSyncReading := func(tr *render.Tree, s int, want int64) {
		t.Helper()
		c = reload(t, c, later(time.Duration(s)*time.Second))
		c.now = later(time.Duration(s) * time.Second)
		p, err := MakePlan(root, tr, PlanOptions{Stats: c})
		if err != nil {
			t.Fatal(err)
		}
		if !p.InSync() {
			t.Fatalf("not in sync: %s", describe(p.Pending()))
		}
		if n := c.reads.Load(); n != want {
			t.Errorf("plan %d s after the apply read %d files, want %d", s, n, want)
		}
	}
	// Apply records what it wrote, but racy (just written): not saved. The
	// next run reads the files once more; the run after reads nothing.
	if n := len(c.entries); n != len(sample().Files) {
		t.Errorf("apply recorded %d files, want %d", n, len(sample().Files))
	}
	inSyncReading(sample(), 3, int64(len(sample().Files)))
	inSyncReading(sample(), 4, 0)

	// An update and a delete: the updated file is recorded with its new
	// hash, the deleted one forgotten.
	v2 := without(with(sample(), file(ovA, "a", "new a\n")), baseD)
	c.now = nil // written now
	applyTree(t, root, v2, PlanOptions{Stats: c})
	if e := c.entries[baseD]; e != nil {
		t.Errorf("deleted %s still in the cache", baseD)
	}
	e := c.entries[ovA]
	if e == nil || hex.EncodeToString(e.hash[:]) != hashOf([]byte("new a\n")) {
		t.Errorf("entry of %s after the update: %+v", ovA, e)
	}
	inSyncReading(v2, 5, 1)
	inSyncReading(v2, 6, 0)
	if len(c.entries) != len(v2.Files) {
		t.Errorf("cache holds %d entries, want %d", len(c.entries), len(v2.Files))
	}
}

func TestApplyRefusesStalePlanWithStatCache(t *testing.T) {
	root := t.TempDir()
	applyTree(t, root, sample(), PlanOptions{})
	ageAll(t, root)
	c := warm(t, root, sample())
	p, err := MakePlan(root, with(sample(), file(ovB, "b", "new b\n")), PlanOptions{Stats: c})
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, root, ovA, "edited after the plan\n")
	if err := Apply(context.Background(), p); !errors.Is(err, ErrStalePlan) {
		t.Fatalf("Apply: %v, want ErrStalePlan", err)
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
			fi := lstat("f")
			tc.change(t)
			data, consistent, err := readConsistent(r, "f", fi)
			if err != nil {
				t.Fatal(err)
			}
			if string(data) != tc.want || consistent != tc.consist {
				t.Errorf("read %q, consistent %v; want %q, %v", data, consistent, tc.want, tc.consist)
			}
		})
	}

	// The inspector records a file only when its read was consistent.
	for _, tc := range tests[:2] {
		t.Run("inspector/"+tc.name, func(t *testing.T) {
			writeFile(t, dir, "h", "data\n")
			c := NewStatCache()
			in := newInspector(r)
			defer in.close()
			in.stats, in.useStats = c, true
			in.beforeRead = func(string) {
				if tc.consist {
					return
				}
				f, err := os.OpenFile(filepath.Join(dir, "h"), os.O_WRONLY|os.O_APPEND, 0)
				if err != nil {
					t.Fatal(err)
				}
				f.WriteString("more\n")
				f.Close()
			}
			d, err := in.inspect("h")
			if err != nil {
				t.Fatal(err)
			}
			if d.hash != hashOf(d.data) {
				t.Fatal("hash is not of the data read")
			}
			if _, recorded := c.entries["h"]; recorded != tc.consist {
				t.Errorf("recorded %v, want %v", recorded, tc.consist)
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
				e.forget(n)
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

// BenchmarkPlanUnchanged plans a tree of a few thousand files that is already
// on disk, reading every file or with a stat cache (loaded from its blob and
// saved again each time, as a run would).
func BenchmarkPlanUnchanged(b *testing.B) {
	const sites, perSite = 500, 6
	var files []render.File
	files = append(files, file("base/kustomization.yaml", "", "resources: [deploy.yaml]\n"), file("base/deploy.yaml", "", "kind: Deployment\n"))
	for s := range sites {
		site := fmt.Sprintf("s%04d", s)
		for f := range perSite {
			data := fmt.Sprintf("# %s file %d\n%s", site, f, lines(40, "keyN: some value of a realistic length\n"))
			files = append(files, file(fmt.Sprintf("overlays/%s/f%d.yaml", site, f), site, data))
		}
	}
	tr := mkTree(files...)
	root := b.TempDir()
	if p, err := MakePlan(root, tr, PlanOptions{}); err != nil {
		b.Fatal(err)
	} else if err := Apply(context.Background(), p); err != nil {
		b.Fatal(err)
	}
	// Files written an hour ago: a stat cache trusts none younger than the
	// racy window when it hashed them.
	old := time.Now().Add(-time.Hour)
	for _, f := range tr.Files {
		if err := os.Chtimes(filepath.Join(root, filepath.FromSlash(f.Path)), old, old); err != nil {
			b.Fatal(err)
		}
	}
	c := NewStatCache()
	if _, err := MakePlan(root, tr, PlanOptions{Stats: c}); err != nil {
		b.Fatal(err)
	}
	blob, err := c.MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	b.Run("read-all", func(b *testing.B) {
		for b.Loop() {
			if _, err := MakePlan(root, tr, PlanOptions{}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(tr.Files)), "files")
	})
	b.Run("stats", func(b *testing.B) {
		for b.Loop() {
			c := NewStatCache()
			if err := c.UnmarshalBinary(blob); err != nil {
				b.Fatal(err)
			}
			if _, err := MakePlan(root, tr, PlanOptions{Stats: c}); err != nil {
				b.Fatal(err)
			}
			if n := c.reads.Load(); n != 0 {
				b.Fatalf("%d files read", n)
			}
			if _, err := c.MarshalBinary(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(blob))/float64(len(tr.Files)), "cache-bytes/file")
	})
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
