package verify

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/fleetgen/fleetgen/pkg/cache"
	"github.com/fleetgen/fleetgen/pkg/policy"
	"github.com/fleetgen/fleetgen/pkg/schema"
)

// DefaultConfigMapName is the generated ConfigMap a Target's Config is
// compared with when Target.ConfigMapName is empty.
const DefaultConfigMapName = "site-config"

// Target is one overlay to build.
type Target struct {
	Site string // site name (for hand-written trees: the overlay directory name)
	// Dir is the overlay directory inside the file system, absolute (e.g.
	// "/fleet/overlays/store-1") or relative to Options.Root
	// ("overlays/store-1").
	Dir string
	// Config, when non-nil, is the exact data the ConfigMap generated from
	// ConfigMapName must carry in the built output after a YAML round trip.
	Config        map[string]string
	ConfigMapName string // default DefaultConfigMapName
	// Facts are what the policies know about the site: its architecture,
	// capacity, K3s reserve and whether it requires image digests. nil
	// means a tree without facts (hand-written): the policies still run,
	// with the architecture and capacity unknown.
	Facts *policy.Facts
	// Waivers turn the findings of a policy into passes for this site.
	Waivers []policy.Waiver
}

// Options control Run.
type Options struct {
	// FS holds the tree: filesys.MakeFsInMemory() for generate,
	// filesys.MakeFsOnDisk() for verify.
	FS filesys.FileSystem
	// Root is the tree root; nothing outside it is read, also not through
	// symbolic links.
	Root string
	// Workers is the number of overlays built at once; 0 or less means
	// runtime.GOMAXPROCS(0). An overlay whose kustomization sets openapi:
	// (which replaces kustomize's process-global schema) is always built
	// alone (see schemaGate).
	Workers int
	// Cache, when set, remembers overlays that passed, keyed by CacheSalt
	// (see Salt), the target, and the content of every file and directory
	// listing the build read; an overlay whose inputs are unchanged is not
	// built again. Failures are never stored.
	Cache     *cache.Dir
	CacheSalt string
	// Progress, when set, is called after each site with the number of
	// sites done (built or served from the cache) and the total. It may be
	// called from several goroutines, never at once.
	Progress func(done, total int)
	// DropObjects leaves Result.Objects nil: callers that only need the
	// verdict do not hold every site's built manifests in memory at once.
	DropObjects bool
	// RecordAccesses sets Result.Accesses also without a cache.
	RecordAccesses bool
	// OnResult, when set, is called with each site's result as soon as it
	// is known, on the goroutine that built it (several at once), before
	// Progress. It may change the result: a caller that turns Accesses
	// into something smaller and drops them does not hold every site's
	// accesses until the run ends.
	OnResult func(*Result)
}

// Access is one file-system access of a build.
type Access struct {
	// Op is the kind of access: "read" (ReadFile), "isdir", "exists",
	// "readdir", "abs" (CleanedAbs) or "glob".
	Op string
	// Path is the path as the build asked for it (absolute in
	// Options.FS), or the pattern of a glob.
	Path string
}

// Result is the outcome for one site.
type Result struct {
	Site string
	Dir  string // overlay directory relative to the tree root
	// Objects are the built manifests as YAML, in the kustomize CLI's order,
	// identical to `kustomize build`. Set whenever the overlay built, even
	// if a later check failed.
	Objects []byte
	// Errors are the build and output problems (the overlay does not
	// build, an object cannot be written or read back, a name is invalid,
	// ConfigMap data does not survive a round trip), one per problem.
	// Schema errors and policy findings are kept apart, below.
	Errors []error
	// SchemaErrors are the fields of built objects that do not match the
	// schema of their kind, in output order.
	SchemaErrors []SchemaError
	// Skipped are the built objects whose kind has no schema (custom
	// resources): they were not checked against one. A skipped object is
	// not a failure, but it is reported.
	Skipped []ObjectRef
	// Findings are the policy findings, sorted by policy, object, field
	// and message. Waived findings are kept, marked Waived with the
	// reason, and do not fail the site.
	Findings []policy.Finding
	// Accesses are the file-system accesses the build made, in the order
	// first made, when they are fully known: set for every passing result
	// when Options.Cache is set or Options.RecordAccesses is true, also when
	// it was served from the cache; nil when not recorded or not fully
	// known (an overlay built alone, see schemaGate, or one that walked a
	// directory). Everything the result depends on in the file system is
	// in them.
	Accesses []Access
	// Err is nil when the overlay built and every check passed: no
	// Errors, no SchemaErrors and no finding that is not waived. Otherwise
	// it is a *SiteError joining all of them, one line each.
	Err error
}

// Unwaived returns the findings that fail the site.
func (r *Result) Unwaived() []policy.Finding {
	var out []policy.Finding
	for _, f := range r.Findings {
		if !f.Waived {
			out = append(out, f)
		}
	}
	return out
}

// Waived returns the findings a waiver turned into passes.
func (r *Result) Waived() []policy.Finding {
	var out []policy.Finding
	for _, f := range r.Findings {
		if f.Waived {
			out = append(out, f)
		}
	}
	return out
}

// Report holds one Result per target, sorted by site.
type Report struct {
	Results []Result
}

// Failed returns the results with an error.
func (r *Report) Failed() []Result {
	var out []Result
	for _, res := range r.Results {
		if res.Err != nil {
			out = append(out, res)
		}
	}
	return out
}

// OK reports whether every site built and passed the checks.
func (r *Report) OK() bool { return len(r.Failed()) == 0 }

// Summary reads like "1,000 sites: 998 ok, 2 failed".
func (r *Report) Summary() string {
	n, failed := len(r.Results), len(r.Failed())
	noun := "sites"
	if n == 1 {
		noun = "site"
	}
	return fmt.Sprintf("%s %s: %s ok, %s failed", Thousands(n), noun, Thousands(n-failed), Thousands(failed))
}

// Thousands formats n with a comma between groups of three digits:
// 1234567 is "1,234,567".
func Thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// SiteError is a build or check failure of one site.
type SiteError struct {
	Site string
	Dir  string // overlay directory relative to the tree root
	Err  error
}

func (e *SiteError) Error() string {
	return fmt.Sprintf("site %q (%s): %v", e.Site, e.Dir, e.Err)
}

func (e *SiteError) Unwrap() error { return e.Err }

// KustomizeOptions returns the krusty options fleetgen builds with: the
// CLI's legacy output order, files only from within each kustomization
// root, builtin plugins only (no exec or Go plugins, Helm off), no
// managed-by label.
func KustomizeOptions() *krusty.Options {
	o := krusty.MakeDefaultOptions()
	o.Reorder = krusty.ReorderOptionLegacy
	o.LoadRestrictions = types.LoadRestrictionsRootOnly
	o.PluginConfig = types.DisabledPluginConfig()
	o.PluginConfig.HelmConfig.Enabled = false
	o.AddManagedbyLabel = false
	return o
}

// buildGated builds dir beside other builds, or alone when its
// kustomization sets openapi: (see schemaGate). rec, when set, records
// what the build read; an exclusive build is not cacheable.
func buildGated(fsys filesys.FileSystem, root, dir string, rec *recorder, memo *contentMemo) (resmap.ResMap, error) {
	for _, mode := range []buildMode{shared, exclusive} {
		g, err := newGuardedFS(fsys, root)
		if err != nil {
			return nil, err
		}
		g.mode, g.memo = mode, memo
		if mode == exclusive {
			rec.uncacheable()
		} else {
			g.rec = rec
		}
		var m resmap.ResMap
		withGate(mode, func() { m, err = g.build(dir) })
		if mode == shared && errors.Is(err, errNeedsExclusive) {
			continue
		}
		return m, err
	}
	panic("unreachable")
}

// build runs kustomize on dir (absolute, or relative to the root). A
// problem the file system saw is reported in preference to kustomize's
// error, which it usually caused.
func (g *guardedFS) build(dir string) (resmap.ResMap, error) {
	abs := dir
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(g.lexRoot, abs)
	}
	if !g.IsDir(abs) {
		if err := g.err(); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("overlay directory %q does not exist", dir)
	}
	m, err := krusty.MakeKustomizer(KustomizeOptions()).Run(g, abs)
	if perr := g.err(); perr != nil {
		return nil, perr
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

// Run builds every target and checks its output. The error is non-nil only
// for misuse (no file system, no root, a target without site or directory,
// a site twice) or when ctx is done; then the report holds the sites built
// so far. Build and check failures are in the report.
func Run(ctx context.Context, targets []Target, opts Options) (*Report, error) {
	if opts.FS == nil {
		return nil, errors.New("verify: Options.FS is nil")
	}
	if opts.Root == "" {
		return nil, errors.New("verify: Options.Root is empty")
	}
	// One guard only to validate the root; each build gets its own so its
	// problems are its own.
	if _, err := newGuardedFS(opts.FS, opts.Root); err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	seen := make(map[string]bool, len(targets))
	for i, t := range targets {
		if t.Site == "" || t.Dir == "" {
			return nil, fmt.Errorf("verify: target %d: site and directory are required", i)
		}
		if seen[t.Site] {
			return nil, fmt.Errorf("verify: site %q listed twice", t.Site)
		}
		seen[t.Site] = true
	}

	sorted := append([]Target(nil), targets...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Site < sorted[j].Site })

	// One validator for the run: it is immutable and building it walks
	// every API type once.
	v := schema.New()
	var vc *verifyCache
	if opts.Cache != nil {
		vc = &verifyCache{dir: opts.Cache, salt: opts.CacheSalt, fs: opts.FS, root: opts.Root}
	}
	memo := &contentMemo{}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, max(len(sorted), 1))

	// A bounded pool: each worker takes the next index and writes only its
	// own slot of results. Builds share the read-only file system, the
	// immutable validator and the cache (safe for concurrent use).
	gc := newGCTuner(workers)
	defer gc.done()
	results := make([]Result, len(sorted))
	doneAt := make([]bool, len(sorted))
	next := make(chan int)
	var (
		mu   sync.Mutex
		done int
		wg   sync.WaitGroup
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i] = buildTarget(sorted[i], opts, v, vc, memo)
				gc.tick()
				if opts.DropObjects {
					results[i].Objects = nil
				}
				if opts.OnResult != nil {
					opts.OnResult(&results[i])
				}
				mu.Lock()
				doneAt[i] = true
				done++
				if opts.Progress != nil {
					opts.Progress(done, len(sorted))
				}
				mu.Unlock()
			}
		}()
	}
	var ctxErr error
	for i := range sorted {
		if err := ctx.Err(); err != nil {
			ctxErr = err
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	rep := &Report{Results: make([]Result, 0, len(sorted))}
	for i, r := range results {
		if doneAt[i] {
			rep.Results = append(rep.Results, r)
		}
	}
	if ctxErr != nil {
		return rep, fmt.Errorf("verify: %w", ctxErr)
	}
	return rep, nil
}

// buildTarget builds and checks one target: the build, the output checks,
// then, when the objects parsed, the schema of every object and the
// policies. With a cache, an unchanged passing target is served from it
// and a passing one is stored.
func buildTarget(t Target, opts Options, v *schema.Validator, vc *verifyCache, memo *contentMemo) Result {
	var key string
	var rec *recorder
	if vc != nil {
		key = vc.key(t)
		if res, ok := vc.lookup(t, key, displayDir(opts.Root, t.Dir)); ok {
			return res
		}
	}
	if vc != nil || opts.RecordAccesses {
		rec = newRecorder()
	}
	res := checkTarget(t, opts, v, rec, memo)
	res.setErr()
	if res.Err == nil {
		res.Accesses = rec.accesses()
	}
	if vc != nil && res.Err == nil {
		// A cache that cannot be written only costs time next run.
		_ = vc.store(key, &res, rec)
	}
	return res
}

func checkTarget(t Target, opts Options, v *schema.Validator, rec *recorder, memo *contentMemo) Result {
	res := Result{Site: t.Site, Dir: displayDir(opts.Root, t.Dir)}
	m, err := buildGated(opts.FS, opts.Root, t.Dir, rec, memo)
	if err != nil {
		res.Errors = flatten(err)
		return res
	}
	objects, parsed, err := check(m, t)
	res.Objects = objects
	res.Errors = flatten(err)
	if parsed == nil {
		return res
	}
	objs, err := decodeObjects(parsed)
	if err != nil {
		res.Errors = append(res.Errors, err)
		return res
	}
	res.SchemaErrors, res.Skipped = validateObjects(v, objs)
	findings, err := policy.Evaluate(objs, siteFacts(t), t.Waivers)
	if err != nil {
		res.Errors = append(res.Errors, flatten(fmt.Errorf("policies: %w", err))...)
		return res
	}
	res.Findings = findings
	bundle, err := checkBootstrap(opts, t, objs, rec)
	if err != nil {
		res.Errors = append(res.Errors, fmt.Errorf("K3s bootstrap bundle: %w", err))
		return res
	}
	res.Findings = append(res.Findings, bundle...)
	applier, err := checkApplier(opts, t, objs, rec)
	if err != nil {
		res.Errors = append(res.Errors, fmt.Errorf("applier: %w", err))
		return res
	}
	res.Findings = append(res.Findings, applier...)
	return res
}

// ResetErr sets Err again from the problems, schema errors and unwaived
// findings, for a caller that changed them.
func (r *Result) ResetErr() { r.Err = nil; r.setErr() }

// setErr sets r.Err from the problems, schema errors and unwaived
// findings, in that order.
func (r *Result) setErr() {
	errs := append([]error(nil), r.Errors...)
	for _, e := range r.SchemaErrors {
		errs = append(errs, errors.New(e.String()))
	}
	for _, f := range r.Unwaived() {
		errs = append(errs, errors.New(f.String()))
	}
	if len(errs) > 0 {
		r.Err = &SiteError{Site: r.Site, Dir: r.Dir, Err: errors.Join(errs...)}
	}
}

// displayDir is dir relative to root, with forward slashes.
func displayDir(root, dir string) string {
	if !filepath.IsAbs(dir) {
		return filepath.ToSlash(filepath.Clean(dir))
	}
	if r, err := filepath.Rel(root, dir); err == nil && !strings.HasPrefix(r, "..") {
		return filepath.ToSlash(r)
	}
	return filepath.ToSlash(dir)
}

// Overlays returns a Target for every directory root/overlays/* holding a
// kustomization file, sorted by name, with Dir relative to root. It is how
// `fleetgen verify DIR` finds the sites of a tree. An overlay holding a
// SiteFactsFile (every generated one does) gets its Facts and Waivers from
// it; a malformed facts file is an error naming the file. Overlays without
// one (hand-written trees) get nil Facts.
func Overlays(fsys filesys.FileSystem, root string) ([]Target, error) {
	g, err := newGuardedFS(fsys, root)
	if err != nil {
		return nil, err
	}
	base := filepath.Join(g.lexRoot, "overlays")
	if !g.IsDir(base) {
		return nil, fmt.Errorf("%s: no overlays directory", base)
	}
	names, err := g.ReadDir(base)
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []Target
	var errs []error
	for _, n := range names {
		d := filepath.Join(base, n)
		if !g.IsDir(d) {
			continue
		}
		for _, k := range kustomizationNames {
			if g.Exists(filepath.Join(d, k)) {
				t, err := g.overlayTarget(n)
				if err != nil {
					errs = append(errs, err)
				}
				out = append(out, t)
				break
			}
		}
	}
	if err := g.err(); err != nil {
		return nil, err
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// OverlayTarget returns the Target for root/overlays/site, with the facts
// and waivers of its SiteFactsFile when it has one (see Overlays). It does
// not check that the overlay exists.
func OverlayTarget(fsys filesys.FileSystem, root, site string) (Target, error) {
	g, err := newGuardedFS(fsys, root)
	if err != nil {
		return Target{}, err
	}
	return g.overlayTarget(site)
}

func (g *guardedFS) overlayTarget(site string) (Target, error) {
	t := Target{Site: site, Dir: filepath.ToSlash(filepath.Join("overlays", site))}
	d := filepath.Join(g.lexRoot, "overlays", site)
	sf, err := g.readSiteFacts(d, site)
	if err != nil {
		return t, err
	}
	if sf != nil {
		facts, waivers := sf.Policy(g.rel(filepath.Join(d, SiteFactsFile)))
		t.Facts, t.Waivers, t.ConfigMapName = &facts, waivers, sf.ConfigMapName
	}
	return t, nil
}
