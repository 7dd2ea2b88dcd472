package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/fleetgen/fleetgen/pkg/pipeline"
	"github.com/fleetgen/fleetgen/pkg/report"
	"github.com/fleetgen/fleetgen/pkg/selector"
)

// VerifyOptions are the inputs of `fleetgen verify`.
type VerifyOptions struct {
	IO  IOStreams
	Dir string
	// Format is the report format: text (default) or json.
	Format report.Format
	// Selector limits verify to the overlays it selects (-l).
	Selector string
	// Input, when given, is the inventory the selector is matched against,
	// so that -l sees every site field (group, wave, network too).
	Input inventoryInput
	// Shard, when set, limits verify to one shard of the selected sites.
	Shard selector.Shard
	RunOptions
}

// NewCmdVerify builds `fleetgen verify`.
func NewCmdVerify(streams IOStreams, runF func(context.Context, *VerifyOptions) error) *cobra.Command {
	opts := &VerifyOptions{IO: streams}
	format := &formatFlag{}
	shard := &shardFlag{}
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

The GitOps wiring under clusters/ and argocd/ is checked too: every object
is validated, every site is wired once, and when DIR is in a git work tree
each Flux Kustomization's spec.path must lead from the repository's root to
its site's overlay (findings on standard error, naming site, file and path).

It works on any Kustomize fleet tree, generated or hand-written. Exit 0 when
every overlay passes and the wiring is right, 1 when any fails, 2 when DIR has no overlays or a
facts file is malformed.

-l selects overlays by the site fields the facts file records (arch, type,
region, group, wave, network), the overlay's name and the labels its
kustomization sets: the same sites sites -l selects on the inventory. A
hand-written overlay, or one generated before the facts file recorded
group, wave and network, has only name, type, region, arch and labels;
give the inventory with -i and -l selects exactly what generate and sites
select.

--shard I/N verifies only the I-th of N shards of the selected sites (by a
hash of the site name; a shard may be empty), and only shard 1 runs the
fleet-wide checks (GitOps wiring, file sizes). The JSON reports of the N
shards merge with 'fleetgen report merge' into the report of an unsharded
run; see docs/ci.md.

With --format json (or -o json) the report (kind VerifyReport, see
docs/report.md) goes to standard output and the text report to standard
error.`,
		Example: `  # Verify a generated fleet tree
  fleetgen verify fleet/

  # Use it as a CI gate
  fleetgen verify fleet/ || exit 1

  # Machine-readable report for CI annotations or dashboards
  fleetgen verify fleet/ --format json > report.json

  # Only the sites of the eu group
  fleetgen verify fleet/ -l group=eu

  # The same, matched against the inventory (also for hand-written overlays)
  fleetgen verify fleet/ -i inventory.yaml -l group=eu

  # The second of four CI jobs, then the merged report
  fleetgen verify fleet/ --shard 2/4 -o json > report-2.json
  fleetgen report merge report-*.json > report.json`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Dir = args[0]
			opts.Format = format.format()
			opts.Shard = shard.s
			if len(opts.Input.Files) > 0 || opts.Input.Sample {
				if err := opts.Input.validate(); err != nil {
					return usageError(err)
				}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return verifyRun(cmd.Context(), opts)
		},
	}
	addFormatFlags(cmd, format, true)
	addSelectorFlag(cmd, &opts.Selector)
	addShardFlag(cmd, shard)
	opts.Input.addFlags(cmd)
	cmd.Flags().Lookup("inventory").Usage = "inventory the tree was generated from, for -l over every site field (- for standard input); repeat to merge files in order"
	addRunFlags(cmd, &opts.RunOptions)
	return cmd
}

func verifyRun(ctx context.Context, o *VerifyOptions) error {
	root, err := treeRoot(o.Dir)
	if err != nil {
		return err
	}
	vopts := pipeline.VerifyOptions{Root: root, Dir: o.Dir, Selector: o.Selector, Shard: o.Shard}
	if len(o.Input.Files) > 0 || o.Input.Sample {
		if vopts.Fleet, err = o.Input.fleet(o.IO); err != nil {
			return err
		}
	}
	var endProgress func()
	vopts.Tuning, endProgress = o.tuning(o.IO.ErrOut)
	res, err := pipeline.Verify(ctx, vopts)
	endProgress()
	if err != nil {
		return err
	}
	r := report.FromVerify(res.Report)
	if o.Shard.Count > 0 {
		r.Shard = &report.Shard{Index: o.Shard.Index, Count: o.Shard.Count, Fleet: res.Selection,
			FleetChecks: o.Shard.FleetWide(), FleetProblems: len(res.Wiring) + len(res.Sizes)}
	}
	if err := writeReportOf(o.IO, o.Format, r); err != nil {
		return err
	}
	for _, f := range res.Wiring {
		fmt.Fprintf(o.IO.ErrOut, "%s: %v\n", o.Dir, f)
	}
	for _, e := range res.Sizes {
		fmt.Fprintf(o.IO.ErrOut, "FAIL %v\n", e)
	}
	if !res.OK() {
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
