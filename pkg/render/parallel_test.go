package render

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/fleetgen/fleetgen/pkg/benchfleet"
	"github.com/fleetgen/fleetgen/pkg/inventory"
	"github.com/fleetgen/fleetgen/templates"
)

// syntheticFleet resolves benchfleet's inventory of n sites.
func syntheticFleet(tb testing.TB, n int) *inventory.Fleet {
	tb.Helper()
	var buf bytes.Buffer
	if err := benchfleet.Inventory(&buf, n); err != nil {
		tb.Fatal(err)
	}
	inv, err := inventory.Load("bench.yaml", &buf)
	if err != nil {
		tb.Fatal(err)
	}
	f, err := inv.Resolve(inventory.ResolveOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

// withProcs runs fn with GOMAXPROCS set to n, which is the number of render
// workers.
func withProcs(n int, fn func()) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(n))
	fn()
}

// workerCounts are the GOMAXPROCS values the scheduling tests compare; 1
// renders every job in order on the calling goroutine.
var workerCounts = []int{1, 2, 3, 8}

func TestRenderSameTreeWithAnyWorkerCount(t *testing.T) {
	e, err := Load(templates.FS())
	if err != nil {
		t.Fatal(err)
	}
	fleet := syntheticFleet(t, 300)
	var want *Tree
	withProcs(1, func() { want, err = e.Render(fleet) })
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Files) < 300*4 {
		t.Fatalf("only %d files for 300 sites", len(want.Files))
	}
	for _, n := range workerCounts[1:] {
		for run := range 2 {
			var got *Tree
			withProcs(n, func() { got, err = e.Render(fleet) })
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Files) != len(want.Files) {
				t.Fatalf("%d workers, run %d: %d files, want %d", n, run, len(got.Files), len(want.Files))
			}
			for i := range want.Files {
				if !reflect.DeepEqual(got.Files[i], want.Files[i]) {
					t.Fatalf("%d workers, run %d: file %d differs:\n got %s [%s] %q\nwant %s [%s] %q", n, run, i,
						got.Files[i].Path, got.Files[i].Site, got.Files[i].Data,
						want.Files[i].Path, want.Files[i].Site, want.Files[i].Data)
				}
			}
		}
	}
}

// TestRenderConcurrentRenders renders with one Engine from several
// goroutines at once; under -race it checks that the engine shares nothing
// mutable between renders (include's depth included).
func TestRenderConcurrentRenders(t *testing.T) {
	e, err := Load(templates.FS())
	if err != nil {
		t.Fatal(err)
	}
	fleet := syntheticFleet(t, 40)
	want, err := e.Render(fleet)
	if err != nil {
		t.Fatal(err)
	}
	withProcs(4, func() {
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Go(func() {
				got, err := e.Render(fleet)
				if err == nil && !reflect.DeepEqual(got, want) {
					err = fmt.Errorf("render %d gave a different tree", i)
				}
				errs[i] = err
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
	})
}

// errorFleet has n sites named s000, s001, ...
func errorFleet(n int) *inventory.Fleet {
	f := &inventory.Fleet{Name: "demo"}
	for i := range n {
		f.Sites = append(f.Sites, inventory.Site{Name: fmt.Sprintf("s%03d", i), Type: "store",
			Config: map[string]string{"K": fmt.Sprint(i)}})
	}
	return f
}

func TestRenderErrorsSameWithAnyWorkerCount(t *testing.T) {
	set := map[string]string{
		"_h.tpl": `{{ define "deep" }}{{ if eq .Site.Name "s050" }}{{ include "deep" . }}{{ else }}ok{{ end }}{{ end }}` +
			`{{ define "inner" }}{{ include "deep" . }}{{ if eq .Site.Name "s011" }}{{ .Site.Nope }}{{ end }}{{ end }}`,
		// Missing keys in a few sites, an include recursion in one, a
		// partial's error in another.
		"o/{{ .Site.Name }}/a.txt.tmpl": "x\n{{ if eq .Site.Name \"s007\" \"s123\" }}{{ .Site.Config.MISSING }}{{ end }}" +
			`{{ include "inner" . }}`,
		// Invalid YAML in some sites, duplicate keys in others.
		"o/{{ .Site.Name }}/b.yaml.tmpl": "{{ if eq .Site.Name \"s003\" \"s099\" }}a: [\n{{ else if eq .Site.Name \"s150\" }}k: 1\nk: 2\n{{ else }}k: {{ .Site.Config.K }}\n{{ end }}",
		// One site renders onto a path another template already produced,
		// with content that does not parse: only the duplicate is reported.
		"o/{{ .Site.Name }}/c.yaml": "c: 1\n",
		"o/{{ .Site.Name }}/{{ if eq .Site.Name \"s042\" }}c.yaml{{ else }}d.yaml{{ end }}.tmpl": "{{ if eq .Site.Name \"s042\" }}bad: [\n{{ else }}d: 1\n{{ end }}",
		// A required value missing in a site, and a bad output path.
		"o/{{ .Site.Name }}/e.txt.tmpl": `{{ required "need K" (ne .Site.Name "s077" | ternary .Site.Config.K "") }}`,
		"o/{{ .Site.Name }}/{{ if eq .Site.Name \"s088\" }}..{{ else }}f{{ end }}/f.txt": "f",
		// A file that is also a directory.
		"o/{{ .Site.Name }}/{{ if eq .Site.Name \"s199\" }}a.txt/g{{ else }}g{{ end }}.txt": "g",
	}
	e, err := Load(mapFS(set))
	if err != nil {
		t.Fatal(err)
	}
	fleet := errorFleet(200)
	var want string
	withProcs(1, func() {
		_, err = e.Render(fleet)
	})
	if err == nil {
		t.Fatal("no error")
	}
	want = err.Error()
	for _, w := range []string{
		`o/{{ .Site.Name }}/a.txt.tmpl:2:`, `site "s007"`, `site "s123"`, `map has no entry for key "MISSING"`,
		`site "s050"`, `nested more than 64 levels`,
		`_h.tpl:1:`, `site "s011"`, `can't evaluate field Nope`,
		`site "s003": output "o/s003/b.yaml": invalid YAML (document 1)`, `output "o/s099/b.yaml": invalid YAML`,
		`output "o/s150/b.yaml": invalid YAML (document 1): yaml: unmarshal errors:`,
		`site "s042": output "o/s042/c.yaml": path already produced by o/{{ .Site.Name }}/c.yaml for site "s042"`,
		`site "s077": executing`, `need K`,
		`site "s088": output "o/s088/../f.txt": rendered path has a ".." segment`,
		`output "o/s199/a.txt/g.txt": parent "o/s199/a.txt" is a file produced by`,
	} {
		if !strings.Contains(want, w) {
			t.Errorf("error does not contain %q:\n%s", w, want)
		}
	}
	if n := strings.Count(want, "\n") + 1; n != 12 {
		t.Errorf("%d errors, want 12:\n%s", n, want)
	}
	// The duplicate's content is not parsed back: it is not kept.
	if strings.Contains(want, `output "o/s042/c.yaml": invalid YAML`) {
		t.Errorf("duplicate output parsed back:\n%s", want)
	}
	for _, n := range workerCounts[1:] {
		for run := range 3 {
			withProcs(n, func() { _, err = e.Render(fleet) })
			if err == nil {
				t.Fatalf("%d workers: no error", n)
			}
			if got := err.Error(); got != want {
				t.Fatalf("%d workers, run %d: errors differ:\n got %s\nwant %s", n, run, got, want)
			}
		}
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func TestRenderHashes(t *testing.T) {
	e, err := Load(templates.FS())
	if err != nil {
		t.Fatal(err)
	}
	var tr *Tree
	withProcs(3, func() { tr, err = e.Render(syntheticFleet(t, 20)) })
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range tr.Files {
		if want := sha256Hex(f.Data); f.Hash != want || f.ContentHash() != want {
			t.Errorf("%s: Hash %q, ContentHash %q, want %q", f.Path, f.Hash, f.ContentHash(), want)
		}
	}

	// An empty file's Data is empty, not nil: nil means known only by hash.
	e, err = Load(mapFS(map[string]string{".gitkeep": "", "{{ .Site.Name }}/.keep": ""}))
	if err != nil {
		t.Fatal(err)
	}
	if tr, err = e.Render(testFleet()); err != nil {
		t.Fatal(err)
	}
	for _, f := range tr.Files {
		if f.Data == nil || f.Hash != sha256Hex(nil) {
			t.Errorf("%s: Data %#v, Hash %q", f.Path, f.Data, f.Hash)
		}
	}
}

func TestContentHash(t *testing.T) {
	tests := []struct {
		name string
		f    File
		want string
	}{
		{"computed from Data", File{Data: []byte("k: v\n")}, sha256Hex([]byte("k: v\n"))},
		{"empty Data", File{}, sha256Hex(nil)},
		{"Hash wins", File{Data: []byte("x"), Hash: "abc"}, "abc"},
		{"known only by hash", File{Hash: sha256Hex([]byte("y"))}, sha256Hex([]byte("y"))},
	}
	for _, tt := range tests {
		if got := tt.f.ContentHash(); got != tt.want {
			t.Errorf("%s: ContentHash() = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestRenderWithParsed(t *testing.T) {
	const bad = "a: [\n"
	e, err := Load(mapFS(map[string]string{
		"o/{{ .Site.Name }}.yaml.tmpl": `{{ if eq .Site.Name "b" }}a: [{{ "\n" }}{{ else }}k: v{{ "\n" }}{{ end }}`,
		"o/{{ .Site.Name }}.txt.tmpl":  "text {{ .Site.Name }}\n",
		"fleet.yml":                    "f: 1\n",
	}))
	if err != nil {
		t.Fatal(err)
	}
	badHash, goodHash, fleetHash := sha256Hex([]byte(bad)), sha256Hex([]byte("k: v\n")), sha256Hex([]byte("f: 1\n"))
	const invalid = `o/{{ .Site.Name }}.yaml.tmpl: site "b": output "o/b.yaml": invalid YAML (document 1)`

	tests := []struct {
		name    string
		parsed  func(string) bool
		wantErr string
	}{
		{"no option parses everything", nil, invalid},
		{"unknown hashes are parsed", func(string) bool { return false }, invalid},
		{"other hashes known", func(h string) bool { return h == goodHash }, invalid},
		{"known hash is not parsed again", func(h string) bool { return h == badHash }, ""},
		{"everything known", func(string) bool { return true }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			asked := map[string]int{}
			opts := RenderOptions{}
			if tt.parsed != nil {
				opts.Parsed = func(h string) bool {
					mu.Lock()
					asked[h]++
					mu.Unlock()
					return tt.parsed(h)
				}
			}
			var tr *Tree
			withProcs(2, func() { tr, err = e.RenderWith(testFleet(), opts) })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				if f, _ := tr.Lookup("o/b.yaml"); string(f.Data) != bad || f.Hash != badHash {
					t.Errorf("o/b.yaml = %q (hash %s)", f.Data, f.Hash)
				}
			}
			if tt.parsed == nil {
				return
			}
			// Asked once per YAML file (o/a.yaml, o/b.yaml, fleet.yml),
			// never for other files.
			want := map[string]int{goodHash: 1, badHash: 1, fleetHash: 1}
			if !reflect.DeepEqual(asked, want) {
				t.Errorf("Parsed asked %v, want %v", asked, want)
			}
		})
	}
}

func benchRender(b *testing.B, sites int, parsed func(string) bool) {
	e, err := Load(templates.FS())
	if err != nil {
		b.Fatal(err)
	}
	fleet := syntheticFleet(b, sites)
	opts := RenderOptions{Parsed: parsed}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.RenderWith(fleet, opts); err != nil {
			b.Fatal(err)
		}
	}
}

func allParsed(string) bool { return true }

// BenchmarkEngineRender1000 renders a resolved 1,000-site fleet (loading
// the inventory is not timed).
func BenchmarkEngineRender1000(b *testing.B) { benchRender(b, 1000, nil) }

// BenchmarkEngineRender1000Parsed is BenchmarkEngineRender1000 with every
// hash known to parse, as after a one-site edit.
func BenchmarkEngineRender1000Parsed(b *testing.B) { benchRender(b, 1000, allParsed) }

// BenchmarkEngineRender10000 renders a resolved 10,000-site fleet.
func BenchmarkEngineRender10000(b *testing.B) { benchRender(b, 10000, nil) }

// BenchmarkEngineRender10000Parsed is BenchmarkEngineRender10000 with every
// hash known to parse.
func BenchmarkEngineRender10000Parsed(b *testing.B) { benchRender(b, 10000, allParsed) }

// SharedOnly renders exactly the fleet-level files of the full render,
// byte for byte, and no per-site file.
func TestRenderSharedOnly(t *testing.T) {
	e, err := Load(templates.FS())
	if err != nil {
		t.Fatal(err)
	}
	fleet := syntheticFleet(t, 20)
	full, err := e.Render(fleet)
	if err != nil {
		t.Fatal(err)
	}
	shared, err := e.RenderWith(fleet, RenderOptions{SharedOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var want []File
	for _, f := range full.Files {
		if f.Site == "" {
			want = append(want, f)
		}
	}
	if len(want) == 0 || len(want) == len(full.Files) {
		t.Fatalf("the full render has %d fleet-level files of %d: the test needs both kinds", len(want), len(full.Files))
	}
	if len(shared.Files) != len(want) {
		t.Fatalf("SharedOnly rendered %d files, want the %d fleet-level files", len(shared.Files), len(want))
	}
	for i, f := range shared.Files {
		if f.Path != want[i].Path || !bytes.Equal(f.Data, want[i].Data) || f.Site != "" {
			t.Errorf("file %d: %s (site %q), want %s as the full render has it", i, f.Path, f.Site, want[i].Path)
		}
	}
	if len(shared.SiteKeys) != 0 {
		t.Errorf("SharedOnly gave %d site keys, want none", len(shared.SiteKeys))
	}
}
