package inventory

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/util/validation"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/fleetgen/fleetgen/pkg/charts/chartref"
)

// Chart modes: how a release is shipped to its sites (the charts.*.mode
// field).
const (
	// ChartModeRendered renders the chart at generate time and commits
	// the plain objects (the default).
	ChartModeRendered = "rendered"
	// ChartModeRelease writes a Flux HelmRelease per site.
	ChartModeRelease = "release"
)

// ChartModes are the allowed values of charts.*.mode.
var ChartModes = []string{ChartModeRendered, ChartModeRelease}

var chartFields = []string{"chart", "repo", "version", "namespace", "mode", "values"}

// ChartSpec is one entry of a layer's charts block as written, keyed by
// release name. Empty strings and a nil Values mean "not set in this
// layer". In Values a nil value is a YAML null: merging deletes the key.
type ChartSpec struct {
	// Chart is a chart directory or .tgz relative to the inventory file,
	// or oci://HOST/REPO/CHART, or, with Repo, the chart's name in that
	// chart repository.
	Chart string `json:"chart,omitempty"`
	// Repo is the URL of an HTTP(S) Helm chart repository (the directory
	// of its index.yaml) that Chart names a chart of.
	Repo string `json:"repo,omitempty"`
	// Version is the chart version; it must equal the chart's Chart.yaml.
	Version string `json:"version,omitempty"`
	// Namespace the release is rendered into; default: the base's.
	Namespace string `json:"namespace,omitempty"`
	// Mode is rendered (default) or release.
	Mode string `json:"mode,omitempty"`
	// Values are read the way Helm reads a values file: numbers as
	// float64, booleans as bool, quoted strings exactly as written.
	Values map[string]any `json:"values,omitempty"`
}

// SiteChart is a release of a site after merging its layers.
type SiteChart struct {
	Chart string `json:"chart"`
	// Repo is "" unless the chart is in an HTTP(S) chart repository.
	Repo    string `json:"repo,omitempty"`
	Version string `json:"version"`
	// Namespace is "" when no layer sets it: the base's namespace.
	Namespace string `json:"namespace,omitempty"`
	// Mode is rendered when no layer sets it.
	Mode string `json:"mode"`
	// Values are the deep-merged values, never nil.
	Values map[string]any `json:"values"`
	// RepoPath is, for a release in mode release whose chart is kept in
	// the fleet's repository, the chart's path from the repository's root
	// (slash-separated, no leading "./"): the site's Flux GitRepository
	// checks it out and its HelmRelease names it. The pipeline sets it,
	// knowing where the inventory and the tree are; "" otherwise.
	RepoPath string `json:"-"`
	// Kinds are, for a release in mode rendered, the API resources of its
	// rendered objects and the namespace each is in ("" for a
	// cluster-scoped resource), sorted, each once: what the site's overlay
	// applies for the release, so what the site's least-privilege applier
	// must be allowed (template partial gitops.applier). The pipeline sets
	// it once the chart has rendered; nil otherwise.
	Kinds []ChartKind `json:"-"`
}

// ChartKind is one API resource a rendered release's objects need, in one
// namespace.
type ChartKind struct {
	// Namespace is "" for a cluster-scoped resource.
	Namespace string
	// Group is the API group, "" for the core group; Resource the plural
	// resource name (deployments); Kind the kind (Deployment).
	Group, Resource, Kind string
}

// Compare orders kinds by namespace, group, resource, then kind.
func (k ChartKind) Compare(o ChartKind) int {
	return cmp.Or(cmp.Compare(k.Namespace, o.Namespace), cmp.Compare(k.Group, o.Group), cmp.Compare(k.Resource, o.Resource), cmp.Compare(k.Kind, o.Kind))
}

// ChartRenderDir is where, from the tree's root, the render of a site's
// release in mode rendered is: charts/<release>-<12 hex digits>, the
// digits fingerprinting the release's merged chart, version, namespace
// and values, so that sites with the same merged release share it.
func ChartRenderDir(release string, c SiteChart) string {
	data, err := json.Marshal(struct {
		Release, Chart, Version, Namespace, Mode string
		Values                                   map[string]any
		Repo                                     string `json:",omitempty"`
	}{release, c.Chart, c.Version, c.Namespace, c.Mode, c.Values, c.Repo})
	if err != nil {
		// Values come from YAML: maps, lists, strings, float64, bools, nil.
		panic(fmt.Sprintf("release %q: values do not encode: %v", release, err))
	}
	sum := sha256.Sum256(data)
	return "charts/" + release + "-" + hex.EncodeToString(sum[:6])
}

// ChartDirs are the directories, from the tree's root, that the site's
// overlay reads for its releases: each render of a release in mode
// rendered and the directory of each namespace a release of either mode
// sets (charts/namespace-<ns>, for the namespaces that are not the
// base's). Sorted.
func (s Site) ChartDirs() []string {
	var dirs []string
	seen := map[string]bool{}
	for _, release := range slices.Sorted(maps.Keys(s.Charts)) {
		c := s.Charts[release]
		if c.Mode == ChartModeRendered {
			dirs = append(dirs, ChartRenderDir(release, c))
		}
		if c.Namespace != "" && !seen[c.Namespace] {
			seen[c.Namespace] = true
			dirs = append(dirs, "charts/namespace-"+c.Namespace)
		}
	}
	slices.Sort(dirs)
	return dirs
}

// ReleaseChartDirs are the directories, from the repository's root, that
// the site's Flux GitRepository must check out for its releases in mode
// release whose charts are kept in the repository: each chart directory
// (the directory of a packaged .tgz chart). Sorted, without duplicates.
func (s Site) ReleaseChartDirs() []string {
	var dirs []string
	for _, c := range s.Charts {
		if c.Mode != ChartModeRelease || c.RepoPath == "" {
			continue
		}
		d := c.RepoPath
		if strings.HasSuffix(d, ".tgz") {
			d = path.Dir(d)
		}
		dirs = append(dirs, d)
	}
	slices.Sort(dirs)
	return slices.Compact(dirs)
}

// ChartValuesKey is the Origins key of a release's values ("charts.R.values"),
// to which a value's path is appended with "." for map keys and "[i]" for
// list items.
func ChartValuesKey(release string) string { return "charts." + release + ".values" }

// chartsField decodes a layer's charts block: release name to chart entry.
func (d *decoder) chartsField(l *Layer, v *yaml.Node, field string) {
	d.cur.val["charts"] = nodePos(v)
	ok, present := d.mapping(v, field, "a mapping of release names to charts")
	if !ok {
		d.cur.bad["charts"] = true
	}
	if !ok || !present {
		return
	}
	l.Charts = make(map[string]ChartSpec, len(v.Content)/2)
	for _, e := range d.entries(v, field) {
		release := e.key.Value
		base := "charts." + release
		f := entryField(field, release)
		d.cur.key[base] = nodePos(e.key)
		d.cur.val[base] = nodePos(e.val)
		var spec ChartSpec
		if ok, present := d.mapping(e.val, f, "a chart mapping (chart, repo, version, namespace, mode, values)"); !ok || !present {
			if !ok {
				d.cur.bad[base] = true
			}
			l.Charts[release] = spec
			continue
		}
		for _, ce := range d.entries(e.val, f) {
			name := ce.key.Value
			path := base + "." + name
			cf := join(f, name)
			d.cur.val[path] = nodePos(ce.val)
			switch name {
			case "chart", "repo", "version", "namespace", "mode":
				s, ok := d.text(ce.val, cf, "a string")
				if !ok {
					d.cur.bad[path] = true
				}
				switch name {
				case "chart":
					spec.Chart = s
				case "repo":
					spec.Repo = s
				case "version":
					spec.Version = s
				case "namespace":
					spec.Namespace = s
				case "mode":
					spec.Mode = s
				}
			case "values":
				if ok, present := d.mapping(ce.val, cf, "a mapping of chart values"); ok && present {
					spec.Values = d.valuesMap(ce.val, cf, path)
				} else if !ok {
					d.cur.bad[path] = true
				}
			default:
				d.unknownField(ce.key, f, "chart", chartFields)
			}
		}
		l.Charts[release] = spec
	}
}

// valuesMap decodes a mapping of chart values, recording the position of
// every value under path.
func (d *decoder) valuesMap(n *yaml.Node, field, path string) map[string]any {
	out := make(map[string]any, len(n.Content)/2)
	for _, e := range d.entries(n, field) {
		p := path + "." + e.key.Value
		d.cur.key[p] = nodePos(e.key)
		if v, ok := d.value(e.val, entryField(field, e.key.Value), p); ok {
			out[e.key.Value] = v
		}
	}
	return out
}

// value decodes one chart value the way Helm reads a values file: plain
// scalars are resolved as Helm's YAML reader resolves them (numbers become
// float64, yes/no/true/false booleans, ~ and null nil), quoted scalars stay
// strings exactly as written.
func (d *decoder) value(n *yaml.Node, field, path string) (any, bool) {
	d.cur.val[path] = nodePos(n)
	switch n.Kind {
	case yaml.AliasNode:
		d.skip()
		d.cur.bad[path] = true
		return nil, false
	case yaml.MappingNode:
		return d.valuesMap(n, field, path), true
	case yaml.SequenceNode:
		list := make([]any, 0, len(n.Content))
		for i, item := range n.Content {
			v, _ := d.value(item, index(field, i), index(path, i))
			list = append(list, v)
		}
		return list, true
	}
	if n.Style&yaml.TaggedStyle != 0 && n.Tag != "!!str" && n.Tag != "!!null" {
		d.fail(n, field, "YAML tag %s is not supported in chart values: write the value plain or quote it", n.Tag)
		d.cur.bad[path] = true
		return nil, false
	}
	if n.Tag == "!!str" && n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle|yaml.TaggedStyle) != 0 {
		return n.Value, true
	}
	if n.Tag == "!!null" {
		return nil, true
	}
	return helmScalar(n.Value), true
}

// helmScalar resolves a plain scalar as Helm's values reader does (YAML 1.1
// rules, numbers as float64), keeping it a string when it reads as anything
// but a scalar.
func helmScalar(s string) any {
	var v any
	if err := sigsyaml.Unmarshal([]byte(s), &v); err != nil {
		return s
	}
	switch v.(type) {
	case nil:
		if s == "" {
			return s
		}
		return nil
	case string, bool, float64:
		return v
	}
	return s
}

// chartsLayer checks the values of one layer's charts block.
func (c *checker) chartsLayer(l *Layer, m *entryMeta, field, site string) {
	for _, release := range slices.Sorted(maps.Keys(l.Charts)) {
		spec := l.Charts[release]
		base := "charts." + release
		f := entryField(field+".charts", release)
		if m.bad[base] {
			continue
		}
		if errs := validation.IsDNS1123Label(release); len(errs) > 0 {
			c.ps.add(m.keyAt(base), site, f, "invalid release name %s: %s", quote(release), dns1123Rule)
		}
		if spec.Chart != "" && !m.bad[base+".chart"] {
			if err := chartref.CheckChart(spec.Chart); err != nil {
				c.ps.add(m.at(base+".chart"), site, f+".chart", "invalid value %s: %v", quote(spec.Chart), err)
			}
		}
		if spec.Repo != "" && !m.bad[base+".repo"] {
			if _, err := chartref.ParseRepo(spec.Repo); err != nil {
				c.ps.add(m.at(base+".repo"), site, f+".repo", "invalid value %s: %v", quote(spec.Repo), err)
			}
		}
		if spec.Version != "" && !m.bad[base+".version"] {
			if err := chartref.CheckVersion(spec.Version); err != nil {
				c.ps.add(m.at(base+".version"), site, f+".version", "invalid value %s: %v", quote(spec.Version), err)
			}
		}
		if spec.Namespace != "" && !m.bad[base+".namespace"] {
			c.dnsLabel(m.at(base+".namespace"), site, f+".namespace", spec.Namespace)
		}
		if spec.Mode != "" && !m.bad[base+".mode"] {
			c.oneOf(m.at(base+".mode"), site, f+".mode", spec.Mode, ChartModes)
		}
	}
}

// chartsFleet checks that every release names one chart across the
// inventory: a release name used with two charts is an error at the second.
func (c *checker) chartsFleet() {
	type first struct {
		chart, where string
		pos          position
	}
	seen := map[string]first{}
	visit := func(l *Layer, m *entryMeta, field, site string) {
		for _, release := range slices.Sorted(maps.Keys(l.Charts)) {
			spec := l.Charts[release]
			for _, fv := range [...][2]string{{"chart", spec.Chart}, {"repo", spec.Repo}} {
				name, chart := fv[0], fv[1]
				base := "charts." + release
				if chart == "" || m.bad[base] || m.bad[base+"."+name] {
					continue
				}
				f, ok := seen[release+"."+name]
				if !ok {
					seen[release+"."+name] = first{chart, entryField(field+".charts", release), m.at(base + "." + name)}
					continue
				}
				if f.chart != chart {
					c.ps.add(m.at(base+"."+name), site, entryField(field+".charts", release)+"."+name,
						"release %s uses %s %s here but %s %s in %s%s: a release name names one chart (use another release name, or change only version and values)",
						quote(release), name, quote(chart), name, quote(f.chart), f.where, posSuffix(f.pos))
				}
			}
		}
	}
	visit(&c.inv.Defaults, c.src.defaultsMeta(), "defaults", "")
	for i := range c.inv.Groups {
		visit(&c.inv.Groups[i].Layer, c.src.group(i), index("groups", i), "")
	}
	for i := range c.inv.Sites {
		visit(&c.inv.Sites[i].Layer, c.src.site(i), index("sites", i), c.inv.Sites[i].Name)
	}
}

func posSuffix(p position) string {
	switch {
	case p.line == 0:
		return ""
	case p.file != "":
		return fmt.Sprintf(" (%s:%d)", p.file, p.line)
	}
	return " (line " + strconv.Itoa(p.line) + ")"
}

// mergeCharts merges one layer's charts into the site: release by release,
// each field on its own, values deep-merged (maps merge, lists and scalars
// replace, null deletes). mark records the origin of a path.
func mergeCharts(s *Site, l *Layer, mark func(path string)) {
	if len(l.Charts) == 0 {
		return
	}
	if s.Charts == nil {
		s.Charts = make(map[string]SiteChart, len(l.Charts))
	}
	for _, release := range slices.Sorted(maps.Keys(l.Charts)) {
		spec := l.Charts[release]
		base := "charts." + release
		sc, ok := s.Charts[release]
		if !ok {
			sc = SiteChart{Values: map[string]any{}}
		}
		for _, f := range []struct {
			dst  *string
			name string
			v    string
		}{{&sc.Chart, "chart", spec.Chart}, {&sc.Repo, "repo", spec.Repo}, {&sc.Version, "version", spec.Version}, {&sc.Namespace, "namespace", spec.Namespace}, {&sc.Mode, "mode", spec.Mode}} {
			if f.v != "" {
				*f.dst = f.v
				mark(base + "." + f.name)
			}
		}
		mergeValues(s, sc.Values, spec.Values, ChartValuesKey(release), mark)
		s.Charts[release] = sc
	}
}

// mergeValues merges src into dst leaf by leaf. path is the Origins key of
// dst.
func mergeValues(s *Site, dst, src map[string]any, path string, mark func(path string)) {
	for _, k := range slices.Sorted(maps.Keys(src)) {
		v, p := src[k], path+"."+k
		if v == nil {
			// Kept as null: Helm then deletes the key from the chart's
			// own values too.
			dropOrigins(s, p)
			dst[k] = nil
			mark(p)
			continue
		}
		if sm, ok := v.(map[string]any); ok {
			dm, ok := dst[k].(map[string]any)
			if !ok {
				dropOrigins(s, p)
				dm = make(map[string]any, len(sm))
				dst[k] = dm
			}
			mark(p)
			mergeValues(s, dm, sm, p, mark)
			continue
		}
		dropOrigins(s, p)
		dst[k] = copyValue(v)
		markValue(v, p, mark)
	}
}

// copyValue copies maps and lists so that sites never share them.
func copyValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = copyValue(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = copyValue(e)
		}
		return l
	}
	return v
}

// markValue records the origin of v and everything inside it.
func markValue(v any, path string, mark func(path string)) {
	mark(path)
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			markValue(e, path+"."+k, mark)
		}
	case []any:
		for i, e := range x {
			markValue(e, index(path, i), mark)
		}
	}
}

// dropOrigins forgets the origins of path and everything under it.
func dropOrigins(s *Site, path string) {
	for k := range s.Origins {
		if k == path || strings.HasPrefix(k, path+".") || strings.HasPrefix(k, path+"[") {
			delete(s.Origins, k)
		}
	}
}

// finishCharts fills in the defaults of a site's releases.
func finishCharts(s *Site) {
	for release, sc := range s.Charts {
		if sc.Mode == "" {
			sc.Mode = ChartModeRendered
			s.Charts[release] = sc
		}
	}
}

// chartsSite checks a site's merged releases: each needs a chart and a
// version.
func (c *checker) chartsSite(i int, s *Site) {
	m := c.src.site(i)
	for _, release := range slices.Sorted(maps.Keys(s.Charts)) {
		sc := s.Charts[release]
		f := entryField(index("sites", i)+".charts", release)
		pos := c.originPos(s, "charts."+release+".chart", m.pos)
		if sc.Chart == "" {
			c.ps.add(c.releasePos(s, release, m.pos), s.Name, f+".chart", "is not set by the site, its groups or defaults: release %s needs a chart (a directory or .tgz relative to the inventory, oci://..., or a chart name with repo: https://...)", quote(release))
			continue
		}
		if sc.Repo != "" && chartref.CheckChart(sc.Chart) == nil {
			if _, err := chartref.ParseRepo(sc.Repo); err == nil {
				if _, err := chartref.Parse(sc.Chart, sc.Repo); err != nil {
					c.ps.add(pos, s.Name, f+".chart", "release %s: %v; repo %s is set%s", quote(release), err, quote(sc.Repo), posSuffix(c.originPos(s, "charts."+release+".repo", position{})))
				}
			}
		}
		if sc.Version == "" {
			c.ps.add(pos, s.Name, f+".version", "is not set by the site, its groups or defaults: release %s needs the chart's exact version (as in its Chart.yaml)", quote(release))
		}
	}
}

// releasePos is the position of the first value a site's release has.
func (c *checker) releasePos(s *Site, release string, fallback position) position {
	for _, k := range []string{"chart", "repo", "version", "namespace", "mode"} {
		if _, ok := s.Origins["charts."+release+"."+k]; ok {
			return c.originPos(s, "charts."+release+"."+k, fallback)
		}
	}
	prefix := ChartValuesKey(release)
	keys := slices.Sorted(maps.Keys(s.Origins))
	if i, _ := slices.BinarySearch(keys, prefix); i < len(keys) && strings.HasPrefix(keys[i], prefix) {
		return c.originPos(s, keys[i], fallback)
	}
	return fallback
}
