package main

import (
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fleetgen/fleetgen/pkg/verify"
)

// Run is a benchmark over several fleet sizes, one after the other in one
// process: the full benchmark at every size of Full, then the cold steps
// alone at every size of Cold. Each size gets its own work directory
// (Dir/<sites> when cfg.Dir is set). done, when not nil, gets each size's
// result as soon as it is measured, so that a run of hours shows its
// figures as it goes and keeps them if a later size fails.
func Run(cfg Config, full, cold []int, done func(*Result)) ([]*Result, error) {
	var out []*Result
	for _, c := range []struct {
		sizes    []int
		coldOnly bool
	}{{full, cfg.ColdOnly}, {cold, true}} {
		for _, n := range c.sizes {
			one := cfg
			one.Sites, one.ColdOnly = n, c.coldOnly
			if cfg.Dir != "" && len(full)+len(cold) > 1 {
				one.Dir = filepath.Join(cfg.Dir, strconv.Itoa(n))
			}
			res, err := Bench(one)
			if err != nil {
				return out, fmt.Errorf("%s sites: %w", verify.Thousands(n), err)
			}
			out = append(out, res)
			if done != nil {
				done(res)
			}
		}
	}
	return out, nil
}

// WriteSideBySide prints one table with a column per fleet size: every
// step's wall time and peak RSS, the per-overlay tools, the slowest shard
// of each sharded verify and the ratios, so growth with the fleet reads
// across a row. A cell is empty where the step did not run at that size.
func WriteSideBySide(w io.Writer, rs []*Result) {
	fmt.Fprintf(w, "side by side, %d CPUs (wall time, peak RSS):\n\n", runtime.NumCPU())
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	fmt.Fprint(tw, "| run\t")
	for _, r := range rs {
		fmt.Fprintf(tw, "| %s sites\t", verify.Thousands(r.Sites))
	}
	fmt.Fprintln(tw, "|")
	fmt.Fprint(tw, "| ---\t")
	for range rs {
		fmt.Fprint(tw, "| ---\t")
	}
	fmt.Fprintln(tw, "|")
	for _, row := range sideBySideRows(rs) {
		fmt.Fprintf(tw, "| %s\t", row.name)
		for _, c := range row.cells {
			if c == "" {
				c = "—"
			}
			fmt.Fprintf(tw, "| %s\t", c)
		}
		fmt.Fprintln(tw, "|")
	}
	tw.Flush()
}

type sideRow struct {
	name  string
	cells []string // one per result
}

// sideBySideRows lays the results out as rows: steps in the order they
// first ran, then the per-overlay tools, the sharded verifies and the
// ratios.
func sideBySideRows(rs []*Result) []sideRow {
	var rows []sideRow
	row := func(name string) *sideRow {
		for i := range rows {
			if rows[i].name == name {
				return &rows[i]
			}
		}
		rows = append(rows, sideRow{name: name, cells: make([]string, len(rs))})
		return &rows[len(rows)-1]
	}
	for i, r := range rs {
		for _, s := range r.Steps {
			cell := seconds(s.Wall)
			if s.PeakRSS > 0 {
				cell += ", " + mib(s.PeakRSS)
			}
			row(s.Name).cells[i] = cell
		}
	}
	for i, r := range rs {
		for _, t := range []struct {
			name string
			took time.Duration
		}{{kubectlStepName, r.Kubectl}, {kustomizeName, r.Kustomize}} {
			if t.took > 0 {
				row(t.name).cells[i] = fmt.Sprintf("%s (%s each)", seconds(t.took), millis(t.took/time.Duration(r.Sites)))
			}
		}
	}
	var shardNs []int
	for _, r := range rs {
		for _, s := range r.Shards {
			if !slices.Contains(shardNs, s.N) {
				shardNs = append(shardNs, s.N)
			}
		}
	}
	slices.Sort(shardNs)
	for _, n := range shardNs {
		name := fmt.Sprintf("verify --no-cache --shard I/%d, slowest shard", n)
		for i, r := range rs {
			for _, s := range r.Shards {
				if s.N == n {
					row(name).cells[i] = seconds(s.Longest) + ", " + mib(s.PeakRSS)
				}
			}
		}
	}
	for i, r := range rs {
		for _, q := range r.ratios() {
			row(q.name).cells[i] = fmt.Sprintf("%.1f×", q.times)
		}
	}
	return rows
}

type ratio struct {
	name  string
	times float64
}

// ratios are how many times faster than the per-overlay tools fleetgen's
// cold generate and base edits (on every core, then on fewer) were, where
// both ran. The tools run one process after another, on one core.
func (r *Result) ratios() []ratio {
	type against struct {
		step, tool string
		took       time.Duration
	}
	cases := []against{{GenerateCold, "kubectl", r.Kubectl}, {GenerateCold, "kustomize", r.Kustomize}, {GenerateBase, "kustomize", r.Kustomize}}
	for _, s := range r.Steps {
		// The base edit again on fewer cores (baseOnCores), against the
		// same CLI time.
		if strings.HasPrefix(s.Name, GenerateBase+", ") {
			cases = append(cases, against{s.Name, "kustomize", r.Kustomize})
		}
	}
	var out []ratio
	for _, c := range cases {
		if s, ok := r.Step(c.step); ok && s.Wall > 0 && c.took > 0 {
			out = append(out, ratio{fmt.Sprintf("%s vs %s once per overlay", s.Name, c.tool), float64(c.took) / float64(s.Wall)})
		}
	}
	return out
}
