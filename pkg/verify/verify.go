package verify

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
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
}

// Options control Run.
type Options struct {
	// FS holds the tree: filesys.MakeFsInMemory() for generate,
	// filesys.MakeFsOnDisk() for verify.
	FS filesys.FileSystem
	// Root is the tree root; nothing outside it is read, also not through
	// symbolic links.
	Root string
	// Workers is the number of overlays built at once. Builds currently run
	// one at a time whatever its value: kustomize keeps process-global
	// state (the OpenAPI schema, which a kustomization's openapi: field
	// replaces) that concurrent builds would share.
	Workers int
}

// Result is the outcome for one site.
type Result struct {
	Site string
	Dir  string // overlay directory relative to the tree root
	// Objects are the built manifests as YAML, in the kustomize CLI's order,
	// identical to `kustomize build`. Set whenever the overlay built, even
	// if a later check failed.
	Objects []byte
	Err     error // nil when the overlay built and every check passed; a *SiteError otherwise
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

// Summary reads like "3 sites: 2 ok, 1 failed".
func (r *Report) Summary() string {
	n, failed := len(r.Results), len(r.Failed())
	noun := "sites"
	if n == 1 {
		noun = "site"
	}
	return fmt.Sprintf("%d %s: %d ok, %d failed", n, noun, n-failed, failed)
}

// Err joins the errors of every failed site, or returns nil.
func (r *Report) Err() error {
	var errs []error
	for _, res := range r.Failed() {
		errs = append(errs, res.Err)
	}
	return errors.Join(errs...)
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

// Build builds the overlay in dir with KustomizeOptions. Every file is
// checked as it is read (size limit, YAML alias expansion, no remote
// references) and nothing is written. Build does not confine reads to a
// tree; BuildWithin does.
func Build(fsys filesys.FileSystem, dir string) (resmap.ResMap, error) {
	return BuildWithin(fsys, string(filepath.Separator), dir)
}

// BuildWithin is Build with every read confined to root (after symbolic
// links are followed, on disk). dir may be relative to root.
func BuildWithin(fsys filesys.FileSystem, root, dir string) (resmap.ResMap, error) {
	g, err := newGuardedFS(fsys, root)
	if err != nil {
		return nil, err
	}
	return g.build(dir)
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

	rep := &Report{Results: make([]Result, 0, len(sorted))}
	// Sequential by design for now (see Options.Workers). buildTarget
	// shares nothing between calls except the read-only file system.
	for _, t := range sorted {
		if err := ctx.Err(); err != nil {
			return rep, fmt.Errorf("verify: %w", err)
		}
		rep.Results = append(rep.Results, buildTarget(t, opts))
	}
	return rep, nil
}

// buildTarget builds and checks one target.
func buildTarget(t Target, opts Options) Result {
	g, err := newGuardedFS(opts.FS, opts.Root)
	res := Result{Site: t.Site, Dir: displayDir(opts.Root, t.Dir)}
	fail := func(err error) Result {
		res.Err = &SiteError{Site: t.Site, Dir: res.Dir, Err: err}
		return res
	}
	if err != nil {
		return fail(err)
	}
	m, err := g.build(t.Dir)
	if err != nil {
		return fail(err)
	}
	objects, err := check(m, t)
	res.Objects = objects
	if err != nil {
		return fail(err)
	}
	return res
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
// `fleetgen verify DIR` finds the sites of a hand-written tree.
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
	for _, n := range names {
		d := filepath.Join(base, n)
		if !g.IsDir(d) {
			continue
		}
		for _, k := range kustomizationNames {
			if g.Exists(filepath.Join(d, k)) {
				out = append(out, Target{Site: n, Dir: filepath.ToSlash(filepath.Join("overlays", n))})
				break
			}
		}
	}
	if err := g.err(); err != nil {
		return nil, err
	}
	return out, nil
}
