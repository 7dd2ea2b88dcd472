package inventory

import (
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
)

const dns1123Rule = "must be a DNS-1123 label (lowercase letters, digits, '-'), at most 63 characters"

// checker validates the values of an inventory and merges its layers. It
// works on the typed Inventory, so an inventory built in code is checked
// as thoroughly as a loaded one (only without positions).
type checker struct {
	inv *Inventory
	src *sourceMap // nil for an inventory built in code
	ps  *problems
	// policies are the known policy ids waivers may name; nil means they
	// are not checked.
	policies []string
	// tree is where the tree is written in its repository; nil when it
	// is not written.
	tree *TreePlace
}

// run checks everything and returns the merged fleet; the fleet is only
// meaningful when no problem was added. known lists the components the
// template set provides; nil means they are not checked.
func (c *checker) run(known []string) *Fleet {
	inv := c.inv
	if !c.src.isBad("fleet") {
		pos := c.src.at("fleet")
		if inv.Fleet == "" {
			c.ps.add(pos, "", "fleet", "is required: name the fleet (a DNS-1123 label)")
		} else {
			c.dnsLabel(pos, "", "fleet", inv.Fleet)
		}
	}

	c.checkGitOps()
	c.layer(&inv.Defaults, c.src.defaultsMeta(), "defaults", "", "defaults", known)

	groupIndex := make(map[string]int, len(inv.Groups))
	groupFold := make(map[string]int, len(inv.Groups))
	for i := range inv.Groups {
		g := &inv.Groups[i]
		m := c.src.group(i)
		field := index("groups", i)
		if !m.bad["name"] {
			pos := m.at("name")
			if g.Name == "" {
				c.ps.add(pos, "", field+".name", "is required: every group needs a name")
			} else {
				c.dnsLabel(pos, "", field+".name", g.Name)
				if j, dup := groupFold[foldName(g.Name)]; dup {
					c.ps.add(pos, "", field+".name", "duplicate group name %s: %s", quote(g.Name),
						c.firstUse(inv.Groups[j].Name, g.Name, index("groups", j), c.src.group(j).at("name")))
				} else {
					groupFold[foldName(g.Name)] = i
				}
				if _, ok := groupIndex[g.Name]; !ok {
					groupIndex[g.Name] = i
				}
			}
		}
		c.layer(&g.Layer, m, field, "", "group "+quote(g.Name), known)
	}
	groupNames := make([]string, 0, len(groupIndex))
	for name := range groupIndex {
		groupNames = append(groupNames, name)
	}
	sort.Strings(groupNames)

	siteFold := make(map[string]int, len(inv.Sites))
	for i := range inv.Sites {
		s := &inv.Sites[i]
		m := c.src.site(i)
		field := index("sites", i)
		if !m.bad["name"] {
			pos := m.at("name")
			if s.Name == "" {
				c.ps.add(pos, "", field+".name", "is required: every site needs a name")
			} else {
				c.dnsLabel(pos, s.Name, field+".name", s.Name)
				if j, dup := siteFold[foldName(s.Name)]; dup {
					c.ps.add(pos, s.Name, field+".name", "duplicate site name %s: %s", quote(s.Name),
						c.firstUse(inv.Sites[j].Name, s.Name, index("sites", j), c.src.site(j).at("name")))
				} else {
					siteFold[foldName(s.Name)] = i
				}
			}
		}
		seen := make(map[string]int, len(s.Groups))
		for j, g := range s.Groups {
			path := index("groups", j)
			if m.bad[path] {
				continue
			}
			pos := m.at(path)
			gfield := field + "." + path
			if first, dup := seen[g]; dup {
				c.ps.add(pos, s.Name, gfield, "group %s is listed twice (first as groups[%d])", quote(g), first)
				continue
			}
			seen[g] = j
			if _, ok := groupIndex[g]; !ok && !c.src.groupsUnreadable() {
				c.ps.add(pos, s.Name, gfield, "unknown group %s%s; %s", quote(g), didYouMean(g, groupNames), listOf("defined groups", groupNames))
			}
		}
		c.layer(&s.Layer, m, field, s.Name, "site "+quote(s.Name), known)
	}
	if len(inv.Sites) == 0 && !c.src.isBad("sites") {
		c.ps.add(c.src.at("sites"), "", "sites", "no sites: an inventory needs at least one site")
	}

	// Sites merge on every CPU, each with its own problem list; the lists
	// are added in site order, so the problems kept are always the same.
	fleet := &Fleet{Name: inv.Fleet, Source: inv.File, Sites: make([]Site, len(inv.Sites))}
	found := make([]*problems, len(inv.Sites))
	eachSite(len(inv.Sites), func(i int) {
		sc := *c
		sc.ps = &problems{file: c.ps.file}
		site, ok := sc.merge(i, groupIndex)
		if ok {
			sc.required(i, &site)
			sc.wiringSite(i, &site)
			sc.k3sSite(i, &site)
			sc.chartsSite(i, &site)
			sc.zeroTrustSite(i, &site)
		}
		fleet.Sites[i], found[i] = site, sc.ps
	})
	for _, ps := range found {
		c.ps.absorb(ps)
	}
	sort.SliceStable(fleet.Sites, func(i, j int) bool { return fleet.Sites[i].Name < fleet.Sites[j].Name })
	fleet.GitOps = resolvedGitOps(inv.GitOps, c.tree)
	c.wiringFleet(fleet)
	c.argoFleet(fleet)
	c.chartsFleet()
	return fleet
}

// eachSite calls f(i) for i in [0, n), on every CPU; f must only write to
// what is its own for i.
func eachSite(n int, f func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				f(i)
			}
		})
	}
	wg.Wait()
}

// foldName is the key under which names count as duplicates. Valid names
// are lowercase ASCII, so case folding catches every duplicate that can
// pass validation; see the package documentation.
func foldName(s string) string { return strings.ToLower(s) }

// firstUse describes the earlier use of a duplicated name.
func (c *checker) firstUse(first, dup, field string, pos position) string {
	msg := "first used by " + field
	if pos.file != "" && pos.line > 0 {
		msg += fmt.Sprintf(" at %s:%d:%d", pos.file, pos.line, pos.col)
	} else if pos.line > 0 {
		msg += fmt.Sprintf(" at line %d, column %d", pos.line, pos.col)
	}
	if first != dup {
		msg += fmt.Sprintf(" as %s (names are compared ignoring case)", quote(first))
	}
	return msg
}

func (c *checker) dnsLabel(pos position, site, field, value string) bool {
	if len(validation.IsDNS1123Label(value)) == 0 {
		return true
	}
	c.ps.add(pos, site, field, "invalid value %s: %s", quote(value), dns1123Rule)
	return false
}

func (c *checker) oneOf(pos position, site, field, value string, allowed []string) {
	if !slices.Contains(allowed, value) {
		c.ps.add(pos, site, field, "invalid value %s: must be one of %s", quote(value), strings.Join(allowed, ", "))
	}
}

// layer checks the values of one layer. layerName ("defaults", "group
// \"eu\"", "site \"x\"") is used in messages about components.
func (c *checker) layer(l *Layer, m *entryMeta, field, site, layerName string, known []string) {
	if l.Type != "" && !m.bad["type"] {
		c.oneOf(m.at("type"), site, field+".type", l.Type, SiteTypes)
	}
	if l.Region != "" && !m.bad["region"] {
		c.dnsLabel(m.at("region"), site, field+".region", l.Region)
	}
	if l.Arch != "" && !m.bad["arch"] {
		c.oneOf(m.at("arch"), site, field+".arch", l.Arch, Arches)
	}
	if l.Capacity.CPU != "" {
		c.quantity(m.at("capacity.cpu"), site, field+".capacity.cpu", l.Capacity.CPU)
	}
	if l.Capacity.Memory != "" {
		c.quantity(m.at("capacity.memory"), site, field+".capacity.memory", l.Capacity.Memory)
	}
	if r := l.Capacity.Reserve.CPU; r != "" && !m.bad["capacity.reserve.cpu"] {
		c.reserveQuantity(m.at("capacity.reserve.cpu"), site, field+".capacity.reserve.cpu", r)
	}
	if r := l.Capacity.Reserve.Memory; r != "" && !m.bad["capacity.reserve.memory"] {
		c.reserveQuantity(m.at("capacity.reserve.memory"), site, field+".capacity.reserve.memory", r)
	}
	c.waivers(l, m, field, site)
	c.wiringLayer(l, m, field, site)
	c.k3sLayer(l, m, field, site)
	c.chartsLayer(l, m, field, site)
	c.zeroTrustLayer(l, m, field, site)

	for _, k := range sortedKeys(l.Config) {
		path := "config." + k
		f := entryField(field+".config", k)
		if errs := validation.IsConfigMapKey(k); len(errs) > 0 {
			c.ps.add(m.keyAt(path), site, f, "invalid key %s: %s", quote(k), strings.Join(errs, "; "))
		} else if what := nonStringKey(k); what != "" {
			c.ps.add(m.keyAt(path), site, f, "invalid key %s: YAML reads it as %s, not a string, and kustomize cannot write such a ConfigMap data key; rename it (for example %s)", quote(k), what, quote("KEY_"+k))
		}
		if msg := rejectedChars(l.Config[k]); msg != "" {
			c.ps.add(m.at(path), site, f, "value %s", msg)
		}
		c.secretConfig(m, path, site, f, layerName, k, l.Config[k])
	}

	for _, k := range sortedKeys(l.Images) {
		path := "images." + k
		f := entryField(field+".images", k)
		if msg := checkImageName(k); msg != "" {
			c.ps.add(m.keyAt(path), site, f, "invalid image name %s: %s", quote(k), msg)
		}
		if msg := checkImageRef(l.Images[k]); msg != "" {
			c.ps.add(m.at(path), site, f, "%s", msg)
		}
	}

	seen := make(map[string]int, len(l.Components))
	for i, comp := range l.Components {
		path := index("components", i)
		if m.bad[path] {
			continue
		}
		pos := m.at(path)
		f := field + "." + path
		if first, dup := seen[comp]; dup {
			c.ps.add(pos, site, f, "component %s is listed twice (first as components[%d])", quote(comp), first)
			continue
		}
		seen[comp] = i
		if !c.dnsLabel(pos, site, f, comp) {
			continue
		}
		if known != nil && !slices.Contains(known, comp) {
			names := slices.Sorted(slices.Values(known))
			c.ps.add(pos, site, f, "unknown component %s in %s%s; %s", quote(comp), layerName,
				didYouMean(comp, names), listOf("the template set provides", names))
		}
	}

	for _, k := range sortedKeys(l.Labels) {
		path := "labels." + k
		f := entryField(field+".labels", k)
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			c.ps.add(m.keyAt(path), site, f, "invalid label key %s: %s", quote(k), strings.Join(errs, "; "))
		}
		if errs := validation.IsValidLabelValue(l.Labels[k]); len(errs) > 0 {
			c.ps.add(m.at(path), site, f, "invalid label value %s: %s", quote(l.Labels[k]), strings.Join(errs, "; "))
		}
	}
}

func (c *checker) quantity(pos position, site, field, value string) {
	q, err := resource.ParseQuantity(value)
	switch {
	case err != nil:
		c.ps.add(pos, site, field, "invalid value %s: must be a Kubernetes quantity such as \"2\", \"500m\" or \"2Gi\"", quote(value))
	case q.Sign() <= 0:
		c.ps.add(pos, site, field, "invalid value %s: must be greater than zero", quote(value))
	}
}

// reserveQuantity checks a K3s reserve: a quantity, zero or more.
func (c *checker) reserveQuantity(pos position, site, field, value string) {
	q, err := resource.ParseQuantity(value)
	switch {
	case err != nil:
		c.ps.add(pos, site, field, "invalid value %s: must be a Kubernetes quantity such as \"500m\" or \"768Mi\"", quote(value))
	case q.Sign() < 0:
		c.ps.add(pos, site, field, "invalid value %s: must not be negative", quote(value))
	}
}

// waivers checks a layer's waivers: a policy id (known, when the policies
// are given), at most one waiver per policy in a layer, and a reason.
func (c *checker) waivers(l *Layer, m *entryMeta, field, site string) {
	seen := make(map[string]int, len(l.Waivers))
	for i, w := range l.Waivers {
		path := index("waivers", i)
		if m.bad[path] {
			continue
		}
		f := field + "." + path
		ppos := m.at(path + ".policy")
		switch {
		case w.Policy == "":
			c.ps.add(m.at(path), site, f+".policy", "is required: name the waived policy")
		case c.policies != nil && !slices.Contains(c.policies, w.Policy):
			names := slices.Sorted(slices.Values(c.policies))
			c.ps.add(ppos, site, f+".policy", "unknown policy %s%s; %s", quote(w.Policy), didYouMean(w.Policy, names), listOf("known policies", names))
		default:
			if first, dup := seen[w.Policy]; dup {
				c.ps.add(ppos, site, f+".policy", "policy %s is waived twice in this layer (first as waivers[%d])", quote(w.Policy), first)
			} else {
				seen[w.Policy] = i
			}
		}
		if strings.TrimSpace(w.Reason) == "" {
			c.ps.add(m.at(path+".reason"), site, f+".reason", "is required: say why the policy is waived")
		}
	}
}

// nonStringKey returns what YAML reads the plain scalar k as ("a boolean",
// "a number", ...) when that is not a string, or "". kustomize writes
// ConfigMap data keys as plain scalars and then converts the object through
// a YAML library that resolves them, so such a key fails the build
// ("json: unsupported type: map[interface {}]interface {}"). YAML 1.1 words
// (yes, no, on, off) resolve to strings in YAML 1.2 and build fine.
func nonStringKey(k string) string {
	n := yaml.Node{Kind: yaml.ScalarNode, Value: k}
	switch n.ShortTag() {
	case "!!str":
		return ""
	case "!!bool":
		return "a boolean"
	case "!!null":
		return "null"
	case "!!int":
		return "an integer"
	case "!!float":
		return "a number"
	case "!!timestamp":
		return "a date"
	default:
		return "a value of type " + n.ShortTag()
	}
}

// rejectedChars returns why s cannot be a config value, or "". See the
// package documentation for the rules and their reasons.
func rejectedChars(s string) string {
	if !utf8.ValidString(s) {
		return "is not valid UTF-8"
	}
	for i, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
		case r == 0x85:
			return fmt.Sprintf("contains U+0085 (NEXT LINE) at byte %d: YAML reads it as a line break, so it would not reach the cluster unchanged", i)
		case r == 0x2028:
			return fmt.Sprintf("contains U+2028 (LINE SEPARATOR) at byte %d: YAML reads it as a line break, so it would not reach the cluster unchanged", i)
		case r == 0x2029:
			return fmt.Sprintf("contains U+2029 (PARAGRAPH SEPARATOR) at byte %d: YAML reads it as a line break, so it would not reach the cluster unchanged", i)
		case r == 0xFEFF:
			return fmt.Sprintf("contains U+FEFF (byte order mark) at byte %d: it is invisible and tools add or strip it silently", i)
		case r < 0x20 || r == 0x7F || r >= 0x80 && r <= 0x9F:
			return fmt.Sprintf("contains the control character U+%04X at byte %d: only tab, line feed and carriage return are allowed", r, i)
		}
	}
	return ""
}

// required reports the fields every site needs once its layers are merged.
func (c *checker) required(i int, s *Site) {
	m := c.src.site(i)
	field := index("sites", i)
	for _, f := range []struct{ name, value, hint string }{
		{"type", s.Type, "one of " + strings.Join(SiteTypes, ", ")},
		{"region", s.Region, "a DNS-1123 label"},
		{"arch", s.Arch, "one of " + strings.Join(Arches, ", ")},
	} {
		if f.value == "" {
			c.ps.add(m.pos, s.Name, field+"."+f.name, "is not set by the site, its groups or defaults: every site needs a %s (%s)", f.name, f.hint)
		}
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// listOf renders "what: a, b, c", or says there are none.
func listOf(what string, names []string) string {
	if len(names) == 0 {
		return what + ": none"
	}
	return what + ": " + strings.Join(names, ", ")
}

func didYouMean(s string, candidates []string) string {
	if m := closest(s, candidates); m != "" {
		return fmt.Sprintf(" (did you mean %q?)", m)
	}
	return ""
}
