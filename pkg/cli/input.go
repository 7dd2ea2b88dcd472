package cli

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/fleetgen/fleetgen/pkg/pipeline"
	"github.com/fleetgen/fleetgen/pkg/report"
	"github.com/fleetgen/fleetgen/pkg/selector"
	"github.com/fleetgen/fleetgen/pkg/tree"
	"github.com/fleetgen/fleetgen/templates"
)

// InputOptions are the flags that say what to render, shared by generate,
// check and diff.
type InputOptions struct {
	// Inventories are merged in order: YAML first, then YAML or CSV files.
	Inventories []string
	Sample      bool
	Templates   string
	Selector    string
	// Shard, set by check's --shard, keeps one shard of the selected sites.
	Shard selector.Shard
}

// addInputFlags registers -i, --sample, --templates and -l on cmd.
func addInputFlags(cmd *cobra.Command, in *InputOptions) {
	f := cmd.Flags()
	f.StringArrayVarP(&in.Inventories, "inventory", "i", nil,
		"inventory file (- for standard input); repeat to merge files in order, e.g. -i fleet.yaml -i sites.csv")
	f.BoolVar(&in.Sample, "sample", false, "use the embedded sample inventory instead of -i")
	f.StringVar(&in.Templates, "templates", "", "template set directory (default: the embedded set)")
	addSelectorFlag(cmd, &in.Selector)
}

func (in *InputOptions) validate() error {
	switch {
	case in.Sample && len(in.Inventories) > 0:
		return errors.New("--sample and -i are mutually exclusive")
	case !in.Sample && len(in.Inventories) == 0:
		return errors.New("no inventory: give -i FILE (- for standard input) or --sample")
	}
	return nil
}

// pipelineOptions turns the input flags into pipeline options.
func (in *InputOptions) pipelineOptions(io IOStreams) (pipeline.Options, error) {
	var opts pipeline.Options
	if in.Sample {
		opts.Inventory = "sample-inventory.yaml"
		opts.InventoryData = templates.SampleInventory()
	} else {
		opts.Inventories = in.Inventories
		opts.Stdin = io.In
	}
	sel, err := parseSelector(in.Selector)
	if err != nil {
		return opts, err
	}
	opts.Selector = sel
	opts.Shard = in.Shard
	if in.Templates != "" {
		st, err := os.Stat(in.Templates)
		if err != nil {
			return opts, usageError(fmt.Errorf("--templates: %w", err))
		}
		if !st.IsDir() {
			return opts, usageError(fmt.Errorf("--templates %s: not a directory", in.Templates))
		}
		opts.Templates = os.DirFS(in.Templates)
	}
	return opts, nil
}

// planScope limits a plan to the selected sites: with -l, other sites' files
// are neither written, deleted nor reported as drift. nil (no limit) without
// a selector.
func planScope(selector string, res *pipeline.Result) func(string) bool {
	if selector == "" {
		return nil
	}
	return res.Selects
}

// makePlan plans res's tree with popts, limited to the selected sites
// with a selector, and to res.Scope when the run learnt from a seal which
// sites alone can differ from the last clean plan.
func makePlan(output, selector string, res *pipeline.Result, popts tree.PlanOptions) (*tree.Plan, error) {
	popts.Only = planScope(selector, res)
	if res.SelectionDigest != "" {
		popts.Only = res.Selects // the shard's sites
	}
	if scope, only := res.Scope, popts.Only; scope != nil {
		popts.Only = func(site string) bool { return scope[site] && (only == nil || only(site)) }
	}
	popts.Stats, popts.Snapshot = res.Stats, res.Snapshot
	return tree.MakePlan(output, res.PlanTree(), popts)
}

// runPipeline renders and verifies for generate and check: the input flags,
// the output directory, the performance flags and the progress line. The
// run is incremental (see pipeline.Options.Incremental) unless --no-cache
// is given. When the pipeline could skip the render (its inputs are those
// of the last run), runPipeline also plans the tree with popts and returns
// the plan if the tree is in sync; otherwise it renders after all, so that
// the changes can be written or shown, and returns a nil plan for the
// caller to make. With the json format it writes the JSON report to
// streams.Out and then points streams.Out at standard error, so that
// everything printed after it is human text on stderr.
func runPipeline(ctx context.Context, streams *IOStreams, in *InputOptions, perf *RunOptions, output string, format report.Format, popts tree.PlanOptions) (*pipeline.Result, *tree.Plan, error) {
	opts, err := in.pipelineOptions(*streams)
	if err != nil {
		return nil, nil, err
	}
	opts.Output = output
	opts.Workers = perf.Workers
	opts.Cache, opts.CacheSalt = perf.cache(streams.ErrOut)
	opts.Incremental = true
	opts.DropObjects = true // generate and check need the verdicts only
	opts.Seal = true        // take what the seal of the last clean check vouches for
	if in.Shard.Count > 0 {
		// A shard's run is always rendered in full and never sealed: its
		// report and its drift cover its sites only.
		opts.Seal, opts.NoShortcut = false, true
	}
	var endProgress func()
	opts.Progress, endProgress = perf.progress(streams.ErrOut, "verifying")
	res, err := pipeline.Run(ctx, opts)
	if err != nil {
		endProgress()
		return nil, nil, err
	}
	res.StartSave() // overlaps with planning and writing
	// A tree with files known only by their hash is planned now: when the
	// plan needs the content of one of them (to write or show it), the run
	// renders in full. A shortcut run (no inventory loaded) is also run
	// again when anything is to change.
	var plan *tree.Plan
	switch {
	case res.Sealed:
		// Nothing the last clean check looked at changed: in sync.
		plan = &tree.Plan{Root: output}
	case res.Partial || res.HashOnly:
		if plan, err = makePlan(output, in.Selector, res, popts); err != nil || (res.Partial && !plan.InSync()) {
			plan = nil
			opts.NoShortcut = true
			_ = res.SaveIndex() // finish the store started above before the next run's
			if res, err = pipeline.Run(ctx, opts); err == nil {
				res.StartSave()
			}
		}
	}
	endProgress()
	if err != nil {
		return nil, nil, err
	}
	if format == report.JSON && in.Shard.Count == 0 {
		// A shard's report (check --shard) is written by the caller,
		// which knows the shard's drift.
		if err := report.FromVerify(res.Report).Write(streams.Out, report.JSON); err != nil {
			_ = res.SaveIndex()
			return nil, nil, err
		}
		streams.Out = streams.ErrOut
	}
	return res, plan, nil
}
