package cli

import (
	"bytes"
	"errors"

	"github.com/spf13/cobra"

	"github.com/fleetgen/fleetgen/pkg/inventory"
	"github.com/fleetgen/fleetgen/pkg/pipeline"
)

// inventoryInput is the -i (repeatable) and --sample input of the
// read-only commands (sites, explain).
type inventoryInput struct {
	Files  []string
	Sample bool
}

func (in *inventoryInput) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringArrayVarP(&in.Files, "inventory", "i", nil, "inventory file (- for standard input); repeat to merge files in order: a YAML file first, then YAML or CSV files adding groups and sites")
	f.BoolVar(&in.Sample, "sample", false, "use the embedded sample inventory instead of -i")
}

func (in *inventoryInput) validate() error {
	switch {
	case in.Sample && len(in.Files) > 0:
		return errors.New("--sample and -i are mutually exclusive")
	case !in.Sample && len(in.Files) == 0:
		return errors.New("no inventory: give -i FILE (- for standard input) or --sample")
	}
	return nil
}

// fleet loads and resolves the inventory. Every error is bad input (exit 2).
func (in *inventoryInput) fleet(streams IOStreams) (*inventory.Fleet, error) {
	var inv *inventory.Inventory
	var err error
	if in.Sample {
		inv, err = inventory.Load("sample-inventory.yaml", bytes.NewReader(pipeline.SampleInventory()))
	} else {
		inv, err = inventory.LoadFiles(in.Files, streams.In)
	}
	if err != nil {
		return nil, usageError(err)
	}
	fleet, err := inv.Resolve(inventory.ResolveOptions{})
	if err != nil {
		return nil, usageError(err)
	}
	return fleet, nil
}
