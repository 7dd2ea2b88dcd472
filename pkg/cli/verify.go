package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/fleetgen/fleetgen/pkg/pipeline"
	"github.com/fleetgen/fleetgen/pkg/report"
	"github.com/fleetgen/fleetgen/pkg/verify"
)

// VerifyOptions are the inputs of `fleetgen verify`.
type VerifyOptions struct {
	IO  IOStreams
	Dir string
	// Format is the report format: text (default) or json.
	Format report.Format
	// Selector limits verify to the overlays it selects (-l).
	Selector string
	RunOptions
}

// NewCmdVerify builds `fleetgen verify`.
func NewCmdVerify(streams IOStreams, runF func(context.Context, *VerifyOptions) error) *cobra.Command {
	opts := &VerifyOptions{IO: streams}
	format := &formatFlag{}
	cmd := &cobra.Command{
		Use:   "verify DIR",
		Short: "Build every overlay under DIR/overlays with the kustomize API and report per site",
		Long: `verify builds each DIR/overlays/<site> that holds a kustomization file, the
way a site's GitOps agent would (no remote bases, no plugins, nothing read from
outside DIR), checks the built objects (names, data, the schema of every
built-in kind) and the edge policies, and reports each failing site with
the failing object and field.

A generated overlay carries its site's facts and waivers in
overlays/<site>/fleetgen-site.yaml, so verify reaches the same verdict as
generate did. An overlay without that file (a hand-written tree) is checked
with the architecture and capacity unknown.

It works on any Kustomize fleet tree, generated or hand-written. Exit 0 when
every overlay passes, 1 when any fails, 2 when DIR has no overlays or a
facts file is malformed.

With -o json the report (kind VerifyReport, see docs/report.md) goes to
standard output and the text report to standard error.`,
		Example: `  # Verify a generated fleet tree
  fleetgen verify fleet/

  # Use it as a CI gate
  fleetgen verify fleet/ || exit 1

  # Machine-readable report for CI annotations or dashboards
  fleetgen verify fleet/ -o json > report.json`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Dir = args[0]
			opts.Format = format.format()
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return verifyRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().VarP(format, "output", "o", "report format: text or json")
	addSelectorFlag(cmd, &opts.Selector)
	addRunFlags(cmd, &opts.RunOptions)
	return cmd
}

func verifyRun(ctx context.Context, o *VerifyOptions) error {
	root, err := treeRoot(o.Dir)
	if err != nil {
		return err
	}
	fsys := filesys.MakeFsOnDisk()
	targets, err := verify.Overlays(fsys, root)
	if err != nil {
		return usageError(err)
	}
	if len(targets) == 0 {
		return usageError(fmt.Errorf("%s: no overlays found (expected %s/overlays/<site>/kustomization.yaml)", o.Dir, o.Dir))
	}
	if targets, err = selectOverlays(fsys, root, targets, o.Selector); err != nil {
		return err
	}
	vopts := verify.Options{FS: fsys, Root: root, Workers: o.Workers}
	vopts.Cache, vopts.CacheSalt = o.cache()
	var endProgress func()
	vopts.Progress, endProgress = o.progress(o.IO.ErrOut, "verifying")
	rep, err := verify.Run(ctx, targets, vopts)
	endProgress()
	if err != nil {
		return err
	}
	if err := writeReport(o.IO, o.Format, rep); err != nil {
		return err
	}
	// The overlays' objects are bounded by the object-size policy; files
	// that are not built (argocd/, clusters/, any other) are checked here.
	sizeErrs, err := pipeline.CheckSizesOnDisk(root)
	if err != nil {
		return err
	}
	for _, e := range sizeErrs {
		fmt.Fprintf(o.IO.ErrOut, "FAIL %v\n", e)
	}
	if !rep.OK() || len(sizeErrs) > 0 {
		return silentFailure()
	}
	return nil
}

// treeRoot checks that dir is an existing directory and returns its absolute path.
func treeRoot(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", usageError(err)
	}
	st, err := os.Stat(abs)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "", usageError(fmt.Errorf("%s: no such directory", dir))
	case err != nil:
		return "", usageError(err)
	case !st.IsDir():
		return "", usageError(fmt.Errorf("%s: not a directory", dir))
	}
	return abs, nil
}
