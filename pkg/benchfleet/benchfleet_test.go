package benchfleet

import (
	"bytes"
	"strings"
	"testing"
)

func TestInventoryDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	if err := Inventory(&a, 20); err != nil {
		t.Fatal(err)
	}
	Inventory(&b, 20)
	if a.String() != b.String() {
		t.Fatal("two inventories of 20 sites differ")
	}
	if n := strings.Count(a.String(), "  - name: store-"); n != 20 {
		t.Fatalf("%d sites, want 20", n)
	}
	edited := EditSite(a.Bytes(), 3, 1)
	if !bytes.Contains(edited, []byte("bench.fleetgen.dev/rev: \"1\"")) || len(edited) <= a.Len() {
		t.Fatal("EditSite did not edit")
	}
}
