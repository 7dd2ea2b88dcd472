package pipeline

import (
	"os"
	"path"
	"path/filepath"
	"sort"
	"testing"

	"github.com/fleetgen/fleetgen/pkg/changes"
	"github.com/fleetgen/fleetgen/pkg/render"
	fstree "github.com/fleetgen/fleetgen/pkg/tree"
)

// diskView, which looks at the disk only where asked, answers every
// question exactly as fsTree does on the tree MemFS lays out from the same
// render and directory: the records of the index are made with one and
// checked with the other.
func TestDiskViewAgreesWithLayout(t *testing.T) {
	out := t.TempDir()
	files := []render.File{
		{Path: "base/kustomization.yaml", Data: []byte("resources: [a.yaml]\n")},
		{Path: "base/a.yaml", Data: []byte("a: 1\n")},
		{Path: "overlays/x/kustomization.yaml", Data: []byte("resources: [../../base]\n"), Site: "x"},
		{Path: "overlays/x/local/kustomization.yaml", Data: []byte("kind: Component\n"), Site: "x", Seed: true},
		{Path: "overlays/y/kustomization.yaml", Data: []byte("resources: []\n"), Site: "y"},
		{Path: "overlays/y/local/kustomization.yaml", Data: []byte("kind: Component\n"), Site: "y", Seed: true},
	}
	for i := range files {
		files[i].Hash = files[i].ContentHash()
	}
	write := func(rel, data string) {
		t.Helper()
		p := filepath.Join(out, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mkdir := func(rel string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Join(out, filepath.FromSlash(rel)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// On disk: the rendered files as an earlier write left them (one
	// edited by hand), the user's own files, a seed the user changed, a
	// file fleetgen wrote and no longer renders, an empty directory, a
	// directory holding only a link, links, and what MemFS never lays out.
	write("base/kustomization.yaml", "edited by hand\n")
	write("base/a.yaml", "a: 1\n")
	write("overlays/x/kustomization.yaml", "resources: [../../base]\n")
	write("overlays/x/local/kustomization.yaml", "kind: Component\nresources: [mine.yaml]\n")
	write("overlays/x/local/mine.yaml", "mine: true\n")
	write("overlays/x/old.yaml", "gone: soon\n")
	write("overlays/x/notes/deep/readme.md", "hello\n")
	mkdir("overlays/x/empty")
	mkdir("overlays/x/onlylink")
	if err := os.Symlink("../local/mine.yaml", filepath.Join(out, "overlays/x/onlylink/l.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("local", filepath.Join(out, "overlays/x/linkdir")); err != nil {
		t.Fatal(err)
	}
	write(".fleetgen/other", "state\n")
	write("overlays/x/.git/config", "git\n")
	write("clusters/z/extra.yaml", "z: 1\n")
	// The ledger records what fleetgen wrote: old.yaml is no longer rendered.
	plan, err := fstree.MakePlan(out, &render.Tree{Files: append(files, render.File{Path: "overlays/x/old.yaml", Data: []byte("gone: soon\n"), Site: "x"})}, fstree.PlanOptions{Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := fstree.Apply(t.Context(), plan); err != nil {
		t.Fatal(err)
	}
	write("base/kustomization.yaml", "edited by hand\n") // Apply restored it; edit again

	tree := &render.Tree{Files: files}
	fsys, err := layout(tree, out, nil, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := fsTree{fsys}
	hashOnly := make([]render.File, len(files))
	for i, f := range files {
		hashOnly[i] = render.File{Path: f.Path, Site: f.Site, Seed: f.Seed, Hash: f.Hash}
	}
	sort.Slice(hashOnly, func(i, j int) bool { return hashOnly[i].Path < hashOnly[j].Path })
	views := []*diskView{newDiskView(hashOnly, out, nil), newDiskView(hashOnly, out, changes.NewStatCache()),
		{output: out, files: sortedFiles(hashOnly), snap: &changes.Snapshot{}}}
	for _, got := range views {
		paths := []string{"", "base", "base/a.yaml", "base/kustomization.yaml", "base/kustomization.yml", "overlays",
			"overlays/x", "overlays/x/kustomization.yaml", "overlays/x/Kustomization", "overlays/x/local",
			"overlays/x/local/kustomization.yaml", "overlays/x/local/mine.yaml", "overlays/x/old.yaml",
			"overlays/x/notes", "overlays/x/notes/deep", "overlays/x/notes/deep/readme.md", "overlays/x/empty",
			"overlays/x/onlylink", "overlays/x/onlylink/l.yaml", "overlays/x/linkdir", "overlays/x/linkdir/mine.yaml",
			".fleetgen", ".fleetgen/other", ".fleetgen/ledger", "overlays/x/.git", "overlays/x/.git/config",
			"overlays/y/local", "overlays/y/local/kustomization.yaml", "clusters", "clusters/z", "clusters/z/extra.yaml",
			"missing", "missing/deeper", "base/a.yaml/below"}
		sort.Strings(paths)
		for _, p := range paths {
			if w, g := want.EntryDigest(p), got.EntryDigest(p); w != g {
				t.Errorf("EntryDigest(%q) = %q, layout says %q", p, g, w)
			}
			if w, g := want.ListDigest(p), got.ListDigest(p); w != g {
				t.Errorf("ListDigest(%q) = %q, layout says %q", p, g, w)
			}
			if path.Base(p) == "readme.md" && got.EntryDigest(p) == absentDigest {
				t.Error("a user's file is missing from the view")
			}
		}
	}
}
