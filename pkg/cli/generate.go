package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/fleetgen/fleetgen/pkg/pipeline"
	"github.com/fleetgen/fleetgen/pkg/report"
)

// GenerateOptions are the inputs of `fleetgen generate`.
type GenerateOptions struct {
	IO IOStreams

	InputOptions
	RunOptions
	Output string
	Force  bool
	DryRun bool
	Diff   bool
	// Format is the verification report format: text (default) or json.
	// With json the report goes to standard output and everything else to
	// standard error.
	Format report.Format
}

// NewCmdGenerate builds `fleetgen generate`. runF replaces the run function in tests.
func NewCmdGenerate(streams IOStreams, runF func(context.Context, *GenerateOptions) error) *cobra.Command {
	opts := &GenerateOptions{IO: streams}
	format := &formatFlag{}
	cmd := &cobra.Command{
		Use:   "generate -i INVENTORY -o DIR",
		Short: "Render the fleet tree from an inventory, verify every overlay, then write it",
		Long: `generate renders base/, components/ and overlays/<site>/ from the inventory and
the template set, builds every site's overlay with the kustomize API, and only
when every site passes writes the tree to DIR.

Bad input (inventory or templates) exits 2, a failing overlay exits 1; in
both cases nothing is written and DIR is not created. Files are written
atomically; unchanged files are left alone.

--plan (alias --dry-run) prints the change set grouped by site and writes
nothing. -o is the tree directory; the report format is --format (see
"Report format flags" in docs/report.md).

DIR may not lie inside another fleet tree (a parent directory holding
.fleetgen/): that is refused with exit 2, so that running from inside the
tree fleet/ with -o fleet does not write fleet/fleet. To regenerate the
tree you are in, use -o . (check and diff refuse the same way).`,
		Example: `  # Generate the fleet tree from inventory.yaml into fleet/
  fleetgen generate -i inventory.yaml -o fleet/

  # Read the inventory from standard input
  cat inventory.yaml | fleetgen generate -i - -o fleet/

  # Use your own template set (same layout as the embedded one)
  fleetgen generate -i inventory.yaml -o fleet/ --templates my-templates/

  # Show what would be created, updated or deleted, site by site; write nothing
  fleetgen generate -i inventory.yaml -o fleet/ --plan

  # The same with a unified diff of each changed file
  fleetgen generate -i inventory.yaml -o fleet/ --plan --diff

  # Also print the verification report as JSON (text goes to standard error)
  fleetgen generate -i inventory.yaml -o fleet/ --format json > report.json

  # Generate a demo fleet from the embedded sample inventory
  fleetgen generate --sample -o demo-fleet/`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Format = format.format()
			if err := opts.validate(); err != nil {
				return usageError(err)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return generateRun(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	addInputFlags(cmd, &opts.InputOptions)
	addRunFlags(cmd, &opts.RunOptions)
	f.StringVarP(&opts.Output, "output", "o", "", "output directory (the fleet tree)")
	f.BoolVar(&opts.Force, "force", false, "overwrite or delete generated files that were edited by hand")
	f.BoolVar(&opts.DryRun, "plan", false, "print the change set grouped by site (files to create, update, delete, and conflicts); write nothing")
	f.BoolVar(&opts.DryRun, "dry-run", false, "same as --plan")
	f.BoolVar(&opts.Diff, "diff", false, "with --plan, print a unified diff of each changed file")
	addFormatFlags(cmd, format, false)
	return cmd
}

func (o *GenerateOptions) validate() error {
	if err := o.InputOptions.validate(); err != nil {
		return err
	}
	switch {
	case o.Output == "":
		return errors.New("no output directory: give -o DIR")
	case o.Diff && !o.DryRun:
		return errors.New("--diff needs --plan (or its alias --dry-run)")
	}
	return nil
}

func generateRun(ctx context.Context, o *GenerateOptions) error {
	tuning, endProgress := o.tuning(o.IO.ErrOut)
	res, err := pipeline.Generate(ctx, pipeline.GenerateOptions{
		Input: o.input(o.IO), Tuning: tuning, Output: o.Output, Force: o.Force, DryRun: o.DryRun,
		OnReport: jsonFirst(&o.IO, o.Format, endProgress),
	})
	endProgress()
	if res == nil {
		return err
	}
	// With res, err is a failure to lock, plan or write: what was known
	// before it is printed first.
	if !res.Report.OK() {
		printReport(o.IO.ErrOut, res.Report)
		fmt.Fprintf(o.IO.ErrOut, "nothing written to %s\n", o.Output)
		return silentFailure()
	}
	if !o.Quiet {
		printNotes(o.IO.ErrOut, res.Report)
	}
	plan := res.Plan
	if plan == nil {
		return err
	}
	for _, note := range plan.Notes {
		if !o.Quiet {
			fmt.Fprintf(o.IO.ErrOut, "note: %s\n", note)
		}
	}
	if err != nil {
		return err
	}
	if o.DryRun {
		printPlan(o.IO.Out, plan, o.Diff)
		if !o.Quiet {
			printRetiredNotes(o.IO.ErrOut, o.Output, res.Retired, false)
		}
		return nil
	}
	if conflicts := plan.Conflicts(); len(conflicts) > 0 {
		printConflicts(o.IO.ErrOut, plan)
		fmt.Fprintf(o.IO.ErrOut, "nothing written to %s: %d conflicting file(s) edited by hand.\n", o.Output, len(conflicts))
		printEditAdvice(o.IO.ErrOut, o.Output, conflicts)
		return silentFailure()
	}
	printApplied(o.IO.Out, o.Output, len(res.Report.Results), plan)
	if !o.Quiet {
		printRetiredNotes(o.IO.ErrOut, o.Output, res.Retired, true)
	}
	return nil
}
