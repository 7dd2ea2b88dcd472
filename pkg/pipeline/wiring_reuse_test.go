package pipeline

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/fleetgen/fleetgen/pkg/cache"
	"github.com/fleetgen/fleetgen/pkg/gitops"
	"github.com/fleetgen/fleetgen/pkg/inventory"
	"github.com/fleetgen/fleetgen/pkg/render"
	fstree "github.com/fleetgen/fleetgen/pkg/tree"
	"github.com/fleetgen/fleetgen/templates"
)

// A wiring file rendered again with the content the index summarised is
// checked by that summary, not decoded again: after a template edit every
// site renders again, and decoding and validating every site's wiring was
// a large part of the run. The file here does not even parse, so only the
// summary can pass it; without one it fails.
func TestCheckWiringUsesSummaryOfSameContent(t *testing.T) {
	fleet := &inventory.Fleet{Sites: []inventory.Site{{Name: "s1"}}}
	wiring := "clusters/s1/fleet-sync.yaml"
	tree := &render.Tree{Files: []render.File{
		{Path: "overlays/s1/kustomization.yaml", Site: "s1", Data: []byte("resources: []\n"), Hash: "h1"},
		{Path: wiring, Site: "s1", Data: []byte("kind: [unparsable\n"), Hash: "h2"},
	}}
	known := map[string]gitops.Summary{wiring: {Refs: []gitops.Ref{{Kind: gitops.FluxRef, Doc: 1, Path: "./overlays/s1"}}}}
	sums, err := checkWiring(fleet, tree, known, nil)
	if err != nil {
		t.Fatalf("with the summary: %v", err)
	}
	if len(sums[wiring].Refs) != 1 {
		t.Errorf("summary of %s = %+v, want the known one", wiring, sums[wiring])
	}
	if tree.Files[1].Data == nil {
		t.Error("the tree's content was dropped; only the check may skip it")
	}
	if _, err := checkWiring(fleet, tree, nil, nil); err == nil || !strings.Contains(err.Error(), wiring) {
		t.Errorf("without a summary: error %v, want one naming %s", err, wiring)
	}
}

// The wiring check holds each Flux Kustomization's service account to the
// site's applier also when the Kustomization's file is known by its
// summary: a template edit that renames the applier's ServiceAccount, and
// nothing else, is refused by an incremental run as by a cold one.
func TestWiringSummaryKeepsServiceAccount(t *testing.T) {
	dir, inv := chartsFleet(t, 4, "0.3.1")
	invPath := filepath.Join(dir, "inventory.yaml")
	if err := os.WriteFile(invPath, inv, 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	run := func(tmpl fs.FS) (*Result, error) {
		return Run(context.Background(), Options{
			Inventories: []string{invPath}, Output: filepath.Join(dir, "fleet"), Templates: tmpl,
			Incremental: true, Cache: c, CacheSalt: "salt", DropObjects: true,
		})
	}
	res, err := run(templates.FS())
	if err != nil {
		t.Fatal(err)
	}
	plan, err := fstree.MakePlan(filepath.Join(dir, "fleet"), res.Tree, fstree.PlanOptions{Stats: res.Stats})
	if err != nil {
		t.Fatal(err)
	}
	if err := fstree.Apply(context.Background(), plan); err != nil {
		t.Fatal(err)
	}
	if err := res.SaveIndex(); err != nil {
		t.Fatal(err)
	}

	renamed := fstest.MapFS{}
	if err := fs.WalkDir(templates.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(templates.FS(), p)
		if err != nil {
			return err
		}
		if strings.HasSuffix(p, "/applier.yaml.tmpl") {
			data = bytes.Replace(data, []byte("kind: ServiceAccount\nmetadata:\n  name: fleet-applier\n"), []byte("kind: ServiceAccount\nmetadata:\n  name: fleet-applier-2\n"), 1)
		}
		renamed[p] = &fstest.MapFile{Data: data}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := run(renamed); err == nil || !strings.Contains(err.Error(), "which clusters/") {
		t.Errorf("incremental run with the ServiceAccount renamed: error %v, want the Kustomization's account refused", err)
	}
}
