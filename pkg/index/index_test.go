package index

import (
	"path"
	"reflect"
	"strings"
	"testing"

	"github.com/fleetgen/fleetgen/pkg/cache"
)

func TestUnits(t *testing.T) {
	acc := func(pairs ...string) []Access {
		var out []Access
		for i := 0; i < len(pairs); i += 2 {
			out = append(out, Access{Op: pairs[i], Path: pairs[i+1]})
		}
		return out
	}
	tests := []struct {
		name    string
		site    string
		acc     []Access
		want    []string
		wantNot bool
	}{
		{
			name: "own directory is shortened, shared paths kept",
			site: "overlays/a",
			acc: acc("isdir", "/fleet/overlays/a", "read", "/fleet/overlays/a/kustomization.yaml",
				"exists", "/fleet/overlays/a/../../base/kustomization.yaml", "read", "/fleet/base/deployment.yaml"),
			want: []string{"e:\x00", "e:\x00/kustomization.yaml", "e:base/deployment.yaml", "e:base/kustomization.yaml"},
		},
		{
			name: "listings and globs are listing units",
			site: "overlays/a",
			acc:  acc("readdir", "/fleet/overlays/a/local", "glob", "/fleet/components/*.yaml", "abs", "/fleet"),
			want: []string{"e:", "l:\x00/local", "l:components"},
		},
		{
			name: "a sibling site is not the own directory",
			site: "overlays/a",
			acc:  acc("read", "/fleet/overlays/ab/x.yaml"),
			want: []string{"e:overlays/ab/x.yaml"},
		},
		{
			name: "the site's name outside its overlay is shortened as a whole segment only",
			site: "overlays/a",
			acc: acc("read", "/fleet/clusters/a/applier.yaml", "isdir", "/fleet/bootstrap/a", "read", "/fleet/a/x.yaml",
				"read", "/fleet/clusters/ab/applier.yaml", "read", "/fleet/base/a.yaml"),
			want: []string{"e:\x01/x.yaml", "e:base/a.yaml", "e:bootstrap/\x01", "e:clusters/\x01/applier.yaml", "e:clusters/ab/applier.yaml"},
		},
		{name: "a path holding a placeholder's byte", site: "overlays/a", acc: acc("read", "/fleet/base/\x01"), wantNot: true},
		{name: "outside the root", site: "overlays/a", acc: acc("read", "/etc/passwd"), wantNot: true},
		{name: "glob with a pattern in its directory", site: "overlays/a", acc: acc("glob", "/fleet/*/x.yaml"), wantNot: true},
		{name: "unknown access", site: "overlays/a", acc: acc("walk", "/fleet/base"), wantNot: true},
		{name: "nothing recorded", site: "overlays/a", wantNot: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Units("/fleet", tt.site, path.Base(tt.site), tt.acc)
			if ok == tt.wantNot {
				t.Fatalf("Units ok = %v, want %v", ok, !tt.wantNot)
			}
			if ok && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Units = %q, want %q", got, tt.want)
			}
			// Each unit expands back to a path the build looked at.
			for _, u := range got {
				if p := expand(u[2:], tt.site, path.Base(tt.site)); strings.ContainsAny(p, "\x00\x01") {
					t.Errorf("unit %q expands to %q", u, p)
				}
			}
		})
	}
}

// mapTree is a Tree from maps.
type mapTree struct{ entries, lists map[string]string }

func (m mapTree) EntryDigest(rel string) string { return m.entries[rel] }
func (m mapTree) ListDigest(rel string) string  { return m.lists[rel] }

// The digest of a record changes with every input it stands for.
func TestDigestChanges(t *testing.T) {
	units := []string{"e:\x00/kustomization.yaml", "e:base/deployment.yaml", "e:clusters/\x01/applier.yaml", "l:components"}
	tree := func() mapTree {
		return mapTree{
			entries: map[string]string{"overlays/a/kustomization.yaml": "f1", "base/deployment.yaml": "f2", "clusters/a/applier.yaml": "f3", "clusters/b/applier.yaml": "f4"},
			lists:   map[string]string{"components": "l1"},
		}
	}
	base := Digest("salt", "target", "overlays/a", "a", units, tree())
	if again := Digest("salt", "target", "overlays/a", "a", units, tree()); again != base {
		t.Fatal("Digest is not deterministic")
	}
	changes := map[string]func() string{
		"salt":           func() string { return Digest("other", "target", "overlays/a", "a", units, tree()) },
		"target":         func() string { return Digest("salt", "other", "overlays/a", "a", units, tree()) },
		"site directory": func() string { return Digest("salt", "target", "overlays/b", "a", units, tree()) },
		"own file": func() string {
			tr := tree()
			tr.entries["overlays/a/kustomization.yaml"] = "f9"
			return Digest("salt", "target", "overlays/a", "a", units, tr)
		},
		"shared file": func() string {
			tr := tree()
			tr.entries["base/deployment.yaml"] = "-"
			return Digest("salt", "target", "overlays/a", "a", units, tr)
		},
		"site name": func() string { return Digest("salt", "target", "overlays/a", "b", units, tree()) },
		"file named by the site": func() string {
			tr := tree()
			tr.entries["clusters/a/applier.yaml"] = "f9"
			return Digest("salt", "target", "overlays/a", "a", units, tr)
		},
		"listing": func() string {
			tr := tree()
			tr.lists["components"] = "l2"
			return Digest("salt", "target", "overlays/a", "a", units, tr)
		},
		"units": func() string { return Digest("salt", "target", "overlays/a", "a", units[1:], tree()) },
	}
	for name, f := range changes {
		if f() == base {
			t.Errorf("changing the %s leaves the digest unchanged", name)
		}
	}
}

func TestSaveLoad(t *testing.T) {
	c, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	b := NewBuilder("salt", "inputs")
	h1, h2 := strings.Repeat("1", 64), strings.Repeat("2", 64)
	b.AddFile(File{Path: "overlays/x/b.yaml", Hash: h2, Site: "x", Seed: true})
	b.AddFile(File{Path: "overlays/x/a.yaml", Hash: h1, Site: "x", Size: 300})
	b.AddFile(File{Path: "base/a.yaml", Hash: h1})
	b.SetSelected([]string{"y", "x"})
	b.SetRenders(map[string]string{"y": "ky", "x": "kx"})
	refs := []Ref{{Kind: 1, Doc: 1, Path: "./overlays/x"}}
	b.SetWiring([]Wiring{{Path: "clusters/y/sync.yaml", Hash: h2}, {Path: "clusters/x/sync.yaml", Hash: h1, Refs: refs}})
	b.AddSite(Site{Name: "y", Dir: "overlays/y", Digest: "d"}, []string{"e:\x00"})
	b.AddSite(Site{Name: "x", Dir: "overlays/x", Digest: "d"}, []string{"e:\x00"})
	if err := b.Index([]byte("stats")).Save(c, root); err != nil {
		t.Fatal(err)
	}
	x := Load(c, root, "salt")
	if x == nil {
		t.Fatal("Load found nothing")
	}
	if len(x.Units) != 1 {
		t.Errorf("equal unit lists are not shared: %d lists", len(x.Units))
	}
	if s, ok := x.Site("x"); !ok || s.Dir != "overlays/x" || !reflect.DeepEqual(x.UnitsOf(s), []string{"e:\x00"}) {
		t.Errorf("Site(x) = %+v, %v", s, ok)
	}
	if k, ok := x.RenderKey("x"); !ok || k != "kx" {
		t.Errorf("RenderKey(x) = %q, %v", k, ok)
	}
	if _, ok := x.RenderKey("z"); ok {
		t.Error("RenderKey(z) found a key")
	}
	if got, ok := x.WiringRefs("clusters/x/sync.yaml", h1); !ok || !reflect.DeepEqual(got, refs) {
		t.Errorf("WiringRefs = %+v, %v", got, ok)
	}
	if _, ok := x.WiringRefs("clusters/x/sync.yaml", h2); ok {
		t.Error("a wiring summary was found for other content")
	}
	wantFiles := FileList{{Path: "base/a.yaml", Hash: h1}, {Path: "overlays/x/a.yaml", Hash: h1, Site: "x", Size: 300}, {Path: "overlays/x/b.yaml", Hash: h2, Site: "x", Seed: true}}
	if !reflect.DeepEqual(x.Files, wantFiles) || string(x.Stats) != "stats" || !reflect.DeepEqual(x.Selected, []string{"x", "y"}) {
		t.Errorf("loaded index = %+v", x)
	}
	if err := SaveStats(c, root, []byte("new stats")); err != nil {
		t.Fatal(err)
	}
	if x := Load(c, root, "salt"); x == nil || string(x.Stats) != "new stats" {
		t.Error("SaveStats did not replace the stat cache")
	}
	if Load(c, root, "other salt") != nil {
		t.Error("an index of another program was loaded")
	}
	if Load(c, t.TempDir(), "salt") != nil {
		t.Error("an index of another tree was loaded")
	}
	st := Open(c, root, "salt")
	if st == nil || st.Inputs != "inputs" {
		t.Fatalf("Open = %+v", st)
	}
	// A header that does not match the index it precedes is damage.
	if err := c.Put(key(root), append([]byte(header("salt", "other inputs")), st.data...)); err != nil {
		t.Fatal(err)
	}
	if st := Open(c, root, "salt"); st == nil || st.Inputs != "other inputs" || st.Decode() != nil {
		t.Error("an index whose header names other inputs was decoded")
	}
	if err := c.Put(key(root), []byte("garbage")); err != nil {
		t.Fatal(err)
	}
	if Load(c, root, "salt") != nil {
		t.Error("a damaged index was loaded")
	}
}

// A damaged file list is an error, never a wrong list.
func TestFileListDamaged(t *testing.T) {
	l := FileList{{Path: "base/a.yaml", Hash: strings.Repeat("a", 64), Size: 1 << 40}, {Path: "base/b.yaml", Site: "s", Hash: strings.Repeat("b", 64), Seed: true}}
	data, err := l.GobEncode()
	if err != nil {
		t.Fatal(err)
	}
	var back FileList
	if err := back.GobDecode(data); err != nil || !reflect.DeepEqual(back, l) {
		t.Fatalf("round trip: %v %+v", err, back)
	}
	for i := range len(data) {
		if err := back.GobDecode(data[:i]); err == nil {
			t.Errorf("truncated to %d bytes: no error", i)
		}
	}
	if err := back.GobDecode(append(data, 0)); err == nil {
		t.Error("trailing byte: no error")
	}
}

// Digest is cache.Key over its parts, built without the intermediate
// slices: records written by either agree.
func TestDigestIsKeyOfParts(t *testing.T) {
	tr := fakeTree{entries: map[string]string{"overlays/x/a.yaml": "f1"}, lists: map[string]string{"base": "l1"}}
	units := []string{"e:\x00/a.yaml", "l:base", "e:missing"}
	got := Digest("salt", "target", "overlays/x", "x", units, tr)
	want := cache.Key([]byte("salt"), []byte("target"), []byte("overlays/x"), []byte("x"),
		[]byte(units[0]), []byte("f1"), []byte(units[1]), []byte("l1"), []byte(units[2]), []byte(""))
	if got != want {
		t.Fatalf("Digest = %s, want %s", got, want)
	}
}

type fakeTree struct{ entries, lists map[string]string }

func (f fakeTree) EntryDigest(rel string) string { return f.entries[rel] }
func (f fakeTree) ListDigest(rel string) string  { return f.lists[rel] }

// A seal is good with the index it was made with, is carried over to
// another index by rewriting its header only, and is no seal when its
// paths are not those its header names.
func TestSealStorage(t *testing.T) {
	c, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	save := func(inputs string) *Index {
		t.Helper()
		b := NewBuilder("salt", inputs)
		b.SetSelected([]string{"x"})
		x := b.Index(nil)
		if err := x.Save(c, root); err != nil {
			t.Fatal(err)
		}
		return x
	}
	// loadSeal is the stored seal when it was made with x.
	loadSeal := func(x *Index) *Seal {
		if s := ReadSeal(c, root); x.Sealed(s) {
			return s
		}
		return nil
	}
	x := save("inputs-1")
	if err := x.SaveSeal(c, root, []byte("paths"), "ledger-1"); err != nil {
		t.Fatal(err)
	}
	s := loadSeal(x)
	if s == nil || string(s.Seal) != "paths" || s.Ledger != "ledger-1" || s.Inputs != "inputs-1" {
		t.Fatalf("seal of x = %+v", s)
	}

	y := save("inputs-2")
	if loadSeal(y) != nil {
		t.Fatal("a seal of another index was loaded")
	}
	if err := y.CarrySeal(c, root, x, "ledger-2"); err != nil {
		t.Fatal(err)
	}
	s = loadSeal(y)
	if s == nil || string(s.Seal) != "paths" || s.Ledger != "ledger-2" || s.Inputs != "inputs-2" {
		t.Fatalf("carried seal = %+v", s)
	}
	if loadSeal(x) != nil {
		t.Fatal("the seal still names the index it was carried from")
	}
	// Carrying from an index the seal does not name does nothing.
	z := save("inputs-3")
	if err := z.CarrySeal(c, root, x, "ledger-3"); err != nil {
		t.Fatal(err)
	}
	if loadSeal(z) != nil {
		t.Fatal("a seal was carried from an index it did not name")
	}
	// Paths written without their header (an interrupted save).
	if err := y.CarrySeal(c, root, y, "ledger-2"); err != nil {
		t.Fatal(err)
	}
	if err := c.Put(sealDataKey(root), []byte("other paths")); err != nil {
		t.Fatal(err)
	}
	if ReadSeal(c, root) != nil {
		t.Fatal("paths the header does not name were read as a seal")
	}
}
