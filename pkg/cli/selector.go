package cli

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/fleetgen/fleetgen/pkg/inventory"
	"github.com/fleetgen/fleetgen/pkg/selector"
	"github.com/fleetgen/fleetgen/pkg/verify"
)

// selectorHelp documents -l/--selector once for every command that has it.
const selectorHelp = `select sites with a kubectl label selector over site fields (name, type, region, arch, group, wave, network) and labels, e.g. -l type=store, -l 'region in (eu-central,eu-west)', -l '!gpu'`

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

// filterFleet returns the fleet with only the sites sel selects (the
// fleet itself for an empty selector).
func filterFleet(fleet *inventory.Fleet, sel selector.Selector) *inventory.Fleet {
	return selector.Filter(fleet, sel)
}

// selectOverlays keeps the overlays of a tree on disk that text selects.
// Without an inventory, a selector sees each overlay's name (its directory)
// and the labels its kustomization sets (site labels, plus type and region
// from the fleetgen.dev/ labels of a generated overlay). Selecting none is
// bad usage: a gate must not pass by verifying nothing.
func selectOverlays(fsys filesys.FileSystem, root string, targets []verify.Target, text string) ([]verify.Target, error) {
	sel, err := parseSelector(text)
	if err != nil || sel.Empty() {
		return targets, err
	}
	var out []verify.Target
	for _, t := range targets {
		dir := t.Dir
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(root, dir)
		}
		var data []byte
		for _, name := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
			if b, err := fsys.ReadFile(filepath.Join(dir, name)); err == nil {
				data = b
				break
			}
		}
		if sel.Matches(selector.ForOverlay(t.Site, data)) {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil, usageError(fmt.Errorf("-l %s: no overlay matches (of %d)", text, len(targets)))
	}
	return out, nil
}
