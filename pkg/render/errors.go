package render

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Error is a render problem. Template is the path of the template in the set
// (for example "overlays/{{ .Site.Name }}/kustomization.yaml.tmpl", or a
// partial such as "_helpers.tpl" when the problem is inside it); Line and
// Column are 1-based and 0 when unknown; Site is the site being rendered, ""
// for fleet-level templates and for problems found while loading the set;
// Output is the rendered output path when the problem concerns it.
type Error struct {
	Template string
	Line     int
	Column   int
	Site     string
	Output   string
	Err      error
}

// Error formats the problem as "TEMPLATE:LINE:COL: site \"x\": output \"p\": msg",
// leaving out the parts that are unknown.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Template)
	if e.Line > 0 {
		b.WriteString(":")
		b.WriteString(strconv.Itoa(e.Line))
		if e.Column > 0 {
			b.WriteString(":")
			b.WriteString(strconv.Itoa(e.Column))
		}
	}
	b.WriteString(": ")
	if e.Site != "" {
		fmt.Fprintf(&b, "site %q: ", e.Site)
	}
	if e.Output != "" {
		fmt.Fprintf(&b, "output %q: ", e.Output)
	}
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	} else {
		b.WriteString("unknown error")
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// located is an error from text/template whose "template: NAME:LINE:COL: "
// prefix has been moved into an Error's fields. Its message is the rest of
// the original message; Unwrap keeps the original error in the chain.
type located struct {
	msg string
	err error
}

func (l *located) Error() string { return l.msg }
func (l *located) Unwrap() error { return l.err }

// templateError turns an error returned by text/template into an *Error.
// names are the template names the set knows; the location in the message
// is matched against them so that names containing ':' are handled. fallback
// is the template to blame when the message names none of them.
func templateError(err error, fallback, site string, names []string) *Error {
	var re *Error
	if errors.As(err, &re) {
		// Already located (for example a nested render error); add the site.
		if re.Site == "" {
			re.Site = site
		}
		return re
	}
	e := &Error{Template: fallback, Site: site, Err: err}
	msg := err.Error()
	rest, ok := strings.CutPrefix(msg, "template: ")
	if !ok {
		return e
	}
	// Longest name first so that "a.tmpl" does not shadow "a.tmpl.tmpl".
	sorted := append([]string(nil), names...)
	sort.Slice(sorted, func(i, j int) bool { return len(sorted[i]) > len(sorted[j]) })
	for _, name := range sorted {
		after, ok := strings.CutPrefix(rest, name+":")
		if !ok {
			continue
		}
		line, after, ok := cutNumber(after)
		if !ok {
			continue
		}
		col := 0
		if a, ok := strings.CutPrefix(after, ":"); ok {
			if c, a2, ok := cutNumber(a); ok {
				col, after = c, a2
			}
		}
		after, ok = strings.CutPrefix(after, ": ")
		if !ok {
			continue
		}
		e.Template, e.Line, e.Column = name, line, col
		e.Err = &located{msg: after, err: err}
		return e
	}
	// A message without a position, for example "template: NAME: no such template".
	for _, name := range sorted {
		if after, ok := strings.CutPrefix(rest, name+": "); ok {
			e.Template = name
			e.Err = &located{msg: after, err: err}
			return e
		}
	}
	return e
}

func cutNumber(s string) (int, string, bool) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, s, false
	}
	n, err := strconv.Atoi(s[:i])
	if err != nil {
		return 0, s, false
	}
	return n, s[i:], true
}
