package pipeline

import (
	"bytes"
	"context"
	"testing"

	"github.com/fleetgen/fleetgen/pkg/benchfleet"
)

// DropObjects keeps the verdicts and leaves the built manifests out; without
// it every result carries its manifests.
func TestDropObjects(t *testing.T) {
	var inv bytes.Buffer
	if err := benchfleet.Inventory(&inv, 3); err != nil {
		t.Fatal(err)
	}
	for _, drop := range []bool{false, true} {
		res, err := Run(context.Background(), Options{Inventory: "bench.yaml", InventoryData: inv.Bytes(), DropObjects: drop})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Report.OK() || len(res.Report.Results) != 3 {
			t.Fatalf("drop=%v: %v, %d results", drop, reportErr(res.Report), len(res.Report.Results))
		}
		for _, r := range res.Report.Results {
			if got := r.Objects != nil; got == drop {
				t.Errorf("drop=%v: site %s has objects: %v", drop, r.Site, got)
			}
		}
	}
}
