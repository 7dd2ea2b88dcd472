package verify

import (
	"path/filepath"
	"slices"
	"strings"

	"github.com/fleetgen/fleetgen/pkg/k3s"
	"github.com/fleetgen/fleetgen/pkg/policy"
)

// checkBootstrap checks the site's K3s bootstrap bundle, bootstrap/<site>/,
// when the tree has one (k3s.Check): its config files against the K3s flag
// table, its datastore, its kubelet reserve against the capacity policy's,
// and its node labels against the built objects' node selectors. The reads
// go through the guarded file system, so the verification cache and the
// index see them.
func checkBootstrap(opts Options, t Target, objs []policy.Object, rec *recorder) ([]policy.Finding, error) {
	g, err := newGuardedFS(opts.FS, opts.Root)
	if err != nil {
		return nil, err
	}
	g.rec = rec
	dir := filepath.Join(g.lexRoot, k3s.BundleDir, t.Site)
	if !g.IsDir(dir) {
		return nil, g.err()
	}
	names, err := g.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	files := map[string][]byte{}
	read := func(dir, prefix string, names []string) error {
		for _, n := range names {
			p := filepath.Join(dir, n)
			if !strings.HasSuffix(n, ".yaml") || g.IsDir(p) {
				continue
			}
			data, err := g.ReadFile(p)
			if err != nil {
				return err
			}
			files[prefix+n] = data
		}
		return nil
	}
	if err := read(dir, "", names); err != nil {
		return nil, err
	}
	if m := filepath.Join(dir, k3s.ManifestsDir); g.IsDir(m) {
		sub, err := g.ReadDir(m)
		if err != nil {
			return nil, err
		}
		slices.Sort(sub)
		if err := read(m, k3s.ManifestsDir+"/", sub); err != nil {
			return nil, err
		}
	}
	if err := g.err(); err != nil {
		return nil, err
	}
	return k3s.Check(t.Site, files, objs, siteFacts(t)), nil
}
