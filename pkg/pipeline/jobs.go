package pipeline

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/fleetgen/fleetgen/pkg/cache"
	"github.com/fleetgen/fleetgen/pkg/selector"
	"github.com/fleetgen/fleetgen/pkg/tree"
	"github.com/fleetgen/fleetgen/pkg/verify"
	"github.com/fleetgen/fleetgen/templates"
)

// The jobs (Generate, Check, Diff, Verify, Build) are the pipeline's entry
// points: each owns its locking, planning, applying, sealing, index and
// cache, so that a caller maps its flags to the job's options, calls it
// once and prints the result.

// Types the commands print, from the packages below the pipeline.
type (
	// Plan is the change set of a tree against the disk and its ledger.
	Plan = tree.Plan
	// Change is one file of a Plan.
	Change = tree.Change
	// SiteChanges are the changes of one site (Plan.BySite).
	SiteChanges = tree.SiteChanges
	// Action is what a Change does.
	Action = tree.Action
	// Report is the verification report: one result per site.
	Report = verify.Report
	// PruneOptions bound what PruneCache keeps.
	PruneOptions = cache.PruneOptions
	// PruneResult is what PruneCache removed and kept.
	PruneResult = cache.PruneResult
)

// The actions of a Change.
const (
	Unchanged = tree.Unchanged
	Create    = tree.Create
	Update    = tree.Update
	Delete    = tree.Delete
	Conflict  = tree.Conflict
)

// DefaultMaxAge is the age above which PruneCache removes entries by default.
const DefaultMaxAge = cache.DefaultMaxAge

// CacheDirEnv names the environment variable that overrides the cache
// directory.
const CacheDirEnv = "FLEETGEN_CACHE_DIR"

// UnifiedDiff is the unified diff of a file from old to new.
func UnifiedDiff(path string, old, new []byte) string { return tree.UnifiedDiff(path, old, new) }

// Thousands writes n with thousands separators: 10,000.
func Thousands(n int) string { return verify.Thousands(n) }

// ModuleVersion is the version of a Go module fleetgen was built with.
func ModuleVersion(path string) string { return verify.ModuleVersion(path) }

// TemplateSet is the embedded default template set.
func TemplateSet() fs.FS { return templates.FS() }

// SampleInventory is the embedded sample inventory.
func SampleInventory() []byte { return templates.SampleInventory() }

// sampleName is the name the embedded sample inventory goes by in messages.
const sampleName = "sample-inventory.yaml"

// Input says what a job renders: the inventory, the template set and the
// sites.
type Input struct {
	// Inventories are merged in order: YAML first, then YAML or CSV
	// files; "-" reads Stdin.
	Inventories []string
	// Sample uses the embedded sample inventory instead of Inventories.
	Sample bool
	Stdin  io.Reader
	// TemplatesDir is the template set's directory; "" is the embedded set.
	TemplatesDir string
	// Selector is a label selector (-l) over site fields and labels; ""
	// selects every site.
	Selector string
	// Shard keeps one shard of the selected sites (check --shard).
	Shard selector.Shard
}

// Tuning says how a job runs, not what it produces.
type Tuning struct {
	// Workers bounds parallel overlay builds; 0 means GOMAXPROCS.
	Workers int
	// NoCache builds every overlay and reads every file: no verification
	// cache, no index.
	NoCache bool
	// Version is fleetgen's version, part of the cache keys.
	Version string
	// Warn is where a cache directory that cannot be used is reported
	// (nil: nowhere).
	Warn io.Writer
	// Progress, when set, is called as sites finish verifying.
	Progress func(done, total int)
}

// tuneGC tunes the garbage collector for the job until the returned
// function is called (verify.TuneGC): the heap of a large fleet grows by
// a quarter of the live heap between collections rather than doubling.
func (t Tuning) tuneGC() func() { return verify.TuneGC(t.Workers) }

// parseSelector parses the -l text; a bad selector is bad input.
func parseSelector(text string) (selector.Selector, error) {
	sel, err := selector.Parse(text)
	if err != nil {
		return selector.Selector{}, &InputError{Err: fmt.Errorf("-l: %w", err)}
	}
	return sel, nil
}

// options turns a job's input into the options of Run.
func (in Input) options() (Options, error) {
	var opts Options
	if in.Sample {
		opts.Inventory = sampleName
		opts.InventoryData = templates.SampleInventory()
	} else {
		opts.Inventories = in.Inventories
		opts.Stdin = in.Stdin
	}
	sel, err := parseSelector(in.Selector)
	if err != nil {
		return opts, err
	}
	opts.Selector = sel
	opts.Shard = in.Shard
	if in.TemplatesDir != "" {
		st, err := os.Stat(in.TemplatesDir)
		if err != nil {
			return opts, &InputError{Err: fmt.Errorf("--templates: %w", err)}
		}
		if !st.IsDir() {
			return opts, &InputError{Err: fmt.Errorf("--templates %s: not a directory", in.TemplatesDir)}
		}
		opts.Templates = os.DirFS(in.TemplatesDir)
	}
	return opts, nil
}

// CacheDir is the cache directory: $FLEETGEN_CACHE_DIR, else the user
// cache directory/fleetgen.
func CacheDir() (string, error) {
	if dir := os.Getenv(CacheDirEnv); dir != "" {
		return dir, nil
	}
	d, err := cache.DefaultDir()
	if err != nil {
		return "", &InputError{Err: fmt.Errorf("no user cache directory: %w; set %s", err, CacheDirEnv)}
	}
	return d, nil
}

// CacheSize returns the number of entries of the cache directory dir and
// their total size in bytes.
func CacheSize(dir string) (entries int, size int64, err error) {
	list, err := cache.New(dir).Entries()
	if err != nil {
		return 0, 0, err
	}
	for _, e := range list {
		size += e.Size
	}
	return len(list), size, nil
}

// PruneCache removes the entries of the cache directory dir that o says
// to remove.
func PruneCache(dir string, o PruneOptions) (PruneResult, error) {
	return cache.New(dir).Prune(o)
}

// openCache opens the verification cache and the salt of its keys, or
// returns nil when it is off or cannot be used (then every overlay is
// built and every file read). A cache that cannot be used is reported
// once on t.Warn, naming the directory and the cause.
func (t Tuning) openCache() (*cache.Dir, string) {
	if t.NoCache {
		return nil, ""
	}
	dir := os.Getenv(CacheDirEnv)
	warn := func(err error) (*cache.Dir, string) {
		if t.Warn != nil {
			cause := strings.TrimPrefix(err.Error(), "cache: ")
			fmt.Fprintf(t.Warn, "warning: cache directory %s unusable (%s): running without the cache; --no-cache turns it off without this warning\n", dir, cause)
		}
		return nil, ""
	}
	if dir == "" {
		d, err := cache.DefaultDir()
		if err != nil {
			dir = "$" + CacheDirEnv
			return warn(fmt.Errorf("no user cache directory: %w; set %s", err, CacheDirEnv))
		}
		dir = d
	}
	c, err := cache.Open(dir)
	if err != nil {
		return warn(err)
	}
	s, err := verify.Salt(t.Version)
	if err != nil {
		return warn(fmt.Errorf("identifying the fleetgen binary for the cache keys: %w", err))
	}
	return c, s
}

// planScope limits a plan to the selected sites: with -l, other sites'
// files are neither written, deleted nor reported as drift. nil (no
// limit) without a selector.
func planScope(selector string, res *Result) func(string) bool {
	if selector == "" {
		return nil
	}
	return res.Selects
}

// makePlan plans res's tree with popts, limited to the selected sites
// with a selector, and to res.Scope when the run learnt from a seal which
// sites alone can differ from the last clean plan.
func makePlan(output, selector string, res *Result, popts tree.PlanOptions) (*tree.Plan, error) {
	popts.Only = planScope(selector, res)
	if res.SelectionDigest != "" {
		popts.Only = res.Selects // the shard's sites
	}
	if scope, only := res.Scope, popts.Only; scope != nil {
		popts.Only = func(site string) bool { return scope[site] && (only == nil || only(site)) }
	}
	popts.Stats, popts.Snapshot = res.Stats, res.Snapshot
	// The ledger is read once per job: by the seal's check of it, else by
	// the first plan.
	popts.Ledger = res.ledgerRead()
	plan, err := tree.MakePlan(output, res.PlanTree(), popts)
	if err != nil {
		return nil, err
	}
	res.keepLedger(plan)
	return plan, nil
}

// runTree renders and verifies for generate, check and diff the tree to
// be written to output. The run is incremental unless t.NoCache. When the
// run could skip the render (its inputs are those of the last run),
// runTree also plans the tree with popts and returns the plan if the tree
// is in sync; otherwise it renders after all, so that the changes can be
// written or shown, and returns a nil plan for the caller to make.
// onReport, when set, is called with the report before runTree returns;
// its error ends the job. The caller must call SaveIndex on the result.
// output must have passed validRoot.
func runTree(ctx context.Context, in Input, t Tuning, output string, popts tree.PlanOptions, onReport func(*Report) error) (*Result, *tree.Plan, error) {
	opts, err := in.options()
	if err != nil {
		return nil, nil, err
	}
	opts.Output = output
	opts.Workers = t.Workers
	opts.Cache, opts.CacheSalt = t.openCache()
	opts.Incremental = true
	opts.DropObjects = true // the jobs need the verdicts only
	opts.DropOrigins = true // and the tree, not where each value was written
	opts.Seal = true        // take what the seal of the last clean check vouches for
	opts.Progress = t.Progress
	if in.Shard.Count > 0 {
		// A shard's run is always rendered in full and never sealed: its
		// report and its drift cover its sites only.
		opts.Seal, opts.NoShortcut = false, true
	}
	res, err := Run(ctx, opts)
	if err != nil {
		return nil, nil, err
	}
	res.StartSave() // overlaps with planning and writing
	// A tree with files known only by their hash is planned now: when the
	// plan needs the content of one of them (to write or show it), the run
	// renders in full. A shortcut run (no inventory loaded) is also run
	// again when anything is to change.
	var plan *tree.Plan
	switch {
	case res.Sealed:
		// Nothing the last clean check looked at changed: in sync.
		plan = &tree.Plan{Root: output}
	case res.Partial || res.HashOnly:
		if plan, err = makePlan(output, in.Selector, res, popts); err != nil || (res.Partial && !plan.InSync()) {
			plan = nil
			opts.NoShortcut = true
			opts.ledger = res.ledgerRead() // nothing was written since
			_ = res.SaveIndex()            // finish the store started above before the next run's
			if res, err = Run(ctx, opts); err != nil {
				return nil, nil, err
			}
			res.StartSave()
		}
	}
	if onReport != nil {
		if err := onReport(res.Report); err != nil {
			_ = res.SaveIndex()
			return nil, nil, err
		}
	}
	return res, plan, nil
}

// validRoot refuses an output directory inside another fleet tree.
func validRoot(output string) error {
	if err := tree.ValidateRoot(output); err != nil {
		return &InputError{Err: err}
	}
	return nil
}
