package pipeline

import (
	"bytes"
	"context"
	"runtime"
	"testing"

	"github.com/fleetgen/fleetgen/pkg/benchfleet"
)

func benchInventory(b *testing.B, n int) []byte {
	b.Helper()
	var buf bytes.Buffer
	if err := benchfleet.Inventory(&buf, n); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkRender1000 loads and renders a 1,000-site fleet.
func BenchmarkRender1000(b *testing.B) {
	inv := benchInventory(b, 1000)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Render(Options{Inventory: "bench.yaml", InventoryData: inv}); err != nil {
			b.Fatal(err)
		}
	}
}

func benchVerify(b *testing.B, sites, workers int) {
	inv := benchInventory(b, sites)
	fleet, tree, err := Render(Options{Inventory: "bench.yaml", InventoryData: inv})
	if err != nil {
		b.Fatal(err)
	}
	fsys, err := MemFS(tree, "")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rep, err := verifyMem(context.Background(), fleet, fsys, workers)
		if err != nil {
			b.Fatal(err)
		}
		if !rep.OK() {
			b.Fatal(reportErr(rep))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*sites), "ns/overlay")
}

// BenchmarkVerifyOverlay verifies 50 overlays one at a time.
func BenchmarkVerifyOverlay(b *testing.B) { benchVerify(b, 50, 1) }

// BenchmarkVerifyParallel verifies 50 overlays with GOMAXPROCS workers.
func BenchmarkVerifyParallel(b *testing.B) { benchVerify(b, 50, runtime.GOMAXPROCS(0)) }
