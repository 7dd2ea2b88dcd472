package cli

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/fleetgen/fleetgen/pkg/inventory"
	"github.com/fleetgen/fleetgen/pkg/selector"
	"github.com/fleetgen/fleetgen/pkg/verify"
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

// selectOverlays keeps the overlays of a tree on disk that text selects.
//
// With an inventory (fleet non-nil) a selector sees exactly what generate
// and sites see: the overlay of each selected site is kept. Without one, it
// sees each overlay's name (its directory), its arch (from the site's facts
// file), and the labels its kustomization sets (site labels, plus type and
// region from the fleetgen.dev/ labels of a generated overlay); group, wave
// and network are not recorded in a tree, so naming them without an
// inventory is bad usage rather than a selector that silently matches
// nothing. A key that is neither a site field nor a label is bad usage,
// as in every command. Selecting none is bad usage too: a gate must not
// pass by verifying nothing.
func selectOverlays(fsys filesys.FileSystem, root string, targets []verify.Target, text string, fleet *inventory.Fleet) ([]verify.Target, error) {
	sel, err := parseSelector(text)
	if err != nil || sel.Empty() {
		return targets, err
	}
	var out []verify.Target
	if fleet != nil {
		selected, err := selector.Select(fleet, sel)
		if err != nil {
			return nil, usageError(fmt.Errorf("-l: %w", err))
		}
		names := map[string]bool{}
		for _, s := range selected.Sites {
			names[s.Name] = true
		}
		for _, t := range targets {
			if names[t.Site] {
				out = append(out, t)
			}
		}
		if len(out) == 0 {
			return nil, usageError(fmt.Errorf("-l %s: no overlay matches (%d of the inventory's sites selected, none has an overlay among the tree's %d)", text, len(selected.Sites), len(targets)))
		}
		return out, nil
	}
	for _, k := range sel.Keys() {
		if slices.Contains(selector.Fields, k) && !slices.Contains(selector.OverlayFields, k) {
			return nil, usageError(fmt.Errorf("-l %s: a tree on disk does not record a site's %s; give the inventory with -i (e.g. -i inventory.yaml) to select by %s (without it verify sees %s and the overlay's labels)",
				text, k, k, strings.Join(selector.OverlayFields, ", ")))
		}
	}
	attrs := make([]selector.Attributes, len(targets))
	labelKeys := map[string]bool{}
	for i, t := range targets {
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
		attrs[i] = selector.ForOverlay(t.Site, data)
		if t.Facts != nil && t.Facts.Arch != "" {
			attrs[i].Fields["arch"] = t.Facts.Arch
		}
		for k := range attrs[i].Labels {
			labelKeys[k] = true
		}
	}
	keys := make([]string, 0, len(labelKeys))
	for k := range labelKeys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if err := sel.CheckKeys(keys); err != nil {
		return nil, usageError(fmt.Errorf("-l: %w", err))
	}
	for i, t := range targets {
		if sel.Matches(attrs[i]) {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil, usageError(fmt.Errorf("-l %s: no overlay matches (of %d)", text, len(targets)))
	}
	return out, nil
}
