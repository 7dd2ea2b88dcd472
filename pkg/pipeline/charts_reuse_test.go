package pipeline

import (
	"bytes"
	"context"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetgen/fleetgen/pkg/benchfleet"
	"github.com/fleetgen/fleetgen/pkg/cache"
)

// After a one-site values edit in a fleet with charts, only that site's
// templates run: the other sites' rendered files come from the index by
// hash, although the pipeline adds chart files to every site after the
// render.
func TestChartsRenderReuse(t *testing.T) {
	dir, inv := chartsFleet(t, 8, "0.3.1")
	c, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	generateCharts(t, dir, inv, c)
	edited := benchfleet.SiteName(5)
	inv = bytes.Replace(inv, []byte("  - name: "+edited+"\n"),
		[]byte("  - name: "+edited+"\n    charts: {edge-agent: {values: {siteID: \"005\"}}}\n"), 1)
	invPath := filepath.Join(dir, "inventory.yaml")
	if err := os.WriteFile(invPath, inv, 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), Options{
		Inventories: []string{invPath}, Output: filepath.Join(dir, "fleet"), Incremental: true, Cache: c, CacheSalt: "salt", DropObjects: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Report.OK() {
		t.Fatal(reportErr(res.Report))
	}
	checked := 0
	for _, f := range res.Tree.Files {
		if f.Site == "" || f.Site == edited || strings.HasPrefix(f.Path, path.Join("overlays", f.Site, chartComponentDir)+"/") || f.Path == factsPath(f.Site) {
			continue
		}
		checked++
		if f.Data != nil {
			t.Errorf("%s (site %q): rendered again, want it from the index", f.Path, f.Site)
		}
	}
	if checked == 0 {
		t.Fatal("no per-site template file to check")
	}
}
