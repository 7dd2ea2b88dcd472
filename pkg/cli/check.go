package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/fleetgen/fleetgen/pkg/pipeline"
	"github.com/fleetgen/fleetgen/pkg/report"
)

// CheckOptions are the inputs of `fleetgen check`.
type CheckOptions struct {
	IO IOStreams

	InputOptions
	RunOptions
	Output string
	Diff   bool
	// Format is the verification report format: text (default) or json,
	// which goes to standard output with everything else on standard error.
	Format report.Format
	// InHook is set when check runs as a pre-commit hook, which sees the
	// staged files only: its advice then says what to stage.
	InHook bool
}

// NewCmdCheck builds `fleetgen check`, the CI and pre-commit gate.
func NewCmdCheck(streams IOStreams, runF func(context.Context, *CheckOptions) error) *cobra.Command {
	opts := &CheckOptions{IO: streams}
	var format formatFlag
	var shard shardFlag
	cmd := &cobra.Command{
		Use:   "check -i INVENTORY -o DIR",
		Short: "Fail when DIR is not exactly what generate would write, or an overlay fails verification",
		Long: `check is the CI and pre-commit gate. It renders the tree from the inventory,
compares it with DIR and builds every overlay as generate would, and never
writes anything.

Exit 0 when DIR is exactly what generate would produce and every site
verifies; 1 listing drift (stale, missing, hand-edited or extra generated
files) and failing sites, with what to do about it; 2 for bad input.

A hand-edited generated file is not fixed by regenerating: check says where
the change belongs (the site's overlays/<site>/local/ Component, or the
inventory) and that generate --force then restores the generated file.
Run by pre-commit (PRE_COMMIT=1 in the environment), which checks the
staged files only, check also says what to stage (the tree, or its
.fleetgen/ ledger) when generate has already written it. See
docs/pre-commit.md.

--shard I/N checks only the I-th of N shards of the selected sites (by a
hash of the site name): their files and their verification. Shard 1 also
checks the fleet-level files (base/, components/, the ledger) and GitOps
wiring. Each shard renders the whole fleet. The JSON reports of the N
shards merge with 'fleetgen report merge' into the report of an unsharded
check, and count the drift each shard found so that the merge fails when
any shard drifted; see docs/ci.md.`,
		Example: `  # In CI, after the inventory or templates changed
  fleetgen check -i inventory.yaml -o fleet/

  # Show what differs
  fleetgen check -i inventory.yaml -o fleet/ --diff

  # Machine-readable verification report for CI (drift stays on stderr)
  fleetgen check -i inventory.yaml -o fleet/ --format json > report.json

  # The first of three CI jobs
  fleetgen check -i inventory.yaml -o fleet/ --shard 1/3 --format json > report-1.json`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Format = format.format()
			opts.InHook = inPreCommit()
			opts.Shard = shard.s
			if err := opts.validate(); err != nil {
				return usageError(err)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return checkRun(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	addInputFlags(cmd, &opts.InputOptions)
	addRunFlags(cmd, &opts.RunOptions)
	f.StringVarP(&opts.Output, "output", "o", "", "the fleet tree to check")
	f.BoolVar(&opts.Diff, "diff", false, "print a unified diff of each drifted file")
	addFormatFlags(cmd, &format, false)
	cmd.Flags().Var(&shard, "shard", "check only shard I of N (1-based: 1/3 is the first of three) of the sites -l selects, split by a hash of the site name; shard 1 also checks the fleet-level files and wiring. Merge their JSON reports with 'fleetgen report merge' (see docs/ci.md)")
	return cmd
}

func (o *CheckOptions) validate() error {
	if err := o.InputOptions.validate(); err != nil {
		return err
	}
	switch {
	case o.Output == "":
		return errors.New("no tree: give -o DIR")
	}
	return nil
}

// driftLabel names each kind of drift the way check reports it.
func driftLabel(c pipeline.Change) string {
	switch c.Action {
	case pipeline.Create:
		return "missing"
	case pipeline.Update:
		return "stale"
	case pipeline.Delete:
		return "extra"
	case pipeline.Conflict:
		return "edited"
	}
	return c.Action.String()
}

func checkRun(ctx context.Context, o *CheckOptions) error {
	sharded := o.Shard.Count > 0
	tuning, endProgress := o.tuning(o.IO.ErrOut)
	copts := pipeline.CheckOptions{Input: o.input(o.IO), Tuning: tuning, Output: o.Output}
	if !sharded {
		// A shard's report is written below: it counts the shard's drift.
		copts.OnReport = jsonFirst(&o.IO, o.Format, endProgress)
	}
	res, err := pipeline.Check(ctx, copts)
	endProgress()
	if err != nil {
		return err
	}
	if sharded && o.Format == report.JSON {
		r := report.FromVerify(res.Report)
		problems := len(res.Drift)
		if res.StaleLedger {
			problems++
		}
		r.Shard = &report.Shard{Index: o.Shard.Index, Count: o.Shard.Count, Fleet: res.SelectionDigest,
			FleetChecks: o.Shard.FleetWide(), FleetProblems: problems}
		if err := r.Write(o.IO.Out, report.JSON); err != nil {
			return err
		}
		o.IO.Out = o.IO.ErrOut
	}
	plan := res.Plan
	for _, note := range plan.Notes {
		if !o.Quiet {
			fmt.Fprintf(o.IO.ErrOut, "note: %s\n", note)
		}
	}
	for _, g := range plan.BySite() {
		if sharded && !o.Shard.FleetWide() && g.Site == "" {
			continue
		}
		fmt.Fprintf(o.IO.ErrOut, "%s:\n", siteLabel(g.Site))
		for _, c := range g.Changes {
			fmt.Fprintf(o.IO.ErrOut, "  %-8s %s\n", driftLabel(c), c.Path)
			if o.Diff {
				fmt.Fprint(o.IO.ErrOut, indent(pipeline.UnifiedDiff(c.Path, c.Old, c.New), "    "))
			}
		}
	}
	if !res.Report.OK() {
		printReport(o.IO.ErrOut, res.Report)
	}
	findings, err := res.WiringFindings()
	if err != nil {
		return err
	}
	for _, f := range findings {
		fmt.Fprintf(o.IO.ErrOut, "%s: %v\n", o.Output, f)
	}
	if res.StaleLedger {
		printLedgerAdvice(o.IO.ErrOut, o.Output, o.InHook)
	}
	if !res.OK() {
		printDriftAdvice(o.IO.ErrOut, o.Output, res.Drift, o.InHook)
		return silentFailure()
	}
	fmt.Fprintf(o.IO.Out, "%s: in sync, %s\n", o.Output, res.Report.Summary())
	return nil
}
