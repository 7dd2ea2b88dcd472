package pipeline

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"

	"github.com/fleetgen/fleetgen/pkg/tree"
)

// RetiredSite is a site that left the inventory, whose overlay directory
// keeps entries the plan does not delete: the user's own files, its local/
// Component above all.
type RetiredSite struct {
	Site string
	// Kept are the top-level entries of overlays/<site>/ that stay, a
	// directory with a trailing slash.
	Kept []string
}

// retiredSites returns the sites whose overlay kustomization the plan
// deletes (sites that left the inventory) and that keep entries in their
// overlay directory under out.
func retiredSites(out string, p *tree.Plan) []RetiredSite {
	var sites []string
	for _, c := range p.Changes {
		if c.Action == tree.Delete && c.Site != "" && c.Path == path.Join("overlays", c.Site, "kustomization.yaml") {
			sites = append(sites, c.Site)
		}
	}
	sort.Strings(sites)
	var retired []RetiredSite
	for _, site := range sites {
		if kept := keptEntries(out, site, p); len(kept) > 0 {
			retired = append(retired, RetiredSite{Site: site, Kept: kept})
		}
	}
	return retired
}

// keptEntries returns the top-level entries of overlays/<site>/ under out
// that the plan does not delete: what a retired site leaves behind, its
// local/ Component above all. A directory is kept when any file beneath
// it is.
func keptEntries(out, site string, p *tree.Plan) []string {
	deleted := map[string]bool{}
	for _, c := range p.Changes {
		if c.Action == tree.Delete {
			deleted[c.Path] = true
		}
	}
	dir := filepath.Join(out, "overlays", site)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var kept []string
	for _, e := range entries {
		rel := path.Join("overlays", site, e.Name())
		if !e.IsDir() {
			if !deleted[rel] {
				kept = append(kept, e.Name())
			}
			continue
		}
		keep := false
		_ = filepath.WalkDir(filepath.Join(dir, e.Name()), func(p string, d fs.DirEntry, err error) error {
			if err != nil || keep {
				return filepath.SkipAll
			}
			if d.IsDir() {
				return nil
			}
			r, rerr := filepath.Rel(out, p)
			if rerr != nil || !deleted[filepath.ToSlash(r)] {
				keep = true
				return filepath.SkipAll
			}
			return nil
		})
		if keep {
			kept = append(kept, e.Name()+"/")
		}
	}
	return kept
}
