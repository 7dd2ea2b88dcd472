package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
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
	"github.com/fleetgen/fleetgen/templates"
)

// ConfigMapName is the name of the generated ConfigMap that carries a site's
// merged config. Every template set must generate it in overlays/<site>/.
const ConfigMapName = "site-config"

// memRoot is where the rendered tree is laid out in the in-memory file system.
const memRoot = "/fleet"

// Options says what to run.
type Options struct {
	// Inventory is the inventory file to load; "-" reads standard input.
	Inventory string
	// InventoryData, when non-nil, is used instead of reading Inventory;
	// Inventory is then only the name used in messages.
	InventoryData []byte
	// Inventories, when set, are several inventory files merged in order
	// (YAML, then YAML or CSV); "-" reads Stdin. It takes precedence over
	// Inventory.
	Inventories []string
	// Stdin is read when Inventory is "-".
	Stdin io.Reader
	// Selector limits verification to the sites it selects; the whole
	// fleet is still rendered, so fleet-level files stay whole. The empty
	// selector selects every site.
	Selector selector.Selector
	// Shard, when set, keeps the sites of one shard of those Selector
	// selects (see selector.Shard); an empty shard is no error.
	Shard selector.Shard
	// Templates is the template set; nil means the embedded default set.
	Templates fs.FS
	// Workers bounds parallel overlay builds; 0 means GOMAXPROCS.
	Workers int
	// Cache and CacheSalt, when Cache is set, let verification skip
	// overlays whose inputs are unchanged since they last passed (see
	// verify.Options).
	Cache     *cache.Dir
	CacheSalt string
	// Progress, when set, is called as sites finish verifying.
	Progress func(done, total int)
	// DropObjects leaves the built manifests out of the report
	// (verify.Result.Objects stays nil), for callers that only need the
	// verdicts; it keeps memory flat on large fleets.
	DropObjects bool
	// DropOrigins releases the sites' Origins (where each value was
	// written in the inventory) once the verification targets are made,
	// for callers that need the verdicts and the tree but not
	// Result.Fleet's Origins: on a large fleet they are the largest part
	// of the inventory held while overlays build and the tree is written.
	DropOrigins bool
	// Output, when set, is the directory the tree will be written to. The
	// tree is then verified as it will be on disk after the write: the
	// user's own files under Output (such as overlays/<site>/local/) are
	// laid out beside the rendered files, and seed files already on disk
	// keep their disk content.
	Output string
	// Incremental, with Output and Cache set, keeps an index of the output
	// tree in the cache (see pkg/index) and uses the last run's: sites
	// whose build inputs are unchanged are not verified again, files whose
	// stat is unchanged are not read again, and when the inventory, the
	// template set and the selector are byte for byte those of the last
	// run, the render is skipped too (Result.Partial). Results taken from
	// the index carry no Objects (as with DropObjects). Result.SaveIndex
	// stores the new index.
	Incremental bool
	// Seal lets an incremental run use the seal of the last clean check
	// (Result.Seal), when it was made with the last run's index. A run
	// whose inputs are those of the last run takes its verdict when
	// nothing the check looked at changed (Result.Sealed); a run that
	// renders re-checks only the records of sites whose build looked at a
	// changed path or at a file whose rendering changed, and limits the
	// plan to the sites whose files can differ (Result.Scope). Only a
	// run with Seal makes a seal.
	Seal bool
	// NoShortcut makes an incremental run render every file, even when
	// its inputs are unchanged, so that Result.Tree carries every file's
	// content.
	NoShortcut bool
	// Clock, when set, is the clock an incremental run takes its stat
	// cache and seal horizons from (files younger than two seconds on it
	// are neither trusted by the stat cache nor sealed); nil means
	// time.Now. Tests set one ahead of time.Now to age the files they just
	// wrote without waiting.
	Clock func() time.Time

	// ledger is the ledger of Output as an earlier step of the same job
	// read it (a job that runs again after planning), so that its files
	// are read once per job.
	ledger *fstree.LedgerRead
}

// ClockKey is the context key of a clock (a func() time.Time) that Run
// uses when Options.Clock is nil: callers that reach Run through code that
// builds the options (the commands) set the clock this way.
type ClockKey struct{}

// Result is what a successful run produced. Report may still hold failing
// sites: a run only returns an error for bad input.
type Result struct {
	Fleet  *inventory.Fleet
	Tree   *render.Tree
	Report *verify.Report
	// Selected are the sites Options.Selector selected (every site for the
	// empty selector); only they were verified.
	Selected *inventory.Fleet
	// SelectionDigest, with Options.Shard, is selector.Digest of the sites
	// selected before sharding: the same in every shard of a run.
	SelectionDigest string
	// Partial is true when an incremental run skipped the render because
	// its inputs were those of the last run: Fleet and Selected are then
	// nil, and Tree's files carry their content hash but no Data. Callers
	// that need content (to write or show a change) run again with
	// Options.NoShortcut.
	Partial bool
	// Stats is the output tree's stat cache, for tree.PlanOptions.Stats;
	// nil unless the run was incremental.
	Stats *changes.StatCache
	// Sealed is true when a run that skipped the render found every path
	// the last clean check looked at unchanged (changes.Seal): its verdicts
	// and an in-sync plan stand without checking the records or planning.
	Sealed bool
	// Scope, when set, is the sites whose files alone can differ from the
	// last clean run's plan (a run that used a seal, Options.Seal): a plan
	// limited to them (and fleet-level files) is the plan.
	Scope map[string]bool
	// Snapshot holds what an incremental run saw on disk, for
	// tree.PlanOptions.Snapshot of the plan that follows right away (before
	// anything is written); nil otherwise.
	Snapshot *changes.Snapshot
	// Reused are the sites whose verdict an incremental run took from the
	// index instead of verifying them, sorted.
	Reused []string
	// HashOnly is true when an incremental run took the files of sites
	// whose render inputs were those of the last run from the index
	// instead of executing their templates: those files of Tree carry
	// their content hash but no Data. tree.MakePlan returns
	// tree.ErrNoContent when one of them must be written or shown; callers
	// then run again with Options.NoShortcut.
	HashOnly bool

	selected map[string]bool
	inc      *incremental
	// applied is the digest of the ledger a clean run's applied plan
	// wrote (Applied).
	applied string
	// next is the index this run learnt; nil when it is the last run's
	// (the render was skipped), and only the stat cache may need saving.
	next *index.Builder
	// stored waits for the store StartSave started.
	stored func() (*index.Index, error)
}

// PlanTree is the tree to plan: Tree, or with Scope set, only its
// fleet-level files and the files of the sites in Scope (a plan limited to
// those sites with PlanOptions.Only needs no others).
func (r *Result) PlanTree() *render.Tree {
	if r.Scope == nil {
		return r.Tree
	}
	t := &render.Tree{}
	for _, f := range r.Tree.Files {
		if f.Site == "" || r.Scope[f.Site] {
			t.Files = append(t.Files, f)
		}
	}
	return t
}

// Selects reports whether site is one of the selected sites.
func (r *Result) Selects(site string) bool { return r.selected[site] }

// InputError marks a problem with what the user gave: the inventory (also
// when it cannot be read) or the template set. The CLI exits 2 on it.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// Run loads, renders and verifies. Bad input (inventory, templates) is
// returned as an *InputError; failing overlays are reported in Result.Report.
func Run(ctx context.Context, opts Options) (*Result, error) {
	if opts.Clock == nil {
		opts.Clock, _ = ctx.Value(ClockKey{}).(func() time.Time)
	}
	inputs, err := readInputs(opts)
	if err != nil {
		return nil, &InputError{Err: err}
	}
	set := templateSet(opts)
	engine, err := render.Load(set)
	if err != nil {
		return nil, &InputError{Err: err}
	}
	place, err := treePlace(opts.Output)
	if err != nil {
		return nil, &InputError{Err: err}
	}
	var digest string
	if keepsIndex(opts) {
		if digest, err = inputsDigest(inputs, set, opts.Selector, opts.Shard, place); err != nil {
			return nil, &InputError{Err: err}
		}
	}
	inc := newIncremental(opts, digest)
	if inc != nil {
		if !opts.NoShortcut {
			if res := inc.shortcut(digest); res != nil {
				return res, nil
			}
		}
	}
	rs := inc.reuser(opts)
	fleet, tree, wiring, err := renderInputs(inputs, engine, templateSet(opts), inc.parsed(), rs, place)
	if err != nil {
		return nil, &InputError{Err: err}
	}
	selected, err := selector.Select(fleet, opts.Selector)
	if err != nil {
		return nil, &InputError{Err: err}
	}
	if len(selected.Sites) == 0 {
		return nil, &InputError{Err: fmt.Errorf("selector %q matches no site of the inventory", opts.Selector.String())}
	}
	var selectionDigest string
	if opts.Shard.Count > 0 {
		names := make([]string, len(selected.Sites))
		for i, s := range selected.Sites {
			names[i] = s.Name
		}
		selectionDigest = selector.Digest(names)
		selected = opts.Shard.Apply(selected)
	}
	var snap *changes.Snapshot
	if inc != nil {
		snap = inc.snapshot()
	}
	d := inc.delta(tree, snap)
	fsys, err := layout(tree, opts.Output, inc.statCache(), rs, snap, inc.ledgerEntries())
	if err != nil {
		return nil, err
	}
	targets := releaseTargets(Targets(selected), tree)
	todo, reused := inc.reuse(targets, fsys, d, rs.reusedSite)
	progress := opts.Progress
	if progress != nil && len(reused) > 0 {
		total := len(targets)
		progress(len(reused), total)
		progress = func(done, _ int) { opts.Progress(len(reused)+done, total) }
	}
	if opts.DropOrigins {
		dropOrigins(fleet, selected)
	}
	learn := inc.learner(digest, todo, fsys)
	onResult := learn.learn
	sparse := sparseDirs(fleet, tree, wiring, fsys, todo)
	if len(sparse) > 0 {
		onResult = func(r *verify.Result) {
			checkSparse(r, sparse[r.Site])
			learn.learn(r)
		}
	}
	report, err := verify.Run(ctx, todo, verify.Options{
		FS: fsys, Root: memRoot, Workers: opts.Workers,
		Cache: opts.Cache, CacheSalt: opts.CacheSalt, Progress: progress,
		DropObjects: opts.DropObjects, RecordAccesses: inc != nil || len(sparse) > 0, OnResult: onResult,
	})
	if err != nil {
		return nil, err
	}
	fresh := report.Results
	if rs.any() && anyFailed(fresh) {
		// A failure is reported from a tree rendered in full: a build may
		// have read a reused file that differs on disk from its hash.
		opts.NoShortcut = true
		opts.ledger = inc.ledgerRead()
		return Run(ctx, opts)
	}
	report.Results = append(append(make([]verify.Result, 0, len(targets)), reused...), fresh...)
	sort.Slice(report.Results, func(i, j int) bool { return report.Results[i].Site < report.Results[j].Site })
	annotateChartFindings(tree, report.Results)
	res := &Result{Fleet: fleet, Tree: tree, Report: report, Selected: selected, SelectionDigest: selectionDigest, HashOnly: rs.any(), Snapshot: snap, selected: map[string]bool{}, inc: inc}
	for _, r := range reused {
		res.Reused = append(res.Reused, r.Site)
	}
	for _, s := range selected.Sites {
		res.selected[s.Name] = true
	}
	res.Scope = d.scope(tree)
	if inc != nil {
		res.Stats = inc.statCache()
		res.next = inc.record(learn, tree, targets, fresh, wiring, rs)
	}
	return res, nil
}

func templateSet(opts Options) fs.FS {
	if opts.Templates == nil {
		return templates.FS()
	}
	return opts.Templates
}

// renderInputs decodes the inventory and renders it. parsed, when set,
// tells the render which contents are known to parse back as YAML; rs,
// when set, hands it the files of sites whose render inputs are those of
// the last run. It returns the summaries of the wiring files.
func renderInputs(inputs []inventory.Input, engine *render.Engine, set fs.FS, parsed func(string) bool, rs *reuser, place *inventory.TreePlace) (*inventory.Fleet, *render.Tree, map[string]gitops.Summary, error) {
	// The template set is loaded first so that unknown components are
	// reported together with every other problem of the inventory.
	ropts := inventory.ResolveOptions{Components: engine.Components(), Policies: policyIDs(), Tree: place}
	_, fleet, err := inventory.ResolveInputs(inputs, ropts)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := CompleteK3s(fleet, set); err != nil {
		return nil, nil, nil, err
	}
	if err := completeReleases(fleet, inputs, place); err != nil {
		return nil, nil, nil, err
	}
	charts, err := renderSiteCharts(fleet, engine, parsed, inputs)
	if err != nil {
		return nil, nil, nil, err
	}
	tree, err := engine.RenderWith(fleet, render.RenderOptions{Parsed: parsed, Reuse: rs.options()})
	if err != nil {
		return nil, nil, nil, err
	}
	wiring, err := checkWiring(fleet, tree, rs.wiring(tree), place)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := addSiteFacts(fleet, tree, rs); err != nil {
		return nil, nil, nil, err
	}
	if err := addCharts(fleet, charts, tree, inputs); err != nil {
		return nil, nil, nil, err
	}
	return fleet, tree, wiring, nil
}

// dropOrigins releases the Origins of the sites of every fleet given.
func dropOrigins(fleets ...*inventory.Fleet) {
	for _, f := range fleets {
		for i := range f.Sites {
			f.Sites[i].Origins = nil
		}
	}
}

// Targets are the verification targets of the fleet's sites in a tree laid
// out by layout.
func Targets(fleet *inventory.Fleet) []verify.Target {
	targets := make([]verify.Target, 0, len(fleet.Sites))
	for _, s := range fleet.Sites {
		facts, waivers := SiteFacts(s)
		targets = append(targets, verify.Target{
			Site:          s.Name,
			Dir:           path.Join(memRoot, "overlays", s.Name),
			Config:        s.Config,
			ConfigMapName: ConfigMapName,
			Facts:         &facts,
			Waivers:       waivers,
		})
	}
	return targets
}

// layout lays tree out in a read-only file system under /fleet. When output
// is an existing directory, the files under it that the tree does not
// replace are laid out too, so the file system holds what the disk will
// hold after writing: the user's own files, seed files as the user left
// them. Files the ledger says fleetgen wrote and the tree no longer has are
// left out (the write deletes them), and so are .fleetgen/, .git/ and
// symbolic links (the write refuses trees with links). stats is a stat
// cache for the files left on disk (nil for none): a file whose stat
// matches is not read unless a build reads it.
// A rendered file known only by its hash (reused by rs) is read from
// output when a build reads it, and must have that hash. ledger, when set,
// returns the entries of the ledger as the job read it (nil: read it).
func layout(tree *render.Tree, output string, stats *changes.StatCache, rs *reuser, snap *changes.Snapshot, ledger func() []fstree.Entry) (*treefs.FS, error) {
	onDisk, err := diskFiles(tree, output, stats, snap, ledger)
	if err != nil {
		return nil, err
	}
	files := make([]treefs.File, 0, len(tree.Files)+len(onDisk))
	for _, f := range tree.Files {
		if _, ok := onDisk[f.Path]; ok && f.Seed {
			continue
		}
		tf := treefs.File{Path: f.Path, Data: f.Data, Hash: f.Hash, Size: int64(len(f.Data))}
		if f.Data == nil && f.Hash != "" && rs != nil && output != "" {
			p := filepath.Join(output, filepath.FromSlash(f.Path))
			tf.Size, tf.Load = rs.size(f.Path), func() ([]byte, error) { return os.ReadFile(p) }
		}
		files = append(files, tf)
	}
	for _, f := range tree.VerifyOnly {
		files = append(files, treefs.File{Path: f.Path, Data: f.Data, Hash: f.ContentHash(), Size: int64(len(f.Data))})
	}
	for _, rel := range sortedKeys(onDisk) {
		files = append(files, onDisk[rel])
	}
	fsys, err := treefs.New(memRoot, files)
	if err != nil {
		return nil, fmt.Errorf("laying out the tree: %w", err)
	}
	return fsys, nil
}

// diskFiles finds the files under output that will still be there after
// the tree is written and that the tree does not replace. A file is read
// now unless stats knows its hash by its stat; then it is read on first
// use, and must still have that hash.
func diskFiles(tree *render.Tree, output string, stats *changes.StatCache, snap *changes.Snapshot, ledger func() []fstree.Entry) (map[string]treefs.File, error) {
	files := map[string]treefs.File{}
	if output == "" {
		return files, nil
	}
	if st, err := os.Stat(output); err != nil || !st.IsDir() {
		return files, nil
	}
	rendered := map[string]bool{}
	for _, f := range tree.Files {
		rendered[f.Path] = !f.Seed
	}
	// The ledger is only needed for files on disk that the tree does not
	// have (usually none but the user's own): read it when first needed.
	var (
		ownedOnce sync.Once
		owned     map[string]bool
	)
	isOwned := func(rel string) bool {
		ownedOnce.Do(func() {
			owned = map[string]bool{}
			for _, e := range ownedEntries(output, ledger) {
				owned[e.Path] = true
			}
		})
		return owned[rel]
	}
	var mu sync.Mutex
	err := walkParallel(output, stats, snap, func(rel string, typ fs.FileMode) error {
		if !typ.IsRegular() || rendered[rel] {
			return nil
		}
		if _, inTree := rendered[rel]; !inTree && isOwned(rel) {
			return nil // fleetgen wrote it and no longer renders it: deleted on write
		}
		f, err := diskFile(filepath.Join(output, filepath.FromSlash(rel)), rel, stats, snap)
		if err != nil {
			return err
		}
		mu.Lock()
		files[rel] = f
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", output, err)
	}
	return files, nil
}

// walkParallel calls visit for every entry that is not a directory under
// root (rel slash-separated, typ its type bits), reading directories on
// every CPU; with stats, a directory whose stat data is unchanged is not
// read again (changes.StatCache.ReadDir). It does not follow symbolic links
// and skips .fleetgen/ at the top and every .git directory. visit may be
// called from several goroutines at once. The first error stops the walk
// and is returned.
func walkParallel(root string, stats *changes.StatCache, snap *changes.Snapshot, visit func(rel string, typ fs.FileMode) error) error {
	var (
		mu      sync.Mutex
		cond    = sync.NewCond(&mu)
		queue   = []string{""}
		pending = 1 // directories queued or being read
		first   error
	)
	worker := func() {
		for {
			mu.Lock()
			for len(queue) == 0 && pending > 0 && first == nil {
				cond.Wait()
			}
			if pending == 0 || first != nil {
				mu.Unlock()
				return
			}
			dir := queue[len(queue)-1]
			queue = queue[:len(queue)-1]
			mu.Unlock()

			var subdirs []string
			entries, err := readDir(root, dir, stats, snap)
			for _, e := range entries {
				if err != nil {
					break
				}
				rel := path.Join(dir, e.Name)
				if e.Type.IsDir() {
					if (dir == "" && e.Name == render.ReservedDir) || e.Name == ".git" {
						continue
					}
					subdirs = append(subdirs, rel)
					continue
				}
				err = visit(rel, e.Type)
			}
			mu.Lock()
			if err != nil && first == nil {
				first = err
			}
			queue = append(queue, subdirs...)
			pending += len(subdirs) - 1
			cond.Broadcast()
			mu.Unlock()
		}
	}
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			worker()
		}()
	}
	wg.Wait()
	return first
}

// readDir lists the directory rel under root, through stats when set
// (the directory's lstat then goes into snap, when set).
func readDir(root, rel string, stats *changes.StatCache, snap *changes.Snapshot) ([]changes.DirEntry, error) {
	p := filepath.Join(root, filepath.FromSlash(rel))
	if stats != nil {
		fi, err := lstat(snap, p, rel)
		if err != nil {
			return nil, err
		}
		return stats.ReadDirStat(p, rel, fi)
	}
	des, err := os.ReadDir(p)
	entries := make([]changes.DirEntry, len(des))
	for i, d := range des {
		entries[i] = changes.DirEntry{Name: d.Name(), Type: d.Type()}
	}
	return entries, err
}

// lstat is os.Lstat(p), through snap when set (rel is p in the tree).
func lstat(snap *changes.Snapshot, p, rel string) (fs.FileInfo, error) {
	if snap != nil {
		return snap.Lstat(p, rel)
	}
	return os.Lstat(p)
}

// diskFile is the file at p (rel in the tree) as a build will see it. It
// is read now unless stats knows its hash by its stat; then it is read on
// first use, and must still have that hash.
func diskFile(p, rel string, stats *changes.StatCache, snap *changes.Snapshot) (treefs.File, error) {
	before, err := lstat(snap, p, rel)
	if err != nil {
		return treefs.File{}, err
	}
	if !before.Mode().IsRegular() {
		return treefs.File{}, fmt.Errorf("%s: changed while the tree was read", rel)
	}
	if stats != nil {
		if h, ok := stats.Hash(rel, before); ok {
			return treefs.File{Path: rel, Hash: h, Size: before.Size(), Load: func() ([]byte, error) { return os.ReadFile(p) }}, nil
		}
	}
	data, h, err := readHashed(p, rel, before, stats)
	if err != nil {
		return treefs.File{}, err
	}
	return treefs.File{Path: rel, Data: data, Hash: h, Size: int64(len(data))}, nil
}

// readHashed reads the file at p (rel in the tree, before its Lstat) and
// hashes it; with stats, the hash is recorded when the read is consistent
// with before.
func readHashed(p, rel string, before fs.FileInfo, stats *changes.StatCache) ([]byte, string, error) {
	if stats != nil {
		return stats.ReadFile(p, rel, before)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, "", err
	}
	return data, render.File{Data: data}.ContentHash(), nil
}

func sortedKeys(m map[string]treefs.File) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// readInputs reads the inventory files the options name, as they are.
func readInputs(opts Options) ([]inventory.Input, error) {
	switch {
	case opts.InventoryData != nil:
		return []inventory.Input{{Name: opts.Inventory, Data: opts.InventoryData}}, nil
	case len(opts.Inventories) > 0:
		return inventory.ReadInputs(opts.Inventories, opts.Stdin)
	case opts.Inventory == "-" && opts.Stdin != nil:
		return inventory.ReadInputs([]string{"-"}, opts.Stdin)
	}
	return inventory.ReadInputs([]string{opts.Inventory}, nil)
}

// checkWiring checks the GitOps wiring the templates rendered (clusters/,
// argocd/): every site wired exactly once, to an overlay that exists, and
// every wiring object valid for its engine. Bad wiring is bad input.
// known are the summaries of wiring files known only by their hash; the
// summaries of every wiring file are returned.
func checkWiring(fleet *inventory.Fleet, tree *render.Tree, known map[string]gitops.Summary, place *inventory.TreePlace) (map[string]gitops.Summary, error) {
	names := make([]string, len(fleet.Sites))
	for i, s := range fleet.Sites {
		names[i] = s.Name
	}
	files := gitops.Files(tree)
	c := gitops.NewChecker()
	if place != nil && place.Root != "" {
		// Wiring paths are checked from the repository's root when the
		// tree is known to be in one.
		c = c.WithPlace(gitops.Place{Root: place.Root, Path: place.Path})
	}
	// A file the index summarised with this content is checked by its
	// summary, and not held to the size bounds again: the run that
	// summarised it checked them, and they depend on the content alone.
	summarized := files
	cloned := false
	for p := range known {
		if files[p] != nil {
			if !cloned {
				summarized, cloned = maps.Clone(files), true
			}
			summarized[p] = nil
		}
	}
	errs, sums := c.CheckSummarized(summarized, known, names)
	if len(errs) > 0 {
		return nil, fmt.Errorf("checking GitOps wiring: %w", errors.Join(errs...))
	}
	if errs := gitops.CheckSizes(summarized); len(errs) > 0 {
		return nil, fmt.Errorf("checking the size bounds (docs/policies.md): %w", errors.Join(errs...))
	}
	return sums, nil
}

// treePlace finds where the output directory is in its git work tree;
// nil when no output directory is given (the tree is not written).
func treePlace(output string) (*inventory.TreePlace, error) {
	if output == "" {
		return nil, nil
	}
	p, err := gitops.FindRepo(output)
	if err != nil {
		return nil, err
	}
	return &inventory.TreePlace{Dir: output, Root: p.Root, Path: p.Path}, nil
}

// anyFailed reports whether a result is a failure.
func anyFailed(results []verify.Result) bool {
	for _, r := range results {
		if r.Err != nil {
			return true
		}
	}
	return false
}
