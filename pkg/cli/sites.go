package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/fleetgen/fleetgen/pkg/inventory"
	"github.com/fleetgen/fleetgen/pkg/selector"
)

// siteFormats are the values of sites -o.
var siteFormats = []string{"table", "wide", "json", "yaml", "name"}

// SitesOptions are the inputs of `fleetgen sites`.
type SitesOptions struct {
	IO       IOStreams
	Input    inventoryInput
	Selector string
	Output   string
}

// NewCmdSites builds `fleetgen sites`.
func NewCmdSites(streams IOStreams, runF func(*SitesOptions) error) *cobra.Command {
	opts := &SitesOptions{IO: streams}
	var format string
	cmd := &cobra.Command{
		Use:   "sites -i INVENTORY [-l SELECTOR] [-o table|wide|json|yaml|name]",
		Short: "List the inventory's sites with their merged type, region, arch, wave and groups",
		Long: `sites lists every site of the inventory after merging defaults, groups and
the site's own fields, sorted by name, like kubectl get.

-l selects sites with a kubectl label selector over the site fields name,
type, region, arch, group (matches when any of the site's groups does), wave
and network, and the site's labels. -o json and -o yaml print every merged
field of each selected site; -o name prints one site name a line, for
scripts. --format is the same flag as -o.

A selector key that is neither a site field nor the key of a label some
site has is an error (exit 2) with the closest known key, as in every
command; a valid selector that matches no site prints nothing (exit 0).`,
		Example: `  # Every site
  fleetgen sites -i inventory.yaml

  # The stores of two regions, with network, components and labels
  fleetgen sites -i inventory.yaml -l 'type=store,region in (eu-central,eu-west)' -o wide

  # Sites in the eu group that are not on arm64
  fleetgen sites -i inventory.yaml -l 'group=eu,arch!=arm64'

  # One name a line, e.g. to build each selected site
  fleetgen sites -i inventory.yaml -l wave=0 -o name | xargs -n1 fleetgen build fleet/

  # Merge sites kept in a spreadsheet export into the YAML defaults and groups
  fleetgen sites -i inventory.yaml -i sites.csv -o json`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.Input.validate(); err != nil {
				return usageError(err)
			}
			if f := cmd.Flags(); f.Changed("format") {
				if f.Changed("output") && opts.Output != format {
					return usageError(fmt.Errorf("--format %q conflicts with -o %q: they set the same output format", format, opts.Output))
				}
				opts.Output = format
			}
			if !slices.Contains(siteFormats, opts.Output) {
				return usageError(fmt.Errorf("-o %q: unknown output format; one of %s", opts.Output, strings.Join(siteFormats, ", ")))
			}
			if runF != nil {
				return runF(opts)
			}
			return sitesRun(opts)
		},
	}
	opts.Input.addFlags(cmd)
	addSelectorFlag(cmd, &opts.Selector)
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "table", "output format: "+strings.Join(siteFormats, ", "))
	cmd.Flags().StringVar(&format, "format", "", "same as -o")
	_ = cmd.RegisterFlagCompletionFunc("output", fixedCompletion(siteFormats))
	_ = cmd.RegisterFlagCompletionFunc("format", fixedCompletion(siteFormats))
	return cmd
}

func sitesRun(o *SitesOptions) error {
	sel, err := parseSelector(o.Selector)
	if err != nil {
		return err
	}
	fleet, err := o.Input.fleet(o.IO)
	if err != nil {
		return err
	}
	if fleet, err = selector.Select(fleet, sel); err != nil {
		return usageError(fmt.Errorf("-l: %w", err))
	}
	sites := fleet.Sites
	switch o.Output {
	case "name":
		for _, s := range sites {
			fmt.Fprintln(o.IO.Out, s.Name)
		}
	case "json", "yaml":
		data, err := json.MarshalIndent(sites, "", "  ")
		if err != nil {
			return err
		}
		if o.Output == "yaml" {
			return writeYAMLInOrder(o.IO.Out, data)
		}
		fmt.Fprintf(o.IO.Out, "%s\n", data)
	default:
		if len(sites) == 0 {
			fmt.Fprintln(o.IO.ErrOut, "No sites match the selector.")
			return nil
		}
		printSitesTable(o.IO.Out, sites, o.Output == "wide")
	}
	return nil
}

// printSitesTable prints sites as kubectl get does: uppercase headers,
// columns aligned, <none> for an empty list.
func printSitesTable(w io.Writer, sites []inventory.Site, wide bool) {
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	header := []string{"NAME", "TYPE", "REGION", "ARCH", "WAVE", "GROUPS"}
	if wide {
		header = append(header, "NETWORK", "COMPONENTS", "LABELS")
	}
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, s := range sites {
		row := []string{s.Name, s.Type, s.Region, s.Arch, strconv.Itoa(s.Wave), orNone(strings.Join(s.Groups, ","))}
		if wide {
			row = append(row, orNone(s.Network), orNone(strings.Join(s.Components, ",")), orNone(labelString(s.Labels)))
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	tw.Flush()
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

func labelString(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, ",")
}

// writeYAMLInOrder writes JSON data as block-style YAML, keeping the order
// of object keys (the field order of the Go types).
func writeYAMLInOrder(w io.Writer, data []byte) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return err
	}
	var block func(n *yaml.Node)
	block = func(n *yaml.Node) {
		n.Style &^= yaml.FlowStyle
		if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
			n.Style &^= yaml.DoubleQuotedStyle
		}
		for _, c := range n.Content {
			block(c)
		}
	}
	block(&doc)
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return err
	}
	return enc.Close()
}
