package verify

import (
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/api/validate/content"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/kustomize/api/resmap"
	sigsyaml "sigs.k8s.io/yaml"
)

// ErrRoundTrip is wrapped by errors for ConfigMap data that changes on its
// way through YAML, or that differs from the expected site config.
var ErrRoundTrip = errors.New("data mismatch")

// object is one built object as parsed back from the YAML output.
type object struct {
	kind, namespace, name string
	doc                   *yaml.Node // the document's root mapping
}

func (o object) String() string {
	if o.namespace == "" {
		return o.kind + "/" + o.name
	}
	return o.kind + "/" + o.namespace + "/" + o.name
}

// check serialises m as the CLI does and checks the output as a cluster
// client will read it. It returns the output and the objects parsed back
// from it even when a check fails; objs is nil when the output could not be
// written or parsed.
func check(m resmap.ResMap, t Target) ([]byte, []object, error) {
	out, docs, err := asYaml(m)
	if err != nil {
		// Duplicate keys inside a resource surface here; name the object.
		var errs []error
		for _, r := range m.Resources() {
			if _, rerr := r.AsYAML(); rerr != nil {
				o := object{kind: r.GetKind(), namespace: r.GetNamespace(), name: r.GetName()}
				hint := ""
				if r.GetKind() == "ConfigMap" && strings.Contains(rerr.Error(), "map[interface {}]interface {}") {
					hint = " (kustomize cannot write a data key that YAML reads as a non-string, such as true, null, ~, a number or a date)"
				}
				errs = append(errs, fmt.Errorf("%s: cannot be written as YAML%s: %w", o, hint, rerr))
			}
		}
		if len(errs) == 0 {
			errs = append(errs, fmt.Errorf("writing the built objects as YAML: %w", err))
		}
		return nil, nil, errors.Join(errs...)
	}
	objs, errs := parseObjects(out)
	if len(errs) > 0 {
		return out, nil, errors.Join(errs...)
	}
	for _, o := range objs {
		errs = append(errs, checkObject(o)...)
	}
	errs = append(errs, checkDataRoundTrip(m, objs, docs)...)
	if t.Config != nil {
		name := t.ConfigMapName
		if name == "" {
			name = DefaultConfigMapName
		}
		errs = append(errs, checkSiteConfig(objs, name, t.Config)...)
	}
	return out, objs, errors.Join(errs...)
}

// asYaml is m.AsYaml(), the CLI's output, together with each resource's
// own document (what Resource.AsYAML returns), so that the checks that
// read one resource as YAML again do not write it a second time.
func asYaml(m resmap.ResMap) ([]byte, [][]byte, error) {
	rs := m.Resources()
	docs := make([][]byte, len(rs))
	n := 0
	for i, r := range rs {
		d, err := r.AsYAML()
		if err != nil {
			return nil, nil, err
		}
		docs[i] = d
		n += len(d) + len("---\n")
	}
	out := make([]byte, 0, n)
	for i, d := range docs {
		if i > 0 {
			out = append(out, "---\n"...)
		}
		out = append(out, d...)
	}
	return out, docs, nil
}

// parseObjects parses the multi-document output back with yaml.v3 and
// checks what every object needs: no duplicate keys anywhere, apiVersion,
// kind and metadata.name.
func parseObjects(out []byte) ([]object, []error) {
	docs, err := parseDocs(out)
	if err != nil {
		return nil, []error{fmt.Errorf("built output does not parse as YAML: %w", err)}
	}
	var objs []object
	var errs []error
	for i, d := range docs {
		root := d
		if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
			root = root.Content[0]
		}
		o := object{doc: root}
		o.kind = scalar(get(root, "kind"))
		o.name = scalar(get(get(root, "metadata"), "name"))
		o.namespace = scalar(get(get(root, "metadata"), "namespace"))
		where := o.String()
		if o.kind == "" && o.name == "" {
			where = fmt.Sprintf("object %d", i+1)
		}
		if root.Kind != yaml.MappingNode {
			errs = append(errs, fmt.Errorf("%s: not a mapping", where))
			continue
		}
		if dup := duplicateKeys(root, ""); len(dup) > 0 {
			for _, p := range dup {
				errs = append(errs, fmt.Errorf("%s: duplicate key %s (line %d of the output)", where, p.path, p.line))
			}
		}
		for _, f := range []struct {
			field, value string
		}{{"apiVersion", scalar(get(root, "apiVersion"))}, {"kind", o.kind}, {"metadata.name", o.name}} {
			if f.value == "" {
				errs = append(errs, fmt.Errorf("%s: field %s is missing or empty", where, f.field))
			}
		}
		objs = append(objs, o)
	}
	return objs, errs
}

// scalar returns the value of a scalar node, or "".
func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

type dupKey struct {
	path string
	line int
}

// duplicateKeys finds keys repeated within a mapping, anywhere below n.
func duplicateKeys(n *yaml.Node, at string) []dupKey {
	var out []dupKey
	switch n.Kind {
	case yaml.MappingNode:
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			p := joinPath(at, k)
			if seen[k] {
				out = append(out, dupKey{p, n.Content[i].Line})
			}
			seen[k] = true
			out = append(out, duplicateKeys(n.Content[i+1], p)...)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			out = append(out, duplicateKeys(c, fmt.Sprintf("%s[%d]", at, i))...)
		}
	}
	return out
}

func joinPath(at, key string) string {
	if at == "" {
		return key
	}
	return at + "." + key
}

// checkObject checks names and, for ConfigMaps and Secrets, data keys and
// values.
func checkObject(o object) []error {
	var errs []error
	if msgs := validateName(o.kind, o.name); len(msgs) > 0 {
		errs = append(errs, fmt.Errorf("%s: metadata.name %q: %s", o, o.name, strings.Join(msgs, "; ")))
	}
	if o.namespace != "" {
		if msgs := validation.IsDNS1123Label(o.namespace); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("%s: metadata.namespace %q: %s", o, o.namespace, strings.Join(msgs, "; ")))
		}
	}
	switch o.kind {
	case "ConfigMap":
		errs = append(errs, checkData(o, "data", false)...)
		errs = append(errs, checkData(o, "binaryData", true)...)
	case "Secret":
		errs = append(errs, checkData(o, "data", true)...)
		errs = append(errs, checkData(o, "stringData", false)...)
	}
	return errs
}

// validateName applies the Kubernetes naming rule of kind.
func validateName(kind, name string) []string {
	if name == "" {
		return nil // reported as missing
	}
	switch kind {
	case "Namespace":
		return validation.IsDNS1123Label(name)
	case "Service":
		return validation.IsDNS1035Label(name)
	case "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding":
		return content.IsPathSegmentName(name)
	default:
		return validation.IsDNS1123Subdomain(name)
	}
}

// checkData checks the keys of the map at field and that every value is a
// string (base64 when b64).
func checkData(o object, field string, b64 bool) []error {
	m := get(o.doc, field)
	if m == nil || (m.Kind == yaml.ScalarNode && m.Tag == "!!null") {
		return nil
	}
	if m.Kind != yaml.MappingNode {
		return []error{fmt.Errorf("%s: %s is not a mapping", o, field)}
	}
	var errs []error
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if msgs := validation.IsConfigMapKey(k.Value); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("%s: %s key %q: %s", o, field, k.Value, strings.Join(msgs, "; ")))
		}
		if !isString(v) {
			errs = append(errs, fmt.Errorf("%s: %s.%s: value %s is not a string (YAML tag %s)", o, field, k.Value, shortNode(v), v.ShortTag()))
			continue
		}
		if b64 {
			if _, err := base64.StdEncoding.DecodeString(v.Value); err != nil {
				errs = append(errs, fmt.Errorf("%s: %s.%s: not base64: %v", o, field, k.Value, err))
			}
		}
	}
	return errs
}

// isString reports whether a value node decodes to a string. A plain "<<"
// carries the merge tag but is a string in value position.
func isString(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && (n.Tag == "!!str" || n.Tag == "!!merge")
}

func shortNode(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return fmt.Sprintf("%q", n.Value)
	}
	return map[yaml.Kind]string{yaml.MappingNode: "(a mapping)", yaml.SequenceNode: "(a sequence)", yaml.AliasNode: "(an alias)"}[n.Kind]
}

// stringData returns the string values of the map at field, skipping
// non-strings (checkData reports those).
func stringData(doc *yaml.Node, field string) map[string]string {
	m := get(doc, field)
	out := map[string]string{}
	if m == nil || m.Kind != yaml.MappingNode {
		return out
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if v := m.Content[i+1]; isString(v) {
			out[m.Content[i].Value] = v.Value
		}
	}
	return out
}

// checkDataRoundTrip compares the data of every ConfigMap as kustomize
// held it with the data parsed back from the output. A difference means
// the YAML emitter wrote a value a parser reads differently (kyaml writes
// U+0085 unescaped, for one). AsYaml writes one document per resource in
// order, so resources and parsed objects pair up by index; docs are the
// resources' documents (asYaml).
func checkDataRoundTrip(m resmap.ResMap, objs []object, docs [][]byte) []error {
	rs := m.Resources()
	if len(rs) != len(objs) {
		return []error{fmt.Errorf("built %d objects but the output parses as %d", len(rs), len(objs))}
	}
	var errs []error
	for i, r := range rs {
		o := objs[i]
		if o.kind != "ConfigMap" || r.GetKind() != "ConfigMap" || r.GetName() != o.name {
			continue
		}
		want := r.GetDataMap()
		got := stringData(o.doc, "data")
		if dm := get(o.doc, "data"); dm != nil && dm.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(dm.Content); i += 2 {
				if k := dm.Content[i].Value; !hasKey(got, k) {
					delete(want, k) // not a string: checkData reports it
				}
			}
		}
		errs = append(errs, compareData(o, "kustomize's value", want, got, false)...)
		errs = append(errs, checkClientRead(o, docs[i], want)...)
	}
	return errs
}

// checkSiteConfig finds the ConfigMap generated from name and compares its
// data with want exactly.
func checkSiteConfig(objs []object, name string, want map[string]string) []error {
	var found []object
	for _, o := range objs {
		if o.kind != "ConfigMap" {
			continue
		}
		if o.name == name {
			found = append(found, o)
			continue
		}
		// The generator appends "-" and a content hash without dashes.
		if rest, ok := strings.CutPrefix(o.name, name+"-"); ok && rest != "" && !strings.Contains(rest, "-") {
			found = append(found, o)
		}
	}
	switch len(found) {
	case 0:
		return []error{fmt.Errorf("ConfigMap %q (generated from %q) not found in the built output", name+"-<hash>", name)}
	case 1:
	default:
		var names []string
		for _, o := range found {
			names = append(names, o.String())
		}
		return []error{fmt.Errorf("ConfigMap %q: %d candidates (%s); expected one", name, len(found), strings.Join(names, ", "))}
	}
	return compareData(found[0], "site config", want, stringData(found[0].doc, "data"), true)
}

// compareData reports every key whose value differs between want and
// got, in key order. extraIsError reports keys only in got.
func compareData(o object, wantWhat string, want, got map[string]string, extraIsError bool) []error {
	keys := make([]string, 0, len(want)+len(got))
	for k := range want {
		keys = append(keys, k)
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var errs []error
	for _, k := range keys {
		w, inWant := want[k]
		g, inGot := got[k]
		switch {
		case inWant && !inGot:
			errs = append(errs, fmt.Errorf("%s: data.%s: %w: key missing (want %q)", o, k, ErrRoundTrip, w))
		case !inWant && inGot:
			if extraIsError {
				errs = append(errs, fmt.Errorf("%s: data.%s: %w: key not in the %s (got %q)", o, k, ErrRoundTrip, wantWhat, g))
			}
		case w != g:
			errs = append(errs, fmt.Errorf("%s: data.%s: %w after a YAML round trip: want %q, got %q", o, k, ErrRoundTrip, w, g))
		}
	}
	return errs
}

func hasKey(m map[string]string, k string) bool {
	_, ok := m[k]
	return ok
}

// checkClientRead reads a ConfigMap's YAML as kubectl and Flux do
// (sigs.k8s.io/yaml, YAML 1.1 rules) and reports data values that do not
// arrive as the same strings.
func checkClientRead(o object, b []byte, want map[string]string) []error {
	var cm struct {
		Data map[string]any `json:"data"`
	}
	if err := sigsyaml.Unmarshal(b, &cm); err != nil {
		return []error{fmt.Errorf("%s: does not parse as a Kubernetes client reads it: %w", o, err)}
	}
	var errs []error
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		got, ok := cm.Data[k]
		if s, isStr := got.(string); !ok || !isStr || s != want[k] {
			errs = append(errs, fmt.Errorf("%s: data.%s: %w when read with YAML 1.1 rules (as kubectl and Flux read it): want %q, got %#v", o, k, ErrRoundTrip, want[k], got))
		}
	}
	return errs
}
