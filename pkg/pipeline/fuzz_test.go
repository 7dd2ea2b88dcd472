package pipeline

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/fleetgen/fleetgen/templates"
)

// fuzzHeader starts the hand-written seeds.
const fuzzHeader = "apiVersion: fleetgen.dev/v1alpha1\nkind: Inventory\nfleet: fuzz\n" +
	"defaults:\n  type: store\n  region: eu\n  arch: arm64\n  images: {app: \"registry.example.com/app:1.0\"}\n"

// FuzzInventoryRender feeds arbitrary inventory text through Load, Resolve
// and Render with the default template set. Input is either rejected as an
// *InputError, or every rendered YAML file parses back, and each site's
// site-config generator literals give back exactly the site's merged config
// as kustomize reads them (split at the first '=', one pair of surrounding
// quotes stripped).
func FuzzInventoryRender(f *testing.F) {
	f.Add(templates.SampleInventory())
	var tricky strings.Builder
	tricky.WriteString(fuzzHeader + "sites:\n  - name: s1\n    config:\n")
	for i, v := range []string{
		"line\nbreak", "\ttab", "# hash", "a: b", "'single'", `"double"`, "{{ .Site.Name }}", "  spaced  ",
		"*star", "&amp", "!bang", "%pct", "@at", "-dash", "yes", "no", "null", "~", "", "a=b", `\`, "é😀",
	} {
		q, _ := json.Marshal(v)
		fmt.Fprintf(&tricky, "      K%d: %s\n", i, q)
	}
	f.Add([]byte(tricky.String()))
	f.Add([]byte(fuzzHeader + "groups:\n  - name: g\n    config: {A: '1.10'}\n    components: [gpu]\nsites:\n  - name: s1\n    groups: [g]\n    config: {A: 0x10, B: no}\n  - name: s2\n    components: [eu-compliance, gpu]\n"))
	f.Add([]byte(fuzzHeader + "sites:\n  - name: s1\n    config: {true: x}\n"))
	f.Add([]byte(fuzzHeader + "sites:\n  - name: s1\n    labels: {tier: gold}\n    images: {app: \"r.example.com/app@sha256:" + strings.Repeat("ab", 32) + "\"}\n"))
	if paths, err := filepath.Glob("../inventory/testdata/*/inventory.yaml"); err == nil {
		for _, p := range paths {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fleet, tree, err := Render(Options{Inventory: "fuzz.yaml", InventoryData: data})
		if err != nil {
			var in *InputError
			if !errors.As(err, &in) {
				t.Fatalf("error is %T, want *InputError: %v", err, err)
			}
			return
		}
		for _, file := range tree.Files {
			if ext := path.Ext(file.Path); ext != ".yaml" && ext != ".yml" {
				continue
			}
			dec := yaml.NewDecoder(bytes.NewReader(file.Data))
			for {
				var doc yaml.Node
				err := dec.Decode(&doc)
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatalf("%s does not parse back: %v\n%s", file.Path, err, file.Data)
				}
			}
		}
		for _, s := range fleet.Sites {
			p := "overlays/" + s.Name + "/kustomization.yaml"
			kf, ok := tree.Lookup(p)
			if !ok {
				t.Fatalf("site %s: no %s", s.Name, p)
			}
			var k struct {
				ConfigMapGenerator []struct {
					Name     string   `yaml:"name"`
					Literals []string `yaml:"literals"`
				} `yaml:"configMapGenerator"`
			}
			if err := yaml.Unmarshal(kf.Data, &k); err != nil {
				t.Fatalf("site %s: %s: %v", s.Name, p, err)
			}
			got := map[string]string{}
			n := 0
			for _, g := range k.ConfigMapGenerator {
				if g.Name != ConfigMapName {
					continue
				}
				n++
				for _, lit := range g.Literals {
					key, value, ok := kustomizeLiteral(lit)
					if !ok {
						t.Fatalf("site %s: literal %q has no '='", s.Name, lit)
					}
					if _, dup := got[key]; dup {
						t.Fatalf("site %s: key %q given twice", s.Name, key)
					}
					got[key] = value
				}
			}
			if n != 1 {
				t.Fatalf("site %s: %d %s generators, want 1", s.Name, n, ConfigMapName)
			}
			if len(got) != len(s.Config) {
				t.Errorf("site %s: %d literals, want %d", s.Name, len(got), len(s.Config))
			}
			for key, want := range s.Config {
				if g, ok := got[key]; !ok || g != want {
					t.Errorf("site %s: config %q: literal gives %q (present %v), want %q", s.Name, key, g, ok, want)
				}
			}
		}
	})
}

// kustomizeLiteral reads a configMapGenerator literal as kustomize does:
// the key up to the first '=', the value after it with one pair of matching
// surrounding quotes removed.
func kustomizeLiteral(lit string) (key, value string, ok bool) {
	key, value, ok = strings.Cut(lit, "=")
	if len(value) >= 2 && (value[0] == '"' || value[0] == '\'') && value[len(value)-1] == value[0] {
		value = value[1 : len(value)-1]
	}
	return key, value, ok
}
