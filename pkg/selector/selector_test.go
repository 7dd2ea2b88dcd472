package selector

import (
	"testing"

	"github.com/fleetgen/fleetgen/pkg/inventory"
)

func TestMatches(t *testing.T) {
	berlin := Attributes{
		Fields: map[string]string{"name": "store-berlin-001", "type": "store", "region": "eu-central", "arch": "arm64", "wave": "1", "network": "online"},
		Groups: []string{"eu", "pilot"},
		Labels: map[string]string{"tier": "gold", "type": "label-loses"},
	}
	ohio := Attributes{
		Fields: map[string]string{"name": "factory-ohio-01", "type": "factory", "region": "us-central", "arch": "amd64", "wave": "0"},
		Labels: map[string]string{},
	}
	for _, tc := range []struct {
		sel          string
		berlin, ohio bool
	}{
		{"", true, true},
		{"type=store", true, false},
		{"type==store", true, false},
		{"type!=store", false, true},
		{"region in (eu-central,eu-west)", true, false},
		{"region notin (eu-central,eu-west)", false, true},
		{"arch=amd64", false, true},
		{"name=factory-ohio-01", false, true},
		{"wave=1", true, false},
		{"wave>0", true, false},
		{"wave<1", false, true},
		{"network=online", true, false},
		{"network", true, false},
		{"!network", false, true},
		{"tier", true, false},
		{"!tier", false, true},
		{"tier=gold,type=store", true, false},
		{"tier=gold,type=factory", false, false},
		{"group=eu", true, false},
		{"group=pilot", true, false},
		{"group in (us,pilot)", true, false},
		{"group!=eu", false, true},
		{"group!=other", true, true},
		{"group notin (eu)", false, true},
		{"group", true, false},
		{"!group", false, true},
		{"type=label-loses", false, false},
	} {
		sel, err := Parse(tc.sel)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.sel, err)
		}
		if got := sel.Matches(berlin); got != tc.berlin {
			t.Errorf("%q matches berlin = %v, want %v", tc.sel, got, tc.berlin)
		}
		if got := sel.Matches(ohio); got != tc.ohio {
			t.Errorf("%q matches ohio = %v, want %v", tc.sel, got, tc.ohio)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, s := range []string{"region in (a", "=x", "a b", "type=Bad Value", "type=a=b", "Bad Key!=x"} {
		if _, err := Parse(s); err == nil {
			t.Errorf("Parse(%q): no error", s)
		}
	}
}

func TestFilter(t *testing.T) {
	fleet := &inventory.Fleet{Name: "f", Sites: []inventory.Site{
		{Name: "a", Type: "store", Groups: []string{"eu"}},
		{Name: "b", Type: "factory"},
		{Name: "c", Type: "store"},
	}}
	sel, _ := Parse("type=store")
	got := Filter(fleet, sel)
	if len(got.Sites) != 2 || got.Sites[0].Name != "a" || got.Sites[1].Name != "c" {
		t.Errorf("Filter = %+v", got.Sites)
	}
	if len(fleet.Sites) != 3 {
		t.Error("Filter changed its input")
	}
	if Filter(fleet, Everything()) != fleet {
		t.Error("an empty selector should return the fleet itself")
	}
	sel, _ = Parse("wave=0")
	if got := Filter(fleet, sel); len(got.Sites) != 3 {
		t.Errorf("wave=0 (the default) should match every site, got %d", len(got.Sites))
	}
}

func TestForOverlay(t *testing.T) {
	k := []byte(`apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
commonLabels:
  team: shop
labels:
  - includeSelectors: false
    pairs:
      "fleetgen.dev/region": "eu-west"
      "fleetgen.dev/type": "store"
      "tier": "gold"
`)
	a := ForOverlay("store-1", k)
	for _, tc := range []struct {
		sel  string
		want bool
	}{
		{"name=store-1", true},
		{"type=store", true},
		{"region=eu-west", true},
		{"tier=gold,team=shop", true},
		{"arch=arm64", false},
	} {
		sel, _ := Parse(tc.sel)
		if got := sel.Matches(a); got != tc.want {
			t.Errorf("%q = %v, want %v", tc.sel, got, tc.want)
		}
	}
	if a := ForOverlay("x", []byte("{{{")); a.Fields["name"] != "x" || len(a.Fields) != 1 {
		t.Errorf("unparsable kustomization: %+v", a)
	}
}
