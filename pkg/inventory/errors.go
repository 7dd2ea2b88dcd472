package inventory

import (
	"fmt"
	"sort"
	"strings"
)

// Problem is one validation error, with the position of the offending value
// as precisely as it is known.
type Problem struct {
	// File is the name of the inventory ("<stdin>" for standard input).
	File string
	// Line and Column are 1-based; 0 means unknown.
	Line, Column int
	// Site is the name of the site the problem is in, as written; empty
	// when the problem is not inside a site.
	Site string
	// Field is the field path, e.g. "sites[3].config.LOG_LEVEL"; empty when
	// the problem concerns the document as a whole.
	Field string
	// Msg says what is wrong and names the rule.
	Msg string
}

// Error renders FILE:LINE:COL: site "NAME": FIELD: message, leaving out the
// parts that are unknown or do not apply.
func (p Problem) Error() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		b.WriteString(":")
	}
	if p.Line > 0 {
		fmt.Fprintf(&b, "%d:", p.Line)
		if p.Column > 0 {
			fmt.Fprintf(&b, "%d:", p.Column)
		}
	}
	if b.Len() > 0 {
		b.WriteString(" ")
	}
	if p.Site != "" {
		fmt.Fprintf(&b, "site %q: ", p.Site)
	}
	if p.Field != "" {
		b.WriteString(p.Field)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// ErrorList is every problem found in an inventory. Load and Resolve return
// it (as *ErrorList) for all validation problems, so that callers can tell
// bad input apart from I/O failures with errors.As.
type ErrorList struct {
	Problems []Problem
}

// Error renders one problem per line.
func (l *ErrorList) Error() string {
	lines := make([]string, len(l.Problems))
	for i, p := range l.Problems {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// maxProblems bounds the number of problems kept, so that a huge hostile
// document cannot make the error itself huge.
const maxProblems = 1000

// position is a place in the inventory file; the zero value means unknown.
// file is set only for values from a file other than the one problems are
// collected for (see LoadFiles).
type position struct {
	line, col int
	file      string
}

// problems collects Problems for one inventory file.
type problems struct {
	file    string
	list    []Problem
	dropped int
	// order ranks file names when problems span several files (LoadFiles);
	// problems sort by file in this order, then by position.
	order map[string]int
}

func (ps *problems) add(pos position, site, field, format string, args ...any) {
	if len(ps.list) >= maxProblems {
		ps.dropped++
		return
	}
	file := ps.file
	if pos.file != "" {
		file = pos.file
	}
	ps.list = append(ps.list, Problem{
		File:   file,
		Line:   pos.line,
		Column: pos.col,
		Site:   site,
		Field:  field,
		Msg:    fmt.Sprintf(format, args...),
	})
}

// absorb adds the problems of o, found apart, after those of ps.
func (ps *problems) absorb(o *problems) {
	for _, p := range o.list {
		if len(ps.list) >= maxProblems {
			ps.dropped++
			continue
		}
		ps.list = append(ps.list, p)
	}
	ps.dropped += o.dropped
}

// err returns the collected problems sorted by position, or nil.
func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	list := append([]Problem(nil), ps.list...)
	sort.SliceStable(list, func(i, j int) bool {
		if fi, fj := ps.order[list[i].File], ps.order[list[j].File]; fi != fj {
			return fi < fj
		}
		if list[i].Line != list[j].Line {
			return list[i].Line < list[j].Line
		}
		return list[i].Column < list[j].Column
	})
	if ps.dropped > 0 {
		list = append(list, Problem{
			File: ps.file,
			Msg:  fmt.Sprintf("too many problems: %d more not shown", ps.dropped),
		})
	}
	return &ErrorList{Problems: list}
}
