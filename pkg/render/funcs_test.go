package render

import (
	"strings"
	"testing"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// nastyStrings are values that break naive YAML interpolation.
var nastyStrings = []string{
	"", " ", "  leading", "trailing  ", "  both  ",
	"plain", "1.10", "0x10", "0755", "1e3", "+1", "-1", ".5", ".inf", ".NaN",
	"yes", "no", "y", "n", "on", "off", "true", "False", "null", "Null", "~",
	"a: b", "a:b", "key: value # comment", "# comment", "a #b", "a#b",
	`"`, `""`, `"quoted"`, `'single'`, `'`, `"mixed'`, `\`, `\\`, `\n`, `C:\path\to`,
	"{{ not a template }}", "{{", "}}", "{ a: 1 }", "[1, 2]", "[", "]", ",",
	"*alias", "&anchor", "!tag", "!!str", "%YAML 1.2", "@at", "`tick`", "|", ">", "? key", "- item", "-", "---", "...", "--- a", "=",
	"a\nb", "a\n", "\n", "\n\n", "a\n\n", "line1\nline2\n", "a\r\nb", "\r", "\t", "a\tb", "\ttabbed\t",
	"\x00", "\x01\x02\x1f", "\x7f", "\u0080", "\u0085", "a\u0085b", "\u009f", "\u00a0", "\u2028", "\u2029", "a\u2028b\u2029c",
	"\ufeff", "a\ufeffb", "\ufffe", "\uffff", "\ue000", "\U0010FFFF", "\U0001F680",
	"Grüße", "日本語", "emoji 🚀 ok", "ünïcödé: é", "\u200b", "\u202e",
	"a=b", "K=V", "a==b", strings.Repeat("long ", 200),
}

func TestYAMLQuoteRoundTrip(t *testing.T) {
	for _, s := range nastyStrings {
		q, err := YAMLQuote(s)
		if err != nil {
			t.Fatalf("YAMLQuote(%q): %v", s, err)
		}
		if strings.ContainsAny(q, "\n\r") {
			t.Errorf("YAMLQuote(%q) = %q spans lines", s, q)
		}
		assertRoundTrip(t, s, q)
	}
}

func assertRoundTrip(t *testing.T, s, q string) {
	t.Helper()
	// As a mapping value, as a sequence item and as a mapping key.
	for _, doc := range []string{"v: " + q + "\n", "- " + q + "\n", q + ": x\n"} {
		var got any
		if err := yaml.Unmarshal([]byte(doc), &got); err != nil {
			t.Errorf("parsing %q (from %q): %v", doc, s, err)
			continue
		}
		var back string
		switch g := got.(type) {
		case map[string]any:
			if v, ok := g["v"]; ok && len(g) == 1 && doc[0] == 'v' {
				back, _ = v.(string)
			} else {
				for k := range g {
					back = k
				}
			}
		case []any:
			back, _ = g[0].(string)
		}
		if back != s {
			t.Errorf("round trip of %q through %q: got %q", s, doc, back)
		}
	}
}

func TestYAMLQuoteRejectsInvalidUTF8(t *testing.T) {
	if _, err := YAMLQuote("a\xffb"); err == nil {
		t.Fatal("want error for invalid UTF-8")
	}
}

func FuzzYAMLQuote(f *testing.F) {
	for _, s := range nastyStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := YAMLQuote(s)
		if !utf8.ValidString(s) {
			if err == nil {
				t.Fatalf("no error for invalid UTF-8 %q", s)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		var got string
		if err := yaml.Unmarshal([]byte("v: "+q), &struct{ V *string }{&got}); err != nil {
			t.Fatalf("parsing %q: %v", q, err)
		}
		if got != s {
			t.Fatalf("round trip of %q through %q: got %q", s, q, got)
		}
	})
}

func TestToYamlRoundTrip(t *testing.T) {
	in := map[string]string{}
	for i, s := range nastyStrings {
		in[s+"#"+string(rune('a'+i%26))] = s
	}
	out, err := toYaml(in)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]string
	if err := yaml.Unmarshal([]byte(out), &back); err != nil {
		t.Fatalf("parsing toYaml output: %v\n%s", err, out)
	}
	if len(back) != len(in) {
		t.Fatalf("got %d keys, want %d", len(back), len(in))
	}
	for k, v := range in {
		if back[k] != v {
			t.Errorf("key %q: got %q, want %q", k, back[k], v)
		}
	}
	again, _ := toYaml(in)
	if again != out {
		t.Error("toYaml is not deterministic")
	}
}

func TestToYamlUsesJSONTags(t *testing.T) {
	type origin struct{ File string }
	type site struct {
		Name    string            `json:"name"`
		Config  map[string]string `json:"config"`
		Origins map[string]origin `json:"-"`
	}
	out, err := toYaml(site{Name: "s1", Config: map[string]string{"b": "2", "a": "no"}, Origins: map[string]origin{"x": {"/home/me/inv.yaml"}}})
	if err != nil {
		t.Fatal(err)
	}
	want := "config:\n  a: \"no\"\n  b: \"2\"\nname: s1"
	if out != want {
		t.Errorf("toYaml = %q, want %q", out, want)
	}
}

func TestRemovedFuncsAbsent(t *testing.T) {
	m := funcMap()
	for _, name := range RemovedFuncs() {
		if _, ok := m[name]; ok {
			t.Errorf("function %q is still available", name)
		}
	}
	for _, name := range []string{"toYaml", "yamlQuote", "include", "required", "configLiteral", "splitImageRef", "keys", "values", "quote", "sha256sum", "b64enc", "dict", "semver"} {
		if _, ok := m[name]; !ok {
			t.Errorf("function %q is missing", name)
		}
	}
}

func TestConfigLiteral(t *testing.T) {
	for _, v := range nastyStrings {
		q, err := ConfigLiteral("KEY", v)
		if err != nil {
			t.Fatal(err)
		}
		var lit string
		if err := yaml.Unmarshal([]byte(q), &lit); err != nil {
			t.Fatalf("parsing %q: %v", q, err)
		}
		k, got, ok := kustomizeLiteral(lit)
		if !ok || k != "KEY" || got != v {
			t.Errorf("literal %q for %q: kustomize reads %q=%q", lit, v, k, got)
		}
	}
	for _, bad := range []string{"", "a=b", "=a", "a b", ".", "..", "ä", strings.Repeat("k", 254)} {
		if _, err := ConfigLiteral(bad, "v"); err == nil {
			t.Errorf("ConfigLiteral(%q) accepted an invalid key", bad)
		}
	}
}

// kustomizeLiteral mirrors kustomize api/kv parseLiteralSource: split at the
// first '=', then strip one pair of matching surrounding quotes.
func kustomizeLiteral(s string) (key, value string, ok bool) {
	if strings.HasPrefix(s, "=") {
		return "", "", false
	}
	key, value, ok = strings.Cut(s, "=")
	if !ok {
		return "", "", false
	}
	if len(value) >= 2 && value[0] == value[len(value)-1] && (value[0] == '"' || value[0] == '\'') {
		value = value[1 : len(value)-1]
	}
	return key, value, true
}

func TestSplitImageRef(t *testing.T) {
	tests := []struct {
		in   string
		want ImageRef
		err  bool
	}{
		{in: "nginx", want: ImageRef{Name: "nginx"}},
		{in: "nginx:1.27", want: ImageRef{Name: "nginx", Tag: "1.27"}},
		{in: "registry:5000/team/app", want: ImageRef{Name: "registry:5000/team/app"}},
		{in: "registry:5000/team/app:1.10", want: ImageRef{Name: "registry:5000/team/app", Tag: "1.10"}},
		{in: "ghcr.io/a/b@sha256:abc", want: ImageRef{Name: "ghcr.io/a/b", Digest: "sha256:abc"}},
		{in: "ghcr.io/a/b:v1@sha256:abc", want: ImageRef{Name: "ghcr.io/a/b", Tag: "v1", Digest: "sha256:abc"}},
		{in: "", err: true},
		{in: "app:", err: true},
		{in: "app@", err: true},
		{in: ":tag", err: true},
	}
	for _, tt := range tests {
		got, err := SplitImageRef(tt.in)
		if (err != nil) != tt.err {
			t.Errorf("SplitImageRef(%q) error = %v, want error %v", tt.in, err, tt.err)
			continue
		}
		if got != tt.want {
			t.Errorf("SplitImageRef(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}
