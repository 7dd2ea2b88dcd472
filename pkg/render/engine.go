package render

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"runtime"
	"sort"
	"strings"
	"sync"
	"text/template"
	"text/template/parse"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/fleetgen/fleetgen/pkg/inventory"
)

// TemplateSuffix marks files whose content is a template. It is stripped
// from the output path.
const TemplateSuffix = ".tmpl"

// SeedSuffix marks a seed file: written once when it is missing, then the
// user's to edit. It comes before TemplateSuffix ("kustomization.yaml.seed.tmpl")
// or ends a verbatim file's name ("README.md.seed"), and is stripped from the
// output path.
const SeedSuffix = ".seed"

// ReservedDir is the output directory that templates may not write into.
const ReservedDir = ".fleetgen"

// Data is what templates see as dot.
type Data struct {
	Fleet FleetData
	// Site is the site being rendered by a per-site template, nil in a
	// fleet-level template.
	Site *inventory.Site
	// Sites are all sites of the fleet, sorted by name.
	Sites []inventory.Site
}

// FleetData describes the fleet as a whole.
type FleetData struct {
	Name string
	// GitOps is the inventory's gitops block with defaults filled in.
	GitOps inventory.GitOps
}

// Engine holds a parsed template set. It is safe for concurrent use once
// loaded.
type Engine struct {
	files      []*setFile
	components []string
	// names are every template name (set path) known, for error locations.
	names []string
}

// setFile is one non-partial file of the template set.
type setFile struct {
	// path is the file's path in the set.
	path string
	// pathTmpl renders the output path (the set path without .tmpl).
	pathTmpl *template.Template
	perSite  bool
	// seed files are written only when missing (File.Seed).
	seed bool
	// content is the parsed content template for .tmpl files (a clone of
	// the partials' namespace, with include bound to it), nil for verbatim
	// files. mu serialises its executions: include keeps its nesting
	// depth in the namespace.
	content *template.Template
	mu      sync.Mutex
	raw     []byte
}

// Load parses every template of the set in fsys. The root of fsys holds the
// set (base/, components/, overlays/, ...). Directories named .git are
// skipped. Errors name the template path and line.
func Load(fsys fs.FS) (*Engine, error) {
	type entry struct {
		path string
		data []byte
	}
	var partials, files []entry
	compSet := map[string]bool{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != "." && d.Name() == ".git" {
				return fs.SkipDir
			}
			if dir, name := path.Split(p); dir == "components/" {
				compSet[name] = true
			}
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		if strings.HasPrefix(path.Base(p), "_") {
			partials = append(partials, entry{p, data})
		} else {
			files = append(files, entry{p, data})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading template set: %w", err)
	}

	e := &Engine{}
	for name := range compSet {
		e.components = append(e.components, name)
	}
	sort.Strings(e.components)
	for _, p := range partials {
		e.names = append(e.names, p.path)
	}
	for _, f := range files {
		e.names = append(e.names, f.path)
	}

	var errs []error
	funcs := funcMap()
	root := template.New("").Option("missingkey=error").Funcs(funcs)
	for _, p := range partials {
		if !utf8.Valid(p.data) {
			errs = append(errs, &Error{Template: p.path, Err: errors.New("partial is not valid UTF-8")})
			continue
		}
		if _, err := root.New(p.path).Parse(string(p.data)); err != nil {
			errs = append(errs, templateError(err, p.path, "", e.names))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	for _, f := range files {
		sf := &setFile{path: f.path}
		outPath := f.path
		isTemplate := strings.HasSuffix(outPath, TemplateSuffix)
		outPath = strings.TrimSuffix(outPath, TemplateSuffix)
		if strings.HasSuffix(outPath, SeedSuffix) {
			outPath = strings.TrimSuffix(outPath, SeedSuffix)
			sf.seed = true
		}
		if isTemplate {
			if !utf8.Valid(f.data) {
				errs = append(errs, &Error{Template: f.path, Err: errors.New("template is not valid UTF-8")})
				continue
			}
			ns, err := root.Clone()
			if err != nil {
				return nil, fmt.Errorf("cloning partials: %w", err)
			}
			t, err := ns.New(f.path).Parse(string(f.data))
			if err != nil {
				errs = append(errs, templateError(err, f.path, "", e.names))
				continue
			}
			bindInclude(t)
			sf.content = t
		} else {
			sf.raw = f.data
		}
		pt, err := template.New(f.path).Option("missingkey=error").Funcs(funcs).Parse(outPath)
		if err != nil {
			errs = append(errs, templateError(err, f.path, "", e.names))
			continue
		}
		perSite, err := inspectPath(pt.Tree.Root)
		if err != nil {
			errs = append(errs, &Error{Template: f.path, Err: fmt.Errorf("path template: %w", err)})
			continue
		}
		sf.pathTmpl, sf.perSite = pt, perSite
		e.files = append(e.files, sf)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return e, nil
}

// Components returns the sorted names of the directories directly under
// components/ in the set.
func (e *Engine) Components() []string {
	return append([]string(nil), e.components...)
}

// inspectPath walks a path template's parse tree. It reports whether the
// template refers to .Site (as .Site..., $.Site... or a chain on them) and
// rejects calls of other templates, which path templates cannot see.
func inspectPath(root parse.Node) (perSite bool, err error) {
	var walk func(n parse.Node)
	walk = func(n parse.Node) {
		if n == nil || err != nil {
			return
		}
		switch n := n.(type) {
		case *parse.ListNode:
			if n == nil {
				return
			}
			for _, c := range n.Nodes {
				walk(c)
			}
		case *parse.ActionNode:
			walk(n.Pipe)
		case *parse.PipeNode:
			if n == nil {
				return
			}
			for _, v := range n.Decl {
				walk(v)
			}
			for _, c := range n.Cmds {
				walk(c)
			}
		case *parse.CommandNode:
			for _, a := range n.Args {
				walk(a)
			}
		case *parse.FieldNode:
			if len(n.Ident) > 0 && n.Ident[0] == "Site" {
				perSite = true
			}
		case *parse.VariableNode:
			if len(n.Ident) > 1 && n.Ident[0] == "$" && n.Ident[1] == "Site" {
				perSite = true
			}
		case *parse.ChainNode:
			walk(n.Node)
		case *parse.IdentifierNode:
			if n.Ident == "include" || n.Ident == "template" {
				err = fmt.Errorf("%q cannot be used in a path", n.Ident)
			}
		case *parse.IfNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.RangeNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.WithNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.TemplateNode:
			err = fmt.Errorf("template %q cannot be called in a path", n.Name)
		}
	}
	walk(root)
	return perSite, err
}

// Render executes the template set for the fleet: fleet-level templates once
// with Site nil, per-site templates once per site. Every problem found is
// returned, joined; each is an *Error.
func (e *Engine) Render(f *inventory.Fleet) (*Tree, error) {
	if f == nil {
		return nil, errors.New("render: nil fleet")
	}
	var errs []error
	known := map[string]bool{}
	for _, c := range e.components {
		known[c] = true
	}
	for _, s := range f.Sites {
		for _, c := range s.Components {
			if !known[c] {
				errs = append(errs, &Error{Template: "components/", Site: s.Name,
					Err: fmt.Errorf("component %q is not in the template set (known: %s)", c, strings.Join(e.components, ", "))})
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	type origin struct{ template, site string }
	seen := map[string]origin{}
	tree := &Tree{}
	var templateOf []string // templateOf[i] rendered tree.Files[i]
	emit := func(sf *setFile, site *inventory.Site) {
		siteName := ""
		if site != nil {
			siteName = site.Name
		}
		data := &Data{Fleet: FleetData{Name: f.Name, GitOps: f.GitOps}, Site: site, Sites: f.Sites}
		file, ok, err := e.renderFile(sf, data, siteName)
		if err != nil {
			errs = append(errs, err)
			return
		}
		if !ok {
			return
		}
		if prev, dup := seen[file.Path]; dup {
			errs = append(errs, &Error{Template: sf.path, Site: siteName, Output: file.Path,
				Err: fmt.Errorf("path already produced by %s", describe(prev.template, prev.site))})
			return
		}
		seen[file.Path] = origin{sf.path, siteName}
		tree.Files = append(tree.Files, file)
		templateOf = append(templateOf, sf.path)
	}
	for _, sf := range e.files {
		if !sf.perSite {
			emit(sf, nil)
			continue
		}
		for i := range f.Sites {
			site := f.Sites[i]
			emit(sf, &site)
		}
	}
	// Every rendered YAML file must parse back (the costliest part of a
	// render, so it runs on every CPU once all files are rendered).
	errs = append(errs, parseBack(tree.Files, templateOf)...)
	// A path cannot be both a file and a directory.
	for p, o := range seen {
		for dir := path.Dir(p); dir != "."; dir = path.Dir(dir) {
			if prev, clash := seen[dir]; clash {
				errs = append(errs, &Error{Template: o.template, Site: o.site, Output: p,
					Err: fmt.Errorf("parent %q is a file produced by %s", dir, describe(prev.template, prev.site))})
			}
		}
	}
	if len(errs) > 0 {
		sortErrors(errs)
		return nil, errors.Join(errs...)
	}
	tree.Sort()
	return tree, nil
}

func describe(template, site string) string {
	if site == "" {
		return template
	}
	return fmt.Sprintf("%s for site %q", template, site)
}

// sortErrors orders errors by their message so output does not depend on
// map iteration.
func sortErrors(errs []error) {
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
}

// renderFile renders one template for one site (or the fleet). ok is false
// when a content template rendered to nothing but whitespace.
func (e *Engine) renderFile(sf *setFile, data *Data, site string) (File, bool, error) {
	var pb strings.Builder
	if err := sf.pathTmpl.Execute(&pb, data); err != nil {
		return File{}, false, templateError(err, sf.path, site, e.names)
	}
	out := pb.String()
	if err := checkOutputPath(out); err != nil {
		return File{}, false, &Error{Template: sf.path, Site: site, Output: out, Err: err}
	}
	var content []byte
	if sf.content != nil {
		var buf bytes.Buffer
		sf.mu.Lock()
		err := sf.content.Execute(&buf, data)
		sf.mu.Unlock()
		if err != nil {
			return File{}, false, templateError(err, sf.path, site, e.names)
		}
		if len(bytes.TrimSpace(buf.Bytes())) == 0 {
			return File{}, false, nil
		}
		content = buf.Bytes()
	} else {
		content = append([]byte(nil), sf.raw...)
	}
	return File{Path: out, Data: content, Site: site, Seed: sf.seed}, true, nil
}

// isYAML reports whether an output path is parsed back as YAML.
func isYAML(p string) bool {
	ext := path.Ext(p)
	return ext == ".yaml" || ext == ".yml"
}

// parseBack parses every YAML file of files back, on all CPUs, and returns
// the problems in file order. origins[i] is the template of files[i].
func parseBack(files []File, origins []string) []error {
	errs := make([]error, len(files))
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := checkYAML(files[i].Data); err != nil {
					errs[i] = &Error{Template: origins[i], Site: files[i].Site, Output: files[i].Path, Err: err}
				}
			}
		}()
	}
	for i, f := range files {
		if isYAML(f.Path) {
			next <- i
		}
	}
	close(next)
	wg.Wait()
	var out []error
	for _, err := range errs {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

// checkOutputPath accepts clean, relative, slash-separated paths outside the
// reserved directory.
func checkOutputPath(p string) error {
	switch {
	case p == "":
		return errors.New("rendered path is empty")
	case !utf8.ValidString(p):
		return errors.New("rendered path is not valid UTF-8")
	case strings.HasPrefix(p, "/"):
		return errors.New("rendered path is absolute")
	case strings.Contains(p, `\`):
		return errors.New("rendered path contains a backslash")
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7F {
			return errors.New("rendered path contains a control character")
		}
	}
	for _, seg := range strings.Split(p, "/") {
		switch seg {
		case "":
			return errors.New("rendered path has an empty segment")
		case ".", "..":
			return fmt.Errorf("rendered path has a %q segment", seg)
		}
	}
	if p == ReservedDir || strings.HasPrefix(p, ReservedDir+"/") {
		return fmt.Errorf("rendered path is under the reserved directory %s/", ReservedDir)
	}
	return nil
}

// checkYAML parses every document of data and rejects invalid YAML and
// duplicate mapping keys.
func checkYAML(data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for doc := 1; ; doc++ {
		var v any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("invalid YAML (document %d): %w", doc, err)
		}
	}
}
