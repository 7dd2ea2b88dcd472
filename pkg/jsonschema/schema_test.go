package jsonschema

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	sjs "github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/fleetgen/fleetgen/templates"
)

var update = flag.Bool("update", false, "rewrite docs/inventory.schema.json")

const golden = "../../docs/inventory.schema.json"

// TestGolden keeps docs/inventory.schema.json in sync with the Go types.
func TestGolden(t *testing.T) {
	got, err := JSON()
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./pkg/jsonschema -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is out of date: run go test ./pkg/jsonschema -update and review the diff", golden)
	}
}

// TestDescribed fails when a property has no description.
func TestDescribed(t *testing.T) {
	var walk func(s *Schema, path string)
	walk = func(s *Schema, path string) {
		if s == nil {
			return
		}
		for _, p := range s.Properties {
			if p.Schema.Description == "" {
				t.Errorf("%s.%s has no description: add it to descriptions.go", path, p.Name)
			}
			walk(p.Schema, path+"."+p.Name)
		}
		walk(s.Items, path+"[]")
		for _, d := range s.Defs {
			walk(d.Schema, "$defs."+d.Name)
		}
	}
	walk(Inventory(), "")
}

func compile(t *testing.T) *sjs.Schema {
	t.Helper()
	data, err := JSON()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := sjs.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	c := sjs.NewCompiler()
	c.DefaultDraft(sjs.Draft2020)
	if err := c.AddResource(ID, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(ID)
	if err != nil {
		t.Fatalf("the schema does not compile: %v", err)
	}
	return s
}

// yamlToJSONValue decodes YAML as an editor's language server sees it.
func yamlToJSONValue(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	// Round trip through JSON to get the types the validator expects.
	j, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out, err := sjs.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSamplesValidate(t *testing.T) {
	s := compile(t)
	docs := map[string][]byte{"sample-inventory.yaml": templates.SampleInventory()}
	starter, err := os.ReadFile(filepath.Join("..", "cli", "starter", "inventory.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	docs["starter inventory.yaml"] = starter
	for name, data := range docs {
		if err := s.Validate(yamlToJSONValue(t, data)); err != nil {
			t.Errorf("%s does not validate against the schema: %v", name, err)
		}
	}
}

func TestRejects(t *testing.T) {
	s := compile(t)
	for _, tc := range []struct{ name, doc, want string }{
		{"unknown field", "apiVersion: fleetgen.dev/v1alpha1\nkind: Inventory\nfleet: a\nsites:\n  - name: s\n    regoin: x\n", "regoin"},
		{"bad arch", "apiVersion: fleetgen.dev/v1alpha1\nkind: Inventory\nfleet: a\nsites:\n  - name: s\n    arch: sparc\n", "arch"},
		{"bad apiVersion", "apiVersion: v1\nkind: Inventory\nfleet: a\n", "apiVersion"},
		{"bad site name", "apiVersion: fleetgen.dev/v1alpha1\nkind: Inventory\nfleet: a\nsites:\n  - name: Store_1\n", "name"},
		{"site without name", "apiVersion: fleetgen.dev/v1alpha1\nkind: Inventory\nfleet: a\nsites:\n  - type: store\n", "name"},
		{"config key YAML reads as a boolean", "apiVersion: fleetgen.dev/v1alpha1\nkind: Inventory\nfleet: a\ndefaults:\n  config: {\"true\": x}\nsites: []\n", "true"},
		{"config key YAML reads as a number", "apiVersion: fleetgen.dev/v1alpha1\nkind: Inventory\nfleet: a\ndefaults:\n  config: {\"1.5\": x}\nsites: []\n", "1.5"},
		{"config key YAML reads as a date", "apiVersion: fleetgen.dev/v1alpha1\nkind: Inventory\nfleet: a\ndefaults:\n  config: {\"2001-12-14\": x}\nsites: []\n", "2001-12-14"},
		{"config value mapping", "apiVersion: fleetgen.dev/v1alpha1\nkind: Inventory\nfleet: a\ndefaults:\n  config: {A: {b: c}}\nsites: []\n", "config"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Validate(yamlToJSONValue(t, []byte(tc.doc)))
			if err == nil {
				t.Fatal("validated")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error does not mention %q: %v", tc.want, err)
			}
		})
	}
}
