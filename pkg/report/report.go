package report

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/fleetgen/fleetgen/pkg/verify"
)

// APIVersion and Kind identify a JSON verification report.
const (
	APIVersion = "fleetgen.dev/v1alpha1"
	Kind       = "VerifyReport"
)

// Format is how a report is written.
type Format string

// The formats Write supports.
const (
	Text Format = "text"
	JSON Format = "json"
)

// ParseFormat returns the format named s ("text" or "json").
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case Text, JSON:
		return f, nil
	}
	return "", fmt.Errorf("unknown format %q: want text or json", s)
}

// Status values of a site.
const (
	StatusOK     = "ok"
	StatusFailed = "failed"
)

// Report is the JSON verification report.
type Report struct {
	APIVersion string  `json:"apiVersion"`
	Kind       string  `json:"kind"`
	Summary    Summary `json:"summary"`
	// Sites are sorted by name.
	Sites []Site `json:"sites"`
	// Shard is set on the report of one shard of a sharded run (--shard
	// I/N); Merge combines the reports of all N into the report of the
	// whole run, which has none.
	Shard *Shard `json:"shard,omitempty"`
}

// Shard says which part of a fleet a report covers.
type Shard struct {
	Index int `json:"index"`
	Count int `json:"count"`
	// Fleet identifies the fleet the shards split: a digest of the names
	// of every site of the run before sharding. Reports of one run agree.
	Fleet string `json:"fleet"`
	// FleetChecks is true on the one shard that ran the fleet-wide checks
	// (GitOps wiring, file sizes); FleetProblems counts what they found.
	FleetChecks   bool `json:"fleetChecks"`
	FleetProblems int  `json:"fleetProblems"`
}

// Summary counts sites and problems over the whole report.
type Summary struct {
	Sites  int `json:"sites"`
	OK     int `json:"ok"`
	Failed int `json:"failed"`
	// Errors counts build and output problems (not schema errors or
	// policy findings).
	Errors       int `json:"errors"`
	SchemaErrors int `json:"schemaErrors"`
	// PolicyFindings counts the findings that fail their site; Waived
	// those a waiver turned into passes.
	PolicyFindings int `json:"policyFindings"`
	Waived         int `json:"waived"`
	// Skipped counts objects whose kind has no schema (not checked).
	Skipped int `json:"skipped"`
}

// Site is the outcome for one site.
type Site struct {
	Name string `json:"name"`
	// Dir is the overlay directory relative to the tree root.
	Dir string `json:"dir"`
	// Status is "ok" or "failed".
	Status string `json:"status"`
	// Errors are build and output problems, one message each.
	Errors       []string      `json:"errors"`
	SchemaErrors []SchemaError `json:"schemaErrors"`
	// Skipped are the objects whose kind has no schema: not checked
	// against one, not failed.
	Skipped []Object `json:"skipped"`
	// Findings are every policy finding, waived ones included.
	Findings []Finding `json:"findings"`
}

// Object names a built object.
type Object struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
}

// SchemaError is a field of a built object that does not match its kind's
// schema.
type SchemaError struct {
	Object Object `json:"object"`
	// Path is the field ("spec.replicas"); "" for the object itself.
	Path    string `json:"path"`
	Message string `json:"message"`
}

// Finding is one policy finding.
type Finding struct {
	Policy string `json:"policy"`
	// Object is Kind/namespace/name, Kind/name, or Site/<site> for
	// findings about the whole site.
	Object  string `json:"object"`
	Field   string `json:"field"`
	Message string `json:"message"`
	Waived  bool   `json:"waived"`
	// WaiverReason and WaiverSource are set when Waived.
	WaiverReason string `json:"waiverReason,omitempty"`
	WaiverSource string `json:"waiverSource,omitempty"`
}

// FromVerify converts a verification report.
func FromVerify(r *verify.Report) Report {
	out := Report{APIVersion: APIVersion, Kind: Kind, Sites: []Site{}}
	if r == nil {
		return out
	}
	for _, res := range r.Results {
		s := Site{
			Name:         res.Site,
			Dir:          res.Dir,
			Status:       StatusOK,
			Errors:       []string{},
			SchemaErrors: []SchemaError{},
			Skipped:      []Object{},
			Findings:     []Finding{},
		}
		if res.Err != nil {
			s.Status = StatusFailed
		}
		for _, e := range res.Errors {
			s.Errors = append(s.Errors, e.Error())
		}
		if res.Err != nil && len(res.Errors) == 0 && len(res.SchemaErrors) == 0 && len(res.Unwaived()) == 0 {
			// A failure verify did not break down: keep its message.
			s.Errors = append(s.Errors, res.Err.Error())
		}
		for _, e := range res.SchemaErrors {
			s.SchemaErrors = append(s.SchemaErrors, SchemaError{Object: object(e.Object), Path: e.Path, Message: e.Message})
		}
		for _, o := range res.Skipped {
			s.Skipped = append(s.Skipped, object(o))
		}
		for _, f := range res.Findings {
			s.Findings = append(s.Findings, Finding{
				Policy: f.Policy, Object: f.Object, Field: f.Field, Message: f.Message,
				Waived: f.Waived, WaiverReason: f.WaiverReason, WaiverSource: f.WaiverSource,
			})
			if f.Waived {
				out.Summary.Waived++
			} else {
				out.Summary.PolicyFindings++
			}
		}
		out.Summary.Sites++
		if s.Status == StatusOK {
			out.Summary.OK++
		} else {
			out.Summary.Failed++
		}
		out.Summary.Errors += len(s.Errors)
		out.Summary.SchemaErrors += len(s.SchemaErrors)
		out.Summary.Skipped += len(s.Skipped)
		out.Sites = append(out.Sites, s)
	}
	sort.SliceStable(out.Sites, func(i, j int) bool { return out.Sites[i].Name < out.Sites[j].Name })
	return out
}

func object(r verify.ObjectRef) Object {
	return Object{APIVersion: r.APIVersion, Kind: r.Kind, Namespace: r.Namespace, Name: r.Name}
}

// String names the object as Kind/namespace/name, or Kind/name.
func (o Object) String() string {
	return verify.ObjectRef{APIVersion: o.APIVersion, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name}.String()
}

// OK reports whether every site passed.
func (r Report) OK() bool { return r.Summary.Failed == 0 }

// SummaryLine reads like "1,000 sites: 998 ok, 2 failed".
func (r Report) SummaryLine() string {
	noun := "sites"
	if r.Summary.Sites == 1 {
		noun = "site"
	}
	return fmt.Sprintf("%s %s: %s ok, %s failed", verify.Thousands(r.Summary.Sites), noun, verify.Thousands(r.Summary.OK), verify.Thousands(r.Summary.Failed))
}

// Write writes r in format f.
func (r Report) Write(w io.Writer, f Format) error {
	switch f {
	case JSON:
		// Messages quote Kubernetes names such as site-config-<hash>:
		// keep <, > and & readable.
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case Text, "":
		_, err := io.WriteString(w, r.text())
		return err
	}
	return fmt.Errorf("unknown report format %q", f)
}

// maxNamed is how many sites a text note names before "and N more".
const maxNamed = 5

// text renders r for people: every failing site with each failing object
// and field, then, for the sites that passed, what was waived and which
// kinds were not checked, then the summary line.
func (r Report) text() string {
	var b strings.Builder
	line := func(prefix, s string) {
		for i, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
			if i > 0 {
				b.WriteString("    ")
			}
			b.WriteString(prefix + l + "\n")
		}
	}
	for _, s := range r.Sites {
		if s.Status == StatusOK {
			continue
		}
		fmt.Fprintf(&b, "FAIL %s (%s)\n", s.Name, s.Dir)
		for _, e := range s.Errors {
			line("    ", e)
		}
		for _, e := range s.SchemaErrors {
			msg := "schema: " + e.Object.String()
			if e.Path != "" {
				msg += " " + e.Path
			}
			line("    ", msg+": "+e.Message)
		}
		for _, f := range s.Findings {
			msg := fmt.Sprintf("%s: %s", f.Policy, f.Object)
			if f.Field != "" {
				msg += " " + f.Field
			}
			msg += ": " + f.Message
			if f.Waived {
				msg = "waived " + msg + " (" + f.WaiverReason + ")"
			}
			line("    ", msg)
		}
		for _, o := range s.Skipped {
			line("    ", fmt.Sprintf("not checked against a schema (unknown kind): %s %s", o.APIVersion, o))
		}
	}
	for _, n := range r.notes() {
		b.WriteString(n + "\n")
	}
	b.WriteString(r.SummaryLine() + "\n")
	return b.String()
}

// Notes lists, one line each, what passed only thanks to a waiver and the
// kinds not checked against a schema, for the sites that passed (failing
// sites list them in full). Text output prints them before the summary.
func (r Report) Notes() []string { return r.notes() }

func (r Report) notes() []string {
	type note struct {
		text  string
		sites []string
	}
	var notes []*note
	byText := map[string]*note{}
	addNote := func(text, site string) {
		n := byText[text]
		if n == nil {
			n = &note{text: text}
			byText[text] = n
			notes = append(notes, n)
		}
		if len(n.sites) == 0 || n.sites[len(n.sites)-1] != site {
			n.sites = append(n.sites, site)
		}
	}
	for _, s := range r.Sites {
		if s.Status != StatusOK {
			continue
		}
		for _, f := range s.Findings {
			addNote(fmt.Sprintf("waived %s (%s)", f.Policy, f.WaiverReason), s.Name)
		}
		for _, o := range s.Skipped {
			addNote(fmt.Sprintf("not checked against a schema (unknown kind): %s %s", o.APIVersion, o.Kind), s.Name)
		}
	}
	var out []string
	for _, n := range notes {
		names := n.sites
		more := ""
		if len(names) > maxNamed {
			more = fmt.Sprintf(" and %s more", verify.Thousands(len(names)-maxNamed))
			names = names[:maxNamed]
		}
		noun := "sites"
		if len(n.sites) == 1 {
			noun = "site"
		}
		out = append(out, fmt.Sprintf("note: %s: %s %s (%s%s)", n.text, verify.Thousands(len(n.sites)), noun, strings.Join(names, ", "), more))
	}
	return out
}
