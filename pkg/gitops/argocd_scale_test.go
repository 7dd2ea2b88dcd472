package gitops_test

import (
	"bytes"
	"sort"
	"strings"
	"testing"

	"github.com/fleetgen/fleetgen/pkg/benchfleet"
	"github.com/fleetgen/fleetgen/pkg/render"
)

// benchArgo renders the synthetic fleet of n sites (pkg/benchfleet: waves
// 0 and 1, two maintenance windows, from 12 sites on) wired for Argo CD.
func benchArgo(t *testing.T, n int) *render.Tree {
	t.Helper()
	var b bytes.Buffer
	if err := benchfleet.Inventory(&b, n); err != nil {
		t.Fatal(err)
	}
	inv := strings.Replace(b.String(), "  engine: flux\n", "  engine: argocd\n", 1)
	if inv == b.String() {
		t.Fatal("benchfleet inventory has no engine: flux line")
	}
	_, tree := renderFixture(t, "bench.yaml", []byte(inv))
	return tree
}

// TestArgoSharedFilesDoNotGrow checks the property the per-site parameter
// files exist for: every Argo CD file that names no site is byte for byte
// the same for 12 sites and for many with the same waves and windows, and
// adding a site (with an existing wave and window) creates or changes
// only that site's files.
func TestArgoSharedFilesDoNotGrow(t *testing.T) {
	const many = 400
	small, large := benchArgo(t, 12), benchArgo(t, many)
	shared := 0
	for _, f := range small.Files {
		if f.Site != "" {
			continue
		}
		g, ok := large.Lookup(f.Path)
		if !ok {
			t.Errorf("%s: written for 12 sites, not for %d", f.Path, many)
			continue
		}
		if !bytes.Equal(f.Data, g.Data) {
			t.Errorf("%s: differs between 12 and %d sites (%d and %d bytes)", f.Path, many, len(f.Data), len(g.Data))
		}
		if strings.HasPrefix(f.Path, "argocd/") {
			shared++
		}
	}
	if shared != 2 {
		t.Errorf("%d files under argocd/, want the ApplicationSet and the AppProjects", shared)
	}
	for _, f := range large.Files {
		if f.Site == "" {
			if _, ok := small.Lookup(f.Path); !ok {
				t.Errorf("%s: fleet-level file written for %d sites only", f.Path, many)
			}
		}
	}

	plus := benchArgo(t, many+1)
	newSite := benchfleet.SiteName(many)
	before := map[string][]byte{}
	for _, f := range large.Files {
		before[f.Path] = f.Data
	}
	var others []string
	params := false
	for _, f := range plus.Files {
		old, ok := before[f.Path]
		delete(before, f.Path)
		if ok && bytes.Equal(old, f.Data) {
			continue
		}
		if f.Site != newSite {
			others = append(others, f.Path)
		}
		params = params || f.Path == "overlays/"+newSite+"/argocd-site.json"
	}
	for p := range before {
		others = append(others, p+" (removed)")
	}
	sort.Strings(others)
	if len(others) > 0 {
		t.Errorf("adding site %s changed files of other sites or of the fleet:\n%s", newSite, strings.Join(others, "\n"))
	}
	if !params {
		t.Errorf("adding site %s wrote no overlays/%s/argocd-site.json", newSite, newSite)
	}
}
