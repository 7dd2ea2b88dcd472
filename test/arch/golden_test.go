package arch

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// updateFlag matches the definition of the -update flag in a test file.
var updateFlag = regexp.MustCompile(`flag\.Bool\("update",`)

// TestGoldenPackages checks that GOLDEN_PKGS in the Makefile (what make
// golden runs with -update, and what the README points to) names exactly
// the packages whose tests define the -update flag: go test with -update
// fails in a package that does not define it.
func TestGoldenPackages(t *testing.T) {
	root := moduleRoot(t)
	mk, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^GOLDEN_PKGS\s*:?=\s*(.*)$`).FindSubmatch(mk)
	if m == nil {
		t.Fatal("Makefile: no GOLDEN_PKGS line")
	}
	var listed []string
	for _, p := range strings.Fields(string(m[1])) {
		listed = append(listed, strings.TrimPrefix(p, "./"))
	}
	sort.Strings(listed)

	var defined []string
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (d.Name() == "testdata" || d.Name() == "bin" || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if updateFlag.Match(data) {
			rel, err := filepath.Rel(root, filepath.Dir(path))
			if err != nil {
				return err
			}
			defined = append(defined, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(defined)
	defined = slices.Compact(defined)
	if !slices.Equal(listed, defined) {
		t.Errorf("Makefile GOLDEN_PKGS lists %v;\npackages whose tests define -update: %v", listed, defined)
	}
}
