package cli

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/fleetgen/fleetgen/pkg/pipeline"
	"github.com/fleetgen/fleetgen/pkg/report"
	"github.com/fleetgen/fleetgen/pkg/selector"
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

// input turns the input flags into the pipeline's input.
func (in *InputOptions) input(streams IOStreams) pipeline.Input {
	return pipeline.Input{
		Inventories:  in.Inventories,
		Sample:       in.Sample,
		Stdin:        streams.In,
		TemplatesDir: in.Templates,
		Selector:     in.Selector,
		Shard:        in.Shard,
	}
}

// jsonFirst returns the pipeline's OnReport callback of generate and
// check: with the json format it ends the progress line, writes the JSON
// report to streams.Out and then points streams.Out at standard error, so
// that everything printed after it is human text on stderr. nil for the
// text format.
func jsonFirst(streams *IOStreams, format report.Format, endProgress func()) func(*pipeline.Report) error {
	if format != report.JSON {
		return nil
	}
	return func(r *pipeline.Report) error {
		endProgress()
		if err := report.FromVerify(r).Write(streams.Out, report.JSON); err != nil {
			return err
		}
		streams.Out = streams.ErrOut
		return nil
	}
}
