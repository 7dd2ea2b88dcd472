package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/fleetgen/fleetgen/pkg/pipeline"
	"github.com/fleetgen/fleetgen/pkg/report"
)

// printReport lists each failing site with every failing object and field,
// notes what passed only by waiver or was not checked against a schema,
// then prints the summary line.
func printReport(w io.Writer, r *pipeline.Report) {
	_ = report.FromVerify(r).Write(w, report.Text)
}

// printNotes prints the report's notes (waived findings, kinds without a
// schema) of the sites that passed.
func printNotes(w io.Writer, r *pipeline.Report) {
	for _, n := range report.FromVerify(r).Notes() {
		fmt.Fprintln(w, n)
	}
}

// siteLabel names a change's owner for humans.
func siteLabel(site string) string {
	if site == "" {
		return "fleet"
	}
	return "site " + site
}

// printPlan prints the change set grouped by site, each site named.
func printPlan(w io.Writer, p *pipeline.Plan, diff bool) {
	if p.InSync() {
		fmt.Fprintf(w, "%s: up to date, no changes\n", p.Root)
		return
	}
	var created, updated, deleted, conflicts int
	for _, g := range p.BySite() {
		fmt.Fprintf(w, "%s:\n", siteLabel(g.Site))
		for _, c := range g.Changes {
			switch c.Action {
			case pipeline.Unchanged:
				continue
			case pipeline.Create:
				created++
			case pipeline.Update:
				updated++
			case pipeline.Delete:
				deleted++
			case pipeline.Conflict:
				conflicts++
			}
			fmt.Fprintf(w, "  %-9s %s", c.Action, c.Path)
			if c.Reason != "" {
				fmt.Fprintf(w, " (%s)", c.Reason)
			}
			fmt.Fprintln(w)
			if diff && c.Action != pipeline.Unchanged {
				io.WriteString(w, indent(pipeline.UnifiedDiff(c.Path, c.Old, c.New), "    "))
			}
		}
	}
	fmt.Fprintf(w, "plan: %d to create, %d to update, %d to delete, %d conflicting\n", created, updated, deleted, conflicts)
}

// printConflicts names every conflicting file with its diff.
func printConflicts(w io.Writer, p *pipeline.Plan) {
	for _, c := range p.Conflicts() {
		fmt.Fprintf(w, "CONFLICT %s (%s): %s\n", c.Path, siteLabel(c.Site), c.Reason)
		io.WriteString(w, indent(pipeline.UnifiedDiff(c.Path, c.Old, c.New), "    "))
	}
}

// printApplied prints the one-line outcome of a successful generate.
func printApplied(w io.Writer, dir string, sites int, p *pipeline.Plan) {
	if p.InSync() {
		fmt.Fprintf(w, "%s: up to date (%s %s)\n", dir, pipeline.Thousands(sites), plural(sites, "site", "sites"))
		return
	}
	var created, updated, deleted int
	for _, c := range p.Changes {
		switch c.Action {
		case pipeline.Create:
			created++
		case pipeline.Update:
			updated++
		case pipeline.Delete:
			deleted++
		}
	}
	fmt.Fprintf(w, "%s: %s %s verified; %d files created, %d updated, %d deleted\n", dir, pipeline.Thousands(sites), plural(sites, "site", "sites"), created, updated, deleted)
}

func indent(s, prefix string) string {
	if s == "" {
		return ""
	}
	var b strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		if line == "" {
			continue
		}
		b.WriteString(prefix)
		b.WriteString(line)
	}
	if !strings.HasSuffix(s, "\n") {
		b.WriteString("\n")
	}
	return b.String()
}
