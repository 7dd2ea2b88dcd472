package templates_test

import (
	"io/fs"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/fleetgen/fleetgen/pkg/render"
	"github.com/fleetgen/fleetgen/templates"
)

func TestDefaultSetLoads(t *testing.T) {
	e, err := render.Load(templates.FS())
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(e.Components(), ","); got != "eu-compliance,gpu,mtls,wasm" {
		t.Errorf("Components() = %s", got)
	}
	for _, p := range []string{"_helpers.tpl", "base/kustomization.yaml", "overlays/{{ .Site.Name }}/kustomization.yaml.tmpl"} {
		if _, err := fs.Stat(templates.FS(), p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}

// TestSampleInventory checks the sample against the default set without the
// inventory loader: valid YAML, known components, and the tricky config
// values kept as exact text.
func TestSampleInventory(t *testing.T) {
	var doc struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Fleet      string `yaml:"fleet"`
		Defaults   struct {
			Config map[string]yaml.Node `yaml:"config"`
		} `yaml:"defaults"`
		Groups []struct {
			Name       string   `yaml:"name"`
			Components []string `yaml:"components"`
		} `yaml:"groups"`
		Sites []struct {
			Name   string   `yaml:"name"`
			Groups []string `yaml:"groups"`
		} `yaml:"sites"`
	}
	data := templates.SampleInventory()
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.APIVersion != "fleetgen.dev/v1alpha1" || doc.Kind != "Inventory" || doc.Fleet != "acme-retail" {
		t.Errorf("header: %s %s %s", doc.APIVersion, doc.Kind, doc.Fleet)
	}
	e, err := render.Load(templates.FS())
	if err != nil {
		t.Fatal(err)
	}
	known := strings.Join(e.Components(), ",")
	for _, g := range doc.Groups {
		for _, c := range g.Components {
			if !strings.Contains(","+known+",", ","+c+",") {
				t.Errorf("group %s: unknown component %s", g.Name, c)
			}
		}
	}
	if len(doc.Sites) < 6 {
		t.Errorf("%d sites", len(doc.Sites))
	}
	for key, want := range map[string]string{"PROTOCOL_VERSION": "1.10", "TELEMETRY": "no", "FEATURE_MASK": "0x10", "RECEIPT_FOOTER": "{{ not a template }}"} {
		if got := doc.Defaults.Config[key].Value; got != want {
			t.Errorf("defaults.config.%s text = %q, want %q", key, got, want)
		}
	}
	data[0] ^= 0xff
	if templates.SampleInventory()[0] == data[0] {
		t.Error("SampleInventory returns shared memory")
	}
}
