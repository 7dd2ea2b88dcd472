package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"

	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/fleetgen/fleetgen/pkg/cache"
	"github.com/fleetgen/fleetgen/pkg/gitops"
	"github.com/fleetgen/fleetgen/pkg/inventory"
	"github.com/fleetgen/fleetgen/pkg/render"
	"github.com/fleetgen/fleetgen/pkg/selector"
	fstree "github.com/fleetgen/fleetgen/pkg/tree"
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
	// Output, when set, is the directory the tree will be written to. The
	// tree is then verified as it will be on disk after the write: the
	// user's own files under Output (such as overlays/<site>/local/) are
	// laid out beside the rendered files, and seed files already on disk
	// keep their disk content.
	Output string
}

// Result is what a successful run produced. Report may still hold failing
// sites: a run only returns an error for bad input.
type Result struct {
	Fleet  *inventory.Fleet
	Tree   *render.Tree
	Report *verify.Report
	// Selected are the sites Options.Selector selected (every site for the
	// empty selector); only they were verified.
	Selected *inventory.Fleet

	selected map[string]bool
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
	fleet, tree, err := Render(opts)
	if err != nil {
		return nil, err
	}
	selected := selector.Filter(fleet, opts.Selector)
	if len(selected.Sites) == 0 {
		return nil, &InputError{Err: fmt.Errorf("selector %q matches no site of the inventory", opts.Selector.String())}
	}
	fsys, err := MemFS(tree, opts.Output)
	if err != nil {
		return nil, err
	}
	report, err := verify.Run(ctx, Targets(selected), verify.Options{
		FS: fsys, Root: memRoot, Workers: opts.Workers,
		Cache: opts.Cache, CacheSalt: opts.CacheSalt, Progress: opts.Progress,
		DropObjects: opts.DropObjects,
	})
	if err != nil {
		return nil, err
	}
	res := &Result{Fleet: fleet, Tree: tree, Report: report, Selected: selected, selected: map[string]bool{}}
	for _, s := range selected.Sites {
		res.selected[s.Name] = true
	}
	return res, nil
}

// Render loads the inventory and renders the tree without verifying it.
// Every error it returns is an *InputError.
func Render(opts Options) (*inventory.Fleet, *render.Tree, error) {
	fleet, tree, err := renderTree(opts)
	if err != nil {
		return nil, nil, &InputError{Err: err}
	}
	return fleet, tree, nil
}

func renderTree(opts Options) (*inventory.Fleet, *render.Tree, error) {
	set := opts.Templates
	if set == nil {
		set = templates.FS()
	}
	engine, err := render.Load(set)
	if err != nil {
		return nil, nil, err
	}
	// The template set is loaded first so that unknown components are
	// reported together with every other problem of the inventory.
	ropts := inventory.ResolveOptions{Components: engine.Components(), Policies: policyIDs()}
	inv, err := loadInventory(opts, ropts)
	if err != nil {
		return nil, nil, err
	}
	fleet, err := inv.Resolve(ropts)
	if err != nil {
		return nil, nil, err
	}
	tree, err := engine.Render(fleet)
	if err != nil {
		return nil, nil, err
	}
	if err := checkWiring(fleet, tree); err != nil {
		return nil, nil, err
	}
	if err := addSiteFacts(fleet, tree); err != nil {
		return nil, nil, err
	}
	return fleet, tree, nil
}

// Verify builds every site's overlay of tree in memory, checks that each
// site's config arrives intact in its built site-config ConfigMap, and
// checks the built objects against the schemas and, with the site's facts
// and waivers from the inventory, the policies.
// fsys is laid out by MemFS.
func Verify(ctx context.Context, fleet *inventory.Fleet, fsys filesys.FileSystem, workers int) (*verify.Report, error) {
	return verify.Run(ctx, Targets(fleet), verify.Options{FS: fsys, Root: memRoot, Workers: workers})
}

// Targets are the verification targets of the fleet's sites in a tree laid
// out by MemFS.
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

// MemFS lays tree out in a fresh in-memory file system under /fleet. When
// output is an existing directory, the files under it that the tree does not
// replace are laid out too, so the in-memory tree is what the disk will hold
// after writing: the user's own files, seed files as the user left them.
// Files the ledger says fleetgen wrote and the tree no longer has are left
// out (the write deletes them), and so are .fleetgen/, .git/ and symbolic
// links (the write refuses trees with links).
func MemFS(tree *render.Tree, output string) (filesys.FileSystem, error) {
	fsys := filesys.MakeFsInMemory()
	put := func(rel string, data []byte) error {
		p := path.Join(memRoot, rel)
		if err := fsys.MkdirAll(path.Dir(p)); err != nil {
			return fmt.Errorf("laying out %s in memory: %w", rel, err)
		}
		if err := fsys.WriteFile(p, data); err != nil {
			return fmt.Errorf("laying out %s in memory: %w", rel, err)
		}
		return nil
	}
	onDisk, err := diskFiles(tree, output)
	if err != nil {
		return nil, err
	}
	for _, f := range tree.Files {
		if _, ok := onDisk[f.Path]; ok && f.Seed {
			continue
		}
		if err := put(f.Path, f.Data); err != nil {
			return nil, err
		}
	}
	for _, rel := range sortedKeys(onDisk) {
		if err := put(rel, onDisk[rel]); err != nil {
			return nil, err
		}
	}
	return lexicalFS{fsys}, nil
}

// lexicalFS is the in-memory file system with CleanedAbs computed from the
// path. The in-memory file system has no symbolic links, so a clean absolute
// path is already what it resolves to; its own CleanedAbs spells the path
// out by searching each parent directory's entries for the node, which
// costs time in the number of sites for every file under overlays/.
type lexicalFS struct{ filesys.FileSystem }

func (l lexicalFS) CleanedAbs(p string) (filesys.ConfirmedDir, string, error) {
	if !filepath.IsAbs(p) {
		return l.FileSystem.CleanedAbs(p)
	}
	clean := filepath.Clean(p)
	if !l.Exists(clean) {
		return l.FileSystem.CleanedAbs(p) // its error for a missing path
	}
	if l.IsDir(clean) {
		return filesys.ConfirmedDir(clean), "", nil
	}
	return filesys.ConfirmedDir(filepath.Dir(clean)), filepath.Base(clean), nil
}

// diskFiles reads the files under output that will still be there after the
// tree is written and that the tree does not replace.
func diskFiles(tree *render.Tree, output string) (map[string][]byte, error) {
	files := map[string][]byte{}
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
	owned := map[string]bool{}
	if led, err := fstree.ReadLedger(output); err == nil {
		for _, e := range led.Entries {
			owned[e.Path] = true
		}
	}
	err := filepath.WalkDir(output, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(output, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == render.ReservedDir || d.Name() == ".git" {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || rendered[rel] {
			return nil
		}
		if _, inTree := rendered[rel]; !inTree && owned[rel] {
			return nil // fleetgen wrote it and no longer renders it: deleted on write
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files[rel] = data
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", output, err)
	}
	return files, nil
}

func sortedKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func loadInventory(opts Options, ropts inventory.ResolveOptions) (*inventory.Inventory, error) {
	switch {
	case opts.InventoryData != nil:
		return inventory.LoadWith(opts.Inventory, bytes.NewReader(opts.InventoryData), ropts)
	case len(opts.Inventories) > 0:
		return inventory.LoadFilesWith(opts.Inventories, opts.Stdin, ropts)
	case opts.Inventory == "-" && opts.Stdin != nil:
		return inventory.LoadWith("<stdin>", opts.Stdin, ropts)
	}
	return inventory.LoadFilesWith([]string{opts.Inventory}, nil, ropts)
}

// checkWiring checks the GitOps wiring the templates rendered (clusters/,
// argocd/): every site wired exactly once, to an overlay that exists, and
// every wiring object valid for its engine. Bad wiring is bad input.
func checkWiring(fleet *inventory.Fleet, tree *render.Tree) error {
	names := make([]string, len(fleet.Sites))
	for i, s := range fleet.Sites {
		names[i] = s.Name
	}
	if errs := gitops.CheckWiring(gitops.Files(tree), names); len(errs) > 0 {
		return fmt.Errorf("checking GitOps wiring: %w", errors.Join(errs...))
	}
	return nil
}
