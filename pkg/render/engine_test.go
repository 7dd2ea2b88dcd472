package render

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/fleetgen/fleetgen/pkg/inventory"
)

func testFleet() *inventory.Fleet {
	return &inventory.Fleet{
		Name: "demo",
		Sites: []inventory.Site{
			{Name: "a", Type: "store", Region: "eu", Arch: "arm64", Config: map[string]string{"K": "1"}},
			{Name: "b", Type: "factory", Region: "us", Arch: "amd64", Config: map[string]string{"K": "2"}},
		},
	}
}

func mapFS(files map[string]string) fstest.MapFS {
	m := fstest.MapFS{}
	for p, c := range files {
		m[p] = &fstest.MapFile{Data: []byte(c)}
	}
	return m
}

// fileSummary is "path[site]" for each file of a tree.
func fileSummary(tr *Tree) string {
	var parts []string
	for _, f := range tr.Files {
		parts = append(parts, f.Path+"["+f.Site+"]")
	}
	return strings.Join(parts, " ")
}

func TestRenderTree(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string            // fileSummary
		data  map[string]string // path -> content
	}{
		{
			name: "path referring to .Site is per-site",
			files: map[string]string{
				"sites/{{ .Site.Name }}.txt":                                     "verbatim {{ .Site.Name }}",
				"fleet.txt.tmpl":                                                 "{{ range .Sites }}{{ .Name }} {{ end }}{{ .Fleet.Name }}",
				"x/{{ $.Site.Region }}/{{ .Site.Name }}/r.tmpl":                  "{{ .Site.Region }}",
				"y/{{ with .Site }}{{ .Type }}{{ end }}-{{ (.Site).Arch }}.tmpl": "t",
			},
			want: "fleet.txt[] sites/a.txt[a] sites/b.txt[b] x/eu/a/r[a] x/us/b/r[b] y/factory-amd64[b] y/store-arm64[a]",
			data: map[string]string{"sites/a.txt": "verbatim {{ .Site.Name }}", "fleet.txt": "a b demo", "x/eu/a/r": "eu"},
		},
		{
			name: "path mentioning Site only as text is fleet-level",
			files: map[string]string{
				"Site/{{ .Fleet.Name }}.Site.txt":        "x",
				"{{ \".Site\" | trimPrefix \".\" }}.txt": "y",
			},
			want: "Site.txt[] Site/demo.Site.txt[]",
		},
		{
			name: "partials are shared and never written",
			files: map[string]string{
				"_helpers.tpl":                `{{ define "greet" }}hello {{ . }}{{ end }}`,
				"sub/_more.tpl":               `{{ define "shout" }}{{ include "greet" . | upper }}{{ end }}`,
				"o/{{ .Site.Name }}.txt.tmpl": `{{ include "greet" .Site.Name }} {{ template "shout" .Site.Name }}`,
			},
			want: "o/a.txt[a] o/b.txt[b]",
			data: map[string]string{"o/a.txt": "hello a HELLO A"},
		},
		{
			name: "empty or whitespace output is skipped, verbatim empty files are kept",
			files: map[string]string{
				"o/{{ .Site.Name }}.yaml.tmpl": "{{ if eq .Site.Name \"a\" }}k: v\n{{ else }}  \n\t\n{{ end }}",
				".gitkeep":                     "",
			},
			want: ".gitkeep[] o/a.yaml[a]",
		},
		{
			name: "git directory is skipped",
			files: map[string]string{
				".git/config": "[core]",
				"a.txt":       "x",
			},
			want: "a.txt[]",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Load(mapFS(tt.files))
			if err != nil {
				t.Fatal(err)
			}
			tr, err := e.Render(testFleet())
			if err != nil {
				t.Fatal(err)
			}
			if got := fileSummary(tr); got != tt.want {
				t.Errorf("files:\n got %s\nwant %s", got, tt.want)
			}
			for p, want := range tt.data {
				f, ok := tr.Lookup(p)
				if !ok {
					t.Errorf("%s missing", p)
					continue
				}
				if string(f.Data) != want {
					t.Errorf("%s = %q, want %q", p, f.Data, want)
				}
			}
		})
	}
}

func TestRenderErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		fleet func(*inventory.Fleet)
		// want are substrings of the error message.
		want []string
		// loc is the expected location of the first *Error.
		loc *Error
	}{
		{
			name:  "missing key names template line column and site",
			files: map[string]string{"o/{{ .Site.Name }}.txt.tmpl": "line1\n  {{ .Site.Config.MISSING }}"},
			want:  []string{`o/{{ .Site.Name }}.txt.tmpl:2:10: site "a": `, `map has no entry for key "MISSING"`, `site "b"`},
			loc:   &Error{Template: "o/{{ .Site.Name }}.txt.tmpl", Line: 2, Column: 10, Site: "a"},
		},
		{
			name:  "missing key in a partial names the partial",
			files: map[string]string{"_h.tpl": "{{ define \"x\" }}\n{{ .Nope }}{{ end }}", "f.txt.tmpl": `{{ include "x" . }}`},
			want:  []string{`_h.tpl:2:3: executing "x" at <.Nope>: can't evaluate field Nope`},
		},
		{
			name:  "parse error names template and line",
			files: map[string]string{"a.tmpl": "ok\n{{ if }}"},
			want:  []string{"a.tmpl:2: missing value for if"},
			loc:   &Error{Template: "a.tmpl", Line: 2},
		},
		{
			name:  "removed function is unknown",
			files: map[string]string{"a.tmpl": "{{ now }}"},
			want:  []string{`a.tmpl:1: function "now" not defined`},
		},
		{
			name:  "env is unknown",
			files: map[string]string{"a.tmpl": `{{ env "HOME" }}`},
			want:  []string{`function "env" not defined`},
		},
		{
			name:  "dotdot path",
			files: map[string]string{`{{ .Site.Name }}/{{ "..." | trimSuffix "." }}/x.txt`: "x"},
			want:  []string{`site "a": output "a/../x.txt": rendered path has a ".." segment`},
		},
		{
			name:  "absolute path",
			files: map[string]string{`{{ printf "%cetc" 47 }}`: "x"},
			want:  []string{"rendered path is absolute"},
		},
		{
			name:  "empty segment",
			files: map[string]string{`o/{{ .Site.Name | replace .Site.Name "" }}/x`: "x"},
			want:  []string{"empty segment"},
		},
		{
			name:  "backslash",
			files: map[string]string{`{{ "a\\b" }}`: "x"},
			want:  []string{"backslash"},
		},
		{
			name:  "reserved directory",
			files: map[string]string{".fleetgen/state": "x"},
			want:  []string{"reserved directory .fleetgen/"},
		},
		{
			name:  "duplicate paths",
			files: map[string]string{"a.txt": "x", "a.txt.tmpl": "y"},
			want:  []string{`a.txt.tmpl: output "a.txt": path already produced by a.txt`},
		},
		{
			name:  "per-site path not unique across sites",
			files: map[string]string{"{{ .Site.Type | replace .Site.Type \"same\" }}.txt": "x"},
			want:  []string{`site "b": output "same.txt": path already produced by {{ .Site.Type | replace .Site.Type "same" }}.txt for site "a"`},
		},
		{
			name:  "file and directory clash",
			files: map[string]string{"a": "x", `{{ printf "a%cb" 47 }}`: "y"},
			want:  []string{`output "a/b": parent "a" is a file produced by a`},
		},
		{
			name:  "invalid yaml output",
			files: map[string]string{"o/{{ .Site.Name }}.yaml.tmpl": "a: [\n"},
			want:  []string{`o/{{ .Site.Name }}.yaml.tmpl: site "a": output "o/a.yaml": invalid YAML (document 1): yaml: line`},
		},
		{
			name:  "duplicate keys in second document",
			files: map[string]string{"x.yml.tmpl": "a: 1\n---\nb: 1\nb: 2\n"},
			want:  []string{`invalid YAML (document 2)`, `line 4: mapping key "b" already defined at line 3`},
		},
		{
			name:  "raw interpolation breaking yaml is caught",
			files: map[string]string{"{{ .Site.Name }}.yaml.tmpl": "v: {{ .Site.Config.K }}\nw: {{ .Site.Config.K }}: x\n"},
			want:  []string{"invalid YAML"},
		},
		{
			name:  "path template may not include",
			files: map[string]string{`{{ include "x" . }}`: "x"},
			want:  []string{`path template: "include" cannot be used in a path`},
		},
		{
			name:  "recursive include is bounded",
			files: map[string]string{"_h.tpl": `{{ define "r" }}{{ include "r" . }}{{ end }}`, "a.tmpl": `{{ include "r" . }}`},
			want:  []string{"nested more than"},
		},
		{
			name:  "required and fail",
			files: map[string]string{"{{ .Site.Name }}.tmpl": `{{ required "need labels.tier" (index .Site.Labels "tier") }}`},
			want:  []string{`site "a": `, "need labels.tier"},
		},
		{
			name:  "unknown component",
			files: map[string]string{"components/gpu/kustomization.yaml": "kind: Component\n"},
			fleet: func(f *inventory.Fleet) { f.Sites[1].Components = []string{"gpu", "tpu"} },
			want:  []string{`site "b": component "tpu" is not in the template set (known: gpu)`},
		},
		{
			name:  "fleet-level template using .Site",
			files: map[string]string{"a.tmpl": "{{ .Site.Name }}"},
			want:  []string{"a.tmpl:1:8: ", "nil pointer evaluating *inventory.Site.Name"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fleet := testFleet()
			if tt.fleet != nil {
				tt.fleet(fleet)
			}
			e, err := Load(mapFS(tt.files))
			if err == nil {
				var tr *Tree
				tr, err = e.Render(fleet)
				if err == nil {
					t.Fatalf("no error; files: %s", fileSummary(tr))
				}
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
			var re *Error
			if !errors.As(err, &re) {
				t.Fatalf("error %v is not an *Error", err)
			}
			if tt.loc != nil {
				if re.Template != tt.loc.Template || re.Line != tt.loc.Line || re.Column != tt.loc.Column || re.Site != tt.loc.Site {
					t.Errorf("location = %q:%d:%d site %q, want %q:%d:%d site %q", re.Template, re.Line, re.Column, re.Site,
						tt.loc.Template, tt.loc.Line, tt.loc.Column, tt.loc.Site)
				}
			}
		})
	}
}

func TestComponents(t *testing.T) {
	e, err := Load(mapFS(map[string]string{
		"components/zeta/kustomization.yaml":  "x: 1\n",
		"components/alpha/kustomization.yaml": "x: 1\n",
		"components/README.md":                "not a component",
		"components/alpha/deep/x.yaml":        "x: 1\n",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(e.Components(), ","); got != "alpha,zeta" {
		t.Errorf("Components() = %s", got)
	}
}

func TestErrorFormat(t *testing.T) {
	inner := errors.New("boom")
	tests := []struct {
		e    Error
		want string
	}{
		{Error{Template: "a.tmpl", Line: 3, Column: 4, Site: "s", Err: inner}, `a.tmpl:3:4: site "s": boom`},
		{Error{Template: "a.tmpl", Line: 3, Err: inner}, `a.tmpl:3: boom`},
		{Error{Template: "a.tmpl", Site: "s", Output: "o/s.yaml", Err: inner}, `a.tmpl: site "s": output "o/s.yaml": boom`},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
		if !errors.Is(&tt.e, inner) {
			t.Error("Unwrap lost the cause")
		}
	}
}
