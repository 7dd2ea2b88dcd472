package inventory

import (
	"fmt"
	"os"
	"sort"
)

// Helpers only tests call: production code uses the functions they wrap.

// LoadFile reads and validates the inventory at path; "-" reads standard
// input. Validation problems are returned as *ErrorList; failures to read
// the file are returned as other errors.
func LoadFile(path string) (*Inventory, error) {
	return loadFile(path, ResolveOptions{})
}

func loadFile(path string, opts ResolveOptions) (*Inventory, error) {
	if path == "-" {
		return load(stdinName, os.Stdin, maxFileSize, opts)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading inventory: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("reading inventory: %w", err)
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("reading inventory %s: is a directory", path)
	}
	if fi.Mode().IsRegular() && fi.Size() > maxFileSize {
		return nil, tooLarge(path, maxFileSize)
	}
	return load(path, f, maxFileSize, opts)
}

// CSVColumns lists the columns a CSV inventory file may have, sorted, with
// KEY standing for any key of a map field (config.KEY).
func CSVColumns() []string {
	names := csvColumnNames(csvSiteFields())
	sort.Strings(names)
	return names
}

func (ps *problems) empty() bool { return len(ps.list) == 0 }
