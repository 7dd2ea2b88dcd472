package render

import (
	"fmt"
	"sort"
	"text/template"
	"text/template/parse"
)

// siteLocalFields are the fields of Data that a site-local template may read
// from the root data: everything but Sites. A name not listed here (Sites,
// or a method added to Data later) makes the set not site-local.
var siteLocalFields = map[string]bool{"Site": true, "Fleet": true}

// analyzeSiteLocal reports whether no per-site template of the set can read
// Data.Sites, and when it can, where and how (a "template:line:col: ..."
// message). It is conservative: a construct it cannot follow counts as
// reading Data.Sites.
//
// The analysis follows the root data (the *Data a per-site execution gets as
// dot and $) through each per-site path and content template and through
// every template they call with it. A value is either the root data or a
// value that cannot lead back to it (.Site, .Fleet and anything computed
// from them or from literals: none of them holds the fleet's sites). The
// root data may only be used
//
//   - as the receiver of a Site or Fleet field (.Site.Name, $.Fleet, $x.Site
//     when $x holds it, (pipeline).Site),
//   - as the dot of with, or bound to a variable,
//   - as the argument of a template action or of include, whose callee is
//     then followed with it as dot and $ (every template of the namespace
//     when include's name is not a string literal),
//   - as an if condition (a non-nil pointer is always true).
//
// Anything else — reading .Sites or an unknown field, printing it, passing
// it to any other function or method (toYaml, toJson, index, dict, list,
// print, eq, ...), ranging over it — makes the set not site-local.
// Variables are tracked by name, across scopes and flow-insensitively: a
// variable that is ever bound to the root data counts as holding it
// everywhere in its template.
func analyzeSiteLocal(files []*setFile) (local bool, reason string) {
	for _, sf := range files {
		if !sf.perSite {
			continue
		}
		a := &siteAnalyzer{visited: map[visit]bool{}}
		a.template(sf.pathTmpl.Tree, true)
		if sf.content != nil && a.reason == "" {
			a.ns = sf.content
			a.template(sf.content.Tree, true)
		}
		if a.reason != "" {
			return false, a.reason
		}
	}
	return true, ""
}

// siteAnalyzer follows the root data through the templates reachable from
// one per-site file. ns is the file's template namespace (nil for a path
// template, which cannot call templates).
type siteAnalyzer struct {
	ns      *template.Template
	visited map[visit]bool
	// reason is the first finding; the analysis stops at it.
	reason string
}

// visit is a template analysed with the root data as dot (root) or with a
// value that cannot lead to it.
type visit struct {
	tree *parse.Tree
	root bool
}

// scope is the state of the analysis of one template: which variable names
// may hold the root data, and whether a pass found a new one.
type scope struct {
	tree    *parse.Tree
	vars    map[string]bool
	changed bool
}

func (a *siteAnalyzer) find(s *scope, n parse.Node, format string, args ...any) {
	if a.reason != "" {
		return
	}
	loc, _ := s.tree.ErrorContext(n)
	a.reason = loc + ": " + fmt.Sprintf(format, args...)
}

// template analyses t executed with the root data as dot (root) or not. A
// template reached without the root data cannot read Data.Sites: nothing
// else leads to it.
func (a *siteAnalyzer) template(t *parse.Tree, root bool) {
	if t == nil || t.Root == nil || !root || a.visited[visit{t, root}] {
		return
	}
	a.visited[visit{t, root}] = true
	s := &scope{tree: t, vars: map[string]bool{"$": root}}
	// Repeat until no variable newly holds the root data, so that a use
	// before a later assignment (in a loop) is seen too.
	for {
		s.changed = false
		a.list(s, t.Root, root)
		if !s.changed || a.reason != "" {
			return
		}
	}
}

// call follows a template action or include of the named template with the
// root data.
func (a *siteAnalyzer) call(s *scope, n parse.Node, name string) {
	if a.ns == nil {
		a.find(s, n, "calls template %q with the whole data", name)
		return
	}
	if t := a.ns.Lookup(name); t != nil {
		a.template(t.Tree, true)
	}
}

// callAny follows an include whose name is computed: it may run any
// template of the namespace.
func (a *siteAnalyzer) callAny(s *scope, n parse.Node) {
	if a.ns == nil {
		a.find(s, n, "calls a template with the whole data")
		return
	}
	ts := a.ns.Templates()
	sort.Slice(ts, func(i, j int) bool { return ts[i].Name() < ts[j].Name() })
	for _, t := range ts {
		a.template(t.Tree, true)
	}
}

func (a *siteAnalyzer) list(s *scope, l *parse.ListNode, dot bool) {
	if l == nil {
		return
	}
	for _, n := range l.Nodes {
		a.node(s, n, dot)
	}
}

func (a *siteAnalyzer) node(s *scope, n parse.Node, dot bool) {
	if a.reason != "" {
		return
	}
	switch n := n.(type) {
	case *parse.TextNode, *parse.CommentNode, *parse.BreakNode, *parse.ContinueNode:
	case *parse.ActionNode:
		if a.pipe(s, n.Pipe, dot, true) && len(n.Pipe.Decl) == 0 {
			a.find(s, n, "prints the whole data")
		}
	case *parse.IfNode:
		a.pipe(s, n.Pipe, dot, true)
		a.list(s, n.List, dot)
		a.list(s, n.ElseList, dot)
	case *parse.WithNode:
		inner := a.pipe(s, n.Pipe, dot, true)
		a.list(s, n.List, inner)
		a.list(s, n.ElseList, dot)
	case *parse.RangeNode:
		// The range variables and dot hold elements, never the root data.
		if a.pipe(s, n.Pipe, dot, false) {
			a.find(s, n, "ranges over the whole data")
		}
		a.list(s, n.List, false)
		a.list(s, n.ElseList, dot)
	case *parse.TemplateNode:
		if n.Pipe != nil && a.pipe(s, n.Pipe, dot, true) {
			a.call(s, n, n.Name)
		}
	case *parse.ListNode:
		a.list(s, n, dot)
	default:
		a.find(s, n, "cannot be analysed (%T)", n)
	}
}

// pipe analyses a pipeline and reports whether its value may be the root
// data. bind says whether the declared variables get the value (not so in
// range, where they hold elements).
func (a *siteAnalyzer) pipe(s *scope, p *parse.PipeNode, dot, bind bool) bool {
	if p == nil {
		return false
	}
	root, piped := false, false
	for i, c := range p.Cmds {
		root = a.command(s, c, dot, piped, i > 0)
		piped = root
	}
	if bind && root {
		for _, v := range p.Decl {
			if name := v.Ident[0]; !s.vars[name] {
				s.vars[name] = true
				s.changed = true
			}
		}
	}
	return root
}

// command analyses one command of a pipeline; piped is whether the value
// of the previous command (hasPiped), passed as the last argument, may be
// the root data. It reports whether the command's value may be.
func (a *siteAnalyzer) command(s *scope, c *parse.CommandNode, dot, piped, hasPiped bool) bool {
	if len(c.Args) == 0 {
		return false
	}
	args := make([]bool, 0, len(c.Args))
	for _, arg := range c.Args[1:] {
		args = append(args, a.operand(s, arg, dot))
	}
	if hasPiped {
		args = append(args, piped)
	}
	if fn, ok := c.Args[0].(*parse.IdentifierNode); ok {
		if fn.Ident == "include" && len(args) == 2 && !args[0] {
			if args[1] {
				if name, ok := c.Args[1].(*parse.StringNode); ok {
					a.call(s, c, name.Text)
				} else {
					a.callAny(s, c)
				}
			}
			return false
		}
		for _, r := range args {
			if r {
				a.find(s, c, "passes the whole data to %s", fn.Ident)
				return false
			}
		}
		return false
	}
	// A field, method, variable or parenthesised pipeline, with arguments
	// when it is a method.
	for _, r := range args {
		if r {
			a.find(s, c, "passes the whole data to a method")
			return false
		}
	}
	return a.operand(s, c.Args[0], dot)
}

// operand analyses one operand and reports whether its value may be the
// root data.
func (a *siteAnalyzer) operand(s *scope, n parse.Node, dot bool) bool {
	switch n := n.(type) {
	case *parse.DotNode:
		return dot
	case *parse.FieldNode:
		a.field(s, n, dot, n.Ident)
		return false
	case *parse.VariableNode:
		root := s.vars[n.Ident[0]]
		if len(n.Ident) == 1 {
			return root
		}
		a.field(s, n, root, n.Ident[1:])
		return false
	case *parse.ChainNode:
		a.field(s, n, a.operand(s, n.Node, dot), n.Field)
		return false
	case *parse.PipeNode:
		return a.pipe(s, n, dot, true)
	case *parse.IdentifierNode:
		// A function called without arguments.
		return false
	case *parse.StringNode, *parse.NumberNode, *parse.BoolNode, *parse.NilNode:
		return false
	default:
		a.find(s, n, "cannot be analysed (%T)", n)
		return false
	}
}

// field checks a field chain on a receiver that may be the root data.
func (a *siteAnalyzer) field(s *scope, n parse.Node, root bool, idents []string) {
	if root && len(idents) > 0 && !siteLocalFields[idents[0]] {
		a.find(s, n, "reads .%s of the whole data", idents[0])
	}
}
