package render

import (
	"strings"
	"testing"
	"text/template"

	"github.com/fleetgen/fleetgen/pkg/inventory"
)

// A path template of text and {{ .Site.Name }} alone gives, joined around
// the name, what executing it gives; any other template is executed.
func TestSiteNameParts(t *testing.T) {
	for _, tc := range []struct {
		path   string
		simple bool
	}{
		{"overlays/{{ .Site.Name }}/kustomization.yaml", true},
		{"{{.Site.Name}}", true},
		{"a/{{ .Site.Name }}/{{ .Site.Name }}.yaml", true},
		{"x/ {{- .Site.Name -}} /y", true},
		{"overlays/{{ .Site.Name | upper }}/k.yaml", false},
		{"{{ .Site.Region }}/{{ .Site.Name }}", false},
		{"{{ $.Site.Name }}/k.yaml", false},
		{"{{ if .Site.Name }}a{{ end }}", false},
		{"{{ $n := .Site.Name }}{{ $n }}", false},
		{"fleet.yaml", false},
	} {
		tmpl := template.Must(template.New("p").Option("missingkey=error").Funcs(funcMap()).Parse(tc.path))
		sf := &setFile{pathTmpl: tmpl, nameParts: siteNameParts(tmpl.Tree.Root)}
		if got := sf.nameParts != nil; got != tc.simple {
			t.Errorf("%q: simple = %v, want %v", tc.path, got, tc.simple)
		}
		for _, name := range []string{"store-001", "a", ""} {
			site := inventory.Site{Name: name, Region: "eu"}
			data := &Data{Site: &site}
			var want strings.Builder
			if err := tmpl.Execute(&want, data); err != nil {
				t.Fatal(err)
			}
			got, err := sf.outputPath(data)
			if err != nil || got != want.String() {
				t.Errorf("%q for %q: %q, %v; executing gives %q", tc.path, name, got, err, want.String())
			}
		}
	}
}
