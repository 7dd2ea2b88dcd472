package pipeline

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/fleetgen/fleetgen/pkg/inventory"
	"github.com/fleetgen/fleetgen/pkg/verify"
	"github.com/fleetgen/fleetgen/templates"
)

// verdict is what must agree between generate and verify: per site, pass
// or fail, the schema errors and the findings with their waivers (the
// waiver's source names the inventory in one and the facts file in the
// other, so it is left out).
func verdict(r *verify.Report) []string {
	var out []string
	for _, res := range r.Results {
		out = append(out, fmt.Sprintf("%s ok=%v errors=%d skipped=%v", res.Site, res.Err == nil, len(res.Errors), res.Skipped))
		for _, e := range res.SchemaErrors {
			out = append(out, "  "+e.String())
		}
		for _, f := range res.Findings {
			f.WaiverSource = ""
			out = append(out, "  "+f.String())
		}
	}
	return out
}

// onDisk writes the tree of res to a temporary directory and verifies it
// as `fleetgen verify DIR` does.
func onDisk(t *testing.T, res *Result) *verify.Report {
	t.Helper()
	dir := t.TempDir()
	writeTree(t, dir, res.Tree)
	fsys := filesys.MakeFsOnDisk()
	targets, err := verify.Overlays(fsys, dir)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := verify.Run(context.Background(), targets, verify.Options{FS: fsys, Root: dir})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestVerifyOnDiskAgrees checks that a written tree gets the verdict
// generate reached in memory, passing and failing, with and without
// waivers, because each overlay carries its site's facts.
func TestVerifyOnDiskAgrees(t *testing.T) {
	sample := string(templates.SampleInventory())
	// store-madrid-002 is the sample's only site with cpu "1" and 1Gi.
	small := strings.Replace(sample, "      cpu: \"1\"\n      memory: 1Gi\n", "      cpu: 100m\n      memory: 128Mi\n", 1)
	if small == sample {
		t.Fatal("sample inventory changed: update the test")
	}
	waived := strings.Replace(small, "      memory: 128Mi\n", "      memory: 128Mi\n    waivers:\n      - {policy: capacity, reason: \"lab device\"}\n", 1)
	digests := strings.Replace(sample, "defaults:\n", "defaults:\n  requireDigests: true\n", 1)
	for _, tc := range []struct {
		name, inventory string
		wantOK          bool
	}{
		{"sample", sample, true},
		{"capacity too small", small, false},
		{"capacity waived", waived, true},
		{"digests required", digests, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Run(context.Background(), Options{Inventory: "inv.yaml", InventoryData: []byte(tc.inventory)})
			if err != nil {
				t.Fatal(err)
			}
			if res.Report.OK() != tc.wantOK {
				t.Fatalf("generate: OK %v, want %v: %v", res.Report.OK(), tc.wantOK, reportErr(res.Report))
			}
			mem, disk := verdict(res.Report), verdict(onDisk(t, res))
			if !reflect.DeepEqual(mem, disk) {
				t.Errorf("verdicts differ:\n--- generate\n%s\n--- verify\n%s", strings.Join(mem, "\n"), strings.Join(disk, "\n"))
			}
		})
	}
}

func TestWaiverSourceNamesInventory(t *testing.T) {
	inv := strings.Replace(string(templates.SampleInventory()), "defaults:\n", "defaults:\n  requireDigests: true\n  waivers: [{policy: image-digest, reason: \"vendor images are tag-only\"}]\n", 1)
	res, err := Run(context.Background(), Options{Inventory: "inv.yaml", InventoryData: []byte(inv)})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Report.OK() {
		t.Fatal(reportErr(res.Report))
	}
	w := res.Report.Results[0].Waived()
	line := strings.Count(inv[:strings.Index(inv, "  waivers:")], "\n") + 1
	if len(w) == 0 || w[0].WaiverSource != fmt.Sprintf("inv.yaml:%d:22 (defaults)", line) || w[0].WaiverReason != "vendor images are tag-only" {
		t.Errorf("waived findings %+v", w)
	}
}

func TestUnknownWaiverIsBadInput(t *testing.T) {
	inv := strings.Replace(string(templates.SampleInventory()), "defaults:\n", "defaults:\n  waivers: [{policy: capacityy, reason: x}]\n", 1)
	_, err := Run(context.Background(), Options{Inventory: "inv.yaml", InventoryData: []byte(inv)})
	var ie *InputError
	var el *inventory.ErrorList
	if !errors.As(err, &ie) || !errors.As(err, &el) {
		t.Fatalf("error %v is not bad input", err)
	}
	line := strings.Count(inv[:strings.Index(inv, "  waivers:")], "\n") + 1
	if !strings.Contains(err.Error(), fmt.Sprintf(`inv.yaml:%d:22: defaults.waivers[0].policy: unknown policy "capacityy" (did you mean "capacity"?)`, line)) {
		t.Errorf("error %v", err)
	}
}

func TestTemplateMayNotRenderFactsFile(t *testing.T) {
	set := setWith(t, "overlays/{{ .Site.Name }}/fleetgen-site.yaml", "x: 1\n")
	_, err := Run(context.Background(), Options{Inventory: "inv.yaml", InventoryData: templates.SampleInventory(), Templates: set})
	var ie *InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "fleetgen-site.yaml: the template set renders a file where fleetgen writes the site's facts") {
		t.Fatalf("error %v", err)
	}
}
