package arch

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/fleetgen/fleetgen"

// allowed lists, for every package of the module, the packages of the
// module its non-test files may import, by path relative to the module
// root. It is the source of truth for the layering that
// docs/architecture.md draws: a package only imports packages of the same
// or a lower layer, and only those named here. A package missing from the
// table fails the test, so a new package gets its line when it is added.
//
// Layers, lowest first: leaves (no fleetgen imports); model; render;
// checks; incremental state; disk; run (pkg/pipeline); face (pkg/cli,
// cmd/fleetgen); tools (cmd/fleetbench).
var allowed = map[string][]string{
	// leaves: small jobs every layer may use
	"pkg/suggest":                     nil,
	"pkg/secretlike":                  nil,
	"pkg/cache":                       nil,
	"pkg/treefs":                      nil,
	"pkg/benchfleet":                  nil,
	"pkg/schema/internal/markers":     nil,
	"pkg/schema/internal/markers/gen": {"pkg/schema/internal/markers"},
	"templates":                       nil,
	"pkg/charts/chartref":             nil,

	// model: the inventory and what reads it
	"pkg/inventory":  {"pkg/charts/chartref", "pkg/secretlike", "pkg/suggest"},
	"pkg/selector":   {"pkg/inventory", "pkg/suggest"},
	"pkg/jsonschema": {"pkg/inventory"},

	// render: templates to an in-memory tree
	"pkg/render": {"pkg/inventory"},
	"pkg/charts": {"pkg/charts/chartref"},

	// checks: schema, policies, krusty builds, GitOps wiring, report
	"pkg/schema": {"pkg/suggest"},
	"pkg/policy": {"pkg/secretlike"},
	"pkg/verify": {"pkg/cache", "pkg/policy", "pkg/schema", "pkg/k3s"},
	"pkg/gitops": {"pkg/render", "pkg/schema", "pkg/policy"},
	"pkg/k3s":    {"pkg/inventory", "pkg/gitops", "pkg/policy", "pkg/schema", "pkg/suggest"},
	"pkg/report": {"pkg/verify"},

	// incremental state: what changed since the last run looked (change
	// detection) and what it concluded (the index)
	"pkg/changes": nil,
	"pkg/index":   {"pkg/cache"},

	// disk: planning and writing a rendered tree safely, skipping through
	// change detection the files that cannot have changed
	"pkg/tree": {"pkg/changes", "pkg/render"},

	// run: one pipeline over everything below
	"pkg/pipeline": {
		"pkg/cache", "pkg/changes", "pkg/charts", "pkg/charts/chartref", "pkg/gitops", "pkg/index", "pkg/inventory", "pkg/k3s",
		"pkg/policy", "pkg/render", "pkg/schema", "pkg/selector", "pkg/tree",
		"pkg/treefs", "pkg/verify", "templates",
	},

	// face: commands map flags to options and call the pipeline
	"pkg/cli": {
		"pkg/pipeline", "pkg/inventory", "pkg/report", "pkg/selector",
		"pkg/jsonschema", "pkg/suggest",
	},
	"cmd/fleetgen": {"pkg/cli"},

	// tools: the fleet benchmark reads the cache entries and index a run
	// wrote to count the overlays it built
	"cmd/fleetbench": {"pkg/benchfleet", "pkg/gitops", "pkg/index", "pkg/verify", "templates"},

	// tests of the repository as a whole
	"test/e2e":    nil,
	"test/arch":   nil,
	"test/accept": nil,
}

// exceptions are imports the layering forbids and the code still has. Each
// is a known debt with its reason; the test fails on any import that is
// neither allowed nor listed here, and on an exception the code no longer
// needs (delete its line). There are none.
var exceptions = map[string][]string{}

// moduleRoot is the directory holding go.mod, above this package.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

// moduleImports returns, for every directory of the module holding
// non-test Go files, the module packages those files import (relative to
// the module root). Test files may import across layers (a test of
// pkg/gitops renders through pkg/pipeline); build constraints are ignored,
// so every file counts.
func moduleImports(t *testing.T, root string) map[string]map[string]bool {
	t.Helper()
	pkgs := map[string]map[string]bool{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (name == "testdata" || name == "bin" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		rel, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		if pkgs[rel] == nil {
			pkgs[rel] = map[string]bool{}
		}
		for _, spec := range f.Imports {
			p, err := strconv.Unquote(spec.Path.Value)
			if err != nil {
				return err
			}
			if p == module {
				pkgs[rel]["."] = true
			} else if strings.HasPrefix(p, module+"/") {
				pkgs[rel][strings.TrimPrefix(p, module+"/")] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

// TestImportRules checks every import between the module's packages
// against allowed and exceptions.
func TestImportRules(t *testing.T) {
	pkgs := moduleImports(t, moduleRoot(t))
	if len(pkgs) < 10 {
		t.Fatalf("found only %d packages; is the module root right?", len(pkgs))
	}
	names := make([]string, 0, len(pkgs))
	for p := range pkgs {
		names = append(names, p)
	}
	sort.Strings(names)
	for _, p := range names {
		rules, known := allowed[p]
		if !known {
			t.Errorf("%s: not in the rule table of test/arch/imports_test.go: add it to its layer (and to docs/architecture.md)", p)
			continue
		}
		used := map[string]bool{}
		for imp := range pkgs[p] {
			switch {
			case slices.Contains(rules, imp):
			case slices.Contains(exceptions[p], imp):
				used[imp] = true
			default:
				t.Errorf("%s imports %s, which the import rules do not allow (test/arch/imports_test.go, docs/architecture.md)", p, imp)
			}
		}
		for _, exc := range exceptions[p] {
			if !used[exc] {
				t.Errorf("%s no longer imports %s: delete the exception from test/arch/imports_test.go and docs/architecture.md", p, exc)
			}
		}
	}
	for p := range exceptions {
		if _, ok := pkgs[p]; !ok {
			t.Errorf("exception for %s, which has no Go files", p)
		}
	}
}

// TestRuleTable checks the table itself: every package a rule names is in
// the table, no package may import itself, and an exception is not also
// allowed.
func TestRuleTable(t *testing.T) {
	for p, rules := range allowed {
		for _, r := range rules {
			if _, ok := allowed[r]; !ok {
				t.Errorf("allowed[%q] names %q, which has no line of its own", p, r)
			}
			if r == p {
				t.Errorf("allowed[%q] names itself", p)
			}
		}
	}
	for p, excs := range exceptions {
		for _, e := range excs {
			if slices.Contains(allowed[p], e) {
				t.Errorf("%s: %s is both allowed and an exception", p, e)
			}
		}
	}
}
