package cli

import (
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/fleetgen/fleetgen/pkg/jsonschema"
	"github.com/fleetgen/fleetgen/templates"
)

// starterInventory is what `fleetgen init` writes as inventory.yaml.
//
//go:embed starter/inventory.yaml
var starterInventory []byte

// InitOptions are the inputs of `fleetgen init`.
type InitOptions struct {
	IO             IOStreams
	Dir            string
	EjectTemplates bool
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

init never overwrites: if any file it would write exists, it names it,
writes nothing and exits 2.`,
		Example: `  # Start a fleet repository in the current directory
  fleetgen init
  fleetgen generate -i inventory.yaml -o fleet/

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
	return cmd
}

// initFile is one file init writes, relative to DIR.
type initFile struct {
	path string // slash-separated
	data []byte
}

func initFiles(eject bool) ([]initFile, error) {
	schema, err := jsonschema.JSON()
	if err != nil {
		return nil, err
	}
	files := []initFile{{"inventory.yaml", starterInventory}, {"inventory.schema.json", schema}}
	if !eject {
		return files, nil
	}
	set := templates.FS()
	err = fs.WalkDir(set, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(set, p)
		if err != nil {
			return err
		}
		files = append(files, initFile{path.Join("templates", p), data})
		return nil
	})
	return files, err
}

func initRun(o *InitOptions) error {
	files, err := initFiles(o.EjectTemplates)
	if err != nil {
		return err
	}
	if st, err := os.Stat(o.Dir); err == nil && !st.IsDir() {
		return usageError(fmt.Errorf("%s: not a directory", o.Dir))
	}
	// Check everything first: an existing file means nothing is written.
	for _, f := range files {
		p := filepath.Join(o.Dir, filepath.FromSlash(f.path))
		if _, err := os.Lstat(p); err == nil {
			return usageError(fmt.Errorf("%s already exists; init writes nothing over existing files (move it away or init another directory)", p))
		} else if !errors.Is(err, fs.ErrNotExist) {
			return usageError(err)
		}
	}
	for _, f := range files {
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
	fmt.Fprintf(o.IO.Out, "created %s\n", inv)
	fmt.Fprintf(o.IO.Out, "created %s (the inventory's JSON Schema, for editor completion)\n", filepath.Join(o.Dir, "inventory.schema.json"))
	gen := fmt.Sprintf("fleetgen generate -i %s -o %s", inv, filepath.Join(o.Dir, "fleet"))
	if o.EjectTemplates {
		tdir := filepath.Join(o.Dir, "templates")
		fmt.Fprintf(o.IO.Out, "created %s/ (%d files of the default template set)\n", tdir, len(files)-2)
		gen += " --templates " + tdir
	}
	fmt.Fprintf(o.IO.Out, "next: edit %s, then run\n  %s\n", inv, gen)
	return nil
}
