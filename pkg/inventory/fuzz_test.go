package inventory

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzLoad checks that Load and Resolve never panic, and that every
// accepted inventory resolves to config values that are valid UTF-8 and
// free of the characters the package rejects.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(header + oneSite))
	f.Add([]byte(mergeDoc))
	f.Add([]byte(billionLaughs()))
	for _, tc := range seedDocs() {
		f.Add([]byte(tc))
	}
	if paths, err := filepath.Glob("testdata/*/inventory.yaml"); err == nil {
		for _, p := range paths {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		inv, err := Load("fuzz.yaml", strings.NewReader(string(data)))
		if err != nil {
			if inv != nil {
				t.Fatal("Load returned an inventory and an error")
			}
			_ = err.Error()
			return
		}
		fleet, err := inv.Resolve(ResolveOptions{Components: knownComponents})
		if err != nil {
			_ = err.Error()
			fleet, err = inv.Resolve(ResolveOptions{})
			if err != nil {
				t.Fatalf("Resolve without component checks failed after Load succeeded: %v", err)
			}
		}
		for _, s := range fleet.Sites {
			if s.Config == nil || s.Images == nil || s.Labels == nil || s.Groups == nil || s.Components == nil {
				t.Fatalf("site %q has a nil map or slice", s.Name)
			}
			if s.Type == "" || s.Region == "" || s.Arch == "" {
				t.Fatalf("site %q accepted without type, region or arch", s.Name)
			}
			for k, v := range s.Config {
				if !utf8.ValidString(v) {
					t.Fatalf("config %q: invalid UTF-8 accepted: %q", k, v)
				}
				for _, r := range v {
					if (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0x7F ||
						(r >= 0x80 && r <= 0x9F) || r == 0x2028 || r == 0x2029 || r == 0xFEFF {
						t.Fatalf("config %q: rejected character %U accepted in %q", k, r, v)
					}
				}
			}
		}
	})
}

// seedDocs collects the documents of the table tests, so that the fuzzer
// starts from every shape they exercise.
func seedDocs() []string {
	docs := []string{
		"",
		"---\n",
		header + "sites: [\n",
		header + oneSite + "---\n",
		header + oneSite + "    config:\n      A: \"\\L\\N\\P\\0\\e\\uFEFF\"\n",
		header + oneSite + "    images: {app: \"r.example.com/app:1@sha256:" + strings.Repeat("ab", 32) + "\"}\n",
		header + oneSite + "    capacity: {cpu: 1e3, memory: 0.5Ki}\n    labels: {a.b/c: d}\n",
		header + "groups:\n  - name: eu\n    config: {A: b}\n" + oneSite + "    groups: [eu]\n",
	}
	return docs
}
