package cli

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/fleetgen/fleetgen/pkg/tree"
)

// lines returns n numbered filler lines.
func lines(prefix string, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "%s%d: x\n", prefix, i)
	}
	return b.String()
}

func siteUpdate(site, old, new string) tree.Change {
	return tree.Change{Path: "overlays/" + site + "/kustomization.yaml", Site: site, Action: tree.Update, Old: []byte(old), New: []byte(new)}
}

// TestDiffSummaryWays: sites whose changes are the same once the site's
// name is set aside are one way, whatever line the change is on and
// whatever unchanged lines surround it; a different change is another way.
func TestDiffSummaryWays(t *testing.T) {
	change := func(site, before, after string) tree.Change {
		return siteUpdate(site,
			before+"name: "+site+"\nLOG_LEVEL: info\n---\n"+after,
			before+"name: "+site+"\nLOG_LEVEL: debug\n"+after)
	}
	for _, tc := range []struct {
		name    string
		changes []tree.Change
		want    string
	}{
		{"same change, same offset", []tree.Change{
			change("store-a", lines("k", 5), lines("t", 5)),
			change("store-b", lines("k", 5), lines("t", 5)),
		}, "changes 2 sites in 1 distinct way"},
		{"same change, other offsets and context", []tree.Change{
			change("store-a", lines("k", 2), lines("t", 9)),
			change("store-b", lines("k", 20), lines("u", 1)),
			change("store-c", "", ""),
		}, "changes 3 sites in 1 distinct way"},
		{"another change", []tree.Change{
			change("store-a", lines("k", 2), ""),
			siteUpdate("store-b", "name: store-b\nLOG_LEVEL: info\n", "name: store-b\nLOG_LEVEL: warn\n"),
		}, "changes 2 sites in 2 distinct ways"},
		{"a removed document separator is content, not a header", []tree.Change{
			siteUpdate("store-a", "x: 1\n---\ny: 2\n", "x: 1\ny: 2\n"),
			siteUpdate("store-b", "x: 1\n--- # two\ny: 2\n", "x: 1\ny: 2\n"),
		}, "changes 2 sites in 2 distinct ways"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			writeDiffSummary(&out, &tree.Plan{Root: "fleet", Changes: tc.changes}, diffCache{})
			if !strings.Contains(out.String(), tc.want) {
				t.Errorf("summary does not say %q:\n%s", tc.want, out.String())
			}
		})
	}
}
