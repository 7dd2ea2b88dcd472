package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// Config keys that are valid ConfigMap keys but that YAML reads as
// non-strings (booleans, null, numbers, dates). The inventory rejects them;
// this list is what a real kustomize build fails on.
var nonStringConfigKeys = []string{
	"true", "false", "True", "FALSE", "null", "Null", "NULL",
	"1", "01", "-1", "0x10", "0o17", "0777", "1_000", "0b101",
	"1.5", "1.", ".5", "1e3", "12e03", ".inf", ".Inf", "-.inf", ".nan", ".NaN",
	"2001-12-14",
}

// Config keys that look special but that YAML 1.2 reads as strings; the
// inventory accepts them and kustomize builds them.
var stringConfigKeys = []string{"yes", "no", "on", "off", "y", "n", "Yes", "ON", "-", "_", "a.1", "1a", "v1.10", "2001-12", "nulls"}

func keysInventory(keys []string, key func(i int, k string) string) []byte {
	var b strings.Builder
	b.WriteString("apiVersion: fleetgen.dev/v1alpha1\nkind: Inventory\nfleet: keys\n" +
		"defaults:\n  type: store\n  region: eu\n  arch: arm64\n  images: {app: \"registry.example.com/app:1.0\"}\nsites:\n")
	for i, k := range keys {
		fmt.Fprintf(&b, "  - name: k-%d\n    config:\n      %q: v\n", i, key(i, k))
	}
	return []byte(b.String())
}

// TestConfigKeysAgainstKustomize ties the inventory's rule for config keys
// to what kustomize really does. Keys YAML reads as strings build and come
// back in the built ConfigMap. Keys YAML reads as non-strings are bad input
// at load time, naming file:line:column, site and key; and, written into a
// rendered overlay behind the inventory's back, each of them really fails
// the kustomize build, so the inventory rejects nothing that would build.
func TestConfigKeysAgainstKustomize(t *testing.T) {
	ctx := context.Background()

	t.Run("string keys build", func(t *testing.T) {
		res, err := Run(ctx, Options{Inventory: "keys.yaml", InventoryData: keysInventory(stringConfigKeys, func(_ int, k string) string { return k })})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res.Report.Results {
			if r.Err != nil {
				t.Errorf("site %s: %v", r.Site, r.Err)
			}
		}
	})

	t.Run("non-string keys are bad input", func(t *testing.T) {
		_, err := Run(ctx, Options{Inventory: "keys.yaml", InventoryData: keysInventory(nonStringConfigKeys, func(_ int, k string) string { return k })})
		var in *InputError
		if !errors.As(err, &in) {
			t.Fatalf("got %v, want *InputError", err)
		}
		for i, k := range nonStringConfigKeys {
			want := fmt.Sprintf(`keys.yaml:%d:7: site "k-%d": `, 12+3*i, i)
			if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), fmt.Sprintf("invalid key %q: YAML reads it as", k)) {
				t.Errorf("key %q: error does not name %q and the key:\n%s", k, want, err)
			}
		}
	})

	t.Run("non-string keys fail the kustomize build", func(t *testing.T) {
		const placeholder = "FLEETGEN_KEY_PLACEHOLDER"
		fleet, tree, err := Render(Options{Inventory: "keys.yaml", InventoryData: keysInventory(nonStringConfigKeys, func(int, string) string { return placeholder })})
		if err != nil {
			t.Fatal(err)
		}
		for i := range fleet.Sites {
			s := &fleet.Sites[i]
			var n int
			fmt.Sscanf(s.Name, "k-%d", &n)
			s.Config = map[string]string{nonStringConfigKeys[n]: "v"}
		}
		replaced := 0
		for i, f := range tree.Files {
			var n int
			if _, err := fmt.Sscanf(f.Path, "overlays/k-%d/kustomization.yaml", &n); err != nil || !strings.HasSuffix(f.Path, "/kustomization.yaml") || strings.Contains(f.Path, "/local/") {
				continue
			}
			data := bytes.ReplaceAll(f.Data, []byte(placeholder+"="), []byte(nonStringConfigKeys[n]+"="))
			if bytes.Equal(data, f.Data) {
				t.Fatalf("%s: no literal %s= to replace", f.Path, placeholder)
			}
			tree.Files[i].Data = data
			replaced++
		}
		if replaced != len(nonStringConfigKeys) {
			t.Fatalf("replaced the key in %d overlays, want %d", replaced, len(nonStringConfigKeys))
		}
		fsys, err := MemFS(tree, "")
		if err != nil {
			t.Fatal(err)
		}
		report, err := verifyMem(ctx, fleet, fsys, 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range report.Results {
			var n int
			fmt.Sscanf(r.Site, "k-%d", &n)
			if r.Err == nil {
				t.Errorf("key %q built: the inventory should accept it", nonStringConfigKeys[n])
			} else if !strings.Contains(r.Err.Error(), "json: unsupported type") {
				t.Errorf("key %q: unexpected failure: %v", nonStringConfigKeys[n], r.Err)
			}
		}
	})
}
