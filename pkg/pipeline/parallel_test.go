package pipeline

import (
	"bytes"
	"context"
	"testing"

	"github.com/fleetgen/fleetgen/pkg/benchfleet"
)

// Parallel verification gives exactly the sequential results. The fleet
// mixes patches, components, generators and image overrides; run under
// -race (make test-race) this is also the data-race check of the pool.
func TestParallelEqualsSequential(t *testing.T) {
	var inv bytes.Buffer
	if err := benchfleet.Inventory(&inv, 20); err != nil {
		t.Fatal(err)
	}
	fleet, tree, err := Render(Options{Inventory: "bench.yaml", InventoryData: inv.Bytes()})
	if err != nil {
		t.Fatal(err)
	}
	fsys, err := MemFS(tree, "")
	if err != nil {
		t.Fatal(err)
	}
	seq, err := verifyMem(context.Background(), fleet, fsys, 1)
	if err != nil || !seq.OK() {
		t.Fatalf("sequential: %v %v", err, reportErr(seq))
	}
	for _, w := range []int{2, 4, 8} {
		par, err := verifyMem(context.Background(), fleet, fsys, w)
		if err != nil || !par.OK() {
			t.Fatalf("%d workers: %v %v", w, err, reportErr(par))
		}
		for i := range seq.Results {
			if par.Results[i].Site != seq.Results[i].Site || !bytes.Equal(par.Results[i].Objects, seq.Results[i].Objects) {
				t.Fatalf("%d workers: site %s differs from the sequential build", w, seq.Results[i].Site)
			}
		}
	}
}
