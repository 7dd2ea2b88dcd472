package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// NewCmdDocs builds the hidden `fleetgen docs DIR`, which writes the
// command reference (one markdown file per command) into DIR. `make docs`
// runs it for docs/reference.
func NewCmdDocs(streams IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:    "docs DIR",
		Short:  "Write the command reference as markdown into DIR",
		Hidden: true,
		Args:   exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := WriteReference(args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(streams.Out, "wrote %d files to %s\n", n, args[0])
			return nil
		},
	}
}

// WriteReference writes the markdown reference of every command into dir,
// deterministically (no generation date), removing reference files of
// commands that no longer exist. It returns the number of files written.
func WriteReference(dir string) (int, error) {
	files, err := ReferenceFiles()
	if err != nil {
		return 0, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	old, err := filepath.Glob(filepath.Join(dir, "fleetgen*.md"))
	if err != nil {
		return 0, err
	}
	for _, p := range old {
		if _, keep := files[filepath.Base(p)]; !keep {
			if err := os.Remove(p); err != nil {
				return 0, err
			}
		}
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return 0, err
		}
	}
	return len(files), nil
}

// ReferenceFiles renders the markdown reference, file name to content.
func ReferenceFiles() (map[string][]byte, error) {
	root := NewRootCmd(IOStreams{In: strings.NewReader(""), Out: discard{}, ErrOut: discard{}})
	root.DisableAutoGenTag = true
	files := map[string][]byte{}
	var walk func(c *cobra.Command) error
	walk = func(c *cobra.Command) error {
		if !c.IsAvailableCommand() && c != root {
			return nil
		}
		c.DisableAutoGenTag = true
		var b strings.Builder
		if err := doc.GenMarkdownCustom(c, &b, func(s string) string { return s }); err != nil {
			return err
		}
		name := strings.ReplaceAll(c.CommandPath(), " ", "_") + ".md"
		files[name] = []byte(b.String())
		for _, sub := range c.Commands() {
			if err := walk(sub); err != nil {
				return err
			}
		}
		return nil
	}
	return files, walk(root)
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
