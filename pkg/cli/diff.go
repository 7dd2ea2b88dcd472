package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fleetgen/fleetgen/pkg/pipeline"
)

// DiffOptions are the inputs of `fleetgen diff`.
type DiffOptions struct {
	IO IOStreams

	InputOptions
	RunOptions
	Output   string
	Summary  bool
	ExitCode bool
	Color    string
}

// NewCmdDiff builds `fleetgen diff`.
func NewCmdDiff(streams IOStreams, runF func(context.Context, *DiffOptions) error) *cobra.Command {
	opts := &DiffOptions{IO: streams}
	cmd := &cobra.Command{
		Use:   "diff -i INVENTORY -o DIR",
		Short: "Show what the next generate would change, with a fleet-level summary",
		Long: `diff renders and verifies the tree like generate, and prints what generate
would change in DIR as a unified diff, followed by a summary that groups sites
whose changes are identical once the site's name is set aside (the same
files, and the same lines removed and added, wherever in the file they are):

  changes 2,917 sites in 3 distinct ways

with one example site for each way. It never writes. Colours are used on a
terminal unless NO_COLOR is set (--color always|never|auto).

diff uses the verification cache and the tree's index as check does, so a
diff of an unchanged tree builds no overlay (--no-cache builds every one).

Exit 0 whatever the diff, unless --exit-code: then 1 when there are changes.
Bad input exits 2.`,
		Example: `  # Review what an inventory change does to the fleet
  fleetgen diff -i inventory.yaml -o fleet/

  # Only the grouped summary, for a pull-request comment
  fleetgen diff -i inventory.yaml -o fleet/ --summary

  # Fail a pipeline step when the tree is not up to date
  fleetgen diff -i inventory.yaml -o fleet/ --exit-code`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.validate(); err != nil {
				return usageError(err)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return diffRun(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	addInputFlags(cmd, &opts.InputOptions)
	addRunFlags(cmd, &opts.RunOptions)
	f.StringVarP(&opts.Output, "output", "o", "", "the fleet tree to compare with")
	f.BoolVar(&opts.Summary, "summary", false, "print only the grouped summary")
	f.BoolVar(&opts.ExitCode, "exit-code", false, "exit 1 when there are changes")
	f.StringVar(&opts.Color, "color", "auto", "colour the diff: auto, always or never")
	return cmd
}

func (o *DiffOptions) validate() error {
	if err := o.InputOptions.validate(); err != nil {
		return err
	}
	switch {
	case o.Output == "":
		return errors.New("no tree: give -o DIR")
	case o.Color != "auto" && o.Color != "always" && o.Color != "never":
		return fmt.Errorf("--color %q: want auto, always or never", o.Color)
	}
	return nil
}

func diffRun(ctx context.Context, o *DiffOptions) error {
	tuning, endProgress := o.tuning(o.IO.ErrOut)
	res, err := pipeline.Diff(ctx, pipeline.DiffOptions{Input: o.input(o.IO), Tuning: tuning, Output: o.Output})
	endProgress()
	if res == nil {
		return err
	}
	if !res.Report.OK() {
		fmt.Fprintln(o.IO.ErrOut, "warning: generate would refuse to write this tree:")
		printReport(o.IO.ErrOut, res.Report)
	}
	if err != nil {
		return err
	}
	plan := res.Plan
	pending := plan.Pending()
	color := useColor(o.Color, o.IO.Out)
	diffs := diffCache{}
	if !o.Summary {
		for _, c := range pending {
			writeDiff(o.IO.Out, diffs.of(c), color)
		}
	}
	writeDiffSummary(o.IO.Out, plan, diffs)
	if o.ExitCode && len(pending) > 0 {
		return silentFailure()
	}
	return nil
}

// writeDiff prints a unified diff, coloured like git's when color is set.
func writeDiff(w io.Writer, diff string, color bool) {
	if !color {
		io.WriteString(w, diff)
		return
	}
	for _, line := range strings.SplitAfter(diff, "\n") {
		switch {
		case line == "":
		case strings.HasPrefix(line, "+++"), strings.HasPrefix(line, "---"):
			fmt.Fprintf(w, "\x1b[1m%s\x1b[0m%s", strings.TrimSuffix(line, "\n"), eol(line))
		case strings.HasPrefix(line, "@@"):
			fmt.Fprintf(w, "\x1b[36m%s\x1b[0m%s", strings.TrimSuffix(line, "\n"), eol(line))
		case strings.HasPrefix(line, "+"):
			fmt.Fprintf(w, "\x1b[32m%s\x1b[0m%s", strings.TrimSuffix(line, "\n"), eol(line))
		case strings.HasPrefix(line, "-"):
			fmt.Fprintf(w, "\x1b[31m%s\x1b[0m%s", strings.TrimSuffix(line, "\n"), eol(line))
		default:
			io.WriteString(w, line)
		}
	}
}

func eol(line string) string {
	if strings.HasSuffix(line, "\n") {
		return "\n"
	}
	return ""
}

// useColor decides whether to colour output written to w.
func useColor(mode string, w io.Writer) bool {
	switch mode {
	case "always":
		return true
	case "never":
		return false
	}
	if _, ok := os.LookupEnv("NO_COLOR"); ok {
		return false
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// diffCache computes each change's unified diff once, by path: the diff is
// printed, counted and compared between sites.
type diffCache map[string]string

func (d diffCache) of(c pipeline.Change) string {
	if diff, ok := d[c.Path]; ok {
		return diff
	}
	diff := pipeline.UnifiedDiff(c.Path, c.Old, c.New)
	d[c.Path] = diff
	return diff
}

// changeWay is one distinct way sites change: the same files, actions and
// changed lines (see changeContent) once the site's name is replaced by a
// placeholder.
type changeWay struct {
	key   string
	sites []string
	lines []string // "update overlays/<site>/kustomization.yaml (+2 -1)"
}

// writeDiffSummary prints the fleet-level summary: fleet files, then sites
// grouped by identical change.
func writeDiffSummary(w io.Writer, p *pipeline.Plan, diffs diffCache) {
	groups := p.BySite()
	if len(groups) == 0 {
		fmt.Fprintln(w, "no changes")
		return
	}
	ways := map[string]*changeWay{}
	var order []*changeWay
	sites := 0
	for _, g := range groups {
		if g.Site == "" {
			fmt.Fprintln(w, "fleet-level files:")
			for _, c := range g.Changes {
				fmt.Fprintf(w, "  %s\n", describeChange(c, "", diffs.of(c)))
			}
			continue
		}
		sites++
		var key strings.Builder
		var lines []string
		for _, c := range g.Changes {
			lines = append(lines, describeChange(c, g.Site, diffs.of(c)))
			key.WriteString(c.Action.String() + " " + generic(c.Path, g.Site) + "\n")
			key.WriteString(changeContent(diffs.of(c), g.Site))
		}
		k := key.String()
		way, ok := ways[k]
		if !ok {
			way = &changeWay{key: k, lines: lines}
			ways[k] = way
			order = append(order, way)
		}
		way.sites = append(way.sites, g.Site)
	}
	if sites == 0 {
		return
	}
	sort.SliceStable(order, func(i, j int) bool { return len(order[i].sites) > len(order[j].sites) })
	fmt.Fprintf(w, "changes %s %s in %s %s:\n", pipeline.Thousands(sites), plural(sites, "site", "sites"),
		pipeline.Thousands(len(order)), plural(len(order), "distinct way", "distinct ways"))
	for i, way := range order {
		fmt.Fprintf(w, "  %d. %s %s, for example %s:\n", i+1, pipeline.Thousands(len(way.sites)),
			plural(len(way.sites), "site", "sites"), way.sites[0])
		for _, l := range way.lines {
			fmt.Fprintf(w, "       %s\n", l)
		}
	}
}

// changeContent is what a unified diff changes, for comparing sites: the
// removed and added lines of each hunk, the site's name replaced by
// <site>. File headers, hunk line numbers and context lines are left out,
// so that the same change at another line offset (or amid other unchanged
// lines) is the same way of changing.
func changeContent(diff, site string) string {
	var b strings.Builder
	inHunk := false // the ---/+++ file header comes before the first hunk
	for _, line := range strings.SplitAfter(diff, "\n") {
		switch {
		case strings.HasPrefix(line, "@@"):
			inHunk = true
			b.WriteString("@@\n")
		case !inHunk:
		case strings.HasPrefix(line, "+"), strings.HasPrefix(line, "-"), strings.HasPrefix(line, "\\"):
			b.WriteString(generic(line, site))
		}
	}
	return b.String()
}

// generic replaces a site's name by <site> so that sites compare equal.
func generic(s, site string) string { return strings.ReplaceAll(s, site, "<site>") }

func describeChange(c pipeline.Change, site, diff string) string {
	path := c.Path
	if site != "" {
		path = generic(path, site)
	}
	added, removed := 0, 0
	for _, l := range strings.Split(diff, "\n") {
		switch {
		case strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "---"):
		case strings.HasPrefix(l, "+"):
			added++
		case strings.HasPrefix(l, "-"):
			removed++
		}
	}
	return fmt.Sprintf("%-8s %s (+%d -%d)", c.Action, path, added, removed)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
