package pipeline

import (
	"context"
	"errors"

	"github.com/fleetgen/fleetgen/pkg/inventory"
	"github.com/fleetgen/fleetgen/pkg/render"
	"github.com/fleetgen/fleetgen/pkg/verify"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// Helpers only tests call: production code uses the functions they wrap.

// verifyMem builds every site's overlay of tree in memory, checks that each
// site's config arrives intact in its built site-config ConfigMap, and
// checks the built objects against the schemas and, with the site's facts
// and waivers from the inventory, the policies.
// fsys is laid out by MemFS.
func verifyMem(ctx context.Context, fleet *inventory.Fleet, fsys filesys.FileSystem, workers int) (*verify.Report, error) {
	return verify.Run(ctx, Targets(fleet), verify.Options{FS: fsys, Root: memRoot, Workers: workers})
}

// MemFS lays tree out in a read-only file system under /fleet. When output
// is an existing directory, the files under it that the tree does not
// replace are laid out too, so the file system holds what the disk will
// hold after writing: the user's own files, seed files as the user left
// them. Files the ledger says fleetgen wrote and the tree no longer has are
// left out (the write deletes them), and so are .fleetgen/, .git/ and
// symbolic links (the write refuses trees with links).
func MemFS(tree *render.Tree, output string) (filesys.FileSystem, error) {
	return layout(tree, output, nil, nil, nil, nil)
}

// reportErr joins the errors of every failed site of rep, or returns nil.
func reportErr(rep *verify.Report) error {
	if rep == nil {
		return nil
	}
	var errs []error
	for _, res := range rep.Failed() {
		errs = append(errs, res.Err)
	}
	return errors.Join(errs...)
}

// Render loads the inventory and renders the tree without verifying it.
// Every error it returns is an *InputError.
func Render(opts Options) (*inventory.Fleet, *render.Tree, error) {
	inputs, err := readInputs(opts)
	if err != nil {
		return nil, nil, &InputError{Err: err}
	}
	engine, err := render.Load(templateSet(opts))
	if err != nil {
		return nil, nil, &InputError{Err: err}
	}
	place, err := treePlace(opts.Output)
	if err != nil {
		return nil, nil, &InputError{Err: err}
	}
	fleet, tree, _, err := renderInputs(inputs, engine, templateSet(opts), nil, nil, place)
	if err != nil {
		return nil, nil, &InputError{Err: err}
	}
	return fleet, tree, nil
}
