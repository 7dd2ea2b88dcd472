package pipeline

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"path"
	"path/filepath"
	"slices"
	"strings"

	sigsyaml "sigs.k8s.io/yaml"

	"github.com/fleetgen/fleetgen/pkg/charts"
	"github.com/fleetgen/fleetgen/pkg/charts/chartref"
	"github.com/fleetgen/fleetgen/pkg/gitops"
	"github.com/fleetgen/fleetgen/pkg/inventory"
	"github.com/fleetgen/fleetgen/pkg/render"
	"github.com/fleetgen/fleetgen/pkg/verify"
)

// Releases in mode release: a Flux HelmRelease per site and release, in
// the site's charts Component (overlays/<site>/charts/), applied by the
// site's Flux Kustomization with the rest of its overlay. The chart is
// still rendered here with the same values and its objects, as
// helm-controller will apply them, are verified with the site's overlay
// in a build laid out for verification only (releaseCheckDir), never
// written.
const (
	// releaseCheckDir holds, per site with releases in mode release, the
	// kustomization verification builds instead of the site's overlay:
	// the overlay plus each release's render post-rendered as
	// helm-controller does. It is under the reserved .fleetgen/, so no
	// template and no file of the user can be there.
	releaseCheckDir = ".fleetgen/release-check"
	// helmNameLabel and helmNamespaceLabel are the labels helm-controller
	// puts on every object of a release (its origin labels).
	helmNameLabel      = "helm.toolkit.fluxcd.io/name"
	helmNamespaceLabel = "helm.toolkit.fluxcd.io/namespace"
	// fluxSystem is the namespace of the site's Flux sources.
	fluxSystem = "flux-system"
	// fleetSource is the name of the site's own Flux source (fleet-sync.yaml).
	fleetSource = "fleet"
)

// releaseProfile is how a HelmRelease retries on each network profile
// (docs/charts.md, "Mode release"): the intervals and timeouts of the
// site's Kustomization (docs/gitops.md, "Network profiles").
type releaseProfile struct{ interval, timeout, retryInterval string }

var releaseProfiles = map[string]releaseProfile{
	inventory.NetworkOnline:       {"10m", "5m", "2m"},
	inventory.NetworkIntermittent: {"30m", "15m", "10m"},
	inventory.NetworkAirgapped:    {"30m", "10m", "5m"},
}

// completeReleases checks every release in mode release and sets the
// repository path of each chart kept in the repository, which the
// templates need (the site's GitRepository checks it out): release mode
// needs Flux, and a local chart must be inside the repository the tree
// is in.
func completeReleases(fleet *inventory.Fleet, inputs []inventory.Input, place *inventory.TreePlace) error {
	var root string
	var rootErr error
	rootOnce := false
	for i := range fleet.Sites {
		s := &fleet.Sites[i]
		for _, release := range slices.Sorted(maps.Keys(s.Charts)) {
			sc := s.Charts[release]
			if sc.Mode != inventory.ChartModeRelease {
				continue
			}
			if fleet.GitOps.Engine != inventory.EngineFlux {
				return chartProblem(s, "charts."+release+".mode", "release %q: mode release writes a Flux HelmRelease, which needs gitops.engine flux (the fleet's engine is %q): use mode rendered (the default), which commits the rendered objects and needs no Helm controller on the site", release, fleet.GitOps.Engine)
			}
			if ref, err := charts.ParseRef(sc.Chart, sc.Repo); err != nil || ref.Remote() {
				continue
			}
			if !rootOnce {
				root, rootErr = repoRoot(fleet.GitOps.Path, place)
				rootOnce = true
			}
			if rootErr != nil {
				return chartProblem(s, "charts."+release+".chart", "release %q: %v", release, rootErr)
			}
			src, _, err := chartSource(s, release, sc, inputs, nil) // local: no lock
			if err != nil {
				return err
			}
			abs, err := filepath.Abs(src)
			if err != nil {
				return chartProblem(s, "charts."+release+".chart", "release %q: %v", release, err)
			}
			rel, err := filepath.Rel(root, abs)
			if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				return chartProblem(s, "charts."+release+".chart", "release %q: chart %s is outside the fleet's repository %s, where the site's Flux GitRepository cannot find it: keep the chart in the repository, or use mode rendered", release, sc.Chart, root)
			}
			sc.RepoPath = filepath.ToSlash(rel)
			s.Charts[release] = sc
		}
	}
	return nil
}

// repoRoot is the root of the repository the tree is in: the git work
// tree's root, or, when the tree is in none yet, the output directory
// less gitops.path.
func repoRoot(gitopsPath string, place *inventory.TreePlace) (string, error) {
	if place != nil && place.Root != "" {
		return place.Root, nil
	}
	dir := "."
	if place != nil && place.Dir != "" {
		dir = place.Dir
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if gitopsPath == "" || gitopsPath == "." {
		return abs, nil
	}
	for range strings.Split(path.Clean(gitopsPath), "/") {
		abs = filepath.Dir(abs)
	}
	return abs, nil
}

// releaseFiles makes the file of one site's release in mode release,
// overlays/<site>/charts/release-<release>.yaml (the HelmRelease and, when
// the chart is not in the repository, its source), and the files of its
// verification build under releaseCheckDir. ns is the namespace of the
// HelmRelease and its source: the base's, where the site's applier may
// create them.
func releaseFiles(s *inventory.Site, r *chartRender, ns string, v *inventory.Verify) (render.File, []render.File, error) {
	p := releaseProfiles[s.Network]
	labels := releaseLabels(s)
	patches, images := postRender(s, r)
	var docs []map[string]any
	hr := map[string]any{
		"apiVersion": gitops.FluxHelmRelease.GroupVersion().String(),
		"kind":       gitops.FluxHelmRelease.Kind,
		"metadata":   map[string]any{"name": r.release, "namespace": ns},
		"spec": map[string]any{
			"releaseName":      r.release,
			"targetNamespace":  r.ns,
			"storageNamespace": r.ns,
			"interval":         p.interval,
			"timeout":          p.timeout,
			// A failed install or upgrade over a flaky link is retried
			// as it is, never uninstalled or rolled back: Deployments
			// keep their old pods until the new ones are ready.
			"install": map[string]any{"strategy": map[string]any{"name": "RetryOnFailure", "retryInterval": p.retryInterval}},
			"upgrade": map[string]any{"strategy": map[string]any{"name": "RetryOnFailure", "retryInterval": p.retryInterval},
				"crds": "CreateReplace", "cleanupOnFail": true},
			"driftDetection": map[string]any{"mode": "enabled"},
			"commonMetadata": map[string]any{"labels": labels, "annotations": map[string]any{annotationRelease: r.release}},
			"values":         r.spec.Values,
		},
	}
	spec := hr["spec"].(map[string]any)
	if len(patches) > 0 || len(images) > 0 {
		k := map[string]any{}
		if len(patches) > 0 {
			k["patches"] = patches
		}
		if len(images) > 0 {
			k["images"] = images
		}
		spec["postRenderers"] = []any{map[string]any{"kustomize": k}}
	}
	docs = append(docs, hr)
	source, srcDocs, err := releaseSource(s, r, ns, p, v, spec)
	if err != nil {
		return render.File{}, nil, err
	}
	docs = append(docs, srcDocs...)
	shared, err := r.checkRender()
	if err != nil {
		return render.File{}, nil, fmt.Errorf("site %q: %w", s.Name, err)
	}
	siteCheck, err := siteCheckFile(s, r, ns, labels, patches, images)
	if err != nil {
		return render.File{}, nil, err
	}
	check := []render.File{siteCheck}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Generated by fleetgen for site %q: Helm chart release %s (chart %s %s, mode release).\n", s.Name, r.release, r.chart.Name(), r.spec.Version)
	fmt.Fprintf(&b, "# helm-controller installs %s into namespace %s with the values below (the\n# inventory's merged charts.%s.values), %s.\n", source, r.ns, r.release, postRenderNote(s))
	fmt.Fprintf(&b, "# fleetgen rendered and verified these objects: render %s.\n", checkDigest(append(slices.Clone(shared), siteCheck)))
	b.WriteString("# Do not edit: change the inventory and regenerate.\n")
	for i, d := range docs {
		data, err := sigsyaml.Marshal(d)
		if err != nil {
			return render.File{}, nil, fmt.Errorf("site %q: release %q: %w", s.Name, r.release, err)
		}
		if i > 0 {
			b.WriteString("---\n")
		}
		b.Write(data)
	}
	f := render.File{Path: path.Join("overlays", s.Name, chartComponentDir, "release-"+r.release+".yaml"), Data: b.Bytes(), Site: s.Name}
	return f, check, nil
}

// releaseSource sets where a HelmRelease's chart comes from (spec.chart
// or spec.chartRef of spec) and returns the source objects to write beside
// it, one per site and release, and the source in words:
//   - on an airgapped site, an OCIRepository on the site's registry mirror:
//     an oci:// chart at its own path there (as images are mirrored),
//     any other at <imageRegistry>/charts/<chart name>;
//   - an oci:// chart: an OCIRepository on it, tag the version;
//   - a chart of an HTTP(S) chart repository: a HelmRepository on it;
//   - a chart kept in the repository: the site's GitRepository.
func releaseSource(s *inventory.Site, r *chartRender, ns string, p releaseProfile, v *inventory.Verify, spec map[string]any) (string, []map[string]any, error) {
	ref, err := charts.ParseRef(r.spec.Chart, r.spec.Repo)
	if err != nil {
		return "", nil, chartProblem(s, "charts."+r.release+".chart", "release %q: %v", r.release, err)
	}
	name := "chart-" + r.release
	meta := map[string]any{"name": name, "namespace": ns}
	ociSource := func(url string, verify bool) map[string]any {
		src := map[string]any{
			"interval": p.interval,
			"url":      url,
			"ref":      map[string]any{"tag": chartref.OCITag(r.spec.Version)},
			// The chart's content layer, as Helm pushes it.
			"layerSelector": map[string]any{"mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip", "operation": "copy"},
		}
		if verify && v != nil && v.CosignKeySecret != "" {
			// Only a chart signed with the fleet's cosign key is
			// installed, as only a signed tree is applied.
			src["verify"] = map[string]any{"provider": "cosign", "secretRef": map[string]any{"name": v.CosignKeySecret}}
		}
		spec["chartRef"] = map[string]any{"kind": gitops.FluxOCIRepository.Kind, "name": name}
		return map[string]any{"apiVersion": gitops.FluxOCIRepository.GroupVersion().String(), "kind": gitops.FluxOCIRepository.Kind, "metadata": meta, "spec": src}
	}
	switch {
	case s.Network == inventory.NetworkAirgapped:
		url := "oci://" + s.ImageRegistry + "/charts/" + r.chart.Name()
		if ref.Kind == chartref.OCI {
			url = chartref.OCIScheme + inventory.MirrorImage(s.ImageRegistry, strings.TrimPrefix(ref.URL, chartref.OCIScheme))
		}
		return fmt.Sprintf("OCI chart %s:%s from the site's registry mirror", url, chartref.OCITag(r.spec.Version)), []map[string]any{ociSource(url, true)}, nil
	case ref.Kind == chartref.OCI:
		src := ociSource(ref.URL, false)
		if r.digest != "" {
			// The digest wins over the tag: the site gets exactly the
			// chart fleetgen verified.
			src["spec"].(map[string]any)["ref"].(map[string]any)["digest"] = r.digest
		}
		return fmt.Sprintf("OCI chart %s:%s", ref.URL, chartref.OCITag(r.spec.Version)), []map[string]any{src}, nil
	case ref.Kind == chartref.HTTP:
		spec["chart"] = map[string]any{"spec": map[string]any{
			"chart":     ref.Name,
			"version":   r.spec.Version,
			"interval":  p.interval,
			"sourceRef": map[string]any{"kind": gitops.FluxHelmRepository.Kind, "name": name},
		}}
		repo := map[string]any{"apiVersion": gitops.FluxHelmRepository.GroupVersion().String(), "kind": gitops.FluxHelmRepository.Kind, "metadata": meta,
			"spec": map[string]any{"interval": p.interval, "timeout": p.timeout, "url": ref.URL}}
		return fmt.Sprintf("chart %s %s of the chart repository %s", ref.Name, r.spec.Version, ref.URL), []map[string]any{repo}, nil
	}
	spec["chart"] = map[string]any{"spec": map[string]any{
		"chart":     "./" + r.spec.RepoPath,
		"interval":  p.interval,
		"sourceRef": map[string]any{"kind": gitops.FluxGitRepository.Kind, "name": fleetSource, "namespace": fluxSystem},
	}}
	return "chart " + r.spec.RepoPath + " of the site's GitRepository " + fluxSystem + "/" + fleetSource, nil, nil
}

func postRenderNote(s *inventory.Site) string {
	if s.ImageRegistry != "" {
		return "its workloads pinned to " + s.Arch + " and its images pulled from " + s.ImageRegistry
	}
	return "its workloads pinned to " + s.Arch
}

// releaseLabels are the labels the site's overlay gives its objects: the
// site's labels and fleetgen's. helm-controller puts them on every object
// of the release (spec.commonMetadata), as the overlay does in mode
// rendered.
func releaseLabels(s *inventory.Site) map[string]any {
	labels := map[string]any{}
	for k, v := range s.Labels {
		labels[k] = v
	}
	labels["fleetgen.dev/site"] = s.Name
	labels["fleetgen.dev/region"] = s.Region
	labels["fleetgen.dev/type"] = s.Type
	return labels
}

// postRender is the HelmRelease's kustomize post-renderer: a patch per
// workload kind of the render pinning its pods to the site's architecture,
// and, for a site with a registry mirror, every image of the render
// rewritten to it, as the charts Component does in mode rendered.
func postRender(s *inventory.Site, r *chartRender) (patches []any, images []any) {
	kinds := map[string]string{} // kind -> apiVersion
	names := map[string]bool{}
	eachWorkload(r, func(obj map[string]any, kind string, sp []string) {
		kinds[kind], _ = obj["apiVersion"].(string)
		for _, img := range podImages(dig(obj, sp)) {
			names[imageName(img)] = true
		}
	})
	for _, kind := range slices.Sorted(maps.Keys(kinds)) {
		// The target selects every object of the kind; kustomize then
		// ignores the patch's own name.
		patch, _ := archPatch(kinds[kind], kind, map[string]any{"name": "arch-pinning"}, podSpecPath[kind], s.Arch) // plain maps of strings always marshal
		patches = append(patches, map[string]any{"target": map[string]any{"kind": kind}, "patch": patch})
	}
	if s.ImageRegistry != "" {
		for _, name := range slices.Sorted(maps.Keys(names)) {
			if mirrored := s.ImageName(name); mirrored != name {
				images = append(images, map[string]any{"name": name, "newName": mirrored})
			}
		}
	}
	return patches, images
}

// archPatch is a strategic-merge patch setting the nodeSelector
// kubernetes.io/arch of the pod spec at podSpec of a workload.
func archPatch(apiVersion any, kind string, metadata map[string]any, podSpec []string, arch string) (string, error) {
	patch := map[string]any{"apiVersion": apiVersion, "kind": kind, "metadata": metadata}
	cur := patch
	for _, k := range podSpec {
		next := map[string]any{}
		cur[k] = next
		cur = next
	}
	cur["nodeSelector"] = map[string]any{"kubernetes.io/arch": arch}
	data, err := sigsyaml.Marshal(patch)
	return string(data), err
}

// eachWorkload calls fn with each object of a render that has a pod spec,
// its kind and the path of its pod spec.
func eachWorkload(r *chartRender, fn func(obj map[string]any, kind string, podSpec []string)) {
	for _, tf := range r.rel.Files {
		for _, obj := range tf.Objects {
			kind, _ := obj["kind"].(string)
			if sp, ok := podSpecPath[kind]; ok {
				fn(obj, kind, sp)
			}
		}
	}
}

// podImages lists the images of a pod spec's containers.
func podImages(spec map[string]any) []string {
	var out []string
	if spec == nil {
		return nil
	}
	for _, list := range []string{"initContainers", "containers", "ephemeralContainers"} {
		cs, _ := spec[list].([]any)
		for _, c := range cs {
			cm, _ := c.(map[string]any)
			if img, ok := cm["image"].(string); ok && img != "" {
				out = append(out, img)
			}
		}
	}
	return out
}

// checkRender lays out, once per render, the render's objects for the
// verification builds of the sites that share it (in the release's
// namespace, traced to their template), under
// releaseCheckDir/_renders/<render>/ with a kustomization listing them.
// Site names cannot start with "_". It is not safe for concurrent use:
// addReleaseSites calls it for every render before its workers start.
func (r *chartRender) checkRender() ([]render.File, error) {
	if r.check != nil {
		return r.check, nil
	}
	dir := path.Join(releaseCheckDir, "_renders", path.Base(r.dir))
	var files []render.File
	var resources []string
	for _, tf := range r.rel.Files {
		rel := strings.TrimPrefix(tf.Template, r.chart.Name()+"/")
		var b bytes.Buffer
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
		files = append(files, render.File{Path: path.Join(dir, rel), Data: b.Bytes()})
		resources = append(resources, rel)
	}
	files = append(files, render.File{Path: path.Join(dir, "kustomization.yaml"), Data: kustomization("Kustomization", "Verification only, never written: release "+r.release+" as its chart renders it.", resources, nil, nil)})
	r.check = files
	return files, nil
}

// siteCheckFile is a site's verification build of one release,
// releaseCheckDir/<site>/<release>/kustomization.yaml: the shared render
// (checkRender) post-rendered as helm-controller does: the HelmRelease's
// kustomize patches and images, then its common labels and
// helm-controller's origin labels.
func siteCheckFile(s *inventory.Site, r *chartRender, ns string, labels map[string]any, patches, images []any) (render.File, error) {
	dir := path.Join(releaseCheckDir, s.Name, r.release)
	pairs := maps.Clone(labels)
	pairs[helmNameLabel] = r.release
	pairs[helmNamespaceLabel] = ns
	k := map[string]any{
		"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
		"resources": []string{path.Join("../..", "_renders", path.Base(r.dir))},
		"labels":    []any{map[string]any{"pairs": pairs, "includeSelectors": false}},
	}
	if len(patches) > 0 {
		k["patches"] = patches
	}
	if len(images) > 0 {
		k["images"] = images
	}
	data, err := sigsyaml.Marshal(k)
	if err != nil {
		return render.File{}, err
	}
	return render.File{Path: path.Join(dir, "kustomization.yaml"), Data: data, Site: s.Name}, nil
}

// checkDigest fingerprints a release's verification files, named in the
// committed HelmRelease file so that the file changes whenever what was
// verified does (a chart edited without a version change): incremental
// runs see the change in the tree.
func checkDigest(files []render.File) string {
	h := sha256.New()
	for _, f := range files {
		fmt.Fprintf(h, "%s\x00%d\x00", f.Path, len(f.Data))
		h.Write(f.Data)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// siteReleaseCheck is releaseCheckDir/<site>/kustomization.yaml: the
// site's overlay and its releases' verification builds, side by side (each
// keeps its own transformers, as the overlay and helm-controller do).
func siteReleaseCheck(site string, releases []string) render.File {
	resources := []string{path.Join("../../..", "overlays", site)}
	resources = append(resources, releases...)
	data := kustomization("Kustomization", "Verification only, never written: site "+site+"'s overlay and its Helm releases in mode release as helm-controller applies them.", resources, nil, nil)
	return render.File{Path: path.Join(releaseCheckDir, site, "kustomization.yaml"), Data: data, Site: site}
}

// releaseTargets points the verification of each site with releases in
// mode release at its verification build.
func releaseTargets(targets []verify.Target, tree *render.Tree) []verify.Target {
	if len(tree.VerifyOnly) == 0 {
		return targets
	}
	has := map[string]bool{}
	for _, f := range tree.VerifyOnly {
		if f.Site != "" {
			has[f.Site] = true
		}
	}
	for i := range targets {
		if has[targets[i].Site] {
			targets[i].Dir = path.Join(memRoot, releaseCheckDir, targets[i].Site)
		}
	}
	return targets
}

// isReleaseCheck reports whether rel (from the tree's root) is in a
// verification build of releases in mode release.
func isReleaseCheck(rel string) bool { return strings.HasPrefix(rel, releaseCheckDir+"/") }

// addReleaseSites makes the files of every site's releases in mode
// release (releaseFiles), validates their Flux objects as the wiring is
// validated (upstream Go types, strictly, and the pinned CRDs) and lays
// out their verification builds in tree.VerifyOnly: each render once,
// then each site's post-rendering of it. Sites are done on every CPU; the
// result is the files of each site, for its charts Component.
func addReleaseSites(fleet *inventory.Fleet, releases map[string][]*chartRender, ns string, tree *render.Tree, inputs []inventory.Input) (map[string][]render.File, error) {
	var sites []*inventory.Site
	seen := map[*chartRender]bool{}
	lock := newChartLock(inputs)
	for i := range fleet.Sites {
		s := &fleet.Sites[i]
		if len(releases[s.Name]) == 0 {
			continue
		}
		sites = append(sites, s)
		for _, r := range releases[s.Name] {
			if seen[r] {
				continue
			}
			seen[r] = true
			// An oci:// chart is fetched by the manifest digest it was
			// pulled and verified with.
			if ref, err := charts.ParseRef(r.spec.Chart, r.spec.Repo); err == nil && ref.Kind == chartref.OCI {
				if l, err := lock.read(); err == nil {
					if e, ok := l.Find(ref, r.spec.Version); ok {
						r.digest = e.ManifestDigest
					}
				}
			}
			files, err := r.checkRender()
			if err != nil {
				return nil, fmt.Errorf("site %q: %w", s.Name, err)
			}
			tree.VerifyOnly = append(tree.VerifyOnly, files...)
		}
	}
	if len(sites) == 0 {
		return nil, nil
	}
	checker := gitops.NewChecker()
	type result struct {
		files, check []render.File
		err          error
	}
	results := make([]result, len(sites))
	parallel(len(sites), func(i int) {
		s := sites[i]
		res := &results[i]
		var dirs []string
		for _, r := range releases[s.Name] {
			f, check, err := releaseFiles(s, r, ns, fleet.GitOps.Verify)
			if err == nil {
				if errs := checker.CheckObjects(f.Path, f.Data); len(errs) > 0 {
					err = fmt.Errorf("site %q: release %q: %w", s.Name, r.release, errors.Join(errs...))
				}
			}
			if err != nil {
				res.err = err
				return
			}
			res.files = append(res.files, f)
			res.check = append(res.check, check...)
			dirs = append(dirs, r.release)
		}
		res.check = append(res.check, siteReleaseCheck(s.Name, dirs))
	})
	out := make(map[string][]render.File, len(sites))
	var errs []error
	for i, res := range results {
		if res.err != nil {
			errs = append(errs, res.err)
			continue
		}
		out[sites[i].Name] = res.files
		tree.VerifyOnly = append(tree.VerifyOnly, res.check...)
	}
	return out, errors.Join(errs...)
}
