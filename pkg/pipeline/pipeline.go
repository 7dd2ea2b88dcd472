package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"path"

	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/fleetgen/fleetgen/pkg/inventory"
	"github.com/fleetgen/fleetgen/pkg/render"
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
	// Stdin is read when Inventory is "-".
	Stdin io.Reader
	// Templates is the template set; nil means the embedded default set.
	Templates fs.FS
	// Workers bounds parallel overlay builds.
	Workers int
}

// Result is what a successful run produced. Report may still hold failing
// sites: a run only returns an error for bad input.
type Result struct {
	Fleet  *inventory.Fleet
	Tree   *render.Tree
	Report *verify.Report
}

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
	report, err := Verify(ctx, fleet, tree, opts.Workers)
	if err != nil {
		return nil, err
	}
	return &Result{Fleet: fleet, Tree: tree, Report: report}, nil
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
	inv, err := loadInventory(opts)
	if err != nil {
		return nil, nil, err
	}
	set := opts.Templates
	if set == nil {
		set = templates.FS()
	}
	engine, err := render.Load(set)
	if err != nil {
		return nil, nil, err
	}
	fleet, err := inv.Resolve(inventory.ResolveOptions{Components: engine.Components()})
	if err != nil {
		return nil, nil, err
	}
	tree, err := engine.Render(fleet)
	if err != nil {
		return nil, nil, err
	}
	return fleet, tree, nil
}

// Verify builds every site's overlay of tree in memory and checks that each
// site's config arrives intact in its built site-config ConfigMap.
func Verify(ctx context.Context, fleet *inventory.Fleet, tree *render.Tree, workers int) (*verify.Report, error) {
	fsys, err := MemFS(tree)
	if err != nil {
		return nil, err
	}
	targets := make([]verify.Target, 0, len(fleet.Sites))
	for _, s := range fleet.Sites {
		targets = append(targets, verify.Target{
			Site:          s.Name,
			Dir:           path.Join(memRoot, "overlays", s.Name),
			Config:        s.Config,
			ConfigMapName: ConfigMapName,
		})
	}
	return verify.Run(ctx, targets, verify.Options{FS: fsys, Root: memRoot, Workers: workers})
}

// MemFS lays tree out in a fresh in-memory file system under /fleet.
func MemFS(tree *render.Tree) (filesys.FileSystem, error) {
	fsys := filesys.MakeFsInMemory()
	for _, f := range tree.Files {
		p := path.Join(memRoot, f.Path)
		if err := fsys.MkdirAll(path.Dir(p)); err != nil {
			return nil, fmt.Errorf("laying out %s in memory: %w", f.Path, err)
		}
		if err := fsys.WriteFile(p, f.Data); err != nil {
			return nil, fmt.Errorf("laying out %s in memory: %w", f.Path, err)
		}
	}
	return fsys, nil
}

func loadInventory(opts Options) (*inventory.Inventory, error) {
	if opts.InventoryData != nil {
		return inventory.Load(opts.Inventory, bytes.NewReader(opts.InventoryData))
	}
	if opts.Inventory == "-" && opts.Stdin != nil {
		return inventory.Load("<stdin>", opts.Stdin)
	}
	return inventory.LoadFile(opts.Inventory)
}
