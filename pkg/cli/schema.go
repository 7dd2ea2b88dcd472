package cli

import (
	"github.com/spf13/cobra"

	"github.com/fleetgen/fleetgen/pkg/jsonschema"
)

// NewCmdSchema builds `fleetgen schema`.
func NewCmdSchema(streams IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of the inventory, for editor completion and checks",
		Long: `schema prints the JSON Schema (draft 2020-12) of the inventory document,
generated from fleetgen's own types. Point your editor at it for completion
and inline checks; fleetgen's loader remains the authority.

With the YAML language server (VS Code, Neovim, ...), save the schema next to
the inventory and put this line at the top of inventory.yaml:

  # yaml-language-server: $schema=inventory.schema.json`,
		Example: `  # Save the schema next to the inventory
  fleetgen schema > inventory.schema.json`,
		Args: exactArgs(0),
		RunE: func(*cobra.Command, []string) error {
			data, err := jsonschema.JSON()
			if err != nil {
				return err
			}
			_, err = streams.Out.Write(data)
			return err
		},
	}
}
