package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/fleetgen/fleetgen/pkg/selector"
)

// selectorHelp documents -l/--selector once for every command that has it.
const selectorHelp = `select sites with a kubectl label selector over site fields (name, type, region, arch, group, wave, network) and labels, e.g. -l type=store, -l 'region in (eu-central,eu-west)', -l 'group=eu,arch!=amd64'; a key that is neither a field nor a label of some site is an error (exit 2)`

// addSelectorFlag adds -l/--selector to cmd, storing the text in sel.
func addSelectorFlag(cmd *cobra.Command, sel *string) {
	cmd.Flags().StringVarP(sel, "selector", "l", "", selectorHelp)
}

// parseSelector parses the -l flag; a bad selector is bad usage (exit 2).
func parseSelector(text string) (selector.Selector, error) {
	sel, err := selector.Parse(text)
	if err != nil {
		return selector.Selector{}, usageError(fmt.Errorf("-l: %w", err))
	}
	return sel, nil
}
