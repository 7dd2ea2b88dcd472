package render

import (
	"fmt"
	"sort"
	"text/template"
	"text/template/parse"
)

// What a value met by a flow analysis may be (a bit set): the root data a
// per-site execution gets as dot and $, or the site being rendered
// (Data.Site). 0 is a value that can lead to neither: literals, .Fleet,
// the site's other fields, what functions return.
const (
	mayRoot = 1 << iota
	maySite
)

// flowRules say what the per-site templates of a set may do with the
// values a flow analysis follows (analyzeSiteLocal, analyzeOriginBlind).
type flowRules struct {
	// noun names the values followed in findings ("the whole data").
	noun string
	// field returns what reading field (or calling method) id of a value
	// of kind k gives, and false when the read is a finding.
	field func(k int, id string) (int, bool)
	// encodable are the functions that may be given the site as their
	// only argument.
	encodable map[string]bool
}

// analyzeFlow follows the root data from every per-site path and content
// template, and through every template they call with a followed value,
// and returns the first use the rules do not allow, as
// "template:line:col: what it does"; "" when there is none. It is
// conservative: a construct it cannot follow is a finding.
//
// A followed value may be used as the receiver of a field or method the
// rules allow, as the dot of with, bound to a variable, as the argument of
// a template action or of include, whose callee is then followed with it
// (every template of the namespace when include's name is not a string
// literal), as an if condition, and given to an encodable function.
// Anything else — printing it, passing it to any other function or
// method, ranging over it — is a finding. Variables are tracked by name,
// across scopes and flow-insensitively: a variable ever bound to a
// followed value counts as holding it everywhere in its template.
func analyzeFlow(files []*setFile, rules flowRules) string {
	for _, sf := range files {
		if !sf.perSite {
			continue
		}
		a := &flowAnalyzer{rules: rules, visited: map[visit]bool{}}
		a.template(sf.pathTmpl.Tree, mayRoot)
		if sf.content != nil && a.reason == "" {
			a.ns = sf.content
			a.template(sf.content.Tree, mayRoot)
		}
		if a.reason != "" {
			return a.reason
		}
	}
	return ""
}

// flowAnalyzer follows values through the templates reachable from one
// per-site file. ns is the file's template namespace (nil for a path
// template, which cannot call templates).
type flowAnalyzer struct {
	rules   flowRules
	ns      *template.Template
	visited map[visit]bool
	// reason is the first finding; the analysis stops at it.
	reason string
}

// visit is a template analysed with a dot of some kind.
type visit struct {
	tree *parse.Tree
	dot  int
}

// scope is the state of the analysis of one template: what each variable
// may hold, and whether a pass found something new.
type scope struct {
	tree    *parse.Tree
	vars    map[string]int
	changed bool
}

func (a *flowAnalyzer) find(s *scope, n parse.Node, format string, args ...any) {
	if a.reason != "" {
		return
	}
	loc, _ := s.tree.ErrorContext(n)
	a.reason = loc + ": " + fmt.Sprintf(format, args...)
}

// template analyses t executed with a dot of kind dot. A template reached
// with neither the root data nor the site needs no analysis.
func (a *flowAnalyzer) template(t *parse.Tree, dot int) {
	if t == nil || t.Root == nil || dot == 0 || a.visited[visit{t, dot}] {
		return
	}
	a.visited[visit{t, dot}] = true
	s := &scope{tree: t, vars: map[string]int{"$": dot}}
	// Repeat until no variable newly holds a followed value, so that a
	// use before a later assignment (in a loop) is seen too.
	for {
		s.changed = false
		a.list(s, t.Root, dot)
		if !s.changed || a.reason != "" {
			return
		}
	}
}

// call follows a template action or include of the named template.
func (a *flowAnalyzer) call(s *scope, n parse.Node, name string, dot int) {
	if a.ns == nil {
		a.find(s, n, "calls template %q with %s", name, a.rules.noun)
		return
	}
	if t := a.ns.Lookup(name); t != nil {
		a.template(t.Tree, dot)
	}
}

// callAny follows an include whose name is computed: it may run any
// template of the namespace.
func (a *flowAnalyzer) callAny(s *scope, n parse.Node, dot int) {
	if a.ns == nil {
		a.find(s, n, "calls a template with %s", a.rules.noun)
		return
	}
	ts := a.ns.Templates()
	sort.Slice(ts, func(i, j int) bool { return ts[i].Name() < ts[j].Name() })
	for _, t := range ts {
		a.template(t.Tree, dot)
	}
}

func (a *flowAnalyzer) list(s *scope, l *parse.ListNode, dot int) {
	if l == nil {
		return
	}
	for _, n := range l.Nodes {
		a.node(s, n, dot)
	}
}

func (a *flowAnalyzer) node(s *scope, n parse.Node, dot int) {
	if a.reason != "" {
		return
	}
	switch n := n.(type) {
	case *parse.TextNode, *parse.CommentNode, *parse.BreakNode, *parse.ContinueNode:
	case *parse.ActionNode:
		if a.pipe(s, n.Pipe, dot, true) != 0 && len(n.Pipe.Decl) == 0 {
			a.find(s, n, "prints %s", a.rules.noun)
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
		// The range variables and dot hold elements, never a followed
		// value.
		if a.pipe(s, n.Pipe, dot, false) != 0 {
			a.find(s, n, "ranges over %s", a.rules.noun)
		}
		a.list(s, n.List, 0)
		a.list(s, n.ElseList, dot)
	case *parse.TemplateNode:
		if n.Pipe != nil {
			if k := a.pipe(s, n.Pipe, dot, true); k != 0 {
				a.call(s, n, n.Name, k)
			}
		}
	case *parse.ListNode:
		a.list(s, n, dot)
	default:
		a.find(s, n, "cannot be analysed (%T)", n)
	}
}

// pipe analyses a pipeline and returns what its value may be. bind says
// whether the declared variables get the value (not so in range, where
// they hold elements).
func (a *flowAnalyzer) pipe(s *scope, p *parse.PipeNode, dot int, bind bool) int {
	if p == nil {
		return 0
	}
	k, piped := 0, 0
	for i, c := range p.Cmds {
		k = a.command(s, c, dot, piped, i > 0)
		piped = k
	}
	if bind && k != 0 {
		for _, v := range p.Decl {
			if name := v.Ident[0]; s.vars[name]|k != s.vars[name] {
				s.vars[name] |= k
				s.changed = true
			}
		}
	}
	return k
}

// command analyses one command of a pipeline; piped is what the value of
// the previous command (hasPiped), passed as the last argument, may be.
// It returns what the command's value may be.
func (a *flowAnalyzer) command(s *scope, c *parse.CommandNode, dot, piped int, hasPiped bool) int {
	if len(c.Args) == 0 {
		return 0
	}
	args := make([]int, 0, len(c.Args))
	for _, arg := range c.Args[1:] {
		args = append(args, a.operand(s, arg, dot))
	}
	if hasPiped {
		args = append(args, piped)
	}
	if fn, ok := c.Args[0].(*parse.IdentifierNode); ok {
		if fn.Ident == "include" && len(args) == 2 && args[0] == 0 {
			if args[1] != 0 {
				if name, ok := c.Args[1].(*parse.StringNode); ok {
					a.call(s, c, name.Text, args[1])
				} else {
					a.callAny(s, c, args[1])
				}
			}
			return 0
		}
		for _, k := range args {
			if k != 0 && !(k == maySite && len(args) == 1 && a.rules.encodable[fn.Ident]) {
				a.find(s, c, "passes %s to %s", a.rules.noun, fn.Ident)
				return 0
			}
		}
		return 0
	}
	// A field, method, variable or parenthesised pipeline, with arguments
	// when it is a method.
	for _, k := range args {
		if k != 0 {
			a.find(s, c, "passes %s to a method", a.rules.noun)
			return 0
		}
	}
	return a.operand(s, c.Args[0], dot)
}

// operand analyses one operand and returns what its value may be.
func (a *flowAnalyzer) operand(s *scope, n parse.Node, dot int) int {
	switch n := n.(type) {
	case *parse.DotNode:
		return dot
	case *parse.FieldNode:
		return a.field(s, n, dot, n.Ident)
	case *parse.VariableNode:
		return a.field(s, n, s.vars[n.Ident[0]], n.Ident[1:])
	case *parse.ChainNode:
		return a.field(s, n, a.operand(s, n.Node, dot), n.Field)
	case *parse.PipeNode:
		return a.pipe(s, n, dot, true)
	case *parse.IdentifierNode, *parse.StringNode, *parse.NumberNode, *parse.BoolNode, *parse.NilNode:
		// A function called without arguments, or a literal.
		return 0
	default:
		a.find(s, n, "cannot be analysed (%T)", n)
		return 0
	}
}

// field follows a chain of field or method names from a value of kind k
// and returns what the result may be.
func (a *flowAnalyzer) field(s *scope, n parse.Node, k int, idents []string) int {
	for _, id := range idents {
		if k == 0 {
			return 0
		}
		next, ok := a.rules.field(k, id)
		if !ok {
			a.find(s, n, "reads .%s of %s", id, a.rules.noun)
			return 0
		}
		k = next
	}
	return k
}
