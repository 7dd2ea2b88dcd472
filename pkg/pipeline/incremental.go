package pipeline

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/fleetgen/fleetgen/pkg/cache"
	"github.com/fleetgen/fleetgen/pkg/changes"
	"github.com/fleetgen/fleetgen/pkg/gitops"
	"github.com/fleetgen/fleetgen/pkg/index"
	"github.com/fleetgen/fleetgen/pkg/inventory"
	"github.com/fleetgen/fleetgen/pkg/render"
	"github.com/fleetgen/fleetgen/pkg/selector"
	fstree "github.com/fleetgen/fleetgen/pkg/tree"
	"github.com/fleetgen/fleetgen/pkg/treefs"
	"github.com/fleetgen/fleetgen/pkg/verify"
)

// incremental is the state of an incremental run: the index of the last
// run on the output tree and the tree's stat cache. A nil *incremental is
// a run without an index; its methods then do nothing.
type incremental struct {
	cache  *cache.Dir
	output string
	salt   string
	// last returns the index of the last run (nil if none), waiting for
	// it to be decoded.
	last func() *index.Index
	// seal lets a run take the verdict of a sealed clean check
	// (Options.Seal); sealLookup delivers the seal's lookups.
	seal       bool
	sealLookup chan sealLookup
	// stats is the tree's stat cache, decoded on first use (statCache).
	statsOnce sync.Once
	stats     *changes.StatCache
	// clock is Options.Clock.
	clock func() time.Time
	// targets memoises targetDigest by site.
	targets sync.Map
	// ledger is the ledger of the output tree as this job read it: by
	// sealChanges, the disk view or the layout (readLedger), or by a plan
	// before the job ran again (Options.ledger). The job's plan and seal
	// take it rather than read the ledger's files again (ledgerRead).
	ledgerMu sync.Mutex
	ledger   *fstree.LedgerRead
}

// keepsIndex reports whether a run with these options keeps an index.
func keepsIndex(opts Options) bool {
	return opts.Incremental && opts.Cache != nil && opts.Output != ""
}

// newIncremental loads the index of the output tree for a run whose render
// inputs have this digest; nil when the run keeps no index. An index of
// other inputs (the run will render) is decoded in the background, while
// the inventory is loaded.
func newIncremental(opts Options, digest string) *incremental {
	if !keepsIndex(opts) {
		return nil
	}
	inc := &incremental{cache: opts.Cache, output: opts.Output, salt: opts.CacheSalt, seal: opts.Seal && !opts.NoShortcut, clock: opts.Clock, ledger: opts.ledger}
	if inc.seal {
		// Looking up the sealed paths does not need the index: it runs
		// while the index is decoded and the inventory is loaded, and is
		// used if the seal is the index's. A run with the index's inputs
		// takes its verdict from it (sealed); a run that renders learns
		// what changed since (delta). Either way the lookups serve the
		// walk and the plan.
		inc.sealLookup = make(chan sealLookup, 1)
		go func() { inc.sealLookup <- lookUpSeal(opts.Cache, opts.Output) }()
	}
	stored := index.Open(opts.Cache, opts.Output, opts.CacheSalt)
	if stored == nil || stored.Inputs == digest {
		prev := stored.Decode()
		inc.last = func() *index.Index { return prev }
		return inc
	}
	var prev *index.Index
	done := make(chan struct{})
	go func() {
		defer close(done)
		prev = stored.Decode()
	}()
	inc.last = func() *index.Index {
		<-done
		return prev
	}
	return inc
}

// sealLookup is the stored seal of the tree and what changed at its paths.
type sealLookup struct {
	seal    *index.Seal
	changed []string
	ok      bool
	fill    func(*changes.Snapshot)
}

func lookUpSeal(c *cache.Dir, output string) sealLookup {
	s := index.ReadSeal(c, output)
	if s == nil {
		return sealLookup{}
	}
	seal, err := changes.UnmarshalSeal(s.Seal)
	if err != nil {
		return sealLookup{}
	}
	s.Seal = nil // decoded
	changed, ok, fill := seal.Changed(output, maxSealChanges)
	return sealLookup{seal: s, changed: changed, ok: ok, fill: fill}
}

// snapshot returns an empty snapshot on the run's clock.
func (inc *incremental) snapshot() *changes.Snapshot {
	return &changes.Snapshot{Now: inc.clock}
}

// statCache returns the tree's stat cache, decoding it on first use.
func (inc *incremental) statCache() *changes.StatCache {
	if inc == nil {
		return nil
	}
	inc.statsOnce.Do(func() {
		inc.stats = changes.NewStatCache()
		if prev := inc.last(); prev != nil && len(prev.Stats) > 0 {
			if err := inc.stats.UnmarshalBinary(prev.Stats); err != nil {
				inc.stats = changes.NewStatCache() // a damaged stat cache costs reads, nothing else
			}
			prev.Stats = nil // decoded: megabytes a large fleet need not keep
		}
		if inc.clock != nil {
			inc.stats.SetClock(inc.clock)
		}
	})
	return inc.stats
}

// parsed tells the render which contents parsed back in the last run:
// those of its YAML files (a file of another kind was never parsed, even
// if a YAML file has the same content now). The index is waited for on
// first use, which comes after the inventory is loaded.
func (inc *incremental) parsed() func(string) bool {
	if inc == nil {
		return nil
	}
	known := sync.OnceValue(func() map[string]bool {
		prev := inc.last()
		if prev == nil {
			return nil
		}
		known := make(map[string]bool, len(prev.Files))
		for _, f := range prev.Files {
			if render.IsYAML(f.Path) {
				known[f.Hash] = true
			}
		}
		return known
	})
	return func(h string) bool { return known()[h] }
}

// inputsDigest fingerprints everything the render reads: each inventory
// file's name and bytes, every file of the template set, and the selector.
func inputsDigest(inputs []inventory.Input, set fs.FS, sel selector.Selector, shard selector.Shard, place *inventory.TreePlace) (string, error) {
	parts := [][]byte{[]byte(sel.String())}
	if shard.Count > 0 {
		parts = append(parts, []byte("shard"), []byte(shard.String()))
	}
	// Where the tree is in its repository decides gitops.path when the
	// inventory leaves it unset, so it is an input of the render.
	if place != nil {
		parts = append(parts, []byte("repo-path"), []byte(place.Path))
	}
	for _, in := range inputs {
		parts = append(parts, []byte("inventory"), []byte(in.Path), []byte(in.Name), in.Data)
	}
	parts = append(parts, []byte("charts"), chartSourcesDigest(inputs))
	err := fs.WalkDir(set, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			parts = append(parts, []byte("dir"), []byte(p))
			return nil
		}
		data, err := fs.ReadFile(set, p)
		if err != nil {
			return err
		}
		parts = append(parts, []byte("file"), []byte(p), data)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("reading the template set: %w", err)
	}
	return index.Inputs(parts...), nil
}

// overlayDir is a target's overlay directory relative to the tree root.
func overlayDir(t verify.Target) string {
	return path.Clean(trimRoot(t.Dir))
}

func trimRoot(p string) string {
	if len(p) > len(memRoot) && p[:len(memRoot)+1] == memRoot+"/" {
		return p[len(memRoot)+1:]
	}
	return p
}

// targetDigest is targetDigestOf, computed once per site and run: both
// reuse and record need it.
func (inc *incremental) targetDigest(t verify.Target) string {
	if d, ok := inc.targets.Load(t.Site); ok {
		return d.(string)
	}
	d := targetDigestOf(t)
	inc.targets.Store(t.Site, d)
	return d
}

// valid reports whether the record of site still stands for target t in
// the tree.
func (inc *incremental) valid(rec *index.Site, target string, tr index.Tree) bool {
	return rec.Target == target &&
		rec.Digest == index.Digest(inc.salt, target, rec.Dir, rec.Name, inc.last().UnitsOf(rec), tr)
}

// reuse splits targets into those to verify and the results of those
// whose record in the last run's index still holds: by the delta, when
// it vouches for the record and the site's target is unchanged (sameTarget,
// or the same target digest), else by its digest over the tree.
func (inc *incremental) reuse(targets []verify.Target, fsys *treefs.FS, d *delta, sameTarget func(site string) bool) (todo []verify.Target, reused []verify.Result) {
	if inc == nil || inc.last() == nil {
		return targets, nil
	}
	prev := inc.last()
	tr := fsTree{fsys}
	recs := make([]*index.Site, len(targets))
	for i, t := range targets {
		recs[i], _ = prev.Site(t.Site)
	}
	if d != nil {
		d.unitsNear(prev, slices.DeleteFunc(slices.Clone(recs), func(r *index.Site) bool { return r == nil }))
	}
	ok, stood := make([]bool, len(targets)), make([]bool, len(targets))
	results := make([]verify.Result, len(targets))
	parallel(len(targets), func(i int) {
		t, rec := targets[i], recs[i]
		if rec == nil || rec.Dir != overlayDir(t) {
			return
		}
		if d.stands(rec) && (sameTarget(t.Site) || rec.Target == inc.targetDigest(t)) {
			ok[i], stood[i] = true, true
		} else {
			ok[i] = inc.valid(rec, inc.targetDigest(t), tr)
		}
		if ok[i] {
			results[i], ok[i] = resultOf(rec)
			stood[i] = stood[i] && ok[i]
		}
	})
	if d != nil {
		d.stood = make(map[string]bool, len(targets))
		for i, t := range targets {
			if stood[i] {
				d.stood[t.Site] = true
			}
		}
	}
	for i, t := range targets {
		if !ok[i] {
			todo = append(todo, t)
			continue
		}
		reused = append(reused, results[i])
	}
	return todo, reused
}

// A learner turns each site's result into its index record as soon as the
// build is done (verify.Options.OnResult), so that a run does not hold
// every site's accesses until it ends; a nil learner only drops them.
type learner struct {
	inc     *incremental
	tr      index.Tree
	targets map[string]verify.Target
	mu      sync.Mutex
	b       *index.Builder
}

// learner returns the learner of a run whose render inputs have this
// digest and which verifies targets in fsys; nil when the run keeps no
// index.
func (inc *incremental) learner(digest string, targets []verify.Target, fsys *treefs.FS) *learner {
	if inc == nil {
		return nil
	}
	l := &learner{inc: inc, tr: fsTree{fsys}, targets: make(map[string]verify.Target, len(targets)), b: index.NewBuilder(inc.salt, digest)}
	for _, t := range targets {
		l.targets[t.Site] = t
	}
	return l
}

// learn records the result of a site that passed, with the units its
// build's accesses come to, and drops the accesses.
func (l *learner) learn(r *verify.Result) {
	if l == nil {
		r.Accesses = nil
		return
	}
	accesses := r.Accesses
	r.Accesses = nil
	if r.Err != nil {
		return
	}
	t := l.targets[r.Site]
	dir := overlayDir(t)
	units, ok := index.Units(memRoot, dir, r.Site, accessesOf(accesses))
	if !ok {
		return
	}
	site, err := siteRecord(r)
	if err != nil {
		return // no record: the site is built again next time
	}
	target := l.inc.targetDigest(t)
	site.Dir, site.Target = dir, target
	site.Digest = index.Digest(l.inc.salt, target, dir, r.Site, units, l.tr)
	l.mu.Lock()
	l.b.AddSite(site, units)
	l.mu.Unlock()
}

// record completes the index of this run, whose learner holds the records
// of the sites built and passed: the rendered tree, and the records of the
// last index for sites not built this run (reused, or not selected), kept
// while the site is in the tree (they are checked before use). SaveIndex
// adds the stat cache.
func (inc *incremental) record(l *learner, tree *render.Tree, targets []verify.Target, fresh []verify.Result,
	wiring map[string]gitops.Summary, rs *reuser) *index.Builder {
	b := l.b
	ws := make([]index.Wiring, 0, len(wiring))
	for _, f := range tree.Files {
		size := int64(len(f.Data))
		if f.Data == nil && rs != nil {
			size = rs.size(f.Path)
		}
		b.AddFile(index.File{Path: f.Path, Site: f.Site, Hash: f.ContentHash(), Size: size, Seed: f.Seed})
		if sum, ok := wiring[f.Path]; ok {
			ws = append(ws, index.Wiring{Path: f.Path, Hash: f.ContentHash(), Refs: wiringRefs(sum)})
		}
	}
	b.SetRenders(tree.SiteKeys)
	b.SetWiring(ws)
	names := make([]string, len(targets))
	for i, t := range targets {
		names[i] = t.Site
	}
	b.SetSelected(names)
	built := make(map[string]bool, len(fresh))
	for _, r := range fresh {
		built[r.Site] = true
	}
	if prev := inc.last(); prev != nil {
		inTree := map[string]bool{}
		for _, f := range tree.Files {
			inTree[f.Site] = true
		}
		for i := range prev.Sites {
			s := &prev.Sites[i]
			if !built[s.Name] && inTree[s.Name] {
				b.AddSite(*s, prev.UnitsOf(s))
			}
		}
	}
	return b
}

// shortcut answers a run whose inputs are those of the last run without
// loading the inventory or rendering: the tree is the one recorded, and
// every selected site must have a record that still holds in the tree as
// it is now (the user's files may have changed). It returns nil when it
// cannot answer.
func (inc *incremental) shortcut(digest string) *Result {
	prev := inc.last()
	if prev == nil || prev.Inputs != digest || len(prev.Selected) == 0 {
		return nil
	}
	tree := &render.Tree{Files: make([]render.File, len(prev.Files))}
	for i, f := range prev.Files {
		tree.Files[i] = render.File{Path: f.Path, Site: f.Site, Hash: f.Hash, Seed: f.Seed}
	}
	if res := inc.sealed(tree); res != nil {
		return res
	}
	tr := newDiskView(tree.Files, inc.output, inc.statCache())
	tr.ledger = inc.ledgerEntries()
	tr.snap.Now = inc.clock
	results := make([]verify.Result, len(prev.Selected))
	ok := make([]bool, len(prev.Selected))
	parallel(len(prev.Selected), func(i int) {
		rec, found := prev.Site(prev.Selected[i])
		if found && inc.valid(rec, rec.Target, tr) {
			results[i], ok[i] = resultOf(rec)
		}
	})
	for _, o := range ok {
		if !o {
			return nil
		}
	}
	res := &Result{Tree: tree, Report: &verify.Report{Results: results}, Partial: true,
		Stats: inc.statCache(), Snapshot: tr.snap, Reused: append([]string(nil), prev.Selected...), selected: map[string]bool{}, inc: inc}
	for _, n := range prev.Selected {
		res.selected[n] = true
	}
	// Nothing new was learnt but the stat cache: the index stays as it is
	// (res.next stays nil).
	return res
}

// StartSave starts storing the index this run learnt, in the background,
// so that it overlaps with planning and writing the tree. SaveIndex
// finishes the job: the stat cache (which the plan and the write add to)
// and the seal. Calling it is optional; a Result whose save was started
// must be finished with SaveIndex before another run on the same tree.
func (r *Result) StartSave() {
	if r == nil || r.inc == nil || r.next == nil || r.stored != nil {
		return
	}
	var (
		x    *index.Index
		err  error
		done = make(chan struct{})
	)
	go func() {
		defer close(done)
		x = r.next.Index(nil)
		err = x.Store(r.inc.cache, r.inc.output)
	}()
	r.stored = func() (*index.Index, error) {
		<-done
		return x, err
	}
}

// SaveIndex stores the index of an incremental run, with the stat cache as
// it is now (after a plan and an apply have added to it). A run that was
// not incremental has nothing to save. A cache that cannot be written only
// costs time on the next run.
func (r *Result) SaveIndex() error {
	if r == nil || r.inc == nil {
		return nil
	}
	if r.next == nil && (r.inc.stats == nil || !r.inc.stats.Dirty()) {
		return nil
	}
	stats, err := r.inc.statCache().MarshalBinary()
	if err != nil {
		return err
	}
	if r.next == nil {
		return index.SaveStats(r.inc.cache, r.inc.output, stats)
	}
	r.StartSave()
	x, err := r.stored()
	if err != nil {
		return err
	}
	if err := index.SaveStats(r.inc.cache, r.inc.output, stats); err != nil {
		return err
	}
	if prev := r.inc.last(); r.applied != "" && prev != nil {
		return x.CarrySeal(r.inc.cache, r.inc.output, prev, r.applied)
	}
	return nil
}

// parallel calls f(i) for i in [0, n) on every CPU.
func parallel(n int, f func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := range n {
			f(i)
		}
		return
	}
	var wg sync.WaitGroup
	chunk := (n + workers - 1) / workers
	for w := range workers {
		lo, hi := w*chunk, min((w+1)*chunk, n)
		if lo >= hi {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				f(i)
			}
		}()
	}
	wg.Wait()
}

// sealed answers a run whose inputs are those of the last run from the
// seal of the last clean run (made with this index, for the same sites):
// when no path it covers changed, the records' verdicts stand and the tree
// is in sync (Result.Sealed); when a few did, only the records of the
// sites whose builds looked at, in or above a changed path are checked,
// and only the files of those sites and of sites owning changed files
// need planning (Result.Scope). It returns nil when it cannot answer.
func (inc *incremental) sealed(tree *render.Tree) *Result {
	prev := inc.last()
	if !inc.seal {
		return nil
	}
	look, rest, ok := inc.sealChanges()
	if !ok {
		return nil
	}
	results := make([]verify.Result, len(prev.Selected))
	recs := make([]*index.Site, len(prev.Selected))
	for i, name := range prev.Selected {
		rec, found := prev.Site(name)
		if !found {
			return nil
		}
		r, ok := resultOf(rec)
		if !ok {
			return nil
		}
		recs[i], results[i] = rec, r
	}
	res := &Result{Tree: tree, Report: &verify.Report{Results: results}, Partial: true,
		Reused: append([]string(nil), prev.Selected...), selected: map[string]bool{}, inc: inc}
	for _, n := range prev.Selected {
		res.selected[n] = true
	}
	if len(rest) == 0 {
		res.Sealed = true
		return res
	}

	// Sites whose build looked at a changed path, at something inside a
	// changed directory, or at a directory holding a changed path.
	d := &delta{near: newNearness(rest), covered: res.selected, hit: map[int]bool{}, named: map[int][]string{}}
	d.unitsNear(prev, recs)
	snap := inc.snapshot()
	look.fill(snap)
	// A few sites: search the files rather than index them, and read the
	// few files whose hash is needed rather than decode the stat cache.
	view := &diskView{output: inc.output, files: sortedFiles(tree.Files), snap: snap, ledger: inc.ledgerEntries()}
	affected := make([]bool, len(recs))
	ok = true
	var mu sync.Mutex
	parallel(len(recs), func(i int) {
		affected[i] = !d.stands(recs[i])
		if affected[i] && !inc.valid(recs[i], recs[i].Target, view) {
			mu.Lock()
			ok = false
			mu.Unlock()
		}
	})
	if !ok {
		return nil
	}
	res.Scope = map[string]bool{}
	for i, rec := range recs {
		if affected[i] {
			res.Scope[rec.Name] = true
		}
	}
	for _, c := range rest {
		if f, found := tree.Lookup(c); found && f.Site != "" {
			res.Scope[f.Site] = true
		}
	}
	res.Snapshot = snap
	return res
}

// maxSealChanges is how many changed paths a seal is still worth using
// for; beyond it, the run checks every record.
const maxSealChanges = 256

// nearness answers whether a path is, is inside, or holds one of a few
// changed paths.
type nearness struct {
	changed map[string]bool // the changed paths
	above   map[string]bool // the changed paths and every directory above them
}

func newNearness(changed []string) nearness {
	n := nearness{changed: map[string]bool{}, above: map[string]bool{"": true}}
	for _, c := range changed {
		n.changed[c] = true
		for p := c; p != "." && p != ""; p = path.Dir(p) {
			n.above[p] = true
		}
	}
	return n
}

func (n nearness) related(p string) bool {
	if n.above[p] {
		return true // p is a changed path or a directory holding one
	}
	for q := p; q != "." && q != ""; q = path.Dir(q) {
		if n.changed[q] {
			return true // p is inside a changed directory (or below a changed path)
		}
	}
	return false
}

// Seal records that this run, which skipped the render, found the tree
// clean (every verdict a pass, the plan in sync with no notes; the caller
// decides): the next run with the same inputs takes the same verdict if
// nothing this run looked at has changed. A tree that changed too recently
// is not sealed. Only a run with Options.Seal is sealed.
func (r *Result) Seal(plan *fstree.Plan) error {
	if r == nil || r.inc == nil || !r.inc.seal || !r.Partial || r.Sealed || r.Snapshot == nil || !r.Report.OK() {
		return nil
	}
	// What the plan read without looking it up: the root, the state
	// directory, the ledger (its directory and each of its files, or the
	// one-file ledger of earlier releases), the journal and .gitignore.
	// The ledger is the one the plan read (in sync, it is the ledger the
	// plan would write); none when an interrupted apply was pending.
	read := plan.LedgerRead()
	if read == nil {
		return nil
	}
	ledger, err := read.Digest()
	if err != nil {
		return nil
	}
	sealed := append([]string{"", render.ReservedDir, fstree.LedgerPath, fstree.LegacyLedgerPath, fstree.JournalPath, fstree.GitignorePath}, read.Files()...)
	for _, rel := range sealed {
		_, err := r.Snapshot.Lstat(filepath.Join(r.inc.output, filepath.FromSlash(rel)), rel)
		if rel == fstree.JournalPath && err == nil {
			return nil // an interrupted apply is pending
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil
		}
	}
	seal, err := r.Snapshot.Seal()
	if err != nil {
		return nil // too recent: the next run checks in full
	}
	data, err := seal.MarshalBinary()
	if err != nil {
		return err
	}
	return r.inc.last().SaveSeal(r.inc.cache, r.inc.output, data, ledger)
}

// ledgerRead is the ledger of the output tree as this job read it, for
// tree.PlanOptions.Ledger; nil when it has not read it.
func (r *Result) ledgerRead() *fstree.LedgerRead {
	if r == nil {
		return nil
	}
	return r.inc.ledgerRead()
}

// ledgerRead is the ledger of the output tree as this job read it so far;
// nil when it has not read it.
func (inc *incremental) ledgerRead() *fstree.LedgerRead {
	if inc == nil {
		return nil
	}
	inc.ledgerMu.Lock()
	defer inc.ledgerMu.Unlock()
	return inc.ledger
}

// keepLedger keeps the ledger a plan of this job read, for the steps that
// follow.
func (r *Result) keepLedger(plan *fstree.Plan) {
	if l := plan.LedgerRead(); l != nil && r != nil && r.inc != nil {
		r.inc.ledgerMu.Lock()
		r.inc.ledger = l
		r.inc.ledgerMu.Unlock()
	}
}

// forgetLedger drops the ledger this job read, when it was read before the
// lock the write runs under was taken.
func (r *Result) forgetLedger() {
	if r != nil && r.inc != nil {
		r.inc.ledgerMu.Lock()
		r.inc.ledger = nil
		r.inc.ledgerMu.Unlock()
	}
}

// readLedger returns the ledger of the output tree as this job read it,
// reading it now if it has not (tree.ReadLedgerState).
func (inc *incremental) readLedger() (*fstree.LedgerRead, error) {
	inc.ledgerMu.Lock()
	defer inc.ledgerMu.Unlock()
	if inc.ledger == nil {
		l, err := fstree.ReadLedgerState(inc.output)
		if err != nil {
			return nil, err
		}
		inc.ledger = l
	}
	return inc.ledger, nil
}

// ledgerEntries returns the function that gives the layout and the disk
// view the entries of the ledger (nil, which reads it, for a run that is
// not incremental): those of the job's read, or when an interrupted apply
// is pending, of the ledger recovered from its journal; none when the
// ledger is corrupt.
func (inc *incremental) ledgerEntries() func() []fstree.Entry {
	if inc == nil {
		return nil
	}
	return func() []fstree.Entry {
		l, err := inc.readLedger()
		switch {
		case err == nil:
			return l.Entries()
		case errors.Is(err, fstree.ErrLedgerCorrupt):
			return nil
		}
		if led, err := fstree.ReadLedger(inc.output); err == nil {
			return led.Entries
		}
		return nil
	}
}

// Applied records that the plan of this run was applied and the run was
// clean (every verdict a pass): the seal of the last clean run then stays
// good with the index this run saves (index.Index.CarrySeal), since every
// path the write changed has new stat data.
func (r *Result) Applied(plan *fstree.Plan) {
	if r == nil || r.inc == nil || !r.Report.OK() {
		return
	}
	if d, err := plan.LedgerDigest(); err == nil {
		r.applied = d
	}
}
