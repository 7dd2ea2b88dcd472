package render

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
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
	// digest is the set's digest (setDigest) and build the program's
	// (buildIdentity); both go into every render key.
	digest, build [sha256.Size]byte
	// siteLocal is true when no per-site template can read Data.Sites;
	// otherwise notLocal says where one can (see analyzeSiteLocal).
	siteLocal bool
	notLocal  string
	// originBlind is true when the set is site-local and no per-site
	// template can observe a site's Origins; otherwise withOrigins says
	// where one can (see analyzeOriginBlind).
	originBlind bool
	withOrigins string
}

// setEntry is one file of a template set as read.
type setEntry struct {
	path string
	data []byte
}

// setFile is one non-partial file of the template set.
type setFile struct {
	// path is the file's path in the set.
	path string
	// pathTmpl renders the output path (the set path without .tmpl).
	pathTmpl *template.Template
	perSite  bool
	// nameParts, when set, is the path template as text and the site's
	// name alone: the path is the parts joined with the name between
	// them (sitePath), without executing the template.
	nameParts []string
	// seed files are written only when missing (File.Seed).
	seed bool
	// content is the parsed content template for .tmpl files (a clone of
	// the partials' namespace), nil for verbatim files. It is never
	// executed itself: include keeps its nesting depth in the namespace it
	// is bound to, so every render worker executes its own clone with
	// include bound to that clone (see worker.content).
	content *template.Template
	raw     []byte
}

// Load parses every template of the set in fsys. The root of fsys holds the
// set (base/, components/, overlays/, ...). Directories named .git are
// skipped. Errors name the template path and line.
func Load(fsys fs.FS) (*Engine, error) {
	var partials, files []setEntry
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
			partials = append(partials, setEntry{p, data})
		} else {
			files = append(files, setEntry{p, data})
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
		if perSite {
			sf.nameParts = siteNameParts(pt.Tree.Root)
		}
		e.files = append(e.files, sf)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	e.siteLocal, e.notLocal = analyzeSiteLocal(e.files)
	if e.siteLocal {
		e.originBlind, e.withOrigins = analyzeOriginBlind(e.files)
	}
	e.digest = setDigest(partials, files, e.components)
	e.build = buildIdentity()
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
// siteNameParts splits a path template made of text and {{ .Site.Name }}
// actions only (the default set's per-site paths) into the text around
// the actions: executing it prints the name between the parts. It is nil
// for any other template.
func siteNameParts(root *parse.ListNode) []string {
	parts := []string{""}
	names := 0
	for _, n := range root.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
			parts[len(parts)-1] += string(n.Text)
		case *parse.ActionNode:
			p := n.Pipe
			if len(p.Decl) > 0 || len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
				return nil
			}
			f, ok := p.Cmds[0].Args[0].(*parse.FieldNode)
			if !ok || len(f.Ident) != 2 || f.Ident[0] != "Site" || f.Ident[1] != "Name" {
				return nil
			}
			parts = append(parts, "")
			names++
		default:
			return nil
		}
	}
	if names == 0 {
		return nil
	}
	return parts
}

// sitePath is the output path of a template with nameParts for the site
// named name.
func (sf *setFile) sitePath(name string) string {
	return strings.Join(sf.nameParts, name)
}

// outputPath executes the path template for data, or joins its parts
// around the site's name when it is made of nothing else.
func (sf *setFile) outputPath(data *Data) (string, error) {
	if sf.nameParts != nil && data.Site != nil {
		return sf.sitePath(data.Site.Name), nil
	}
	var pb strings.Builder
	if err := sf.pathTmpl.Execute(&pb, data); err != nil {
		return "", err
	}
	return pb.String(), nil
}

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

// RenderOptions tune a render. The zero value renders and checks everything.
type RenderOptions struct {
	// Parsed, when set, reports whether content with this hash (lowercase
	// hex SHA-256) is already known to parse back as YAML — it passed the
	// parse-back in an earlier run. Such files are not parsed again.
	// Parsing depends on the content alone, so this only saves time.
	// Parsed is called from several goroutines at once.
	Parsed func(hash string) bool
	// Reuse, when set, is asked once for each site's per-site files before
	// that site's per-site templates run; key is the site's render key for
	// this render (Tree.SiteKeys). When it returns ok, the files are used as
	// the site's per-site files instead of executing its content templates:
	// they must be exactly the files that a render with the same key
	// produced (Path, Site, Seed and the content's Hash; Data may be nil).
	// They are not parsed back again. Only their paths are checked, by
	// executing the site's path templates: when they are not the paths
	// those give (a path no per-site template produces for the site, one
	// produced twice, a verbatim file missing, a wrong Site or Seed, neither
	// Hash nor Data), the files are ignored and the templates run. Reuse is
	// not called when the set has no per-site templates. It is called from
	// several goroutines at once.
	Reuse func(site, key string) (files []File, ok bool)
	// SharedOnly renders only the fleet-level templates (base/,
	// components/ and the like): the tree has no per-site file and its
	// SiteKeys are empty. It lets a caller read what the shared files
	// say (the base's namespace) before the sites render.
	SharedOnly bool
}

// RenderWith is Render with options. Templates are executed, hashed and
// parsed back on runtime.GOMAXPROCS(0) goroutines; the tree and the errors
// do not depend on how the work was scheduled. The tree's SiteKeys hold
// every site's render key (see the package documentation); with
// RenderOptions.Reuse, the tree and the errors are those of a full render.
func (e *Engine) RenderWith(f *inventory.Fleet, opts RenderOptions) (*Tree, error) {
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

	// Every (template, site) pair is a job, in the order a sequential
	// render would visit them. Workers fill results[i] for jobs[i]; what
	// follows reads the results in job order, so the tree and the errors
	// are the same whatever order the jobs ran in. The jobs of a per-site
	// file are consecutive: first[i] is the index of file i's job for
	// site 0.
	var jobs []job
	first := make([]int, len(e.files))
	perSite := false
	for i, sf := range e.files {
		first[i] = len(jobs)
		if !sf.perSite {
			jobs = append(jobs, job{file: i, site: -1})
			continue
		}
		if opts.SharedOnly {
			continue
		}
		perSite = true
		for s := range f.Sites {
			jobs = append(jobs, job{file: i, site: s})
		}
	}
	results := make([]result, len(jobs))

	// Every site's key, and the per-site results of the sites whose files
	// Reuse gave, are found first; the remaining jobs then run.
	prefix, err := e.keyPrefix(f)
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(f.Sites))
	reused := make([]bool, len(f.Sites))
	keyErrs := make([]error, len(f.Sites))
	var reuse func(site, key string) ([]File, bool)
	if perSite {
		reuse = opts.Reuse
	}
	keyed := len(f.Sites)
	if opts.SharedOnly {
		keyed = 0
	}
	parallel(keyed, func() func(int) {
		w := &worker{e: e, fleet: f}
		var enc encoder
		return func(s int) {
			site := &f.Sites[s]
			keys[s], keyErrs[s] = siteKey(&enc, prefix, site, e.originBlind)
			if keyErrs[s] != nil || reuse == nil {
				return
			}
			if files, ok := reuse(site.Name, keys[s]); ok {
				reused[s] = w.place(s, files, first, results)
			}
		}
	})
	if err := errors.Join(keyErrs...); err != nil {
		return nil, err
	}
	todo := make([]int, 0, len(jobs))
	for i, j := range jobs {
		if j.site < 0 || !reused[j.site] {
			todo = append(todo, i)
		}
	}
	parallel(len(todo), func() func(int) {
		w := &worker{e: e, fleet: f, parsed: opts.Parsed}
		return func(i int) { results[todo[i]] = w.run(jobs[todo[i]]) }
	})

	type origin struct{ template, site string }
	seen := map[string]origin{}
	tree := &Tree{Files: make([]File, 0, len(jobs)), SiteKeys: make(map[string]string, len(f.Sites))}
	for s, site := range f.Sites[:keyed] {
		tree.SiteKeys[site.Name] = keys[s]
	}
	var yamlErrs []error
	for i, r := range results {
		if r.err != nil {
			errs = append(errs, r.err)
			continue
		}
		if !r.ok {
			continue
		}
		sf := e.files[jobs[i].file]
		if prev, dup := seen[r.file.Path]; dup {
			// A duplicate is not kept, so its parse-back does not count.
			errs = append(errs, &Error{Template: sf.path, Site: r.file.Site, Output: r.file.Path,
				Err: fmt.Errorf("path already produced by %s", describe(prev.template, prev.site))})
			continue
		}
		seen[r.file.Path] = origin{sf.path, r.file.Site}
		tree.Files = append(tree.Files, r.file)
		// Every rendered YAML file must parse back.
		if r.yamlErr != nil {
			yamlErrs = append(yamlErrs, &Error{Template: sf.path, Site: r.file.Site, Output: r.file.Path, Err: r.yamlErr})
		}
	}
	errs = append(errs, yamlErrs...)
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

// job is one template rendered for one site (site is an index into the
// fleet's sites) or for the fleet (site is -1). file indexes Engine.files.
type job struct{ file, site int }

// result is what a worker made of a job. err is a render problem (the file
// is not produced); ok is false when a content template rendered to nothing
// but whitespace; yamlErr is the file's parse-back problem, wrapped into an
// *Error only if the file is kept.
type result struct {
	file    File
	ok      bool
	err     error
	yamlErr error
}

// parallel runs tasks 0..n-1 on runtime.GOMAXPROCS(0) goroutines (fewer
// when there are fewer tasks), each taking the next task in order. newWorker
// is called once per goroutine and returns that goroutine's task function;
// tasks must write only their own result slots.
func parallel(n int, newWorker func() func(int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	var next atomic.Int64
	run := func() {
		task := newWorker()
		for {
			i := int(next.Add(1) - 1)
			if i >= n {
				return
			}
			task(i)
		}
	}
	if workers <= 1 {
		if n > 0 {
			run()
		}
		return
	}
	if n <= 1 {
		run()
		return
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(run)
	}
	wg.Wait()
}

// worker renders jobs on one goroutine.
type worker struct {
	e      *Engine
	fleet  *inventory.Fleet
	parsed func(string) bool
	// clones[i] is this worker's clone of e.files[i].content, made on first
	// use.
	clones []*template.Template
	buf    bytes.Buffer
	// perSite are the indexes of e's per-site templates, and paths and
	// placed place's buffers, made on first use.
	perSite []int
	paths   []string
	placed  []result
}

// content returns the worker's own clone of sf's content template, with
// include bound to the clone. include counts its nesting depth in the
// namespace it is bound to, so a namespace must not run two executions at
// once; cloning once per worker per render (rather than once per file, or
// locking around each execution) keeps that true at the cost of a few
// shallow copies: clones share the parse trees.
func (w *worker) content(i int) (*template.Template, error) {
	if w.clones == nil {
		w.clones = make([]*template.Template, len(w.e.files))
	}
	if t := w.clones[i]; t != nil {
		return t, nil
	}
	t, err := w.e.files[i].content.Clone()
	if err != nil {
		return nil, err
	}
	bindInclude(t)
	w.clones[i] = t
	return t, nil
}

func (w *worker) run(j job) result {
	sf := w.e.files[j.file]
	data := &Data{Fleet: FleetData{Name: w.fleet.Name, GitOps: w.fleet.GitOps}, Sites: w.fleet.Sites}
	siteName := ""
	if j.site >= 0 {
		site := w.fleet.Sites[j.site]
		data.Site = &site
		siteName = site.Name
	}
	var content *template.Template
	if sf.content != nil {
		t, err := w.content(j.file)
		if err != nil {
			return result{err: &Error{Template: sf.path, Site: siteName, Err: fmt.Errorf("cloning template: %w", err)}}
		}
		content = t
	}
	file, ok, err := w.e.renderFile(sf, content, &w.buf, data, siteName)
	if err != nil || !ok {
		return result{err: err}
	}
	file.Hash = hashData(file.Data)
	r := result{file: file, ok: true}
	if IsYAML(file.Path) && (w.parsed == nil || !w.parsed(file.Hash)) {
		r.yamlErr = checkYAML(file.Data)
	}
	return r
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

// renderFile renders one template for one site (or the fleet). content is
// the caller's own clone of sf.content (nil for verbatim files) and buf its
// scratch buffer, so that a file's content is allocated once, at its size.
// ok is false when a content template rendered to nothing but whitespace.
func (e *Engine) renderFile(sf *setFile, content *template.Template, buf *bytes.Buffer, data *Data, site string) (File, bool, error) {
	out, err := sf.outputPath(data)
	if err != nil {
		return File{}, false, templateError(err, sf.path, site, e.names)
	}
	if err := checkOutputPath(out); err != nil {
		return File{}, false, &Error{Template: sf.path, Site: site, Output: out, Err: err}
	}
	var body []byte
	if content != nil {
		buf.Reset()
		if err := content.Execute(buf, data); err != nil {
			return File{}, false, templateError(err, sf.path, site, e.names)
		}
		if len(bytes.TrimSpace(buf.Bytes())) == 0 {
			return File{}, false, nil
		}
		body = bytes.Clone(buf.Bytes())
	} else {
		// Never nil, even for an empty file: a nil Data with a Hash means
		// content known only by its hash (File.Data).
		body = append(make([]byte, 0, len(sf.raw)), sf.raw...)
	}
	return File{Path: out, Data: body, Site: site, Seed: sf.seed}, true, nil
}

// IsYAML reports whether an output path is parsed back as YAML.
func IsYAML(p string) bool {
	ext := path.Ext(p)
	return ext == ".yaml" || ext == ".yml"
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
	for rest := p; ; {
		seg, after, more := strings.Cut(rest, "/")
		switch seg {
		case "":
			return errors.New("rendered path has an empty segment")
		case ".", "..":
			return fmt.Errorf("rendered path has a %q segment", seg)
		}
		if !more {
			break
		}
		rest = after
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
