package selector

import (
	"errors"
	"strings"
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

func TestSelectUnknownKey(t *testing.T) {
	fleet := &inventory.Fleet{Name: "f", Sites: []inventory.Site{
		{Name: "a", Type: "store", Region: "eu-west", Labels: map[string]string{"tier": "gold"}},
		{Name: "b", Type: "factory", Region: "us-east", Labels: map[string]string{"acme.example/format": "mini"}},
	}}
	for _, tc := range []struct {
		sel        string
		key        string // "" for no error
		suggestion string
		sites      int
	}{
		{"region=eu-west", "", "", 1},
		{"tier=gold", "", "", 1},
		{"acme.example/format=mini", "", "", 1},
		{"!tier", "", "", 1},
		{"group=eu", "", "", 0}, // a field: known even when no site has a group
		{"regoin=eu-west", "regoin", "region", 0},
		{"regoin!=eu-west", "regoin", "region", 0}, // negated: would select everything
		{"!tierr", "tierr", "tier", 0},
		{"type=store,colour=red", "colour", "", 0},
		{"acme.example/fromat=mini", "acme.example/fromat", "acme.example/format", 0},
	} {
		sel, err := Parse(tc.sel)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.sel, err)
		}
		got, err := Select(fleet, sel)
		if tc.key == "" {
			if err != nil {
				t.Errorf("Select(%q): %v", tc.sel, err)
			} else if len(got.Sites) != tc.sites {
				t.Errorf("Select(%q) = %d sites, want %d", tc.sel, len(got.Sites), tc.sites)
			}
			continue
		}
		var uk *UnknownKeyError
		if !errors.As(err, &uk) {
			t.Errorf("Select(%q) = %v, want an UnknownKeyError", tc.sel, err)
			continue
		}
		if uk.Key != tc.key || uk.Suggestion != tc.suggestion {
			t.Errorf("Select(%q): key %q suggestion %q, want %q %q", tc.sel, uk.Key, uk.Suggestion, tc.key, tc.suggestion)
		}
		if !strings.Contains(err.Error(), tc.sel) || (tc.suggestion != "" && !strings.Contains(err.Error(), `did you mean "`+tc.suggestion+`"`)) {
			t.Errorf("Select(%q): message %q", tc.sel, err)
		}
	}
}
