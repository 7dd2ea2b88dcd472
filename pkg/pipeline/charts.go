package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/util/validation"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/fleetgen/fleetgen/pkg/charts"
	"github.com/fleetgen/fleetgen/pkg/inventory"
	"github.com/fleetgen/fleetgen/pkg/policy"
	"github.com/fleetgen/fleetgen/pkg/render"
	"github.com/fleetgen/fleetgen/pkg/verify"
)

// Where rendered charts go in the tree, and the annotations that trace each
// rendered object to its release and chart template.
const (
	ChartsDir            = "charts"
	chartComponentDir    = "charts"
	annotationRelease    = "fleetgen.dev/chart-release"
	annotationTemplate   = "fleetgen.dev/chart-template"
	restrictedPodProfile = "restricted"
)

// chartRender is one distinct (release, chart, version, namespace, values):
// every site with that merged release shares its render.
type chartRender struct {
	release string
	spec    inventory.SiteChart
	ns      string // resolved namespace
	dir     string // charts/<release>-<hash>
	site    string // the first site using it, for messages
	siteIdx int
	rel     *charts.Release
	chart   *charts.Chart
	// check is the render laid out for the verification builds of
	// releases in mode release (checkRender).
	check []render.File
	// digest is the OCI manifest digest the lock records for an oci://
	// chart, "" otherwise.
	digest string
	// kinds are, for a render in mode rendered, the API resources of its
	// objects (renderKinds).
	kinds []inventory.ChartKind
}

// chartSet is what renderSiteCharts made: the renders by site.
type chartSet struct {
	// baseNS is the namespace of the base's Namespace object, "" when the
	// base has none or several.
	baseNS string
	// order lists every distinct render once, in the order of the first
	// site using it.
	order []*chartRender
	// bySite lists, per site with rendered releases, its renders in
	// release order.
	bySite map[string][]*chartRender
	// namespaces are the namespaces the renders add (not the base's).
	namespaces map[string]bool
	// releases lists, per site with releases in mode release, their
	// renders in release order.
	releases map[string][]*chartRender
}

// renderSiteCharts renders the Helm charts of every site, once per
// distinct merged release, before the template set renders: it sets each
// rendered release's Kinds (the API resources its objects need), which
// the template set's least-privilege applier grants (partial
// gitops.applier). engine renders the fleet-level templates first to
// find the base's namespace, the default namespace of a release. It
// returns nil when no site has a chart. inputs locate the inventory files
// chart paths are relative to.
func renderSiteCharts(fleet *inventory.Fleet, engine *render.Engine, parsed func(string) bool, inputs []inventory.Input) (*chartSet, error) {
	has := false
	for i := range fleet.Sites {
		if len(fleet.Sites[i].Charts) > 0 {
			has = true
			break
		}
	}
	if !has {
		return nil, nil
	}
	shared, err := engine.RenderWith(fleet, render.RenderOptions{Parsed: parsed, SharedOnly: true})
	if err != nil {
		return nil, err
	}
	baseNS, err := baseNamespace(shared)
	if err != nil {
		return nil, err
	}
	renders := map[string]*chartRender{}
	set := &chartSet{baseNS: baseNS, bySite: map[string][]*chartRender{}, namespaces: map[string]bool{}, releases: map[string][]*chartRender{}}
	for i := range fleet.Sites {
		s := &fleet.Sites[i]
		for _, release := range slices.Sorted(maps.Keys(s.Charts)) {
			sc := s.Charts[release]
			if sc.Mode == inventory.ChartModeRelease && baseNS == "" {
				return nil, chartProblem(s, "charts."+release+".mode", "release %q: mode release puts the HelmRelease in the base's namespace, and the base has no single namespace: use mode rendered", release)
			}
			ns := sc.Namespace
			if ns == "" {
				if baseNS == "" {
					return nil, chartProblem(s, "charts."+release+".chart", "release %q sets no namespace and the base has no single namespace to default to: set charts.%s.namespace", release, release)
				}
				ns = baseNS
			}
			key := inventory.ChartRenderDir(release, sc)
			r, ok := renders[key]
			if !ok {
				r = &chartRender{release: release, spec: sc, ns: ns, dir: key, site: s.Name, siteIdx: i}
				renders[key] = r
				set.order = append(set.order, r)
			}
			switch sc.Mode {
			case inventory.ChartModeRendered:
				set.bySite[s.Name] = append(set.bySite[s.Name], r)
			case inventory.ChartModeRelease:
				set.releases[s.Name] = append(set.releases[s.Name], r)
			}
			if ns != baseNS {
				set.namespaces[ns] = true
			}
		}
	}
	if err := renderCharts(fleet, set.order, inputs); err != nil {
		return nil, err
	}
	for _, r := range set.order {
		if r.spec.Mode == inventory.ChartModeRendered {
			r.kinds = renderKinds(r)
		}
	}
	for i := range fleet.Sites {
		s := &fleet.Sites[i]
		for _, r := range set.bySite[s.Name] {
			sc := s.Charts[r.release]
			sc.Kinds = r.kinds
			s.Charts[r.release] = sc
		}
	}
	return set, nil
}

// renderKinds lists the API resources of a render's objects, each once,
// in the namespaces they will be in: their own, else the release's
// (clusterScoped kinds have none). They are what the site's overlay
// applies for the release, so what its applier needs.
func renderKinds(r *chartRender) []inventory.ChartKind {
	seen := map[inventory.ChartKind]bool{}
	for _, tf := range r.rel.Files {
		for _, obj := range tf.Objects {
			apiVersion, _ := obj["apiVersion"].(string)
			kind, _ := obj["kind"].(string)
			md, _ := obj["metadata"].(map[string]any)
			ns, _ := md["namespace"].(string)
			if ns == "" && !clusterScoped[kind] {
				ns = r.ns
			}
			res := policy.ResourceOf(apiVersion, kind, ns != "")
			if !res.Namespaced {
				ns = ""
			}
			seen[inventory.ChartKind{Namespace: ns, Group: res.Group, Resource: res.Resource, Kind: kind}] = true
		}
	}
	return slices.SortedFunc(maps.Keys(seen), inventory.ChartKind.Compare)
}

// addCharts adds to tree the files of the renders of set: the shared
// renders (charts/<release>-<hash>/, one per distinct merged release) and,
// per site, overlays/<site>/charts/kustomization.yaml: a Component with
// the site's renders, the pinning of their workloads to the site's
// architecture and the rewrite of their images to the site's registry
// mirror; and the files of the releases in mode release.
func addCharts(fleet *inventory.Fleet, set *chartSet, tree *render.Tree, inputs []inventory.Input) error {
	if set == nil {
		return nil
	}
	baseNS := set.baseNS
	var files []render.File
	for _, r := range set.order {
		if r.spec.Mode != inventory.ChartModeRendered {
			continue
		}
		fs, err := renderFiles(r)
		if err != nil {
			return err
		}
		files = append(files, fs...)
	}
	for _, ns := range slices.Sorted(maps.Keys(set.namespaces)) {
		files = append(files, namespaceFiles(ns)...)
	}
	released, err := addReleaseSites(fleet, set.releases, baseNS, tree, inputs)
	if err != nil {
		return err
	}
	memo := map[string][]byte{}
	for i := range fleet.Sites {
		s := &fleet.Sites[i]
		if len(set.bySite[s.Name]) == 0 && len(set.releases[s.Name]) == 0 {
			continue
		}
		var releaseFiles []string
		for _, f := range released[s.Name] {
			releaseFiles = append(releaseFiles, path.Base(f.Path))
		}
		files = append(files, released[s.Name]...)
		f, err := siteChartComponent(s, set.bySite[s.Name], set.releases[s.Name], releaseFiles, baseNS, memo)
		if err != nil {
			return err
		}
		files = append(files, f)
	}
	for i := range files {
		if _, ok := tree.Lookup(files[i].Path); ok {
			return fmt.Errorf("%s: the template set renders a file where fleetgen writes a rendered chart; rename the template", files[i].Path)
		}
		files[i].Hash = files[i].ContentHash()
	}
	if err := checkOverlaysIncludeCharts(tree, set); err != nil {
		return err
	}
	tree.Files = append(tree.Files, files...)
	tree.Sort()
	return nil
}

// renderCharts loads each chart once and renders each distinct release,
// on every CPU.
func renderCharts(fleet *inventory.Fleet, order []*chartRender, inputs []inventory.Input) error {
	var mu sync.Mutex
	loaded := map[string]*charts.Chart{}
	loadErr := map[string]error{}
	errs := make([]error, len(order))
	failed := make([]string, len(order)) // the source that failed to load
	lock := newChartLock(inputs)
	parallel(len(order), func(i int) {
		r := order[i]
		s := &fleet.Sites[r.siteIdx]
		source, load, err := chartSource(s, r.release, r.spec, inputs, lock)
		if err != nil {
			errs[i] = err
			return
		}
		mu.Lock()
		c, ok := loaded[source]
		lerr := loadErr[source]
		mu.Unlock()
		if !ok && lerr == nil {
			c, lerr = load()
			mu.Lock()
			loaded[source], loadErr[source] = c, lerr
			mu.Unlock()
		}
		if lerr != nil {
			failed[i] = source
			errs[i] = chartProblem(s, "charts."+r.release+".chart", "release %q: %v", r.release, lerr)
			return
		}
		if c.Version() != r.spec.Version {
			mu.Lock()
			dup := loadErr[source+"@"+r.spec.Version] != nil
			loadErr[source+"@"+r.spec.Version] = errors.New("reported")
			mu.Unlock()
			if dup {
				return
			}
			errs[i] = chartProblem(s, "charts."+r.release+".version", "release %q: version %q does not match the chart's Chart.yaml version %q (%s)", r.release, r.spec.Version, c.Version(), source)
			return
		}
		r.chart = c
		rel, err := c.Render(context.Background(), r.release, r.ns, r.spec.Values)
		var se charts.SchemaErrors
		switch {
		case errors.As(err, &se):
			errs[i] = schemaProblems(s, r.release, se)
		case err != nil:
			errs[i] = chartProblem(s, "charts."+r.release+".chart", "release %q: %v", r.release, err)
		}
		r.rel = rel
	})
	// A chart that fails to load is reported once, by the first render
	// that uses it.
	reported := map[string]bool{}
	for i, source := range failed {
		if source != "" {
			if reported[source] {
				errs[i] = nil
			}
			reported[source] = true
		}
	}
	return errors.Join(errs...)
}

// chartSource resolves a chart reference to where its chart is and how to
// load it: a local chart relative to the inventory file that set it, a
// remote one from its pulled file, through the lock.
func chartSource(s *inventory.Site, release string, sc inventory.SiteChart, inputs []inventory.Input, lock *chartLock) (string, func() (*charts.Chart, error), error) {
	ref, err := charts.ParseRef(sc.Chart, sc.Repo)
	if err != nil {
		return "", nil, chartProblem(s, "charts."+release+".chart", "release %q: %v", release, err)
	}
	if ref.Remote() {
		return ref.String() + "@" + sc.Version, func() (*charts.Chart, error) { return lock.load(ref, sc.Version) }, nil
	}
	dir := "."
	if o, ok := s.Origins["charts."+release+".chart"]; ok {
		for _, in := range inputs {
			if in.Name == o.File && in.Path != "" && in.Path != "-" {
				dir = filepath.Dir(in.Path)
				break
			}
		}
	}
	source := filepath.Join(dir, filepath.FromSlash(ref.Path))
	return source, func() (*charts.Chart, error) { return charts.Load(source) }, nil
}

// chartProblem is bad input at the origin of a site's value key.
func chartProblem(s *inventory.Site, key, format string, args ...any) error {
	p := inventory.Problem{Site: s.Name, Field: key, Msg: fmt.Sprintf(format, args...)}
	if o, ok := s.Origins[key]; ok {
		p.File, p.Line, p.Column = o.File, o.Line, o.Column
	}
	return &inventory.ErrorList{Problems: []inventory.Problem{p}}
}

// schemaProblems names, for each values schema violation, the inventory
// value that set it (or the nearest enclosing value that was set).
func schemaProblems(s *inventory.Site, release string, se charts.SchemaErrors) error {
	var ps []inventory.Problem
	for _, e := range se {
		key := inventory.ChartValuesKey(release)
		best := ""
		if _, ok := s.Origins[key]; ok {
			best = key
		}
		for _, seg := range e.Path {
			if _, err := strconv.Atoi(seg); err == nil {
				if _, ok := s.Origins[key+"["+seg+"]"]; ok {
					key += "[" + seg + "]"
					best = key
					continue
				}
			}
			key += "." + seg
			if _, ok := s.Origins[key]; ok {
				best = key
			}
		}
		field := inventory.ChartValuesKey(release) + valuePath(e.Path)
		p := inventory.Problem{Site: s.Name, Field: field,
			Msg: fmt.Sprintf("release %q: %s (values.schema.json of chart %s)", release, e.Message, s.Charts[release].Chart)}
		if best == "" {
			best = "charts." + release + ".chart"
		}
		if o, ok := s.Origins[best]; ok {
			p.File, p.Line, p.Column = o.File, o.Line, o.Column
			if best != field {
				p.Msg += fmt.Sprintf("; the value comes from %s set by %s", best, o.Layer)
			}
		}
		ps = append(ps, p)
	}
	return &inventory.ErrorList{Problems: ps}
}

func valuePath(p []string) string {
	var b strings.Builder
	for _, seg := range p {
		b.WriteString(".")
		b.WriteString(seg)
	}
	return b.String()
}

// baseNamespace is the namespace of the base's Namespace object, or "" when
// the base has none or several.
func baseNamespace(tree *render.Tree) (string, error) {
	var found []string
	for _, f := range tree.Files {
		if !strings.HasPrefix(f.Path, "base/") || !render.IsYAML(f.Path) || f.Data == nil || !bytes.Contains(f.Data, []byte("Namespace")) {
			continue
		}
		dec := yaml.NewDecoder(bytes.NewReader(f.Data))
		for {
			var obj struct {
				Kind     string `yaml:"kind"`
				Metadata struct {
					Name string `yaml:"name"`
				} `yaml:"metadata"`
			}
			if err := dec.Decode(&obj); err != nil {
				break
			}
			if obj.Kind == "Namespace" && obj.Metadata.Name != "" {
				found = append(found, obj.Metadata.Name)
			}
		}
	}
	if len(found) == 1 {
		return found[0], nil
	}
	return "", nil
}

// renderFiles writes one render: a file per chart template and a
// kustomization listing them.
func renderFiles(r *chartRender) ([]render.File, error) {
	var files []render.File
	var resources []string
	for _, tf := range r.rel.Files {
		rel := strings.TrimPrefix(tf.Template, r.chart.Name()+"/")
		var b bytes.Buffer
		fmt.Fprintf(&b, "# Rendered by fleetgen from chart %s %s (release %s) template %s.\n# Do not edit: change the inventory's charts.%s and regenerate.\n",
			r.chart.Name(), r.chart.Version(), r.release, tf.Template, r.release)
		for i, obj := range tf.Objects {
			setChartMetadata(obj, r.ns, r.release, tf.Template)
			data, err := sigsyaml.Marshal(obj)
			if err != nil {
				return nil, fmt.Errorf("release %q: template %s: %w", r.release, tf.Template, err)
			}
			if i > 0 {
				b.WriteString("---\n")
			}
			b.Write(data)
		}
		p := path.Join(r.dir, rel)
		files = append(files, render.File{Path: p, Data: b.Bytes()})
		resources = append(resources, rel)
	}
	files = append(files, render.File{Path: path.Join(r.dir, "kustomization.yaml"), Data: kustomization("Kustomization",
		fmt.Sprintf("Chart %s %s rendered as release %s in namespace %s, shared by every site with these values.", r.chart.Name(), r.chart.Version(), r.release, r.ns), resources, nil, nil)})
	return files, nil
}

// clusterScoped are the kinds without a namespace that charts commonly
// render; every other object without one is put in the release's
// namespace, as Helm installs it.
var clusterScoped = map[string]bool{
	"Namespace": true, "ClusterRole": true, "ClusterRoleBinding": true, "CustomResourceDefinition": true,
	"PriorityClass": true, "StorageClass": true, "PersistentVolume": true, "IngressClass": true, "RuntimeClass": true,
	"ValidatingWebhookConfiguration": true, "MutatingWebhookConfiguration": true, "ValidatingAdmissionPolicy": true,
	"ValidatingAdmissionPolicyBinding": true, "APIService": true, "CSIDriver": true, "Node": true, "VolumeAttachment": true,
}

// setChartMetadata sets the namespace of a namespaced object that has none
// and the annotations that trace it to its release and template.
func setChartMetadata(obj map[string]any, ns, release, template string) {
	md, _ := obj["metadata"].(map[string]any)
	if md == nil {
		md = map[string]any{}
		obj["metadata"] = md
	}
	kind, _ := obj["kind"].(string)
	if _, ok := md["namespace"]; !ok && !clusterScoped[kind] {
		md["namespace"] = ns
	}
	ann, _ := md["annotations"].(map[string]any)
	if ann == nil {
		ann = map[string]any{}
		md["annotations"] = ann
	}
	ann[annotationRelease] = release
	ann[annotationTemplate] = template
}

// namespaceFiles are a chart namespace's restricted Namespace and
// default-deny NetworkPolicy, as the base's namespace has.
func namespaceFiles(ns string) []render.File {
	dir := path.Join(ChartsDir, "namespace-"+ns)
	q := strconv.Quote(ns)
	return []render.File{
		{Path: path.Join(dir, "kustomization.yaml"), Data: kustomization("Kustomization", "The namespace "+ns+" of chart releases: Pod Security restricted, default-deny networking.", []string{"namespace.yaml", "networkpolicy-default-deny.yaml"}, nil, nil)},
		{Path: path.Join(dir, "namespace.yaml"), Data: []byte("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + q + "\n  labels:\n" +
			"    pod-security.kubernetes.io/enforce: " + restrictedPodProfile + "\n    pod-security.kubernetes.io/enforce-version: latest\n" +
			"    pod-security.kubernetes.io/audit: " + restrictedPodProfile + "\n    pod-security.kubernetes.io/warn: " + restrictedPodProfile + "\n")},
		{Path: path.Join(dir, "networkpolicy-default-deny.yaml"), Data: []byte("# Nothing in or out of the namespace unless another policy allows it.\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: default-deny\n  namespace: " + q + "\nspec:\n  podSelector: {}\n  policyTypes:\n    - Ingress\n    - Egress\n")},
	}
}

// kustomization writes a Kustomization or Component.
func kustomization(kind, comment string, resources []string, patches []string, images []map[string]string) []byte {
	return append(kustomizationHeader(comment), kustomizationBody(kind, resources, patches, images)...)
}

// kustomizationHeader is the comment kustomization writes first.
func kustomizationHeader(comment string) []byte {
	return fmt.Appendf(nil, "# %s\n# Generated by fleetgen; do not edit.\n", comment)
}

// kustomizationBody is the YAML kustomization writes below its comment.
func kustomizationBody(kind string, resources []string, patches []string, images []map[string]string) []byte {
	apiVersion := "kustomize.config.k8s.io/v1beta1"
	if kind == "Component" {
		apiVersion = "kustomize.config.k8s.io/v1alpha1"
	}
	doc := map[string]any{"apiVersion": apiVersion, "kind": kind, "resources": resources}
	if len(patches) > 0 {
		ps := make([]map[string]string, len(patches))
		for i, p := range patches {
			ps[i] = map[string]string{"patch": p}
		}
		doc["patches"] = ps
	}
	if len(images) > 0 {
		doc["images"] = images
	}
	data, _ := sigsyaml.Marshal(doc) // plain maps of strings always marshal
	return data
}

// podSpecPath is where a workload kind keeps its pod spec.
var podSpecPath = map[string][]string{
	"Deployment": {"spec", "template", "spec"}, "StatefulSet": {"spec", "template", "spec"},
	"DaemonSet": {"spec", "template", "spec"}, "ReplicaSet": {"spec", "template", "spec"},
	"Job": {"spec", "template", "spec"}, "CronJob": {"spec", "jobTemplate", "spec", "template", "spec"},
	"Pod": {"spec"},
}

// siteChartComponent is overlays/<site>/charts/kustomization.yaml: the
// site's renders in mode rendered, the files of its releases in mode
// release (releaseFiles, beside it) and the namespaces of both. Below its
// comment, the file depends on the site only through its architecture and
// registry mirror, so sites that share those and their renders share one
// body (memo, keyed by chartComponentKey): a fleet's sites cost one
// kustomization each, not one YAML encoding of every patch each.
func siteChartComponent(s *inventory.Site, renders, releases []*chartRender, releaseFiles []string, baseNS string, memo map[string][]byte) (render.File, error) {
	key := chartComponentKey(s, renders, releases, releaseFiles)
	body, ok := memo[key]
	if !ok {
		var err error
		if body, err = chartComponentBody(s, renders, releases, releaseFiles, baseNS); err != nil {
			return render.File{}, err
		}
		memo[key] = body
	}
	comment := fmt.Sprintf("The Helm chart releases of site %s: the shared renders, pinned to the site's architecture (%s)%s.", s.Name, s.Arch, mirrorNote(s))
	switch {
	case len(releaseFiles) > 0 && len(renders) > 0:
		comment = fmt.Sprintf("The Helm chart releases of site %s: its HelmReleases (mode release) and the shared renders (mode rendered), pinned to the site's architecture (%s)%s.", s.Name, s.Arch, mirrorNote(s))
	case len(releaseFiles) > 0:
		comment = fmt.Sprintf("The Helm chart releases of site %s: its HelmReleases (mode release), which pin their workloads to the site's architecture (%s)%s.", s.Name, s.Arch, mirrorNote(s))
	}
	data := append(kustomizationHeader(comment), body...)
	return render.File{Path: path.Join("overlays", s.Name, chartComponentDir, "kustomization.yaml"), Data: data, Site: s.Name}, nil
}

// chartComponentKey is everything of a site that chartComponentBody reads.
func chartComponentKey(s *inventory.Site, renders, releases []*chartRender, releaseFiles []string) string {
	var b strings.Builder
	b.WriteString(s.Arch + "\x00" + s.ImageRegistry)
	for _, r := range renders {
		b.WriteString("\x00r" + r.dir + "\x00" + r.ns)
	}
	for _, r := range releases {
		b.WriteString("\x00n" + r.ns)
	}
	for _, f := range releaseFiles {
		b.WriteString("\x00f" + f)
	}
	return b.String()
}

// chartComponentBody is siteChartComponent's file below its comment.
func chartComponentBody(s *inventory.Site, renders, releases []*chartRender, releaseFiles []string, baseNS string) ([]byte, error) {
	var resources, patches []string
	images := map[string]bool{}
	nss := map[string]bool{}
	for _, r := range releases {
		if r.ns != baseNS {
			nss[r.ns] = true
		}
	}
	for _, r := range renders {
		resources = append(resources, path.Join("../../..", r.dir))
		if r.ns != baseNS {
			nss[r.ns] = true
		}
		var err error
		eachWorkload(r, func(obj map[string]any, kind string, sp []string) {
			md, _ := obj["metadata"].(map[string]any)
			patch, perr := archPatch(obj["apiVersion"], kind, map[string]any{"name": md["name"], "namespace": md["namespace"]}, sp, s.Arch)
			if perr != nil {
				err = perr
			}
			patches = append(patches, patch)
			for _, img := range podImages(dig(obj, sp)) {
				images[imageName(img)] = true
			}
		})
		if err != nil {
			return nil, err
		}
	}
	for _, ns := range slices.Sorted(maps.Keys(nss)) {
		resources = append(resources, path.Join("../../..", ChartsDir, "namespace-"+ns))
	}
	resources = append(resources, releaseFiles...)
	var imgs []map[string]string
	if s.ImageRegistry != "" {
		for _, name := range slices.Sorted(maps.Keys(images)) {
			if mirrored := s.ImageName(name); mirrored != name {
				imgs = append(imgs, map[string]string{"name": name, "newName": mirrored})
			}
		}
	}
	return kustomizationBody("Component", resources, patches, imgs), nil
}

func mirrorNote(s *inventory.Site) string {
	if s.ImageRegistry == "" {
		return ""
	}
	return ", images pulled from " + s.ImageRegistry
}

// dig follows keys through nested maps.
func dig(obj map[string]any, keys []string) map[string]any {
	cur := obj
	for _, k := range keys {
		next, ok := cur[k].(map[string]any)
		if !ok {
			return nil
		}
		cur = next
	}
	return cur
}

// imageName is an image reference without its tag and digest.
func imageName(ref string) string {
	if i := strings.Index(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		ref = ref[:i]
	}
	return ref
}

// checkOverlaysIncludeCharts refuses a template set whose overlay of a site
// with chart releases does not include the charts Component: the releases
// would silently not reach the site.
func checkOverlaysIncludeCharts(tree *render.Tree, set *chartSet) error {
	sites := maps.Clone(set.bySite)
	maps.Copy(sites, set.releases)
	for _, site := range slices.Sorted(maps.Keys(sites)) {
		f, ok := tree.Lookup(path.Join("overlays", site, "kustomization.yaml"))
		if !ok || f.Data == nil {
			continue
		}
		var k struct {
			Components []string `yaml:"components"`
		}
		if err := yaml.Unmarshal(f.Data, &k); err != nil {
			continue
		}
		if !slices.Contains(k.Components, chartComponentDir) {
			return fmt.Errorf("site %q has Helm chart releases but %s does not list the %q component: add it to the template set's overlay (see docs/charts.md)", site, f.Path, chartComponentDir)
		}
	}
	return nil
}

// annotateChartFindings adds to each policy finding about a rendered chart
// object the release and chart template that produced it, read from the
// annotations of the objects in the tree's renders.
func annotateChartFindings(tree *render.Tree, results []verify.Result) {
	var prov map[string]string
	for i := range results {
		r := &results[i]
		if isReleaseCheck(r.Dir) {
			// Reported as the site's overlay, which it builds.
			r.Dir = path.Join("overlays", r.Site)
			if se := (*verify.SiteError)(nil); errors.As(r.Err, &se) {
				se.Dir = r.Dir
			}
		}
		if len(r.Findings) == 0 {
			continue
		}
		if prov == nil {
			prov = map[string]string{}
			for _, f := range tree.Files {
				if strings.HasPrefix(f.Path, ChartsDir+"/") && f.Data != nil && bytes.Contains(f.Data, []byte(annotationTemplate)) {
					maps.Copy(prov, chartProvenance(f.Data))
				}
			}
			for _, f := range tree.VerifyOnly {
				if bytes.Contains(f.Data, []byte(annotationTemplate)) {
					maps.Copy(prov, chartProvenance(f.Data))
				}
			}
		}
		changed := false
		for j := range r.Findings {
			f := &r.Findings[j]
			if where, ok := prov[f.Object]; ok && !strings.Contains(f.Message, where) {
				f.Message += " (" + where + ")"
				changed = true
			}
		}
		if changed && r.Err != nil {
			r.ResetErr()
		}
	}
}

// chartProvenance maps the ids of built objects (Kind/namespace/name) that
// come from a chart to "chart release R, template T".
func chartProvenance(objects []byte) map[string]string {
	out := map[string]string{}
	dec := yaml.NewDecoder(bytes.NewReader(objects))
	for {
		var obj struct {
			Kind     string `yaml:"kind"`
			Metadata struct {
				Name        string            `yaml:"name"`
				Namespace   string            `yaml:"namespace"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"metadata"`
		}
		if err := dec.Decode(&obj); err != nil {
			break
		}
		tpl := obj.Metadata.Annotations[annotationTemplate]
		if tpl == "" {
			continue
		}
		id := obj.Kind + "/" + obj.Metadata.Name
		if obj.Metadata.Namespace != "" {
			id = obj.Kind + "/" + obj.Metadata.Namespace + "/" + obj.Metadata.Name
		}
		out[id] = fmt.Sprintf("chart release %q, template %s", obj.Metadata.Annotations[annotationRelease], tpl)
	}
	return out
}

// chartSourcesDigest fingerprints the local charts an inventory may name
// (every "chart:" value in its text that is a path to a chart), so that a
// run whose inventory and templates are unchanged still sees a chart edit.
func chartSourcesDigest(inputs []inventory.Input) []byte {
	var parts []string
	for _, in := range inputs {
		if !bytes.Contains(in.Data, []byte("chart")) {
			continue
		}
		dir := "."
		if in.Path != "" && in.Path != "-" {
			dir = filepath.Dir(in.Path)
		}
		for _, ref := range chartRefs(in.Data) {
			if strings.Contains(ref, "://") {
				continue
			}
			src := filepath.Join(dir, filepath.FromSlash(ref))
			if c, err := charts.Load(src); err == nil {
				parts = append(parts, src+"="+c.Digest)
			} else if _, err := os.Stat(src); err == nil {
				parts = append(parts, src+"=unreadable")
			}
		}
	}
	parts = append(parts, lockDigest(inputs)...)
	return []byte(strings.Join(parts, "\n"))
}

// chartRefs finds the values of chart: keys in inventory text, block or
// flow style, quoted or not.
func chartRefs(data []byte) []string {
	var out []string
	seen := map[string]bool{}
	for i := 0; ; {
		j := bytes.Index(data[i:], []byte("chart"))
		if j < 0 {
			break
		}
		i += j + len("chart")
		rest := data[i:]
		rest = bytes.TrimLeft(rest, "\"'")
		if len(rest) == 0 || rest[0] != ':' {
			continue
		}
		rest = bytes.TrimLeft(rest[1:], " \t")
		end := bytes.IndexAny(rest, ",}\n\r#")
		if end < 0 {
			end = len(rest)
		}
		v := strings.Trim(strings.TrimSpace(string(rest[:end])), "\"'")
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// ChartInfo is what a chart's Chart.yaml says.
type ChartInfo struct {
	Name, Version string
}

// DescribeChart loads the chart directory or package at source and
// returns its name and version.
func DescribeChart(source string) (ChartInfo, error) {
	c, err := charts.Load(source)
	if err != nil {
		return ChartInfo{}, err
	}
	if err := inventoryReleaseName(c.Name()); err != nil {
		return ChartInfo{}, err
	}
	return ChartInfo{Name: c.Name(), Version: c.Version()}, nil
}

// inventoryReleaseName checks that a chart name can be a release name.
func inventoryReleaseName(name string) error {
	if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
		return fmt.Errorf("chart name %q cannot be a release name (a DNS-1123 label): add the release to the inventory by hand", name)
	}
	return nil
}
