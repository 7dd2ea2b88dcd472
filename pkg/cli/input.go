package cli

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/fleetgen/fleetgen/pkg/pipeline"
	"github.com/fleetgen/fleetgen/pkg/report"
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

// runPipeline renders and verifies for generate and check: the input flags,
// the output directory, the performance flags and the progress line. With
// the json format it writes the JSON report to streams.Out and then points
// streams.Out at standard error, so that everything printed after it is
// human text on stderr.
func runPipeline(ctx context.Context, streams *IOStreams, in *InputOptions, perf *RunOptions, output string, format report.Format) (*pipeline.Result, error) {
	popts, err := in.pipelineOptions(*streams)
	if err != nil {
		return nil, err
	}
	popts.Output = output
	popts.Workers = perf.Workers
	popts.Cache, popts.CacheSalt = perf.cache()
	popts.DropObjects = true // generate and check need the verdicts only
	var endProgress func()
	popts.Progress, endProgress = perf.progress(streams.ErrOut, "verifying")
	res, err := pipeline.Run(ctx, popts)
	endProgress()
	if err != nil {
		return nil, err
	}
	if format == report.JSON {
		if err := report.FromVerify(res.Report).Write(streams.Out, report.JSON); err != nil {
			return nil, err
		}
		streams.Out = streams.ErrOut
	}
	return res, nil
}
