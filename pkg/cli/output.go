package cli

import (
	"fmt"
	"os"
	"path/filepath"
)

// refuseNestedTree refuses an output directory inside an existing fleetgen
// tree (an ancestor directory holds .fleetgen/): running `generate -i
// ../inventory.yaml -o fleet` from inside the tree fleet/ would otherwise
// plan a second tree fleet/fleet. The tree itself (-o . from inside it) is
// fine, and so is an output directory that already is a tree.
func refuseNestedTree(output string) error {
	abs, err := filepath.Abs(output)
	if err != nil || isDir(filepath.Join(abs, stateDir)) {
		return nil // ValidateRoot reports a bad path
	}
	for dir := filepath.Dir(abs); ; dir = filepath.Dir(dir) {
		if isDir(filepath.Join(dir, stateDir)) {
			where, use := "in "+dir, dir
			if wd, err := os.Getwd(); err == nil {
				if rel, err := filepath.Rel(wd, dir); err == nil {
					where, use = "in "+rel, rel
					if rel == "." {
						where = "in the current directory"
					}
				}
			}
			return usageError(fmt.Errorf("-o %s is inside the fleet tree %s (it has %s/): this would write a second tree nested in it; to regenerate that tree, use -o %s", output, where, stateDir, use))
		}
		if filepath.Dir(dir) == dir {
			return nil
		}
	}
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
