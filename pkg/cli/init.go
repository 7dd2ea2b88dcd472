package cli

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fleetgen/fleetgen/pkg/jsonschema"
	"github.com/fleetgen/fleetgen/pkg/pipeline"
)

// starterInventory is what `fleetgen init` writes as inventory.yaml.
//
//go:embed starter/inventory.yaml
var starterInventory []byte

// starterPreCommit is what `fleetgen init` writes as .pre-commit-config.yaml:
// the local recipe of docs/pre-commit.md.
//
//go:embed starter/pre-commit-config.yaml
var starterPreCommit []byte

// starterGitignore is what `fleetgen init` writes as .gitignore.
//
//go:embed starter/gitignore
var starterGitignore []byte

// preCommitArgs is the check hook's argument line in starterPreCommit;
// with --eject-templates init adds the template set to it.
const preCommitArgs = "args: [-i, inventory.yaml, -o, fleet]"

// InitOptions are the inputs of `fleetgen init`.
type InitOptions struct {
	IO             IOStreams
	Dir            string
	EjectTemplates bool
	// Chart is a chart directory or .tgz to add as a release under
	// defaults.charts; "" for none.
	Chart string
}

// NewCmdInit builds `fleetgen init`.
func NewCmdInit(streams IOStreams, runF func(*InitOptions) error) *cobra.Command {
	opts := &InitOptions{IO: streams}
	cmd := &cobra.Command{
		Use:   "init [DIR]",
		Short: "Write a starter inventory.yaml (and, with --eject-templates, the default templates) into DIR",
		Long: `init writes a commented starter inventory.yaml into DIR (default: the current
directory): a few stores and factories, two groups, ready for
'fleetgen generate'; and inventory.schema.json, the inventory's JSON Schema,
which the inventory's yaml-language-server line points editors at.

--eject-templates also copies the embedded default template set into
DIR/templates/, to customise and use with --templates DIR/templates.

It also writes .gitignore (the tree's lock, journal and temporary files,
which are never committed) and .pre-commit-config.yaml (a pre-commit hook
running the installed 'fleetgen check' on every commit, offline; enable it
with 'pre-commit install'; see docs/pre-commit.md).

init never overwrites: if inventory.yaml, inventory.schema.json or a
template file exists, it names it, writes nothing and exits 2. An existing
.gitignore or .pre-commit-config.yaml is kept as it is, and init says what
to add to it.`,
		Example: `  # Start a fleet repository in the current directory
  fleetgen init
  fleetgen generate -i inventory.yaml -o fleet/

  # Start one with a Helm chart of the repository as a release of every site
  fleetgen init --chart charts/edge-agent

  # Start one in fleet-repo/, with a copy of the templates to customise
  fleetgen init fleet-repo --eject-templates
  fleetgen generate -i fleet-repo/inventory.yaml --templates fleet-repo/templates -o fleet-repo/fleet`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usageError(fmt.Errorf("accepts at most one directory, received %d\nSee '%s --help'", len(args), cmd.CommandPath()))
			}
			return nil
		},
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return nil, cobra.ShellCompDirectiveFilterDirs
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Dir = "."
			if len(args) == 1 {
				opts.Dir = args[0]
			}
			if runF != nil {
				return runF(opts)
			}
			return initRun(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.EjectTemplates, "eject-templates", false, "also copy the embedded default template set into DIR/templates/")
	cmd.Flags().StringVar(&opts.Chart, "chart", "", "also add this Helm chart (a directory or .tgz) as a release under defaults.charts (see docs/charts.md)")
	return cmd
}

// initFile is one file init writes, relative to DIR.
type initFile struct {
	path string // slash-separated
	data []byte
	// what describes the file in init's output.
	what string
	// keep: an existing file is kept (and init says what to add to it)
	// rather than stopping init.
	keep bool
}

func initFiles(eject bool) ([]initFile, error) {
	schema, err := jsonschema.JSON()
	if err != nil {
		return nil, err
	}
	preCommit := starterPreCommit
	if eject {
		preCommit = bytes.Replace(preCommit, []byte(preCommitArgs), []byte("args: [-i, inventory.yaml, --templates, templates, -o, fleet]"), 1)
	}
	files := []initFile{
		{path: "inventory.yaml", data: starterInventory},
		{path: "inventory.schema.json", data: schema, what: "the inventory's JSON Schema, for editor completion"},
		{path: ".gitignore", data: starterGitignore, what: "keeps the tree's lock and temporary files out of git", keep: true},
		{path: ".pre-commit-config.yaml", data: preCommit, what: "runs fleetgen check on every commit; enable with: pre-commit install", keep: true},
	}
	if !eject {
		return files, nil
	}
	set := pipeline.TemplateSet()
	err = fs.WalkDir(set, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(set, p)
		if err != nil {
			return err
		}
		files = append(files, initFile{path: path.Join("templates", p), data: data})
		return nil
	})
	return files, err
}

func initRun(o *InitOptions) error {
	files, err := initFiles(o.EjectTemplates)
	if err != nil {
		return err
	}
	if o.Chart != "" {
		if files[0].data, err = withChart(files[0].data, o.Dir, o.Chart); err != nil {
			return err
		}
	}
	if st, err := os.Stat(o.Dir); err == nil && !st.IsDir() {
		return usageError(fmt.Errorf("%s: not a directory", o.Dir))
	}
	// Check everything first: an existing file means nothing is written,
	// except the repository files (.gitignore, .pre-commit-config.yaml)
	// that a repository may already have: those are kept as they are.
	var kept []initFile
	write := files[:0:0]
	for _, f := range files {
		p := filepath.Join(o.Dir, filepath.FromSlash(f.path))
		if _, err := os.Lstat(p); err == nil {
			if f.keep {
				kept = append(kept, f)
				continue
			}
			return usageError(fmt.Errorf("%s already exists; init writes nothing over existing files (move it away or init another directory)", p))
		} else if !errors.Is(err, fs.ErrNotExist) {
			return usageError(err)
		}
		write = append(write, f)
	}
	for _, f := range write {
		p := filepath.Join(o.Dir, filepath.FromSlash(f.path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		out, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return err
		}
		if _, err := out.Write(f.data); err != nil {
			out.Close()
			return err
		}
		if err := out.Close(); err != nil {
			return err
		}
	}
	inv := filepath.Join(o.Dir, "inventory.yaml")
	templateFiles := 0
	for _, f := range write {
		if strings.HasPrefix(f.path, "templates/") {
			templateFiles++
			continue
		}
		p := filepath.Join(o.Dir, filepath.FromSlash(f.path))
		if f.what != "" {
			fmt.Fprintf(o.IO.Out, "created %s (%s)\n", p, f.what)
		} else {
			fmt.Fprintf(o.IO.Out, "created %s\n", p)
		}
	}
	for _, f := range kept {
		p := filepath.Join(o.Dir, filepath.FromSlash(f.path))
		fmt.Fprintf(o.IO.ErrOut, "kept %s as it is (init never overwrites a file); what init would have written, to merge by hand:\n%s", p, indent(string(f.data), "    "))
	}
	gen := fmt.Sprintf("fleetgen generate -i %s -o %s", inv, filepath.Join(o.Dir, "fleet"))
	if o.EjectTemplates {
		tdir := filepath.Join(o.Dir, "templates")
		fmt.Fprintf(o.IO.Out, "created %s/ (%d files of the default template set)\n", tdir, templateFiles)
		gen += " --templates " + tdir
	}
	fmt.Fprintf(o.IO.Out, "next: edit %s, then run\n  %s\n", inv, gen)
	return nil
}
