package tree

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fleetgen/fleetgen/pkg/changes"
	"github.com/fleetgen/fleetgen/pkg/render"
)

// Plans and applies with a stat cache and a snapshot (pkg/changes): the
// same plan as without, fewer files read.

// at returns a clock that always reads t.
func at(t time.Time) func() time.Time { return func() time.Time { return t } }

// later returns a clock that always reads d after now.
func later(d time.Duration) func() time.Time { return at(time.Now().Add(d)) }

// warm plans tr against root with a new cache and returns the cache as the
// next process would load it, saved late enough for every entry to be
// trusted.
func warm(t *testing.T, root string, tr *render.Tree) *changes.StatCache {
	t.Helper()
	c := changes.NewStatCache()
	if _, err := MakePlan(root, tr, PlanOptions{Stats: c}); err != nil {
		t.Fatal(err)
	}
	return reload(t, c, later(3*time.Second))
}

// reload returns c as the next process would load it after c was saved at
// the time save reads.
func reload(t *testing.T, c *changes.StatCache, save func() time.Time) *changes.StatCache {
	t.Helper()
	c.SetClock(save)
	b, err := c.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	n := changes.NewStatCache()
	if err := n.UnmarshalBinary(b); err != nil {
		t.Fatalf("UnmarshalBinary of a fresh blob: %v", err)
	}
	return n
}

// counting returns opts with a hook counting the files MakePlan reads.
func counting(opts PlanOptions) (PlanOptions, *atomic.Int64) {
	n := new(atomic.Int64)
	opts.beforeRead = func(string) { n.Add(1) }
	return opts, n
}

// comparable strips what may legitimately differ between plans made with and
// without a stat cache: the cache itself, and the stat data kept for Apply's
// re-checks (taken by different calls).
func comparable(p *Plan) Plan {
	q := *p
	q.stats = nil
	q.ledgerRead = nil // the same entries, read again
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
			var reads *atomic.Int64
			plan := func(stats *changes.StatCache) *Plan {
				opts := tc.opts
				opts.Stats = stats
				if stats == warmed {
					opts, reads = counting(opts)
				}
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
			for name, stats := range map[string]*changes.StatCache{"empty cache": changes.NewStatCache(), "warm cache": warmed} {
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
			if n := reads.Load(); n != tc.reads {
				t.Errorf("warm cache: %d files read, want %d", n, tc.reads)
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
	opts, reads := counting(PlanOptions{Stats: c})
	p, err := MakePlan(root, v2, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !p.InSync() {
		t.Fatalf("not in sync: %s", describe(p.Pending()))
	}
	if n := reads.Load(); n != 2 {
		t.Errorf("next run read %d files, want the 2 just written", n)
	}
	// They were recorded right after they were written: racy, not saved.
	// A run more than 2 s after the write reads them once more and
	// records them for good.
	for i, want := range []int64{2, 0} {
		c = reload(t, c, later(time.Duration(3+i)*time.Second))
		c.SetClock(later(time.Duration(3+i) * time.Second))
		opts, reads := counting(PlanOptions{Stats: c})
		if _, err := MakePlan(root, v2, opts); err != nil {
			t.Fatal(err)
		}
		if n := reads.Load(); n != want {
			t.Errorf("run %d after the write read %d files, want %d", i+2, n, want)
		}
	}
}

func TestApplyRecordsInStatCache(t *testing.T) {
	root := t.TempDir()
	c := changes.NewStatCache()
	applyTree(t, root, sample(), PlanOptions{Stats: c})
	// inSyncReading plans the tree as a run s seconds from now would, after
	// the cache was saved and loaded, and checks how many files it read.
	inSyncReading := func(tr *render.Tree, s int, want int64) {
		t.Helper()
		c = reload(t, c, later(time.Duration(s)*time.Second))
		c.SetClock(later(time.Duration(s) * time.Second))
		opts, reads := counting(PlanOptions{Stats: c})
		p, err := MakePlan(root, tr, opts)
		if err != nil {
			t.Fatal(err)
		}
		if !p.InSync() {
			t.Fatalf("not in sync: %s", describe(p.Pending()))
		}
		if n := reads.Load(); n != want {
			t.Errorf("plan %d s after the apply read %d files, want %d", s, n, want)
		}
	}
	// Apply records what it wrote, but racy (just written): not saved. The
	// next run reads the files once more; the run after reads nothing.
	if !c.Dirty() {
		t.Error("apply recorded nothing")
	}
	inSyncReading(sample(), 3, int64(len(sample().Files)))
	inSyncReading(sample(), 4, 0)

	// An update and a delete: the updated file is recorded with its new
	// hash, the deleted one forgotten.
	v2 := without(with(sample(), file(ovA, "a", "new a\n")), baseD)
	lstat := func(rel string) os.FileInfo {
		t.Helper()
		fi, err := os.Lstat(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		return fi
	}
	deleted := lstat(baseD)
	if _, ok := c.Hash(baseD, deleted); !ok {
		t.Fatalf("%s not trusted before the delete", baseD)
	}
	c.SetClock(nil) // written now
	applyTree(t, root, v2, PlanOptions{Stats: c})
	if _, ok := c.Hash(baseD, deleted); ok {
		t.Errorf("deleted %s still in the cache", baseD)
	}
	inSyncReading(v2, 5, 1)
	inSyncReading(v2, 6, 0)
	if h, ok := c.Hash(ovA, lstat(ovA)); !ok || h != hashOf([]byte("new a\n")) {
		t.Errorf("entry of %s after the update: %q, %v", ovA, h, ok)
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

// TestInspectorRecordsOnlyConsistentReads checks that the inspector records
// a file in the stat cache only when its read was consistent with its stat.
func TestInspectorRecordsOnlyConsistentReads(t *testing.T) {
	dir := t.TempDir()
	r, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, consist := range []bool{true, false} {
		t.Run(map[bool]string{true: "unchanged", false: "appended to"}[consist], func(t *testing.T) {
			writeFile(t, dir, "h", "data\n")
			c := changes.NewStatCache()
			in := newInspector(r)
			defer in.close()
			in.stats, in.useStats = c, true
			in.beforeRead = func(string) {
				if consist {
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
			if recorded := c.Dirty(); recorded != consist {
				t.Errorf("recorded %v, want %v", recorded, consist)
			}
		})
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
	c := changes.NewStatCache()
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
			c := changes.NewStatCache()
			if err := c.UnmarshalBinary(blob); err != nil {
				b.Fatal(err)
			}
			opts, reads := counting(PlanOptions{Stats: c})
			if _, err := MakePlan(root, tr, opts); err != nil {
				b.Fatal(err)
			}
			if n := reads.Load(); n != 0 {
				b.Fatalf("%d files read", n)
			}
			if _, err := c.MarshalBinary(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(blob))/float64(len(tr.Files)), "cache-bytes/file")
	})
}

// LedgerDigest is the digest of the ledger file Apply writes.
func TestPlanLedgerDigest(t *testing.T) {
	root := t.TempDir()
	plan := applyTree(t, root, sample(), PlanOptions{})
	want, err := plan.LedgerDigest()
	if err != nil {
		t.Fatal(err)
	}
	got, files, err := ReadLedgerDigest(root)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("LedgerDigest = %s, ledger on disk has digest %s", want, got)
	}
	if want := []string{ledgerFileOf(""), ledgerFileOf("a"), ledgerFileOf("b")}; !reflect.DeepEqual(files, want) {
		t.Errorf("ledger files %q, want %q", files, want)
	}
}

// A plan with a Snapshot of the tree is the plan without it.
func TestPlanWithSnapshot(t *testing.T) {
	root := t.TempDir()
	applyTree(t, root, sample(), PlanOptions{})
	v2 := with(sample(), file(ovA, "a", "new a\n"))
	var s changes.Snapshot
	for _, f := range v2.Files {
		for dir := path.Dir(f.Path); dir != "."; dir = path.Dir(dir) {
			_, _ = s.Lstat(filepath.Join(root, dir), dir)
		}
		_, _ = s.Lstat(filepath.Join(root, filepath.FromSlash(f.Path)), f.Path)
	}
	if err := os.WriteFile(filepath.Join(root, filepath.FromSlash(ovB)), []byte("edited\n"), 0o644); err != nil {
		t.Fatal(err) // after the snapshot: the plan reads it anyway
	}
	want, err := MakePlan(root, v2, PlanOptions{Stats: changes.NewStatCache()})
	if err != nil {
		t.Fatal(err)
	}
	got, err := MakePlan(root, v2, PlanOptions{Stats: changes.NewStatCache(), Snapshot: &s})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(describe(got.Changes), describe(want.Changes)) {
		t.Errorf("with snapshot: %s\nwithout: %s", describe(got.Changes), describe(want.Changes))
	}
}

// A plan made against a ledger read earlier (PlanOptions.Ledger) is the
// plan made by reading it, and both give back that read (Plan.LedgerRead):
// the digest and files ReadLedgerDigest gives. A plan that recovered from
// an interrupted apply's journal, or found the ledger corrupt, gives none.
func TestPlanLedgerRead(t *testing.T) {
	root := t.TempDir()
	applyTree(t, root, sample(), PlanOptions{})
	v2 := with(sample(), file(ovA, "a", "new a\n"))
	read, err := ReadLedgerState(root)
	if err != nil {
		t.Fatal(err)
	}
	want, err := MakePlan(root, v2, PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := MakePlan(root, v2, PlanOptions{Ledger: read})
	if err != nil {
		t.Fatal(err)
	}
	if got.LedgerRead() != read {
		t.Error("the plan does not give back the ledger it was handed")
	}
	if !reflect.DeepEqual(describe(got.Changes), describe(want.Changes)) || !reflect.DeepEqual(got.base, want.base) ||
		!reflect.DeepEqual(got.target, want.target) || !reflect.DeepEqual(got.ledgerSums, want.ledgerSums) || got.Ledger != want.Ledger {
		t.Errorf("with the ledger handed: %s\nread: %s", describe(got.Changes), describe(want.Changes))
	}
	digest, files, err := ReadLedgerDigest(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*Plan{want, got} {
		d, err := p.LedgerRead().Digest()
		if err != nil || d != digest || !reflect.DeepEqual(p.LedgerRead().Files(), files) {
			t.Errorf("plan's ledger: %s %q %v, want %s %q", d, p.LedgerRead().Files(), err, digest, files)
		}
	}
	// Handed for another root, the read is not used.
	other := t.TempDir()
	p, err := MakePlan(other, v2, PlanOptions{Ledger: read})
	if err != nil {
		t.Fatal(err)
	}
	if p.Ledger != LedgerMissing || p.LedgerRead() == read {
		t.Errorf("another root's plan: ledger %v, took the read %v", p.Ledger, p.LedgerRead() == read)
	}

	writeFile(t, root, ledgerFileOf("a"), "not a ledger\n")
	if p, err := MakePlan(root, v2, PlanOptions{}); err != nil || p.Ledger != LedgerCorrupt || p.LedgerRead() != nil {
		t.Errorf("corrupt ledger: %v, state %v, read %v", err, p.Ledger, p.LedgerRead() != nil)
	}
	if _, err := ReadLedgerState(root); !errors.Is(err, ErrLedgerCorrupt) {
		t.Errorf("ReadLedgerState of a corrupt ledger: %v", err)
	}
}
