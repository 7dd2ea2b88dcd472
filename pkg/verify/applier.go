package verify

import (
	"fmt"
	"path/filepath"

	"github.com/fleetgen/fleetgen/pkg/policy"
)

// ApplierPath returns the slash-separated path, from the tree root, of a
// site's least-privilege applier: the service account its GitOps engine
// applies the overlay as, and that account's roles.
func ApplierPath(site string) string { return "clusters/" + site + "/applier.yaml" }

// checkApplier checks the site's applier file, when the tree has one,
// against the built objects (policy.ApplierCoverage): its roles must allow
// every built object and nothing more. The read goes through the guarded
// file system, so the verification cache and the index see it.
func checkApplier(opts Options, t Target, objs []policy.Object, rec *recorder) ([]policy.Finding, error) {
	g, err := newGuardedFS(opts.FS, opts.Root)
	if err != nil {
		return nil, err
	}
	g.rec = rec
	p := filepath.Join(g.lexRoot, filepath.FromSlash(ApplierPath(t.Site)))
	if !g.Exists(p) {
		return nil, g.err()
	}
	data, err := g.ReadFile(p)
	if err != nil {
		return nil, err
	}
	if err := g.err(); err != nil {
		return nil, err
	}
	applier, err := policy.DecodeObjects(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ApplierPath(t.Site), err)
	}
	return policy.ApplierCoverage(t.Site, objs, applier), nil
}
