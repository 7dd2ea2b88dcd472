package inventory

import (
	"strings"
	"testing"
)

// nonStringKeys are config keys that are valid ConfigMap keys but that YAML
// reads as something other than a string, with what the message calls
// them. kustomize writes ConfigMap data keys as plain scalars and fails on
// each of these ("json: unsupported type: map[interface {}]interface {}");
// pkg/pipeline's TestConfigKeysAgainstKustomize builds each one to prove it.
var nonStringKeys = map[string]string{
	"true": "a boolean", "false": "a boolean", "True": "a boolean", "FALSE": "a boolean",
	"null": "null", "Null": "null", "NULL": "null",
	"1": "an integer", "01": "an integer", "-1": "an integer", "0x10": "an integer",
	"0o17": "an integer", "0777": "an integer", "1_000": "an integer", "0b101": "an integer",
	"1.5": "a number", "1.": "a number", ".5": "a number", "1e3": "a number", "12e03": "a number",
	".inf": "a number", ".Inf": "a number", "-.inf": "a number", ".nan": "a number", ".NaN": "a number",
	"2001-12-14": "a date",
}

// stringKeys are config keys that look special but that YAML 1.2 reads as
// strings, so kustomize builds them; they must stay accepted.
var stringKeys = []string{"yes", "no", "on", "off", "y", "n", "Yes", "ON", "-", "_", "a.1", "1a", "v1.10", "2001-12", "x0x10", "nulls", "True_"}

// TestConfigKeyNonStringRejected checks that a config key YAML reads as a
// non-string is bad input naming file:line:column, the site, the key and
// why, in every layer and however the key is quoted.
func TestConfigKeyNonStringRejected(t *testing.T) {
	for key, what := range nonStringKeys {
		t.Run(key, func(t *testing.T) {
			// Quoting the key does not help: the key reaches kustomize
			// as text, where it is read again.
			doc := header + oneSite + "    config:\n      \"" + key + "\": v\n"
			_, err := loadAndResolve(doc, nil)
			want := `t.yaml:10:7: site "s1": sites[0].config`
			if err == nil {
				t.Fatalf("no error for key %q", key)
			}
			for _, w := range []string{want, `invalid key "` + key + `": YAML reads it as ` + what + `, not a string, and kustomize cannot write such a ConfigMap data key`} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain\n\t%s\ngot:\n%s", w, err)
				}
			}
		})
	}
	// Plain keys, in defaults and groups too; every problem at once.
	doc := header + "defaults:\n  config: {true: a}\ngroups:\n  - name: g\n    config: {~: b, null: c}\n" + oneSite + "    groups: [g]\n    config:\n      1.5: d\n      2001-12-14: e\n"
	_, err := loadAndResolve(doc, nil)
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range []string{
		`t.yaml:5:12: defaults.config.true: invalid key "true": YAML reads it as a boolean`,
		`t.yaml:8:14: groups[0].config["~"]: invalid key "~": a valid config key must consist of`,
		`t.yaml:8:20: groups[0].config.null: invalid key "null": YAML reads it as null`,
		`t.yaml:16:7: site "s1": sites[0].config.1.5: invalid key "1.5": YAML reads it as a number`,
		`t.yaml:17:7: site "s1": sites[0].config.2001-12-14: invalid key "2001-12-14": YAML reads it as a date`,
	} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error does not contain\n\t%s\ngot:\n%s", w, err)
		}
	}
}

// TestConfigKeyYAML11WordsAccepted checks that keys YAML 1.1 would read as
// booleans, and keys that only look like numbers, stay valid.
func TestConfigKeyYAML11WordsAccepted(t *testing.T) {
	var b strings.Builder
	b.WriteString(header + oneSite + "    config:\n")
	for _, k := range stringKeys {
		b.WriteString("      " + k + ": v\n")
	}
	f, err := loadAndResolve(b.String(), nil)
	if err != nil {
		t.Fatalf("rejected: %v", err)
	}
	for _, k := range stringKeys {
		if f.Sites[0].Config[k] != "v" {
			t.Errorf("key %q: got %q", k, f.Sites[0].Config[k])
		}
	}
}
