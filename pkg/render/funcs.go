package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"text/template"
	"unicode/utf8"

	"github.com/Masterminds/sprig/v3"
	"go.yaml.in/yaml/v3"
)

// removedFuncs lists the sprig functions that templates cannot call because
// their result depends on the clock, randomness, the environment, the
// network or the operating system, or because they handle key material that
// has no place in a Git-pulled fleet tree. It is sorted.
var removedFuncs = []string{
	// Clock and local time zone.
	"ago", "date", "dateInZone", "dateModify", "date_in_zone", "date_modify",
	"htmlDate", "htmlDateInZone", "mustDateModify", "mustToDate",
	"must_date_modify", "now", "toDate", "unixEpoch",
	// Randomness.
	"randAlpha", "randAlphaNum", "randAscii", "randBytes", "randInt",
	"randNumeric", "shuffle", "uuidv4",
	// Key material: random keys, salts and IVs, or secrets in templates.
	"bcrypt", "buildCustomCert", "decryptAES", "derivePassword", "encryptAES",
	"genCA", "genCAWithKey", "genPrivateKey", "genSelfSignedCert",
	"genSelfSignedCertWithKey", "genSignedCert", "genSignedCertWithKey",
	"htpasswd",
	// Environment, network and host operating system.
	"env", "expandenv", "getHostByName",
	"osBase", "osClean", "osDir", "osExt", "osIsAbs",
}

// maxIncludeDepth bounds nested include calls so that a recursive partial
// fails with an error instead of exhausting the stack.
const maxIncludeDepth = 64

// funcMap returns the function map templates see. include is bound later,
// per execution, by bindInclude; the placeholder here lets templates parse.
func funcMap() template.FuncMap {
	m := sprig.TxtFuncMap()
	for _, name := range removedFuncs {
		delete(m, name)
	}
	// sprig's keys and values follow Go's random map order; make them sorted.
	m["keys"] = sortedKeys
	m["values"] = sortedValues
	m["toYaml"] = toYaml
	m["yamlQuote"] = yamlQuoteFunc
	m["configLiteral"] = configLiteral
	m["splitImageRef"] = splitImageRef
	m["required"] = required
	m["include"] = func(string, any) (string, error) {
		return "", errors.New("include is not available here")
	}
	return m
}

// bindInclude rebinds include on t so that it executes named templates of
// t's own namespace. The nesting depth is kept per namespace: executions of
// t must not run concurrently (each render worker binds its own clone).
func bindInclude(t *template.Template) {
	depth := 0
	t.Funcs(template.FuncMap{
		"include": func(name string, data any) (string, error) {
			if depth >= maxIncludeDepth {
				return "", fmt.Errorf("include %q: nested more than %d levels (recursive template?)", name, maxIncludeDepth)
			}
			depth++
			defer func() { depth-- }()
			var buf strings.Builder
			if err := t.ExecuteTemplate(&buf, name, data); err != nil {
				return "", err
			}
			return buf.String(), nil
		},
	})
}

func sortedKeys(dicts ...map[string]any) []string {
	seen := map[string]bool{}
	var out []string
	for _, d := range dicts {
		for k := range d {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	if out == nil {
		out = []string{}
	}
	return out
}

func sortedValues(d map[string]any) []any {
	out := make([]any, 0, len(d))
	for _, k := range sortedKeys(d) {
		out = append(out, d[k])
	}
	return out
}

// required returns val, or an error carrying msg when val is nil or "".
func required(msg string, val any) (any, error) {
	if val == nil {
		return nil, errors.New(msg)
	}
	if s, ok := val.(string); ok && s == "" {
		return nil, errors.New(msg)
	}
	return val, nil
}

// toYaml encodes v as YAML with a two-space indent and no trailing newline.
// Values are first converted through encoding/json so that struct fields are
// named by their json tags (as in the inventory types) and fields tagged "-"
// are left out; map keys come out sorted. Strings that a YAML reader would
// change (line separators U+0085, U+2028, U+2029, carriage returns, or
// anything not printable) are written double-quoted and escaped, so every
// string survives a round trip.
func toYaml(v any) (string, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("toYaml: %w", err)
	}
	var generic any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&generic); err != nil {
		return "", fmt.Errorf("toYaml: %w", err)
	}
	var node yaml.Node
	if err := node.Encode(generic); err != nil {
		return "", fmt.Errorf("toYaml: %w", err)
	}
	forceQuoteUnsafe(&node)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&node); err != nil {
		return "", fmt.Errorf("toYaml: %w", err)
	}
	if err := enc.Close(); err != nil {
		return "", fmt.Errorf("toYaml: %w", err)
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

func forceQuoteUnsafe(n *yaml.Node) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" && needsEscape(n.Value) {
		n.Style = yaml.DoubleQuotedStyle
	}
	for _, c := range n.Content {
		forceQuoteUnsafe(c)
	}
}

func needsEscape(s string) bool {
	for _, r := range s {
		if r == '\n' || r == '\t' {
			continue
		}
		if !printable(r) || r == '\r' {
			return true
		}
	}
	return false
}

// printable reports whether r may appear unescaped in a YAML double-quoted
// scalar without being changed by a reader: the YAML printable set minus
// line breaks, the byte order mark and the C1 controls.
func printable(r rune) bool {
	switch {
	case r >= 0x20 && r <= 0x7E:
		return true
	case r >= 0xA0 && r <= 0xD7FF:
		return r != 0x2028 && r != 0x2029
	case r >= 0xE000 && r <= 0xFFFD:
		return r != 0xFEFF
	case r >= 0x10000 && r <= 0x10FFFF:
		return true
	}
	return false
}

// YAMLQuote returns s as a YAML double-quoted scalar that every YAML 1.1 or
// 1.2 reader turns back into exactly s. Printable characters are kept as
// they are; '"' and '\' are backslash-escaped; everything else (control
// characters, tab, line breaks including U+0085, U+2028 and U+2029, the byte
// order mark, non-characters) is written as a \t, \n, \xXX or \uXXXX escape.
// s must be valid UTF-8: YAML text cannot carry arbitrary bytes.
func YAMLQuote(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("yamlQuote: %q is not valid UTF-8", s)
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case printable(r):
			b.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(&b, `\x%02X`, r)
		case r < 0x10000:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			fmt.Fprintf(&b, `\U%08X`, r)
		}
	}
	b.WriteByte('"')
	return b.String(), nil
}

// yamlQuoteFunc is the template function: strings are quoted as they are,
// other values through their fmt default format.
func yamlQuoteFunc(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return YAMLQuote(v)
	case nil:
		return "", errors.New("yamlQuote: value is nil")
	case fmt.Stringer:
		return YAMLQuote(v.String())
	default:
		return YAMLQuote(fmt.Sprint(v))
	}
}

// ConfigLiteral returns the configMapGenerator literal for key and value as a
// YAML double-quoted scalar. kustomize splits a literal at the first '=' and
// then strips one pair of matching surrounding quotes from the value, so the
// value is wrapped in one extra pair of double quotes: whatever value is,
// including "" and values that are themselves quoted, kustomize gets it back
// exactly. key must be a valid ConfigMap key (which also rules out '=').
func ConfigLiteral(key, value string) (string, error) {
	if err := checkConfigMapKey(key); err != nil {
		return "", fmt.Errorf("configLiteral: key %q: %w", key, err)
	}
	return YAMLQuote(key + `="` + value + `"`)
}

// checkConfigMapKey applies the Kubernetes rule for ConfigMap keys: 1 to 253
// characters from [-._a-zA-Z0-9], and not "." or "..".
func checkConfigMapKey(key string) error {
	switch {
	case key == "":
		return errors.New("must not be empty")
	case len(key) > 253:
		return errors.New("must be at most 253 characters")
	case key == "." || key == "..":
		return errors.New(`must not be "." or ".."`)
	}
	for _, r := range key {
		ok := r == '-' || r == '.' || r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
		if !ok {
			return fmt.Errorf("character %q not allowed (only letters, digits, '-', '_' and '.')", r)
		}
	}
	return nil
}

func configLiteral(key, value string) (string, error) { return ConfigLiteral(key, value) }

// ImageRef is an image reference split the way kustomize's images field
// wants it.
type ImageRef struct {
	// Name is the repository, with registry and port if given.
	Name string
	// Tag is the part after the last ':' of the last path segment, or "".
	Tag string
	// Digest is the part after '@' (for example "sha256:..."), or "".
	Digest string
}

// SplitImageRef splits "repo", "repo:tag", "repo@digest" or
// "repo:tag@digest". A ':' inside the registry part (a port) is not a tag.
func SplitImageRef(ref string) (ImageRef, error) {
	var out ImageRef
	rest := ref
	if i := strings.IndexByte(rest, '@'); i >= 0 {
		out.Digest = rest[i+1:]
		rest = rest[:i]
		if out.Digest == "" {
			return ImageRef{}, fmt.Errorf("image %q: empty digest after '@'", ref)
		}
	}
	slash := strings.LastIndexByte(rest, '/')
	if i := strings.LastIndexByte(rest, ':'); i > slash {
		out.Tag = rest[i+1:]
		rest = rest[:i]
		if out.Tag == "" {
			return ImageRef{}, fmt.Errorf("image %q: empty tag after ':'", ref)
		}
	}
	if rest == "" {
		return ImageRef{}, fmt.Errorf("image %q: empty repository", ref)
	}
	out.Name = rest
	return out, nil
}

// splitImageRef is the template function; it returns a map with the keys
// name, tag and digest so templates can use $img.tag with missingkey=error.
func splitImageRef(ref string) (map[string]string, error) {
	r, err := SplitImageRef(ref)
	if err != nil {
		return nil, err
	}
	return map[string]string{"name": r.Name, "tag": r.Tag, "digest": r.Digest}, nil
}
