package pipeline

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/fleetgen/fleetgen/pkg/gitops"
	"github.com/fleetgen/fleetgen/pkg/policy"
	"github.com/fleetgen/fleetgen/pkg/render"
)

// CheckSizesOnDisk enforces the size bounds of docs/policies.md on a tree
// on disk, for verify DIR, which builds the overlays (whose objects the
// object-size policy checks) but never sees the fleet-level files: every
// regular file under root except .git/ and .fleetgen/ at most
// policy.MaxFileBytes (file-size), and every object of every YAML file at
// most policy.MaxObjectBytes as JSON (object-size). The root .sops.yaml is
// exempt. It returns the violations, sorted, and an error when the tree
// cannot be read.
func CheckSizesOnDisk(root string) ([]error, error) {
	var errs []error
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if d.Name() == ".git" || rel == render.ReservedDir {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || gitops.SizeExempt(rel) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if msg := policy.FileTooBig(int(info.Size())); msg != "" {
			errs = append(errs, fmt.Errorf("%s: %s: %s", policy.FileSize, rel, msg))
		}
		if ext := filepath.Ext(rel); ext != ".yaml" && ext != ".yml" {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		errs = append(errs, gitops.ObjectSizes(rel, data)...)
		return nil
	})
	if err != nil && !errors.Is(err, fs.SkipAll) {
		return nil, fmt.Errorf("checking the size bounds of %s: %w", root, err)
	}
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	return errs, nil
}
