package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/fleetgen/fleetgen/pkg/verify"
)

// VerifyOptions are the inputs of `fleetgen verify`.
type VerifyOptions struct {
	IO  IOStreams
	Dir string
}

// NewCmdVerify builds `fleetgen verify`.
func NewCmdVerify(streams IOStreams, runF func(context.Context, *VerifyOptions) error) *cobra.Command {
	opts := &VerifyOptions{IO: streams}
	cmd := &cobra.Command{
		Use:   "verify DIR",
		Short: "Build every overlay under DIR/overlays with the kustomize API and report per site",
		Long: `verify builds each DIR/overlays/<site> that holds a kustomization file, the
way a site's GitOps agent would (no remote bases, no plugins, nothing read from
outside DIR), checks the built objects, and reports each failing site.

It works on any Kustomize fleet tree, generated or hand-written. Exit 0 when
every overlay builds, 1 when any fails, 2 when DIR has no overlays.`,
		Example: `  # Verify a generated fleet tree
  fleetgen verify fleet/

  # Use it as a CI gate
  fleetgen verify fleet/ || exit 1`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Dir = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return verifyRun(cmd.Context(), opts)
		},
	}
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
	report, err := verify.Run(ctx, targets, verify.Options{FS: fsys, Root: root})
	if err != nil {
		return err
	}
	if !report.OK() {
		printReport(o.IO.ErrOut, report)
		return silentFailure()
	}
	fmt.Fprintln(o.IO.Out, report.Summary())
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
