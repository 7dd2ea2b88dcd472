package pipeline

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/fleetgen/fleetgen/pkg/benchfleet"
	"github.com/fleetgen/fleetgen/pkg/cache"
	"github.com/fleetgen/fleetgen/pkg/render"
	"github.com/fleetgen/fleetgen/pkg/verify"
)

// A verification cache never hides a failure: after every overlay passed
// once (and was stored), breaking any input of a build fails the site.
func TestCacheNeverHidesFailure(t *testing.T) {
	var inv bytes.Buffer
	if err := benchfleet.Inventory(&inv, 8); err != nil {
		t.Fatal(err)
	}
	fleet, tree, err := Render(Options{Inventory: "bench.yaml", InventoryData: inv.Bytes()})
	if err != nil {
		t.Fatal(err)
	}
	site := benchfleet.SiteName(1) // an EU site: uses the eu-compliance component
	ov := path.Join(memRoot, "overlays", site)
	// The file system is read-only: a change lays the tree out again.
	breakFile := func(p string) func(*filesys.FileSystem, []verify.Target) {
		return func(fsys *filesys.FileSystem, _ []verify.Target) {
			broken := &render.Tree{Files: append([]render.File(nil), tree.Files...)}
			found := false
			for i, f := range broken.Files {
				if path.Join(memRoot, f.Path) == p {
					broken.Files[i].Data = append(append([]byte(nil), f.Data...), []byte("\n: [broken\n")...)
					broken.Files[i].Hash = ""
					found = true
				}
			}
			if !found {
				t.Fatalf("%s is not in the tree", p)
			}
			var err error
			if *fsys, err = MemFS(broken, ""); err != nil {
				t.Fatal(err)
			}
		}
	}
	target := func(f func(*verify.Target)) func(*filesys.FileSystem, []verify.Target) {
		return func(_ *filesys.FileSystem, ts []verify.Target) {
			for i := range ts {
				if ts[i].Site == site {
					f(&ts[i])
				}
			}
		}
	}
	for _, tc := range []struct {
		name   string
		change func(*filesys.FileSystem, []verify.Target)
		salt   string
	}{
		{"base file", breakFile(path.Join(memRoot, "base", "deployment.yaml")), ""},
		{"component file", breakFile(path.Join(memRoot, "components", "eu-compliance", "deployment-eu.yaml")), ""},
		{"overlay kustomization", breakFile(path.Join(ov, "kustomization.yaml")), ""},
		{"overlay patch", breakFile(path.Join(ov, "patch-node.yaml")), ""},
		{"local component", breakFile(path.Join(ov, "local", "kustomization.yaml")), ""},
		{"config", target(func(t *verify.Target) { t.Config = map[string]string{"OTHER": "x"} }), ""},
		{"facts", target(func(t *verify.Target) { f := *t.Facts; f.RequireDigests = true; f.CPU = "1m"; t.Facts = &f }), ""},
		{"waivers", target(func(t *verify.Target) { t.Waivers = append(t.Waivers, t.Waivers...) }), ""},
		{"corrupt entries", func(*filesys.FileSystem, []verify.Target) {}, "corrupt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			c, err := cache.Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			fsys, err := MemFS(tree, "")
			if err != nil {
				t.Fatal(err)
			}
			targets := Targets(fleet)
			opts := verify.Options{FS: fsys, Root: memRoot, Cache: c, CacheSalt: "s"}
			first, err := verify.Run(context.Background(), targets, opts)
			if err != nil || !first.OK() {
				t.Fatalf("first run: %v %v", err, reportErr(first))
			}
			second, _ := verify.Run(context.Background(), targets, opts)
			if !second.OK() || string(second.Results[1].Objects) != string(first.Results[1].Objects) {
				t.Fatal("cached run differs from the first")
			}
			if tc.salt == "corrupt" {
				corruptAll(t, dir)
				again, _ := verify.Run(context.Background(), targets, opts)
				if !again.OK() || len(again.Results) != len(first.Results) {
					t.Fatal("corrupt cache changed the verdict")
				}
				return
			}
			tc.change(&fsys, targets)
			opts.FS = fsys
			rep, err := verify.Run(context.Background(), targets, opts)
			if err != nil {
				t.Fatal(err)
			}
			failed := rep.Failed()
			if tc.name == "waivers" {
				// Duplicated waivers change the key, not the verdict: the
				// site is rebuilt, and still passes.
				if len(failed) != 0 {
					t.Fatalf("failed: %v", reportErr(rep))
				}
				return
			}
			if len(failed) == 0 {
				t.Fatalf("change to %s was hidden by the cache", tc.name)
			}
			for _, f := range failed {
				if tc.name != "base file" && tc.name != "component file" && f.Site != site {
					t.Errorf("site %s failed too: %v", f.Site, f.Err)
				}
			}
			// A failure is never stored: the next run fails as well.
			again, _ := verify.Run(context.Background(), targets, opts)
			if len(again.Failed()) != len(failed) {
				t.Fatalf("second run after the change: %d failed, want %d", len(again.Failed()), len(failed))
			}
		})
	}
}

func corruptAll(t *testing.T, dir string) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		n++
		return os.WriteFile(p, data[:len(data)-1], 0o644)
	})
	if err != nil || n == 0 {
		t.Fatalf("corrupting %d entries: %v", n, err)
	}
}
