package verify

import (
	"errors"
	"path/filepath"

	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// Helpers only tests call: production code uses the functions they wrap.

// Err joins the errors of every failed site, or returns nil.
func (r *Report) Err() error {
	var errs []error
	for _, res := range r.Failed() {
		errs = append(errs, res.Err)
	}
	return errors.Join(errs...)
}

// Build builds the overlay in dir with KustomizeOptions. Every file is
// checked as it is read (size limit, YAML alias expansion, no remote
// references) and nothing is written. Build does not confine reads to a
// tree; BuildWithin does.
func Build(fsys filesys.FileSystem, dir string) (resmap.ResMap, error) {
	return BuildWithin(fsys, string(filepath.Separator), dir)
}

// BuildWithin is Build with every read confined to root (after symbolic
// links are followed, on disk). dir may be relative to root.
func BuildWithin(fsys filesys.FileSystem, root, dir string) (resmap.ResMap, error) {
	return buildGated(fsys, root, dir, nil, nil)
}
