package render

import (
	"fmt"
	"io/fs"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/fleetgen/fleetgen/pkg/inventory"
	"github.com/fleetgen/fleetgen/templates"
)

// copyFS copies a template set into a MapFS that a test can edit.
func copyFS(tb testing.TB, fsys fs.FS) fstest.MapFS {
	tb.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		m[p] = &fstest.MapFile{Data: data}
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// siteStore is what a caller keeps of a render: per site, its key and its
// per-site files known by hash only.
type siteStore map[string]storedSite

type storedSite struct {
	key   string
	files []File
}

func storeOf(tr *Tree) siteStore {
	st := siteStore{}
	for site, key := range tr.SiteKeys {
		st[site] = storedSite{key: key}
	}
	for _, f := range tr.Files {
		if f.Site == "" {
			continue
		}
		s := st[f.Site]
		s.files = append(s.files, File{Path: f.Path, Site: f.Site, Hash: f.Hash, Seed: f.Seed})
		st[f.Site] = s
	}
	return st
}

// reuser answers Reuse from a store and records what it was asked.
type reuser struct {
	st    siteStore
	mu    sync.Mutex
	asked map[string]string // site → key
	gave  []string          // sites whose files were given, sorted by the caller
}

func (r *reuser) reuse(site, key string) ([]File, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.asked == nil {
		r.asked = map[string]string{}
	}
	if _, twice := r.asked[site]; twice {
		key = "asked twice"
	}
	r.asked[site] = key
	s, ok := r.st[site]
	if !ok || s.key != key {
		return nil, false
	}
	r.gave = append(r.gave, site)
	return slices.Clone(s.files), true
}

// sameTree reports how got differs from want in paths, hashes, sites, seeds
// and keys; got's files may be known by hash only.
func sameTree(got, want *Tree) string {
	if len(got.Files) != len(want.Files) {
		return fmt.Sprintf("%d files, want %d", len(got.Files), len(want.Files))
	}
	for i, g := range got.Files {
		w := want.Files[i]
		if g.Path != w.Path || g.Hash != w.Hash || g.Site != w.Site || g.Seed != w.Seed {
			return fmt.Sprintf("file %d is %s [%s] seed=%v %s, want %s [%s] seed=%v %s",
				i, g.Path, g.Site, g.Seed, g.Hash, w.Path, w.Site, w.Seed, w.Hash)
		}
		if g.Data != nil && hashData(g.Data) != g.Hash {
			return fmt.Sprintf("%s: Data does not match Hash", g.Path)
		}
	}
	if !reflect.DeepEqual(got.SiteKeys, want.SiteKeys) {
		return fmt.Sprintf("keys %v, want %v", got.SiteKeys, want.SiteKeys)
	}
	return ""
}

// peersSet is a set that is not site-local: a per-site template lists
// every site.
var peersSet = map[string]string{
	"o/{{ .Site.Name }}/peers.txt.tmpl": "{{ range .Sites }}{{ .Name }} {{ end }}\n",
	"o/{{ .Site.Name }}/site.yaml.tmpl": "name: {{ yamlQuote .Site.Name }}\n",
	"fleet.txt.tmpl":                    "{{ .Fleet.Name }}\n",
	"components/c/k.yaml":               "k: 1\n",
	"components/eu-compliance/k.yaml":   "k: 1\n",
	"components/gpu/k.yaml":             "k: 1\n",
}

// originsSet is site-local but shows where a site's values were written.
var originsSet = map[string]string{
	"o/{{ .Site.Name }}/origins.txt.tmpl": "{{ range $k, $v := .Site.Origins }}{{ $k }} {{ $v.Line }}\n{{ end }}",
	"fleet.txt.tmpl":                      "{{ .Fleet.Name }}\n",
	"components/c/k.yaml":                 "k: 1\n",
	"components/eu-compliance/k.yaml":     "k: 1\n",
	"components/gpu/k.yaml":               "k: 1\n",
}

func TestRenderReuseSameTree(t *testing.T) {
	const n = 12
	synthetic := func() *inventory.Fleet { return syntheticFleet(t, n) }
	sortSites := func(f *inventory.Fleet) {
		sort.Slice(f.Sites, func(i, j int) bool { return f.Sites[i].Name < f.Sites[j].Name })
	}
	tests := []struct {
		name string
		// set is the template set, the default one when nil.
		set      map[string]string
		fleet    func() *inventory.Fleet
		editSet  func(fstest.MapFS)
		edit     func(*inventory.Fleet)
		reused   int
		wantErr  string
		allFresh bool // every key differs from the previous render's
	}{
		{name: "nothing changed", fleet: synthetic, reused: n},
		{name: "one site's config", fleet: synthetic, reused: n - 1,
			edit: func(f *inventory.Fleet) { f.Sites[3].Config = map[string]string{"LOG_LEVEL": "debug"} }},
		// The default set cannot show where a value was written: a line
		// added above a site in the inventory changes no file of it.
		{name: "one site's origin", fleet: synthetic, reused: n,
			edit: func(f *inventory.Fleet) {
				f.Sites[4].Origins = map[string]inventory.Origin{"type": {Layer: "site", Line: 99}}
			}},
		{name: "origins shown: one site's origin", set: originsSet, fleet: synthetic, reused: n - 1,
			edit: func(f *inventory.Fleet) {
				f.Sites[4].Origins = map[string]inventory.Origin{"type": {Layer: "site", Line: 99}}
			}},
		{name: "site added", fleet: synthetic, reused: n,
			edit: func(f *inventory.Fleet) {
				s := f.Sites[0]
				s.Name = "zz-new-site"
				f.Sites = append(f.Sites, s)
			}},
		{name: "site removed", fleet: synthetic, reused: n - 1,
			edit: func(f *inventory.Fleet) { f.Sites = slices.Delete(f.Sites, 5, 6) }},
		{name: "site renamed", fleet: synthetic, reused: n - 1,
			edit: func(f *inventory.Fleet) { f.Sites[2].Name = "aa-renamed"; sortSites(f) }},
		{name: "fleet name", fleet: synthetic, allFresh: true,
			edit: func(f *inventory.Fleet) { f.Name = "other-fleet" }},
		{name: "gitops repo", fleet: synthetic, allFresh: true,
			edit: func(f *inventory.Fleet) { f.GitOps.Repo = "https://git.example/other.git" }},
		{name: "gitops engine", fleet: synthetic, allFresh: true,
			edit: func(f *inventory.Fleet) { f.GitOps.Engine = inventory.EngineNone }},
		{name: "per-site template edit", fleet: synthetic, allFresh: true,
			editSet: func(m fstest.MapFS) {
				p := "overlays/{{ .Site.Name }}/patch-node.yaml.tmpl"
				m[p] = &fstest.MapFile{Data: append([]byte("# edited\n"), m[p].Data...)}
			}},
		{name: "partial edit", fleet: synthetic, allFresh: true,
			editSet: func(m fstest.MapFS) {
				m["_helpers.tpl"] = &fstest.MapFile{Data: []byte(strings.Replace(string(m["_helpers.tpl"].Data),
					"# Do not edit", "# Never edit", 1))}
			}},
		{name: "fleet-level template edit", fleet: synthetic, allFresh: true,
			editSet: func(m fstest.MapFS) {
				m["base/namespace.yaml"] = &fstest.MapFile{Data: append([]byte("# edited\n"), m["base/namespace.yaml"].Data...)}
			}},
		{name: "not site-local: unchanged", set: peersSet, fleet: synthetic, reused: n},
		{name: "not site-local: one site's config", set: peersSet, fleet: synthetic, allFresh: true,
			edit: func(f *inventory.Fleet) { f.Sites[3].Config = map[string]string{"LOG_LEVEL": "debug"} }},
		{name: "not site-local: site added", set: peersSet, fleet: synthetic, allFresh: true,
			edit: func(f *inventory.Fleet) {
				s := f.Sites[0]
				s.Name = "zz-new-site"
				f.Sites = append(f.Sites, s)
			}},
		{name: "duplicate path across sites", fleet: testFleet, reused: 1,
			set: map[string]string{
				"o/{{ .Site.Name }}.txt.tmpl": "{{ .Site.Name }}\n",
				"k/{{ .Site.Config.K }}.yaml": "k: 1\n",
			},
			edit:    func(f *inventory.Fleet) { f.Sites[1].Config = map[string]string{"K": "1"} },
			wantErr: `k/{{ .Site.Config.K }}.yaml: site "b": output "k/1.yaml": path already produced by k/{{ .Site.Config.K }}.yaml for site "a"`},
		{name: "file clashes with another site's directory", fleet: testFleet, reused: 1,
			set: map[string]string{
				"o/{{ .Site.Config.K }}.tmpl": "{{ .Site.Name }}\n",
				"o/{{ .Site.Name }}/x.txt":    "x\n",
			},
			edit:    func(f *inventory.Fleet) { f.Sites[1].Config = map[string]string{"K": "a"} },
			wantErr: `parent "o/a" is a file produced by o/{{ .Site.Config.K }}.tmpl for site "b"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := copyFS(t, templates.FS())
			if tt.set != nil {
				set = mapFS(tt.set)
			}
			before, err := Load(set)
			if err != nil {
				t.Fatal(err)
			}
			prev, err := before.Render(tt.fleet())
			if err != nil {
				t.Fatal(err)
			}
			if tt.editSet != nil {
				tt.editSet(set)
			}
			after, err := Load(set)
			if err != nil {
				t.Fatal(err)
			}
			fleet := tt.fleet()
			if tt.edit != nil {
				tt.edit(fleet)
			}
			want, wantErr := after.Render(fleet)
			r := &reuser{st: storeOf(prev)}
			var got *Tree
			withProcs(4, func() { got, err = after.RenderWith(fleet, RenderOptions{Reuse: r.reuse}) })
			if tt.wantErr != "" {
				if wantErr == nil || !strings.Contains(wantErr.Error(), tt.wantErr) {
					t.Fatalf("full render: error %v, want %q", wantErr, tt.wantErr)
				}
				if err == nil || err.Error() != wantErr.Error() {
					t.Fatalf("render with reuse: error\n%v\nwant\n%v", err, wantErr)
				}
			} else {
				if wantErr != nil || err != nil {
					t.Fatalf("full render: %v; render with reuse: %v", wantErr, err)
				}
				if diff := sameTree(got, want); diff != "" {
					t.Fatal(diff)
				}
			}
			if tt.allFresh {
				if len(r.gave) != 0 {
					t.Errorf("files of %v reused, want none", r.gave)
				}
				for site, key := range r.asked {
					if prev.SiteKeys[site] == key {
						t.Errorf("site %q kept its key", site)
					}
				}
			} else if len(r.gave) != tt.reused {
				t.Errorf("%d sites reused (%v), want %d", len(r.gave), r.gave, tt.reused)
			}
			// Reuse is asked once per site, with the key the tree reports.
			if len(r.asked) != len(fleet.Sites) {
				t.Errorf("Reuse asked for %d sites, want %d", len(r.asked), len(fleet.Sites))
			}
			for _, s := range fleet.Sites {
				if tt.wantErr == "" && r.asked[s.Name] != want.SiteKeys[s.Name] {
					t.Errorf("site %q: Reuse asked with key %q, tree has %q", s.Name, r.asked[s.Name], want.SiteKeys[s.Name])
				}
			}
		})
	}
}

// TestRenderReuseUsesFilesAsGiven shows that the templates of a reused site
// are not executed and its files not parsed back: what Reuse gives is what
// the tree holds.
func TestRenderReuseUsesFilesAsGiven(t *testing.T) {
	e, err := Load(mapFS(map[string]string{
		"o/{{ .Site.Name }}.yaml.tmpl": "k: {{ .Site.Config.K }}\n",
		"o/{{ .Site.Name }}.txt":       "verbatim\n",
	}))
	if err != nil {
		t.Fatal(err)
	}
	bad := hashData([]byte("not: [yaml\n"))
	reuse := func(site, key string) ([]File, bool) {
		if site != "a" {
			return nil, false
		}
		return []File{
			{Path: "o/a.yaml", Site: "a", Hash: bad},
			{Path: "o/a.txt", Site: "a", Data: []byte("given\n")},
		}, true
	}
	tr, err := e.RenderWith(testFleet(), RenderOptions{Reuse: reuse})
	if err != nil {
		t.Fatal(err)
	}
	want := []File{
		{Path: "o/a.txt", Site: "a", Data: []byte("given\n"), Hash: hashData([]byte("given\n"))},
		{Path: "o/a.yaml", Site: "a", Hash: bad},
		{Path: "o/b.txt", Site: "b", Data: []byte("verbatim\n"), Hash: hashData([]byte("verbatim\n"))},
		{Path: "o/b.yaml", Site: "b", Data: []byte("k: 2\n"), Hash: hashData([]byte("k: 2\n"))},
	}
	if !reflect.DeepEqual(tr.Files, want) {
		t.Errorf("files\n%+v\nwant\n%+v", tr.Files, want)
	}
}

// TestRenderReuseIgnoresFilesThatDoNotFit gives back files that no render
// could have produced for the site; the site's templates run instead.
func TestRenderReuseIgnoresFilesThatDoNotFit(t *testing.T) {
	e, err := Load(mapFS(map[string]string{
		"o/{{ .Site.Name }}/a.yaml.tmpl":      "a: {{ .Site.Config.K }}\n",
		"o/{{ .Site.Name }}/b.txt.tmpl":       "{{ if eq .Site.Name \"a\" }}b{{ end }}",
		"o/{{ .Site.Name }}/c.txt":            "c\n",
		"o/{{ .Site.Name }}/s.yaml.seed.tmpl": "s: 1\n",
		"fleet.txt":                           "f\n",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want, err := e.Render(testFleet())
	if err != nil {
		t.Fatal(err)
	}
	good := storeOf(want)["a"].files
	with := func(edit func([]File) []File) []File { return edit(slices.Clone(good)) }
	at := func(p string) int {
		return slices.IndexFunc(good, func(f File) bool { return f.Path == p })
	}
	tests := []struct {
		name  string
		files []File
	}{
		{"unknown path", with(func(fs []File) []File { return append(fs, File{Path: "o/a/x.txt", Site: "a", Hash: "h"}) })},
		{"fleet-level path", with(func(fs []File) []File { return append(fs, File{Path: "fleet.txt", Site: "a", Hash: "h"}) })},
		{"another site's path", with(func(fs []File) []File { fs[at("o/a/c.txt")].Path = "o/b/c.txt"; return fs })},
		{"wrong site", with(func(fs []File) []File { fs[at("o/a/c.txt")].Site = "b"; return fs })},
		{"seed flag missing", with(func(fs []File) []File { fs[at("o/a/s.yaml")].Seed = false; return fs })},
		{"seed flag extra", with(func(fs []File) []File { fs[at("o/a/c.txt")].Seed = true; return fs })},
		{"file twice", with(func(fs []File) []File { return append(fs, fs[0]) })},
		{"verbatim file missing", with(func(fs []File) []File { return slices.Delete(fs, at("o/a/c.txt"), at("o/a/c.txt")+1) })},
		{"neither hash nor data", with(func(fs []File) []File { fs[0].Hash = ""; return fs })},
		{"nothing", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reuse := func(site, key string) ([]File, bool) {
				if site == "a" {
					return tt.files, true
				}
				return nil, false
			}
			got, err := e.RenderWith(testFleet(), RenderOptions{Reuse: reuse})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("tree differs from a full render:\n%s\nwant\n%s", fileSummary(got), fileSummary(want))
			}
		})
	}

	// Files that fit are used, including a content template's file left
	// out because it rendered to nothing.
	fit := slices.DeleteFunc(slices.Clone(good), func(f File) bool { return f.Path == "o/a/b.txt" })
	got, err := e.RenderWith(testFleet(), RenderOptions{Reuse: func(site, key string) ([]File, bool) { return fit, site == "a" }})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got.Lookup("o/a/b.txt"); ok {
		t.Error("o/a/b.txt rendered although the reused files leave it out")
	}
}

func TestRenderReuseNotCalledWithoutPerSiteTemplates(t *testing.T) {
	e, err := Load(mapFS(map[string]string{"fleet.txt.tmpl": "{{ len .Sites }}\n"}))
	if err != nil {
		t.Fatal(err)
	}
	called := false
	tr, err := e.RenderWith(testFleet(), RenderOptions{Reuse: func(string, string) ([]File, bool) {
		called = true
		return nil, true
	}})
	if err != nil {
		t.Fatal(err)
	}
	if called {
		t.Error("Reuse called for a set without per-site templates")
	}
	if len(tr.SiteKeys) != 2 || tr.SiteKeys["a"] == "" || tr.SiteKeys["a"] == tr.SiteKeys["b"] {
		t.Errorf("SiteKeys = %v", tr.SiteKeys)
	}
}

// TestRenderReuseAnyWorkerCount renders with half the sites reused on
// several workers; under -race it also checks that Reuse and the workers
// share nothing unguarded.
func TestRenderReuseAnyWorkerCount(t *testing.T) {
	e, err := Load(templates.FS())
	if err != nil {
		t.Fatal(err)
	}
	fleet := syntheticFleet(t, 60)
	var want *Tree
	withProcs(1, func() { want, err = e.Render(fleet) })
	if err != nil {
		t.Fatal(err)
	}
	st := storeOf(want)
	for i, s := range fleet.Sites {
		if i%2 == 0 {
			delete(st, s.Name)
		}
	}
	for _, n := range workerCounts {
		for run := range 2 {
			r := &reuser{st: st}
			var got *Tree
			withProcs(n, func() {
				got, err = e.RenderWith(fleet, RenderOptions{Reuse: r.reuse, Parsed: func(string) bool { return false }})
			})
			if err != nil {
				t.Fatal(err)
			}
			if diff := sameTree(got, want); diff != "" {
				t.Fatalf("%d workers, run %d: %s", n, run, diff)
			}
			if len(r.gave) != len(fleet.Sites)/2 {
				t.Fatalf("%d workers: %d sites reused, want %d", n, len(r.gave), len(fleet.Sites)/2)
			}
		}
	}
}

// siteEdits change each field of a site (and every nested field) in a way a
// template can see. Every field of inventory.Site must be named here.
var siteEdits = []struct {
	field string
	edit  func(*inventory.Site)
}{
	{"Name", func(s *inventory.Site) { s.Name += "x" }},
	{"Type", func(s *inventory.Site) { s.Type = "factory" }},
	{"Region", func(s *inventory.Site) { s.Region += "x" }},
	{"Arch", func(s *inventory.Site) { s.Arch = "amd64" }},
	{"Groups", func(s *inventory.Site) { s.Groups = append(s.Groups, "g2") }},
	{"Groups", func(s *inventory.Site) { s.Groups = nil }},
	{"Groups", func(s *inventory.Site) { s.Groups = []string{"g", ""} }},
	{"Capacity", func(s *inventory.Site) { s.Capacity.CPU = "3" }},
	{"Capacity", func(s *inventory.Site) { s.Capacity.Memory = "1Gi" }},
	{"Capacity", func(s *inventory.Site) { s.Capacity.Reserve.CPU = "1" }},
	{"Capacity", func(s *inventory.Site) { s.Capacity.Reserve.Memory = "1Gi" }},
	{"Config", func(s *inventory.Site) { s.Config["K"] = "2" }},
	{"Config", func(s *inventory.Site) { s.Config = map[string]string{"K2": "1"} }},
	{"Config", func(s *inventory.Site) { s.Config = map[string]string{"K": "1", "": ""} }},
	{"Images", func(s *inventory.Site) { s.Images = nil }},
	{"Images", func(s *inventory.Site) { s.Images = map[string]string{} }},
	{"Components", func(s *inventory.Site) { s.Components = []string{"c"} }},
	{"Labels", func(s *inventory.Site) { s.Labels = map[string]string{"a": "b"} }},
	{"Labels", func(s *inventory.Site) { s.Labels = nil }},
	{"Charts", func(s *inventory.Site) {
		s.Charts = map[string]inventory.SiteChart{"a": {Chart: "c", Version: "1", Values: map[string]any{"x": 1.0}}}
	}},
	{"Waivers", func(s *inventory.Site) { s.Waivers = []inventory.Waiver{} }},
	{"Waivers", func(s *inventory.Site) { s.Waivers = []inventory.Waiver{{Policy: "p", Reason: "r"}} }},
	{"RequireDigests", func(s *inventory.Site) { s.RequireDigests = true }},
	{"Wave", func(s *inventory.Site) { s.Wave = 2 }},
	{"MaintenanceWindow", func(s *inventory.Site) { s.MaintenanceWindow.Schedule = "0 2 * * *" }},
	{"MaintenanceWindow", func(s *inventory.Site) { s.MaintenanceWindow.Duration = "1h" }},
	{"MaintenanceWindow", func(s *inventory.Site) { s.MaintenanceWindow.TimeZone = "UTC" }},
	{"Network", func(s *inventory.Site) { s.Network = "airgapped" }},
	{"AgeRecipient", func(s *inventory.Site) { s.AgeRecipient = "age1x" }},
	{"ImageRegistry", func(s *inventory.Site) { s.ImageRegistry = "mirror.example" }},
	{"K3s", func(s *inventory.Site) { s.K3s = &inventory.SiteK3s{Version: "v1.33.5+k3s1", Servers: 1} }},
	{"MTLS", func(s *inventory.Site) { s.MTLS.Endpoint = "https://ingest.example:8443" }},
	{"MTLS", func(s *inventory.Site) { s.MTLS.CASecret = "ca" }},
	{"Experimental", func(s *inventory.Site) { s.Experimental = []inventory.Experimental{{Feature: "wasm", Reason: "r"}} }},
	{"Origins", func(s *inventory.Site) { s.Origins = nil }},
	{"Origins", func(s *inventory.Site) {
		s.Origins["type"] = inventory.Origin{Layer: "site", File: "f", Line: 2, Column: 1}
	}},
	{"Origins", func(s *inventory.Site) {
		s.Origins["type"] = inventory.Origin{Layer: "defaults", File: "f", Line: 1, Column: 1}
	}},
}

func keyFleet() *inventory.Fleet {
	site := func(name string) inventory.Site {
		return inventory.Site{Name: name, Type: "store", Region: "eu", Arch: "arm64", Groups: []string{"g"},
			Capacity: inventory.Capacity{CPU: "2"}, Config: map[string]string{"K": "1"},
			Images: map[string]string{"app": "a:1"}, Labels: map[string]string{}, Network: "online",
			Origins: map[string]inventory.Origin{"type": {Layer: "site", File: "f", Line: 1, Column: 1}}}
	}
	return &inventory.Fleet{Name: "demo", Sites: []inventory.Site{site("a"), site("b")},
		GitOps: inventory.GitOps{Engine: "flux", Repo: "https://git.example/f.git", Branch: "main", Path: "."}}
}

func keysOf(tb testing.TB, e *Engine, f *inventory.Fleet) map[string]string {
	tb.Helper()
	tr, err := e.Render(f)
	if err != nil {
		tb.Fatal(err)
	}
	return tr.SiteKeys
}

func TestRenderKeys(t *testing.T) {
	local := map[string]string{
		"_p.tpl":                      `{{ define "p" }}{{ .Site.Name }}{{ end }}`,
		"o/{{ .Site.Name }}.txt.tmpl": `{{ include "p" . }}`,
		"components/c/k.yaml":         "k: 1\n",
	}
	el, err := Load(mapFS(local))
	if err != nil {
		t.Fatal(err)
	}
	en, err := Load(mapFS(peersSet))
	if err != nil {
		t.Fatal(err)
	}
	eo, err := Load(mapFS(originsSet))
	if err != nil {
		t.Fatal(err)
	}
	base := keysOf(t, el, keyFleet())
	if base["a"] == "" || base["a"] == base["b"] {
		t.Fatalf("keys %v", base)
	}

	t.Run("stable across runs and worker counts", func(t *testing.T) {
		for _, n := range workerCounts {
			withProcs(n, func() {
				if got := keysOf(t, el, keyFleet()); !reflect.DeepEqual(got, base) {
					t.Errorf("%d workers: keys %v, want %v", n, got, base)
				}
			})
		}
		again, err := Load(mapFS(local))
		if err != nil {
			t.Fatal(err)
		}
		if got := keysOf(t, again, keyFleet()); !reflect.DeepEqual(got, base) {
			t.Errorf("reloaded set: keys %v, want %v", got, base)
		}
	})

	t.Run("every site field", func(t *testing.T) {
		named := map[string]bool{}
		for _, se := range siteEdits {
			named[se.field] = true
		}
		st := reflect.TypeFor[inventory.Site]()
		for i := range st.NumField() {
			if !named[st.Field(i).Name] {
				t.Errorf("field %s of inventory.Site has no edit in siteEdits", st.Field(i).Name)
			}
		}
		for _, se := range siteEdits {
			f := keyFleet()
			se.edit(&f.Sites[0])
			for _, tc := range []struct {
				e     *Engine
				other bool // whether b's key changes too
			}{{el, false}, {en, true}, {eo, false}} {
				before := keysOf(t, tc.e, keyFleet())
				got := keysOf(t, tc.e, f)
				blind, _ := tc.e.OriginBlind()
				if changed := got["a"] != before["a"]; se.field != "Name" && changed == (se.field == "Origins" && blind) {
					t.Errorf("%s edit (Origins observable %v): a's key changed: %v", se.field, !blind, changed)
				}
				if changed := got["b"] != before["b"]; changed != tc.other {
					t.Errorf("%s edit (site-local %v): b's key changed: %v", se.field, tc.e.siteLocal, changed)
				}
			}
		}
	})

	t.Run("fleet data", func(t *testing.T) {
		for name, edit := range map[string]func(*inventory.Fleet){
			"name":                  func(f *inventory.Fleet) { f.Name = "other" },
			"engine":                func(f *inventory.Fleet) { f.GitOps.Engine = "argocd" },
			"repo":                  func(f *inventory.Fleet) { f.GitOps.Repo += "x" },
			"branch":                func(f *inventory.Fleet) { f.GitOps.Branch = "prod" },
			"path":                  func(f *inventory.Fleet) { f.GitOps.Path = "fleet" },
			"admins":                func(f *inventory.Fleet) { f.GitOps.AdminRecipients = []string{"age1"} },
			"admins empty, not nil": func(f *inventory.Fleet) { f.GitOps.AdminRecipients = []string{} },
		} {
			f := keyFleet()
			edit(f)
			got := keysOf(t, el, f)
			if got["a"] == base["a"] || got["b"] == base["b"] {
				t.Errorf("fleet %s edit: keys unchanged", name)
			}
		}
		// What templates cannot see is not covered.
		f := keyFleet()
		f.Source = "elsewhere.yaml"
		if got := keysOf(t, el, f); !reflect.DeepEqual(got, base) {
			t.Error("Fleet.Source changed the keys")
		}
	})

	t.Run("template set", func(t *testing.T) {
		for name, edit := range map[string]func(map[string]string){
			"template bytes": func(m map[string]string) { m["o/{{ .Site.Name }}.txt.tmpl"] += " " },
			"template path": func(m map[string]string) {
				m["o/{{ .Site.Name }}.text.tmpl"] = m["o/{{ .Site.Name }}.txt.tmpl"]
				delete(m, "o/{{ .Site.Name }}.txt.tmpl")
			},
			"partial bytes":    func(m map[string]string) { m["_p.tpl"] += " " },
			"unused partial":   func(m map[string]string) { m["_q.tpl"] = "" },
			"fleet-level file": func(m map[string]string) { m["README.md"] = "r\n" },
			"component":        func(m map[string]string) { m["components/d/k.yaml"] = "k: 1\n" },
		} {
			m := maps.Clone(local)
			edit(m)
			e, err := Load(mapFS(m))
			if err != nil {
				t.Fatal(err)
			}
			if got := keysOf(t, e, keyFleet()); got["a"] == base["a"] || got["b"] == base["b"] {
				t.Errorf("%s edit: keys unchanged", name)
			}
		}
	})

	t.Run("site order does not matter when site-local", func(t *testing.T) {
		f := keyFleet()
		f.Sites = append(f.Sites, f.Sites[0])
		f.Sites[2].Name = "c"
		got := keysOf(t, el, f)
		if got["a"] != base["a"] || got["b"] != base["b"] {
			t.Errorf("adding a site changed the others' keys")
		}
		if got := keysOf(t, en, f); got["a"] == keysOf(t, en, keyFleet())["a"] {
			t.Errorf("adding a site kept the keys of a set that is not site-local")
		}
	})
}

// flowCase is a set for a flow analysis: a per-site content template at
// flowFile, other files from extra; want is "" when the analysis finds
// nothing, else part of its finding.
type flowCase struct {
	name  string
	tmpl  string
	extra map[string]string
	want  string
}

const flowFile = "o/{{ .Site.Name }}.txt.tmpl"

// runFlowCases loads each case's set and checks the verdict of an
// analysis (ok when it finds nothing, else the finding).
func runFlowCases(t *testing.T, tests []flowCase, verdict func(*Engine) (ok bool, finding string)) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := map[string]string{flowFile: tt.tmpl}
			for k, v := range tt.extra {
				set[k] = v
			}
			e, err := Load(mapFS(set))
			if err != nil {
				t.Fatal(err)
			}
			ok, reason := verdict(e)
			switch {
			case tt.want == "" && !ok:
				t.Errorf("found: %s", reason)
			case tt.want != "" && ok:
				t.Errorf("found nothing, want %q", tt.want)
			case tt.want != "" && !strings.Contains(reason, tt.want):
				t.Errorf("finding %q, want it to contain %q", reason, tt.want)
			}
		})
	}
}

func TestSiteLocal(t *testing.T) {
	const file = flowFile
	tests := []flowCase{
		{name: "site and fleet fields", tmpl: `{{ .Site.Name }} {{ $.Fleet.Name }} {{ .Fleet.GitOps.Repo }} {{ $.Site.ImageName "app" }}`},
		{name: "with site, variables of site values", tmpl: `{{ with .Site }}{{ .Name }}{{ $.Site.Region }}{{ end }}{{ $s := .Site }}{{ $s.Name }}{{ range $i, $g := .Site.Groups }}{{ $g }}{{ end }}`},
		{name: "if on the data", tmpl: `{{ if . }}x{{ end }}{{ if $ }}y{{ end }}`},
		{name: "with the whole data, then its site", tmpl: `{{ with $ }}{{ .Site.Name }}{{ end }}{{ $d := . }}{{ $d.Site.Name }}`},
		{name: "dot of range is an element", tmpl: `{{ range .Site.Groups }}{{ . }}{{ end }}`},
		{name: ".Sites", tmpl: `{{ len .Sites }}`, want: file + `:1:7: reads .Sites of the whole data`},
		{name: "$.Sites in a range", tmpl: `{{ range .Site.Groups }}{{ range $.Sites }}{{ .Name }}{{ end }}{{ end }}`, want: "reads .Sites"},
		{name: "range over .Sites", tmpl: `{{ range .Sites }}{{ .Name }}{{ end }}`, want: "reads .Sites"},
		{name: "variable bound to $", tmpl: `{{ $x := $ }}{{ $x.Sites }}`, want: "reads .Sites"},
		{name: "variable bound to dot", tmpl: `{{ $x := . }}{{ len $x.Sites }}`, want: "reads .Sites"},
		{name: "variable bound later in a loop", tmpl: `{{ $x := .Site }}{{ range .Site.Groups }}{{ $x.Sites }}{{ $x = $ }}{{ end }}`, want: "reads .Sites"},
		{name: "variable bound in with", tmpl: `{{ with $x := $ }}{{ $x.Sites }}{{ end }}`, want: "reads .Sites"},
		{name: "with the data", tmpl: `{{ with $ }}{{ .Sites }}{{ end }}`, want: "reads .Sites"},
		{name: "chain", tmpl: `{{ ($).Sites }}`, want: "reads .Sites"},
		{name: "unknown field of the data", tmpl: `{{ .Other }}`, want: "reads .Other"},
		{name: "print dot", tmpl: `{{ . }}`, want: "prints the whole data"},
		{name: "print $", tmpl: `{{ $ }}`, want: "prints the whole data"},
		{name: "print a variable", tmpl: `{{ $x := . }}{{ $x }}`, want: "prints the whole data"},
		{name: "toYaml $", tmpl: `{{ toYaml $ }}`, want: "passes the whole data to toYaml"},
		{name: "toJson dot", tmpl: `{{ toJson . }}`, want: "passes the whole data to toJson"},
		{name: "piped", tmpl: `{{ $ | toYaml }}`, want: "passes the whole data to toYaml"},
		{name: "printf", tmpl: `{{ printf "%v" . }}`, want: "passes the whole data to printf"},
		{name: "index", tmpl: `{{ index . "Sites" }}`, want: "passes the whole data to index"},
		{name: "comparison", tmpl: `{{ if eq . . }}x{{ end }}`, want: "passes the whole data to eq"},
		{name: "method argument", tmpl: `{{ .Site.ImageName $ }}`, want: "passes the whole data to a method"},
		{name: "inside a dict given to a partial", tmpl: `{{ include "p" (dict "root" $) }}`,
			extra: map[string]string{"_p.tpl": `{{ define "p" }}{{ .root.Site.Name }}{{ end }}`}, want: "passes the whole data to dict"},
		{name: "range over the data", tmpl: `{{ range $ }}{{ end }}`, want: "ranges over the whole data"},
		{name: "partial given the data reads .Sites", tmpl: `{{ include "p" . }}`,
			extra: map[string]string{"_p.tpl": `{{ define "p" }}{{ len .Sites }}{{ end }}`}, want: "_p.tpl:1:23: reads .Sites"},
		{name: "partial given the data by template", tmpl: `{{ template "p" $ }}`,
			extra: map[string]string{"_p.tpl": `{{ define "p" }}{{ len .Sites }}{{ end }}`}, want: "reads .Sites"},
		{name: "piped into include", tmpl: `{{ . | include "p" }}`,
			extra: map[string]string{"_p.tpl": `{{ define "p" }}{{ toYaml $ }}{{ end }}`}, want: "passes the whole data to toYaml"},
		{name: "nested partials", tmpl: `{{ include "p" . }}`,
			extra: map[string]string{"_p.tpl": `{{ define "p" }}{{ include "q" $ }}{{ end }}{{ define "q" }}{{ .Sites }}{{ end }}`}, want: "reads .Sites"},
		{name: "template defined in the file", tmpl: `{{ define "x" }}{{ .Sites }}{{ end }}{{ template "x" . }}`, want: "reads .Sites"},
		{name: "computed include name reaches any template", tmpl: `{{ include (printf "p%d" 1) . }}`,
			extra: map[string]string{"_p.tpl": `{{ define "p1" }}{{ .Site.Name }}{{ end }}{{ define "p2" }}{{ .Sites }}{{ end }}`}, want: "reads .Sites"},
		{name: "computed include name, no template reads .Sites", tmpl: `{{ include (printf "p%d" 1) . }}`,
			extra: map[string]string{"_p.tpl": `{{ define "p1" }}{{ .Site.Name }}{{ end }}{{ define "p2" }}{{ .Fleet.Name }}{{ end }}`}},
		{name: "partial given the site only", tmpl: `{{ include "p" .Site }}{{ template "p" .Site }}`,
			extra: map[string]string{"_p.tpl": `{{ define "p" }}{{ .Name }}{{ include "q" . }}{{ end }}{{ define "q" }}{{ .Sites }}{{ end }}`}},
		{name: "partial reading .Sites used only by fleet-level files", tmpl: `{{ include "site" . }}`,
			extra: map[string]string{
				"_p.tpl":       `{{ define "site" }}{{ .Site.Name }}{{ end }}{{ define "all" }}{{ range .Sites }}{{ .Name }}{{ end }}{{ end }}`,
				"all.txt.tmpl": `{{ include "all" . }}{{ toYaml . }}`,
			}},
		{name: "path template reads .Sites", tmpl: `x`,
			extra: map[string]string{"p/{{ .Site.Name }}-{{ len .Sites }}.txt": "y"},
			want:  "p/{{ .Site.Name }}-{{ len .Sites }}.txt:1:"},
	}
	runFlowCases(t, tests, (*Engine).SiteLocal)
}

func TestDefaultSetIsSiteLocal(t *testing.T) {
	e, err := Load(templates.FS())
	if err != nil {
		t.Fatal(err)
	}
	if ok, reason := e.SiteLocal(); !ok {
		t.Errorf("default set is not site-local: %s", reason)
	}
}

// BenchmarkEngineRender1000Reuse is BenchmarkEngineRender1000Parsed with
// every site's files given back by Reuse, as after a fleet-level-only
// change or a no-op run; compare with BenchmarkEngineRender1000Parsed.
func BenchmarkEngineRender1000Reuse(b *testing.B) {
	e, err := Load(templates.FS())
	if err != nil {
		b.Fatal(err)
	}
	fleet := syntheticFleet(b, 1000)
	prev, err := e.Render(fleet)
	if err != nil {
		b.Fatal(err)
	}
	st := storeOf(prev)
	opts := RenderOptions{Parsed: allParsed, Reuse: func(site, key string) ([]File, bool) {
		s, ok := st[site]
		return s.files, ok && s.key == key
	}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.RenderWith(fleet, opts); err != nil {
			b.Fatal(err)
		}
	}
}

func TestOriginBlind(t *testing.T) {
	const file = flowFile
	tests := []flowCase{
		{name: "site fields and methods", tmpl: `{{ .Site.Name }} {{ .Site.Config.K }} {{ $.Site.ImageName "app" }} {{ .Fleet.Name }}`},
		{name: "site in variables, with and if", tmpl: `{{ $s := .Site }}{{ $s.Name }}{{ with .Site }}{{ .Region }}{{ end }}{{ if .Site }}x{{ end }}`},
		{name: "site encoded as JSON or YAML", tmpl: `{{ toYaml .Site }}{{ .Site | toJson }}{{ toPrettyJson .Site }}`},
		{name: "site given to a partial that reads its fields", tmpl: `{{ include "p" .Site }}{{ template "p" .Site }}`,
			extra: map[string]string{"_p.tpl": `{{ define "p" }}{{ .Name }}{{ toYaml . }}{{ end }}`}},
		{name: "ranging over the site's values", tmpl: `{{ range $k, $v := .Site.Labels }}{{ $k }}={{ $v }}{{ end }}`},
		{name: ".Site.Origins", tmpl: `{{ .Site.Origins }}`, want: file + `:1:8: reads .Origins of the site`},
		{name: "origin line", tmpl: `{{ range $k, $v := .Site.Origins }}{{ $v.Line }}{{ end }}`, want: "reads .Origins"},
		{name: "through a variable", tmpl: `{{ $s := $.Site }}{{ $s.Origins }}`, want: "reads .Origins"},
		{name: "through with", tmpl: `{{ with .Site }}{{ .Origins }}{{ end }}`, want: "reads .Origins"},
		{name: "through a chain", tmpl: `{{ (.Site).Origins }}`, want: "reads .Origins"},
		{name: "in a partial given the data", tmpl: `{{ include "p" . }}`,
			extra: map[string]string{"_p.tpl": `{{ define "p" }}{{ .Site.Origins }}{{ end }}`}, want: "_p.tpl:1:"},
		{name: "in a partial given the site", tmpl: `{{ include "p" .Site }}`,
			extra: map[string]string{"_p.tpl": `{{ define "p" }}{{ .Origins }}{{ end }}`}, want: "reads .Origins"},
		{name: "printing the site", tmpl: `{{ .Site }}`, want: "prints the site"},
		{name: "printf of the site", tmpl: `{{ printf "%v" .Site }}`, want: "passes the site to printf"},
		{name: "toString", tmpl: `{{ .Site | toString }}`, want: "passes the site to toString"},
		{name: "copied", tmpl: `{{ (deepCopy .Site).Origins }}`, want: "passes the site to deepCopy"},
		{name: "inside a dict", tmpl: `{{ include "p" (dict "s" .Site) }}`,
			extra: map[string]string{"_p.tpl": `{{ define "p" }}{{ .s.Name }}{{ end }}`}, want: "passes the site to dict"},
		{name: "chosen by or", tmpl: `{{ (or .Site .Fleet).Name }}`, want: "passes the site to or"},
		{name: "method argument", tmpl: `{{ .Site.ImageName .Site }}`, want: "passes the site to a method"},
		{name: "range over the site", tmpl: `{{ range .Site }}{{ end }}`, want: "ranges over the site"},
		{name: "path template", tmpl: `x`,
			extra: map[string]string{"p/{{ .Site.Name }}-{{ len .Site.Origins }}.txt": "y"}, want: "reads .Origins"},
		{name: "not site-local", tmpl: `{{ len .Sites }}`, want: "not site-local"},
	}
	runFlowCases(t, tests, (*Engine).OriginBlind)
	e, err := Load(templates.FS())
	if err != nil {
		t.Fatal(err)
	}
	if ok, reason := e.OriginBlind(); !ok {
		t.Errorf("the default set can observe Origins: %s", reason)
	}
}
