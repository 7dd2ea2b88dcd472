package pipeline

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fleetgen/fleetgen/pkg/benchfleet"
	"github.com/fleetgen/fleetgen/pkg/cache"
	fstree "github.com/fleetgen/fleetgen/pkg/tree"
)

// chartsFleet is a benchfleet inventory with one chart release and three
// value sets (defaults, group eu, group gpu-sites), on disk with the chart.
func chartsFleet(tb testing.TB, sites int, version string) (dir string, inv []byte) {
	tb.Helper()
	var buf bytes.Buffer
	if err := benchfleet.Inventory(&buf, sites); err != nil {
		tb.Fatal(err)
	}
	inv = chartsInventory(buf.Bytes(), version)
	dir = tb.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "charts", "edge-agent"), os.DirFS("../charts/testdata/edge-agent")); err != nil {
		tb.Fatal(err)
	}
	setChartVersion(tb, dir, version)
	// The directory is the repository: the tree is its fleet/.
	if err := os.Mkdir(filepath.Join(dir, ".git"), 0o755); err != nil {
		tb.Fatal(err)
	}
	return dir, inv
}

func chartsInventory(inv []byte, version string) []byte {
	s := string(inv)
	s = strings.Replace(s, "defaults:\n", "defaults:\n  charts:\n    edge-agent:\n      chart: charts/edge-agent\n      version: "+version+"\n      values: {replicas: 1}\n", 1)
	s = strings.Replace(s, "  - name: eu\n", "  - name: eu\n    charts: {edge-agent: {values: {replicas: 2}}}\n", 1)
	s = strings.Replace(s, "  - name: gpu-sites\n", "  - name: gpu-sites\n    charts: {edge-agent: {values: {replicas: 3, logLevel: debug}}}\n", 1)
	return []byte(s)
}

func setChartVersion(tb testing.TB, dir, version string) {
	tb.Helper()
	p := filepath.Join(dir, "charts", "edge-agent", "Chart.yaml")
	data, err := os.ReadFile(p)
	if err != nil {
		tb.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "version: ") {
			lines[i] = "version: " + version
		}
	}
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// generateCharts runs generate on dir/fleet as the CLI does (incremental,
// with the verification cache) and returns how many sites it verified.
func generateCharts(tb testing.TB, dir string, inv []byte, c *cache.Dir) int {
	tb.Helper()
	invPath := filepath.Join(dir, "inventory.yaml")
	if err := os.WriteFile(invPath, inv, 0o644); err != nil {
		tb.Fatal(err)
	}
	out := filepath.Join(dir, "fleet")
	res, err := Run(context.Background(), Options{
		Inventories: []string{invPath}, Output: out, Incremental: true, Cache: c, CacheSalt: "salt", DropObjects: true,
	})
	if err != nil {
		tb.Fatal(err)
	}
	if !res.Report.OK() {
		tb.Fatal(reportErr(res.Report))
	}
	plan, err := fstree.MakePlan(out, res.Tree, fstree.PlanOptions{Stats: res.Stats})
	if err != nil {
		tb.Fatal(err)
	}
	if err := fstree.Apply(context.Background(), plan); err != nil {
		tb.Fatal(err)
	}
	if err := res.SaveIndex(); err != nil {
		tb.Fatal(err)
	}
	return len(res.Report.Results) - len(res.Reused)
}

// BenchmarkCharts generates a fleet whose sites run one chart with three
// value sets (FLEETGEN_BENCH_SITES sites, default 1,000; make bench sets
// it to BENCH_SITES), then measures, each in a tree left by the step
// before: a cold generate, a one-site values edit, and a chart version
// bump. Run it alone, with -benchtime=1x.
func BenchmarkCharts(b *testing.B) {
	sites := 1000
	if v, err := strconv.Atoi(os.Getenv("FLEETGEN_BENCH_SITES")); err == nil && v > 0 {
		sites = v
	}
	for b.Loop() {
		b.StopTimer()
		dir, inv := chartsFleet(b, sites, "0.3.1")
		c, err := cache.Open(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		step := func(name string, inv []byte) {
			start := time.Now()
			n := generateCharts(b, dir, inv, c)
			b.ReportMetric(time.Since(start).Seconds(), name+"-s")
			b.ReportMetric(float64(n), name+"-verified")
		}
		step("cold", inv)
		renders, _ := os.ReadDir(filepath.Join(dir, "fleet", ChartsDir))
		b.ReportMetric(float64(len(renders)), "renders")
		edited := benchfleet.EditSite(inv, 7, 1)
		edited = bytes.Replace(edited, []byte("  - name: "+benchfleet.SiteName(7)+"\n"),
			[]byte("  - name: "+benchfleet.SiteName(7)+"\n    charts: {edge-agent: {values: {siteID: \"007\"}}}\n"), 1)
		step("site-values-edit", edited)
		setChartVersion(b, dir, "0.3.2")
		step("version-bump", bytes.Replace(edited, []byte("version: 0.3.1"), []byte("version: 0.3.2"), 1))
	}
}

// The benchmark's fleet is right: three renders for three value sets, and
// a one-site values edit adds a fourth render and verifies only that site.
func TestChartsBenchFleet(t *testing.T) {
	dir, inv := chartsFleet(t, 40, "0.3.1")
	c, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if n := generateCharts(t, dir, inv, c); n != 40 {
		t.Errorf("cold run verified %d sites, want 40", n)
	}
	renders, _ := os.ReadDir(filepath.Join(dir, "fleet", ChartsDir))
	if len(renders) != 3 {
		t.Errorf("%d renders, want 3", len(renders))
	}
	edited := bytes.Replace(inv, []byte("  - name: "+benchfleet.SiteName(7)+"\n"),
		[]byte("  - name: "+benchfleet.SiteName(7)+"\n    charts: {edge-agent: {values: {siteID: \"007\"}}}\n"), 1)
	if n := generateCharts(t, dir, edited, c); n != 1 {
		t.Errorf("a one-site values edit verified %d sites, want 1", n)
	}
	setChartVersion(t, dir, "0.3.2")
	if n := generateCharts(t, dir, bytes.Replace(edited, []byte("version: 0.3.1"), []byte("version: 0.3.2"), 1), c); n != 40 {
		t.Errorf("a version bump verified %d sites, want 40", n)
	}
}
