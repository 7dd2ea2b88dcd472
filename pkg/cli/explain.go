package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/fleetgen/fleetgen/pkg/inventory"
	"github.com/fleetgen/fleetgen/pkg/pipeline"
)

// ExplainOptions are the inputs of `fleetgen explain`.
type ExplainOptions struct {
	IO    IOStreams
	Input inventoryInput
	Site  string
	Key   string
}

// NewCmdExplain builds `fleetgen explain`.
func NewCmdExplain(streams IOStreams, runF func(*ExplainOptions) error) *cobra.Command {
	opts := &ExplainOptions{IO: streams}
	cmd := &cobra.Command{
		Use:   "explain -i INVENTORY SITE [KEY]",
		Short: "Show every merged value of a site and the layer and file:line it came from",
		Long: `explain prints each merged value of SITE with the layer that set it (defaults,
group/<name> or site) and where it is written (file:line:column). Values no
layer sets but that have a built-in default (wave, network) show the layer
(default). The K3s values fleetgen derives for the site's bootstrap bundle
(k3s.resolved: datastore, packaged components disabled by capacity, node
labels, kubelet reserve, registry mirrors) show the layer (derived) and the
rule behind them (docs/k3s.md).

KEY limits the output to one value (config.LOG_LEVEL, arch) or to every value
under a prefix (config, labels, capacity, groups).`,
		Example: `  # Where does each of store-berlin-001's values come from?
  fleetgen explain -i inventory.yaml store-berlin-001

  # Why is LOG_LEVEL debug at this site?
  fleetgen explain -i inventory.yaml store-denver-007 config.LOG_LEVEL

  # Every config value with its origin
  fleetgen explain -i inventory.yaml store-denver-007 config`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 || len(args) > 2 {
				return usageError(fmt.Errorf("accepts SITE and an optional KEY, received %d argument(s)\nSee '%s --help'", len(args), cmd.CommandPath()))
			}
			return nil
		},
		ValidArgsFunction: func(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
			if len(args) > 1 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			// Completion parses the flags twice, so repeatable flags
			// arrive doubled.
			opts.Input.Files = undouble(opts.Input.Files)
			if err := opts.Input.validate(); err != nil {
				cobra.CompDebugln(err.Error(), true)
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			fleet, err := opts.Input.fleet(IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard})
			if err != nil {
				cobra.CompDebugln(err.Error(), true)
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			if len(args) == 0 {
				names := make([]cobra.Completion, len(fleet.Sites))
				for i, s := range fleet.Sites {
					names[i] = s.Name
				}
				return names, cobra.ShellCompDirectiveNoFileComp
			}
			for i := range fleet.Sites {
				if fleet.Sites[i].Name == args[0] {
					rows, err := explainRows(&fleet.Sites[i])
					if err != nil {
						break
					}
					keys := make([]cobra.Completion, len(rows))
					for j, r := range rows {
						keys[j] = r.key
					}
					return keys, cobra.ShellCompDirectiveNoFileComp
				}
			}
			return nil, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.Input.validate(); err != nil {
				return usageError(err)
			}
			opts.Site = args[0]
			if len(args) == 2 {
				opts.Key = args[1]
			}
			if runF != nil {
				return runF(opts)
			}
			return explainRun(opts)
		},
	}
	opts.Input.addFlags(cmd)
	return cmd
}

func explainRun(o *ExplainOptions) error {
	fleet, err := o.Input.fleet(o.IO)
	if err != nil {
		return err
	}
	var site *inventory.Site
	names := make([]string, len(fleet.Sites))
	for i := range fleet.Sites {
		names[i] = fleet.Sites[i].Name
		if fleet.Sites[i].Name == o.Site {
			site = &fleet.Sites[i]
		}
	}
	if site == nil {
		return usageError(fmt.Errorf("unknown site %q%s", o.Site, didYouMean(o.Site, names)))
	}
	if err := pipeline.CompleteK3s(fleet, nil); err != nil {
		return err
	}
	rows, err := explainRows(site)
	if err != nil {
		return err
	}
	if o.Key != "" {
		var keep []explainRow
		var keys []string
		for _, r := range rows {
			keys = append(keys, r.key)
			if r.key == o.Key || strings.HasPrefix(r.key, o.Key+".") || strings.HasPrefix(r.key, o.Key+"[") {
				keep = append(keep, r)
			}
		}
		if len(keep) == 0 {
			return usageError(fmt.Errorf("site %q has no value %q%s; see 'fleetgen explain -i ... %s' for every key", o.Site, o.Key, didYouMean(o.Key, withPrefixes(keys)), o.Site))
		}
		rows = keep
	}
	fmt.Fprintf(o.IO.Out, "Site %s of fleet %s\n\n", site.Name, fleet.Name)
	tw := tabwriter.NewWriter(o.IO.Out, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, "KEY\tVALUE\tLAYER\tSOURCE")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s%s\t%s\t%s\n", r.key, displayValue(r.value), r.typ, r.layer, r.source)
	}
	return tw.Flush()
}

// explainRow is one merged value and its origin.
type explainRow struct {
	key, value, layer, source string
	// typ is " (TYPE)" for chart values, read as Helm reads them.
	typ string
}

// explainRows flattens the merged site into keys as Site.Origins names
// them ("type", "capacity.cpu", "config.LOG_LEVEL", "groups[0]"), in the
// order of the site's fields, each with its origin. Values no layer set
// and that are empty are left out; those with a built-in default show the
// layer "(default)".
func explainRows(s *inventory.Site) ([]explainRow, error) {
	data, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	var rows []explainRow
	var walk func(n *yaml.Node, key string)
	walk = func(n *yaml.Node, key string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, key)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i].Value
				if key != "" {
					k = key + "." + k
				}
				walk(n.Content[i+1], k)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, fmt.Sprintf("%s[%d]", key, i))
			}
		case yaml.ScalarNode:
			value := n.Value
			if n.Tag == "!!null" {
				value = ""
			}
			r := explainRow{key: key, value: value, typ: chartValueType(key, n)}
			if n.Tag == "!!null" && r.typ != "" {
				r.value = "null"
			}
			if o, ok := s.Origins[key]; ok {
				r.layer = o.Layer
				r.source = originString(o)
			} else if why := k3sReason(s, key); why != "" {
				r.layer, r.source = "(derived)", why
			} else {
				if value == "" {
					return
				}
				r.layer, r.source = "(default)", "-"
			}
			rows = append(rows, r)
		}
	}
	walk(&doc, "")
	return rows, nil
}

// chartValueType is " (TYPE)" for a chart value (charts.R.values...), so
// that 3 and "3" tell apart, and "" for any other key.
func chartValueType(key string, n *yaml.Node) string {
	if !strings.HasPrefix(key, "charts.") || !strings.Contains(key, ".values") {
		return ""
	}
	switch n.Tag {
	case "!!str":
		return " (string)"
	case "!!int":
		return " (int)"
	case "!!float":
		return " (float)"
	case "!!bool":
		return " (bool)"
	case "!!null":
		return " (deletes the key)"
	}
	return ""
}

// k3sReason says why a derived K3s value (k3s.resolved...) has its value.
func k3sReason(s *inventory.Site, key string) string {
	if s.K3s == nil || s.K3s.Resolved == nil {
		return ""
	}
	return s.K3s.Resolved.Reasons[key]
}

func originString(o inventory.Origin) string {
	s := o.File
	if o.Line > 0 {
		s += ":" + strconv.Itoa(o.Line)
		if o.Column > 0 {
			s += ":" + strconv.Itoa(o.Column)
		}
	}
	return s
}

// displayValue shows a value on one line, quoted when it would otherwise
// be ambiguous (empty, surrounding spaces, line breaks, control characters).
func displayValue(v string) string {
	if v == "" || strings.TrimSpace(v) != v || strings.ContainsFunc(v, func(r rune) bool { return !unicode.IsPrint(r) || r == '\t' }) || strings.HasPrefix(v, `"`) {
		return strconv.Quote(v)
	}
	return v
}

// withPrefixes adds the map and list prefixes of keys ("config" for
// "config.LOG_LEVEL"), for suggestions.
func withPrefixes(keys []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, k := range keys {
		for _, c := range []string{k, strings.SplitN(strings.SplitN(k, "[", 2)[0], ".", 2)[0]} {
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	return out
}

// undouble returns the first half of list when list is that half twice.
func undouble(list []string) []string {
	n := len(list) / 2
	if len(list)%2 == 0 && slices.Equal(list[:n], list[n:]) {
		return list[:n]
	}
	return list
}
