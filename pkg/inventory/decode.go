package inventory

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Fields allowed at each level of the document, in the order the reference
// documentation lists them.
var (
	topFields      = []string{"apiVersion", "kind", "fleet", "gitops", "defaults", "groups", "sites"}
	layerFields    = []string{"type", "region", "arch", "capacity", "config", "images", "components", "labels", "waivers", "requireDigests", "wave", "maintenanceWindow", "network", "ageRecipient", "imageRegistry", "k3s", "charts", "mtls", "experimental"}
	groupFields    = append([]string{"name"}, layerFields...)
	siteFields     = append([]string{"name", "groups"}, layerFields...)
	capacityFields = []string{"cpu", "memory", "reserve"}
	reserveFields  = []string{"cpu", "memory"}
	waiverFields   = []string{"policy", "reason"}
)

// decoder turns the YAML node tree into an Inventory, reporting every
// problem of shape (wrong kind of node, unknown or duplicate fields).
// Checks of the values themselves happen later, in checker.
type decoder struct {
	ps  *problems
	src *sourceMap
	// site is the name of the site being decoded, for problem messages.
	site string
	// cur is the layer being decoded; problems mark it broken.
	cur *entryMeta
}

func nodePos(n *yaml.Node) position { return position{line: n.Line, col: n.Column} }

// fail reports a problem at n and marks the current layer broken.
func (d *decoder) fail(n *yaml.Node, field, format string, args ...any) {
	if d.cur != nil {
		d.cur.broken = true
	}
	d.ps.add(nodePos(n), d.site, field, format, args...)
}

// skip marks the current layer broken without a new problem; used for
// aliases, which checkTree has already reported.
func (d *decoder) skip() {
	if d.cur != nil {
		d.cur.broken = true
	}
}

// describe names what a node is, for "expected X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		if isNull(n) {
			if n.Value == "" {
				return "an empty value"
			}
			return "an empty value (" + n.Value + ")"
		}
		return "the scalar " + quote(n.Value)
	}
	return "an unexpected YAML node"
}

// isNull reports whether n is a YAML null (empty, "~" or "null").
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// quote quotes s for a message, shortening very long values.
func quote(s string) string {
	const max = 80
	if len(s) > max {
		cut := max
		for cut > 0 && !isRuneStart(s[cut]) {
			cut--
		}
		return fmt.Sprintf("%q...", s[:cut])
	}
	return fmt.Sprintf("%q", s)
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// join appends a field name to a path.
func join(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

// entryField is the display path of a map entry: parent.KEY for simple
// keys, parent["KEY"] otherwise.
func entryField(parent, key string) string {
	if simpleKeyRE.MatchString(key) {
		return join(parent, key)
	}
	return fmt.Sprintf("%s[%q]", parent, key)
}

var simpleKeyRE = regexp.MustCompile(`^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$`)

func index(parent string, i int) string { return parent + "[" + strconv.Itoa(i) + "]" }

type entry struct{ key, val *yaml.Node }

// entries returns the pairs of a mapping node in document order, reporting
// keys that are not scalars and keys given twice.
func (d *decoder) entries(n *yaml.Node, field string) []entry {
	var out []entry
	seen := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch {
		case k.Kind == yaml.AliasNode:
			d.skip()
			continue
		case k.Kind != yaml.ScalarNode:
			d.fail(k, field, "a key must be a plain string, got %s", describe(k))
			continue
		case k.Style&yaml.TaggedStyle != 0 && k.Tag != "!!str":
			d.fail(k, field, "YAML tag %s is not supported on a key: write the key as plain text or quote it", k.Tag)
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.fail(k, entryField(field, k.Value), "duplicate key %q: first given at line %d, column %d", k.Value, first.Line, first.Column)
			continue
		}
		seen[k.Value] = k
		out = append(out, entry{k, v})
	}
	return out
}

// text returns the scalar text of n exactly as written (after YAML quoting
// and escapes), never a resolved value: 1.10 stays "1.10", no stays "no".
func (d *decoder) text(n *yaml.Node, field, want string) (string, bool) {
	switch {
	case n.Kind == yaml.AliasNode:
		d.skip()
		return "", false
	case n.Kind != yaml.ScalarNode:
		d.fail(n, field, "expected %s, got %s", want, describe(n))
		return "", false
	case n.Style&yaml.TaggedStyle != 0 && n.Tag != "!!str":
		d.fail(n, field, "YAML tag %s is not supported: write the value as plain text or quote it", n.Tag)
		return "", false
	}
	return n.Value, true
}

// mapping checks that n is a mapping. An empty value or null counts as an
// empty mapping ("not set").
func (d *decoder) mapping(n *yaml.Node, field, want string) (ok, present bool) {
	switch {
	case n.Kind == yaml.AliasNode:
		d.skip()
		return false, false
	case isNull(n):
		return true, false
	case n.Kind != yaml.MappingNode:
		d.fail(n, field, "expected %s, got %s", want, describe(n))
		return false, false
	}
	return true, true
}

// sequence checks that n is a list. An empty value or null counts as an
// empty list ("not set").
func (d *decoder) sequence(n *yaml.Node, field, want string) (ok, present bool) {
	switch {
	case n.Kind == yaml.AliasNode:
		d.skip()
		return false, false
	case isNull(n):
		return true, false
	case n.Kind != yaml.SequenceNode:
		d.fail(n, field, "expected %s, got %s", want, describe(n))
		return false, false
	}
	return true, true
}

// unknownField reports a key that is not allowed here, suggesting the
// nearest allowed one.
func (d *decoder) unknownField(k *yaml.Node, field, where string, allowed []string) {
	var msg string
	switch {
	case where == "defaults" && (k.Value == "name" || k.Value == "groups"):
		msg = fmt.Sprintf("field %q is not allowed in defaults (defaults apply to every site)", k.Value)
	case where == "group" && k.Value == "groups":
		msg = fmt.Sprintf("field %q is not allowed in a group (groups do not nest)", k.Value)
	case k.Value == "<<":
		msg = "merge keys (<<) are not supported: use defaults and groups to share values"
	default:
		msg = fmt.Sprintf("unknown field %q", k.Value)
		if s := closest(k.Value, allowed); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
	}
	d.fail(k, field, "%s; allowed fields: %s", msg, strings.Join(allowed, ", "))
}

// document decodes the top-level mapping. It returns nil when the
// apiVersion or kind is not one this package reads: the rest of the
// document may then follow another schema and is not checked.
func (d *decoder) document(root *yaml.Node) *Inventory {
	d.src.root = nodePos(root)
	if !d.header(root) {
		return nil
	}
	inv := &Inventory{}
	for _, e := range d.entries(root, "") {
		k, v := e.key, e.val
		d.src.paths[k.Value] = nodePos(v)
		switch k.Value {
		case "apiVersion", "kind":
			// checked by header
		case "fleet":
			s, ok := d.text(v, "fleet", "the fleet name")
			if !ok {
				d.src.bad["fleet"] = true
			}
			inv.Fleet = s
		case "gitops":
			d.gitops(v, &inv.GitOps)
		case "defaults":
			d.cur = &d.src.defaults
			d.cur.pos = nodePos(v)
			if ok, present := d.mapping(v, "defaults", "a mapping of site fields"); ok && present {
				for _, e := range d.entries(v, "defaults") {
					if !d.layerField(&inv.Defaults, e, "defaults") {
						d.unknownField(e.key, "defaults", "defaults", layerFields)
					}
				}
			}
			d.cur = nil
		case "groups":
			if ok, present := d.sequence(v, "groups", "a list of groups"); ok && present {
				for i, item := range v.Content {
					inv.Groups = append(inv.Groups, d.group(item, index("groups", i)))
				}
			} else if !ok {
				d.src.bad["groups"] = true
				d.src.groupNameUnreadable = true
			}
		case "sites":
			if ok, present := d.sequence(v, "sites", "a list of sites"); ok && present {
				for i, item := range v.Content {
					inv.Sites = append(inv.Sites, d.siteSpec(item, index("sites", i)))
				}
			} else if !ok {
				d.src.bad["sites"] = true
			}
		default:
			d.unknownField(k, "", "top", topFields)
		}
	}
	return inv
}

// header checks apiVersion and kind before anything else.
func (d *decoder) header(root *yaml.Node) bool {
	var apiVersion, kind *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k := root.Content[i]
		if k.Kind != yaml.ScalarNode {
			continue
		}
		switch {
		case k.Value == "apiVersion" && apiVersion == nil:
			apiVersion = root.Content[i+1]
		case k.Value == "kind" && kind == nil:
			kind = root.Content[i+1]
		}
	}
	ok := d.headerField(root, apiVersion, "apiVersion", APIVersion)
	return d.headerField(root, kind, "kind", Kind) && ok
}

func (d *decoder) headerField(root, v *yaml.Node, field, want string) bool {
	if v == nil {
		d.fail(root, field, "is required: this fleetgen reads %s %q", field, want)
		return false
	}
	s, ok := d.text(v, field, fmt.Sprintf("%q", want))
	if !ok {
		return false
	}
	if s != want {
		d.fail(v, field, "unsupported value %s: this fleetgen reads %s %q", quote(s), field, want)
		return false
	}
	return true
}

// group decodes one entry of groups.
func (d *decoder) group(n *yaml.Node, field string) Group {
	d.src.groups = append(d.src.groups, newEntryMeta(nodePos(n)))
	d.cur = &d.src.groups[len(d.src.groups)-1]
	defer func() { d.cur = nil }()
	var g Group
	ok, present := d.mapping(n, field, "a group mapping (name: ..., config: ...)")
	if !ok || !present {
		if ok {
			d.fail(n, field, "expected a group mapping (name: ..., config: ...), got %s", describe(n))
		}
		d.cur.bad["name"] = true
		d.src.groupNameUnreadable = true
		return g
	}
	for _, e := range d.entries(n, field) {
		if e.key.Value == "name" {
			d.cur.val["name"] = nodePos(e.val)
			s, ok := d.text(e.val, join(field, "name"), "the group name")
			if !ok {
				d.cur.bad["name"] = true
				d.src.groupNameUnreadable = true
			}
			g.Name = s
			continue
		}
		if !d.layerField(&g.Layer, e, field) {
			d.unknownField(e.key, field, "group", groupFields)
		}
	}
	return g
}

// siteSpec decodes one entry of sites.
func (d *decoder) siteSpec(n *yaml.Node, field string) SiteSpec {
	d.src.sites = append(d.src.sites, newEntryMeta(nodePos(n)))
	d.cur = &d.src.sites[len(d.src.sites)-1]
	d.site = siteName(n)
	defer func() { d.cur, d.site = nil, "" }()
	var s SiteSpec
	ok, present := d.mapping(n, field, "a site mapping (name: ..., type: ...)")
	if !ok || !present {
		if ok {
			d.fail(n, field, "expected a site mapping (name: ..., type: ...), got %s", describe(n))
		}
		d.cur.bad["name"] = true
		return s
	}
	for _, e := range d.entries(n, field) {
		k, v := e.key, e.val
		switch k.Value {
		case "name":
			d.cur.val["name"] = nodePos(v)
			name, ok := d.text(v, join(field, "name"), "the site name")
			if !ok {
				d.cur.bad["name"] = true
			}
			s.Name = name
		case "groups":
			d.cur.val["groups"] = nodePos(v)
			s.Groups = d.stringList(v, join(field, "groups"), "groups", "a list of group names")
		default:
			if !d.layerField(&s.Layer, e, field) {
				d.unknownField(k, field, "site", siteFields)
			}
		}
	}
	return s
}

// siteName returns the name of a site mapping as written, if it has one.
func siteName(n *yaml.Node) string {
	if n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Value == "name" && v.Kind == yaml.ScalarNode {
			return v.Value
		}
	}
	return ""
}

// layerField decodes one field shared by defaults, groups and sites into
// l. It returns false when the key is not a layer field.
func (d *decoder) layerField(l *Layer, e entry, parent string) bool {
	k, v := e.key, e.val
	field := join(parent, k.Value)
	switch k.Value {
	case "type", "region", "arch":
		d.cur.val[k.Value] = nodePos(v)
		s, ok := d.text(v, field, "a string")
		if !ok {
			d.cur.bad[k.Value] = true
		}
		switch k.Value {
		case "type":
			l.Type = s
		case "region":
			l.Region = s
		case "arch":
			l.Arch = s
		}
	case "capacity":
		d.cur.val["capacity"] = nodePos(v)
		if ok, present := d.mapping(v, field, "a mapping with cpu and memory"); ok && present {
			for _, e := range d.entries(v, field) {
				name := "capacity." + e.key.Value
				switch e.key.Value {
				case "cpu", "memory":
					d.cur.val[name] = nodePos(e.val)
					s, _ := d.text(e.val, join(field, e.key.Value), "a quantity such as \"2\" or \"2Gi\"")
					if e.key.Value == "cpu" {
						l.Capacity.CPU = s
					} else {
						l.Capacity.Memory = s
					}
				case "reserve":
					d.reserve(&l.Capacity.Reserve, e.val, join(field, "reserve"))
				default:
					d.unknownField(e.key, field, "capacity", capacityFields)
				}
			}
		}
	case "config", "images", "labels":
		d.cur.val[k.Value] = nodePos(v)
		m := d.stringMap(v, field, k.Value)
		switch k.Value {
		case "config":
			l.Config = m
		case "images":
			l.Images = m
		case "labels":
			l.Labels = m
		}
	case "k3s":
		d.k3sField(l, v, field)
	case "charts":
		d.chartsField(l, v, field)
	case "components":
		d.cur.val["components"] = nodePos(v)
		l.Components = d.stringList(v, field, "components", "a list of component names")
	case "waivers":
		d.cur.val["waivers"] = nodePos(v)
		l.Waivers = d.waivers(v, field)
	case "requireDigests":
		d.cur.val["requireDigests"] = nodePos(v)
		if v.Kind == yaml.AliasNode {
			d.skip()
			break
		}
		if v.Kind != yaml.ScalarNode || v.Tag != "!!bool" || (v.Value != "true" && v.Value != "false") {
			d.cur.bad["requireDigests"] = true
			d.fail(v, field, "expected true or false, got %s", describe(v))
			break
		}
		b := v.Value == "true"
		l.RequireDigests = &b
	default:
		return d.wiringField(l, e, field) || d.zeroTrustField(l, e, field)
	}
	return true
}

// reserve decodes capacity.reserve: cpu and memory kept back for K3s.
func (d *decoder) reserve(r *Reserve, n *yaml.Node, field string) {
	d.cur.val["capacity.reserve"] = nodePos(n)
	ok, present := d.mapping(n, field, "a mapping with cpu and memory")
	if !ok || !present {
		return
	}
	for _, e := range d.entries(n, field) {
		switch e.key.Value {
		case "cpu", "memory":
			path := "capacity.reserve." + e.key.Value
			d.cur.val[path] = nodePos(e.val)
			s, ok := d.text(e.val, join(field, e.key.Value), "a quantity such as \"500m\" or \"768Mi\"")
			if !ok {
				d.cur.bad[path] = true
			}
			if e.key.Value == "cpu" {
				r.CPU = s
			} else {
				r.Memory = s
			}
		default:
			d.unknownField(e.key, field, "reserve", reserveFields)
		}
	}
}

// waivers decodes a list of {policy, reason} mappings. Positions are kept
// as "waivers[i]" (the entry), "waivers[i].policy" and "waivers[i].reason".
func (d *decoder) waivers(n *yaml.Node, field string) []Waiver {
	ps := d.pairs(n, field, "waivers", "waiver", "{policy: ..., reason: ...}", waiverFields)
	if ps == nil {
		return nil
	}
	out := make([]Waiver, len(ps))
	for i, p := range ps {
		out[i] = Waiver{Policy: p[0], Reason: p[1]}
	}
	return out
}

// pairs decodes a list of mappings of two string fields, fields[0] and
// fields[1], each entry a "what" (as in "a waiver mapping"), shaped as
// form. Positions are kept as "name[i]" (the entry) and "name[i].FIELD";
// a broken entry marks "name[i]" bad and keeps its slot, so indexes match
// the file. It returns nil when the list is not set or not a list.
func (d *decoder) pairs(n *yaml.Node, field, name, what, form string, fields []string) [][2]string {
	ok, present := d.sequence(n, field, fmt.Sprintf("a list of %ss (%s)", what, form))
	if !ok || !present {
		return nil
	}
	out := make([][2]string, 0, len(n.Content))
	for i, item := range n.Content {
		path, f := index(name, i), index(field, i)
		d.cur.val[path] = nodePos(item)
		var p [2]string
		want := fmt.Sprintf("a %s mapping (%s)", what, form)
		if ok, present := d.mapping(item, f, want); !ok || !present {
			if ok {
				d.fail(item, f, "expected %s, got %s", want, describe(item))
			}
			d.cur.bad[path] = true
			out = append(out, p)
			continue
		}
		for _, e := range d.entries(item, f) {
			j := slices.Index(fields, e.key.Value)
			if j < 0 {
				d.unknownField(e.key, f, what, fields)
				continue
			}
			d.cur.val[path+"."+e.key.Value] = nodePos(e.val)
			s, ok := d.text(e.val, join(f, e.key.Value), "a string")
			if !ok {
				d.cur.bad[path] = true
			}
			p[j] = s
		}
		out = append(out, p)
	}
	return out
}

// stringMap decodes a mapping of strings to strings. Values keep their text
// exactly as written. name is the raw path prefix ("config").
func (d *decoder) stringMap(n *yaml.Node, field, name string) map[string]string {
	ok, present := d.mapping(n, field, "a mapping of strings")
	if !ok || !present {
		return nil
	}
	m := make(map[string]string, len(n.Content)/2)
	for _, e := range d.entries(n, field) {
		path := name + "." + e.key.Value
		d.cur.key[path] = nodePos(e.key)
		d.cur.val[path] = nodePos(e.val)
		s, ok := d.text(e.val, entryField(field, e.key.Value), "a string")
		if !ok {
			d.cur.bad[path] = true
			continue
		}
		m[e.key.Value] = s
	}
	return m
}

// stringList decodes a list of strings. name is the raw path prefix.
func (d *decoder) stringList(n *yaml.Node, field, name, want string) []string {
	ok, present := d.sequence(n, field, want)
	if !ok || !present {
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for i, item := range n.Content {
		path := index(name, i)
		d.cur.val[path] = nodePos(item)
		s, ok := d.text(item, index(field, i), "a string")
		if !ok {
			d.cur.bad[path] = true
		}
		// Keep the slot even when unreadable, so indexes match the file.
		out = append(out, s)
	}
	return out
}
