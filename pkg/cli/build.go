package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/fleetgen/fleetgen/pkg/pipeline"
)

// BuildOptions are the inputs of `fleetgen build`.
type BuildOptions struct {
	IO   IOStreams
	Dir  string
	Site string
}

// NewCmdBuild builds `fleetgen build`.
func NewCmdBuild(streams IOStreams, runF func(context.Context, *BuildOptions) error) *cobra.Command {
	opts := &BuildOptions{IO: streams}
	cmd := &cobra.Command{
		Use:   "build DIR SITE",
		Short: "Print one site's built manifests, in the kustomize CLI's order",
		Long: `build builds DIR/overlays/SITE with the kustomize API, checks it as verify
does (schema and policies too, with the site's facts file when there is
one), and prints the manifests to standard output in the order the kustomize
CLI uses: the same objects as 'kubectl kustomize DIR/overlays/SITE'.`,
		Example: `  # See what store-berlin-001 will run
  fleetgen build fleet/ store-berlin-001

  # Compare with what the site's agent will apply
  fleetgen build fleet/ store-berlin-001 | kubectl diff -f -`,
		Args:              exactArgs(2),
		ValidArgsFunction: overlaySiteCompletion,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Dir, opts.Site = args[0], args[1]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return buildRun(cmd.Context(), opts)
		},
	}
	return cmd
}

func buildRun(ctx context.Context, o *BuildOptions) error {
	root, err := treeRoot(o.Dir)
	if err != nil {
		return err
	}
	if filepath.Base(o.Site) != o.Site || o.Site == "." || o.Site == ".." {
		return usageError(fmt.Errorf("site %q: not a site name", o.Site))
	}
	dir := filepath.Join(root, "overlays", o.Site)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return usageError(fmt.Errorf("site %q: no overlay at %s%s", o.Site, filepath.Join(o.Dir, "overlays", o.Site), didYouMean(o.Site, overlayNames(root))))
	}
	report, err := pipeline.Build(ctx, root, o.Site)
	if err != nil {
		return err
	}
	if !report.OK() {
		printReport(o.IO.ErrOut, report)
		return silentFailure()
	}
	_, err = o.IO.Out.Write(report.Results[0].Objects)
	return err
}

// overlayNames lists the directories of root/overlays: the tree's sites.
func overlayNames(root string) []string {
	entries, err := os.ReadDir(filepath.Join(root, "overlays"))
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names
}
