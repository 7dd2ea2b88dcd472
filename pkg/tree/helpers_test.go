package tree

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/fleetgen/fleetgen/pkg/render"
)

// file is shorthand for a rendered file.
func file(path, site, data string) render.File {
	return render.File{Path: path, Site: site, Data: []byte(data)}
}

func mkTree(files ...render.File) *render.Tree {
	t := &render.Tree{Files: files}
	t.Sort()
	return t
}

// sample is a small fleet: fleet-level base plus sites a and b.
func sample() *render.Tree {
	return mkTree(
		file("base/kustomization.yaml", "", "resources: [deploy.yaml]\n"),
		file("base/deploy.yaml", "", "kind: Deployment\n"),
		file("overlays/a/kustomization.yaml", "a", "resources: [../../base]\nnamePrefix: a-\n"),
		file("overlays/b/kustomization.yaml", "b", "resources: [../../base]\nnamePrefix: b-\n"),
	)
}

// without returns t minus the named paths.
func without(t *render.Tree, paths ...string) *render.Tree {
	drop := map[string]bool{}
	for _, p := range paths {
		drop[p] = true
	}
	var fs []render.File
	for _, f := range t.Files {
		if !drop[f.Path] {
			fs = append(fs, f)
		}
	}
	return mkTree(fs...)
}

// with returns t with files added or replaced.
func with(t *render.Tree, files ...render.File) *render.Tree {
	m := map[string]render.File{}
	for _, f := range t.Files {
		m[f.Path] = f
	}
	for _, f := range files {
		m[f.Path] = f
	}
	var out []render.File
	for _, f := range m {
		out = append(out, f)
	}
	return mkTree(out...)
}

func writeFile(t *testing.T, root, rel, data string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, root, rel string) (string, bool) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
	if os.IsNotExist(err) {
		return "", false
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(data), true
}

func exists(t *testing.T, root, rel string) bool {
	t.Helper()
	_, err := os.Lstat(filepath.Join(root, filepath.FromSlash(rel)))
	return err == nil
}

// applyTree plans and applies tr, failing the test on any error or conflict.
func applyTree(t *testing.T, root string, tr *render.Tree, opts PlanOptions) *Plan {
	t.Helper()
	p, err := MakePlan(root, tr, opts)
	if err != nil {
		t.Fatalf("MakePlan: %v", err)
	}
	if cs := p.Conflicts(); len(cs) > 0 {
		t.Fatalf("unexpected conflicts: %s", describe(cs))
	}
	if err := Apply(context.Background(), p); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	return p
}

// mustInSync checks that a fresh plan for tr has nothing to do and that the
// disk holds exactly tr (plus bookkeeping and any extra user files given).
func mustInSync(t *testing.T, root string, tr *render.Tree) {
	t.Helper()
	p, err := MakePlan(root, tr, PlanOptions{})
	if err != nil {
		t.Fatalf("MakePlan: %v", err)
	}
	if !p.InSync() {
		t.Fatalf("plan not in sync: %s; notes %q", describe(p.Pending()), p.Notes)
	}
	for _, f := range tr.Files {
		got, ok := readFile(t, root, f.Path)
		if !ok || got != string(f.Data) {
			t.Fatalf("%s: got %q (exists %v), want %q", f.Path, got, ok, f.Data)
		}
	}
}

type snap struct {
	mode  fs.FileMode
	mtime time.Time
	data  string
}

// snapshot records every entry under root: type, mode, mtime and content.
func snapshot(t *testing.T, root string) map[string]snap {
	t.Helper()
	out := map[string]snap{}
	if _, err := os.Lstat(root); os.IsNotExist(err) {
		return out
	}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		s := snap{mode: fi.Mode(), mtime: fi.ModTime()}
		if fi.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			s.data = string(b)
		}
		out[filepath.ToSlash(rel)] = s
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func diffSnapshots(a, b map[string]snap) []string {
	var d []string
	for k, va := range a {
		vb, ok := b[k]
		switch {
		case !ok:
			d = append(d, "removed "+k)
		case va.mode != vb.mode:
			d = append(d, "mode "+k)
		case va.data != vb.data:
			d = append(d, "content "+k)
		case !va.mtime.Equal(vb.mtime):
			d = append(d, "mtime "+k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			d = append(d, "added "+k)
		}
	}
	sort.Strings(d)
	return d
}

// ageAll sets every mtime under root to a fixed time in the past, so that a
// rewrite would be visible even within the filesystem's timestamp
// granularity.
func ageAll(t *testing.T, root string) {
	t.Helper()
	old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	var paths []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil {
			paths = append(paths, p)
		}
		return nil
	})
	// Deepest first, so that setting a child does not bump its parent.
	sort.Slice(paths, func(i, j int) bool { return len(paths[i]) > len(paths[j]) })
	for _, p := range paths {
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
}

func actions(p *Plan) map[string]Action {
	m := map[string]Action{}
	for _, c := range p.Changes {
		m[c.Path] = c.Action
	}
	return m
}

func findChange(t *testing.T, p *Plan, path string) Change {
	t.Helper()
	for _, c := range p.Changes {
		if c.Path == path {
			return c
		}
	}
	t.Fatalf("no change for %s in plan", path)
	return Change{}
}

// describe lists changes as "action path (reason)", without contents.
func describe(cs []Change) string {
	var parts []string
	for _, c := range cs {
		parts = append(parts, c.Action.String()+" "+c.Path+" ("+c.Reason+")")
	}
	return strings.Join(parts, "; ")
}

// deltaJournal is the v2 journal (still read by recovery) of an apply from the ledger file with digest
// ledger (whose entries are base) to the ledger with digest next.
func deltaJournal(base, target []Entry, ledger, next string) *journal {
	j := &journal{ledger: ledger, next: next}
	j.base, j.target = diffEntries(base, target)
	return j
}
