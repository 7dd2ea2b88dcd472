package gitops

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/fleetgen/fleetgen/pkg/policy"
	"github.com/fleetgen/fleetgen/pkg/render"
	fleetschema "github.com/fleetgen/fleetgen/pkg/schema"
)

// Where wiring lives in a fleet tree.
const (
	// ClustersDir holds one directory per site with its Flux sync objects.
	ClustersDir = "clusters"
	// ArgoCDDir holds the fleet's ApplicationSet and AppProjects.
	ArgoCDDir = "argocd"
	// OverlaysDir holds one overlay per site.
	OverlaysDir = "overlays"
)

// Kinds of the wiring objects, as apiVersion and kind.
var (
	FluxKustomization  = schema.GroupVersionKind{Group: "kustomize.toolkit.fluxcd.io", Version: "v1", Kind: "Kustomization"}
	FluxGitRepository  = schema.GroupVersionKind{Group: "source.toolkit.fluxcd.io", Version: "v1", Kind: "GitRepository"}
	FluxOCIRepository  = schema.GroupVersionKind{Group: "source.toolkit.fluxcd.io", Version: "v1", Kind: "OCIRepository"}
	ArgoApplicationSet = schema.GroupVersionKind{Group: "argoproj.io", Version: "v1alpha1", Kind: "ApplicationSet"}
	ArgoAppProject     = schema.GroupVersionKind{Group: "argoproj.io", Version: "v1alpha1", Kind: "AppProject"}
	// The objects that enforce a Flux site's maintenance window.
	CronJob        = schema.GroupVersionKind{Group: "batch", Version: "v1", Kind: "CronJob"}
	ServiceAccount = schema.GroupVersionKind{Version: "v1", Kind: "ServiceAccount"}
	Role           = schema.GroupVersionKind{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "Role"}
	RoleBinding    = schema.GroupVersionKind{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "RoleBinding"}
	// The least-privilege applier of a site (applier.yaml): the fleet's
	// namespace, created at bootstrap, and the applier's cluster rights.
	Namespace          = schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}
	ClusterRole        = schema.GroupVersionKind{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRole"}
	ClusterRoleBinding = schema.GroupVersionKind{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRoleBinding"}
	// The objects of a Helm chart release in mode release (docs/charts.md).
	FluxHelmRelease    = schema.GroupVersionKind{Group: "helm.toolkit.fluxcd.io", Version: "v2", Kind: "HelmRelease"}
	FluxHelmRepository = schema.GroupVersionKind{Group: "source.toolkit.fluxcd.io", Version: "v1", Kind: "HelmRepository"}
)

// Types returns the Go types Flux wiring objects are validated against,
// for schema.NewWith. Argo CD objects are validated against Argo CD's
// published CRDs instead (argocd.go).
func Types() map[schema.GroupVersionKind]reflect.Type {
	return map[schema.GroupVersionKind]reflect.Type{
		FluxKustomization:  reflect.TypeFor[kustomizev1.Kustomization](),
		FluxGitRepository:  reflect.TypeFor[sourcev1.GitRepository](),
		FluxOCIRepository:  reflect.TypeFor[sourcev1.OCIRepository](),
		FluxHelmRelease:    reflect.TypeFor[helmv2.HelmRelease](),
		FluxHelmRepository: reflect.TypeFor[sourcev1.HelmRepository](),
		CronJob:            reflect.TypeFor[batchv1.CronJob](),
		ServiceAccount:     reflect.TypeFor[corev1.ServiceAccount](),
		Role:               reflect.TypeFor[rbacv1.Role](),
		RoleBinding:        reflect.TypeFor[rbacv1.RoleBinding](),
		Namespace:          reflect.TypeFor[corev1.Namespace](),
		ClusterRole:        reflect.TypeFor[rbacv1.ClusterRole](),
		ClusterRoleBinding: reflect.TypeFor[rbacv1.ClusterRoleBinding](),
	}
}

// Checker validates wiring. It is safe for concurrent use.
type Checker struct {
	v *fleetschema.Validator
	// place, when its Root is set, is where the tree is in its git
	// repository: Flux paths must then resolve from the repository's
	// root to the site's overlay.
	place Place
}

// WithPlace returns a copy of c that checks Flux paths from the root of
// the repository the tree is in (see Place): a Kustomization of site s
// must have spec.path "./<place.Path>/overlays/s" ("./overlays/s" at the
// root), since Flux resolves it from the root of the source's artifact,
// which is the repository's root.
func (c *Checker) WithPlace(p Place) *Checker {
	cp := *c
	cp.place = p
	return &cp
}

// NewChecker builds the validator for the Flux kinds; the Argo CD CRDs
// are compiled on first use, once per process.
func NewChecker() *Checker {
	return &Checker{v: fleetschema.NewWith(Types())}
}

// Files returns the files of a rendered tree by path.
func Files(t *render.Tree) map[string][]byte {
	m := make(map[string][]byte, len(t.Files))
	for _, f := range t.Files {
		m[f.Path] = f.Data
	}
	return m
}

// ErrNoContent is wrapped by the error for a wiring file given with no
// content and no summary.
var ErrNoContent = errors.New("content not loaded and no summary of it known")

// Summary is what the coverage check needs from one wiring file whose
// objects all validated: where its Flux Kustomizations point, which sites
// its ApplicationSets list, which parameter files they read, which
// AppProjects it defines and which site and project a parameter file names. It depends on the file's path and
// content alone, so a summary of the same path and content from an
// earlier check stands in for the content (Checker.CheckSummarized).
type Summary struct {
	Refs []Ref
}

// RefKind is what a Ref stands for.
type RefKind uint8

const (
	// FluxRef is a Flux Kustomization; Ref.Path is its spec.path.
	FluxRef RefKind = iota + 1
	// ArgoSetRef is an ApplicationSet, with or without elements.
	ArgoSetRef
	// ArgoElementRef is one element of an ApplicationSet's list
	// generator; Ref.Gen and Ref.Elem are its indexes, Ref.Site its site.
	ArgoElementRef
	// ArgoFilesRef is one path of an ApplicationSet's git files
	// generator; Ref.Gen and Ref.Elem are its indexes, Ref.Path the path.
	ArgoFilesRef
	// ArgoProjectRef is an AppProject; Ref.Path is its name.
	ArgoProjectRef
	// ArgoParamsRef is a site's parameter file
	// (overlays/<site>/argocd-site.json); Ref.Site is its site, Ref.Path
	// the project it names.
	ArgoParamsRef
	// ApplierRef is the ServiceAccount of a site's applier file
	// (clusters/<site>/applier.yaml); Ref.Path is its namespace/name.
	ApplierRef
	// SparseRef is one entry of a Flux GitRepository's
	// spec.sparseCheckout; Ref.Elem is its index, Ref.Path the directory.
	SparseRef
)

// Ref is one wiring object (or list element) of a file.
type Ref struct {
	Kind RefKind
	// Doc is the object's document number in the file, from 1.
	Doc       int
	Path      string
	Gen, Elem int
	Site      string
	// Account is a Flux Kustomization's spec.serviceAccountName as
	// namespace/name, "" when it has none.
	Account string
}

// CheckSummarized validates every object under clusters/ and argocd/
// strictly and checks coverage: with Flux wiring, each site has exactly
// one Flux Kustomization, in clusters/<site>/, whose path is its overlay;
// with Argo CD wiring, each site has exactly one parameter file
// overlays/<site>/argocd-site.json read by the ApplicationSet's git files
// generator (or one element in a list generator), naming an AppProject the
// tree defines. No wiring may name a site that is not in sites or an
// overlay the tree lacks (overlays/<site>/kustomization.yaml in files). A
// tree without wiring (engine none) passes. Errors name the file and,
// where it applies, the site; they are sorted.
//
// Some wiring files may be known by their summary: a wiring file whose
// content is nil in files must have one in known, from an earlier check of
// the same path and content; it is not decoded again. It also returns the
// summary of every wiring file of a check without errors, by path.
func (c *Checker) CheckSummarized(files map[string][]byte, known map[string]Summary, sites []string) ([]error, map[string]Summary) {
	paths := make([]string, 0, len(files))
	for p := range files {
		if isWiringFile(p) {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	results := make([]fileCheck, len(paths))
	eachFile(len(paths), func(i int) {
		p := paths[i]
		if data := files[p]; data == nil {
			if sum, ok := known[p]; ok {
				results[i] = fileCheck{sum: sum}
			} else {
				results[i] = fileCheck{errs: []error{fmt.Errorf("%s: %w", p, ErrNoContent)}}
			}
			return
		}
		results[i] = c.checkFile(p, files[p])
	})
	hasOverlay := func(site string) bool {
		_, ok := files[path.Join(OverlaysDir, site, "kustomization.yaml")]
		return ok
	}
	return c.coverage(paths, results, sites, hasOverlay)
}

// CheckRead is CheckSummarized for a tree on disk, read one file at a
// time: paths are the tree's files (those that are not wiring files are
// ignored), each read with read when its turn comes and dropped once
// validated and summarised, so that a fleet's check holds the summaries
// of its wiring, not the content of every site's wiring files at once.
// sites are the tree's sites, each with an overlay
// (overlays/<site>/kustomization.yaml). A file that read reports as not
// existing (fs.ErrNotExist: removed since it was listed) is skipped; any
// other error of read is returned, with the file's path.
func (c *Checker) CheckRead(paths []string, read func(p string) ([]byte, error), sites []string) ([]error, error) {
	var wiring []string
	for _, p := range paths {
		if isWiringFile(p) {
			wiring = append(wiring, p)
		}
	}
	sort.Strings(wiring)
	wiring = slices.Compact(wiring)
	results := make([]fileCheck, len(wiring))
	readErrs := make([]error, len(wiring))
	eachFile(len(wiring), func(i int) {
		data, err := read(wiring[i])
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return
		case err != nil:
			readErrs[i] = fmt.Errorf("reading %s: %w", wiring[i], err)
			return
		}
		results[i] = c.checkFile(wiring[i], data)
	})
	if err := errors.Join(readErrs...); err != nil {
		return nil, err
	}
	errs, _ := c.coverage(wiring, results, sites, nil)
	return errs, nil
}

// eachFile calls f(i) for i in [0, n) on every CPU: decoding and
// validating each file is most of a check's cost (a few files a site).
func eachFile(n int, f func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), max(n, 1)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				f(i)
			}
		})
	}
	wg.Wait()
}

// coverage takes the checks of the wiring files at paths (sorted; results
// in the same order) and checks that they wire each of sites exactly once,
// to an overlay the tree has (hasOverlay; nil when every site of sites
// has one). It returns every problem, sorted, or else the summary of each
// file by path.
func (c *Checker) coverage(paths []string, results []fileCheck, sites []string, hasOverlay func(site string) bool) ([]error, map[string]Summary) {
	var errs []error
	sums := make(map[string]Summary, len(paths))
	for i, r := range results {
		errs = append(errs, r.errs...)
		sums[paths[i]] = r.sum
	}

	inInventory := make(map[string]bool, len(sites))
	for _, s := range sites {
		inInventory[s] = true
	}
	if hasOverlay == nil {
		hasOverlay = func(site string) bool { return inInventory[site] }
	}
	flux := map[string][]string{}     // site -> where its Kustomizations are
	appliers := map[string][]string{} // site -> its applier's service accounts
	type account struct{ where, site, account string }
	var accounts []account
	argo := map[string][]string{}
	fluxSeen, argoSeen := false, false
	projects := map[string]bool{}
	var filesGens []string // where each git files generator path is
	type params struct{ where, site, project string }
	var paramFiles []params
	for i, r := range results {
		file := paths[i]
		for _, ref := range r.sum.Refs {
			where := fmt.Sprintf("%s (document %d)", file, ref.Doc)
			switch ref.Kind {
			case FluxRef:
				fluxSeen = true
				dir := strings.Split(file, "/")[1]
				site, ok := overlayOf(ref.Path)
				switch {
				case !ok:
					errs = append(errs, fmt.Errorf("%s: site %q: Kustomization spec.path %q does not point at overlays/<site>", where, dir, ref.Path))
					continue
				case site != dir:
					errs = append(errs, fmt.Errorf("%s: site %q: Kustomization spec.path %q points at the overlay of site %q", where, dir, ref.Path, site))
				case c.place.InRepo() && ref.Path != c.OverlayPath(site):
					errs = append(errs, c.misplaced(where, site, ref.Path))
				case !inInventory[site]:
					errs = append(errs, fmt.Errorf("%s: site %q: wiring for a site that is not in the inventory", where, site))
				case !hasOverlay(site):
					errs = append(errs, fmt.Errorf("%s: site %q: Kustomization spec.path %q points at a missing overlay (no overlays/%s/kustomization.yaml)", where, site, ref.Path, site))
				}
				flux[dir] = append(flux[dir], where)
				if ref.Account != "" {
					accounts = append(accounts, account{where, dir, ref.Account})
				}
			case ApplierRef:
				dir := strings.Split(file, "/")[1]
				appliers[dir] = append(appliers[dir], ref.Path)
			case ArgoSetRef:
				argoSeen = true
			case ArgoProjectRef:
				projects[ref.Path] = true
			case ArgoFilesRef:
				where := fmt.Sprintf("%s: spec.generators[%d].git.files[%d].path", where, ref.Gen, ref.Elem)
				if !strings.HasSuffix("/"+ref.Path, "/"+OverlaysDir+"/*/"+SiteParamsFile) {
					errs = append(errs, fmt.Errorf("%s: %q does not read the sites' parameter files (<path>/%s/*/%s)", where, ref.Path, OverlaysDir, SiteParamsFile))
					continue
				}
				filesGens = append(filesGens, where)
			case ArgoParamsRef:
				paramFiles = append(paramFiles, params{where: file, site: ref.Site, project: ref.Path})
			case ArgoElementRef:
				where := fmt.Sprintf("%s: spec.generators[%d].list.elements[%d]", where, ref.Gen, ref.Elem)
				site := ref.Site
				switch {
				case site == "":
					errs = append(errs, fmt.Errorf("%s: element has no site", where))
					continue
				case !inInventory[site]:
					errs = append(errs, fmt.Errorf("%s: site %q: wiring for a site that is not in the inventory", where, site))
				case !hasOverlay(site):
					errs = append(errs, fmt.Errorf("%s: site %q: points at a missing overlay (no overlays/%s/kustomization.yaml)", where, site, site))
				}
				argo[site] = append(argo[site], where)
			}
		}
	}
	for _, a := range accounts {
		if !slices.Contains(appliers[a.site], a.account) {
			errs = append(errs, fmt.Errorf("%s: site %q: Kustomization applies as service account %s, which %s/%s/%s does not define: the site could not apply its overlay", a.where, a.site, a.account, ClustersDir, a.site, ApplierFile))
		}
	}
	for _, pf := range paramFiles {
		switch {
		case len(filesGens) == 0:
			errs = append(errs, fmt.Errorf("%s: site %q: parameter file that no ApplicationSet git files generator under %s/ reads", pf.where, pf.site, ArgoCDDir))
			continue
		case !inInventory[pf.site]:
			errs = append(errs, fmt.Errorf("%s: site %q: wiring for a site that is not in the inventory", pf.where, pf.site))
		case !hasOverlay(pf.site):
			errs = append(errs, fmt.Errorf("%s: site %q: parameter file beside a missing overlay (no overlays/%s/kustomization.yaml)", pf.where, pf.site, pf.site))
		case !projects[pf.project]:
			errs = append(errs, fmt.Errorf("%s: site %q: project %q is not an AppProject under %s/", pf.where, pf.site, pf.project, ArgoCDDir))
		}
		for range filesGens {
			argo[pf.site] = append(argo[pf.site], pf.where)
		}
	}
	for _, engine := range []struct {
		name string
		seen bool
		by   map[string][]string
		what string
	}{
		{"Flux", fluxSeen, flux, "Flux Kustomization under clusters/<site>/"},
		{"Argo CD", argoSeen, argo, "parameter file " + OverlaysDir + "/<site>/" + SiteParamsFile + " read by the ApplicationSet (or element in its list generator)"},
	} {
		if !engine.seen {
			continue
		}
		for _, s := range sites {
			switch n := len(engine.by[s]); {
			case n == 0:
				errs = append(errs, fmt.Errorf("site %q: no %s wiring: expected one %s", s, engine.name, engine.what))
			case n > 1:
				errs = append(errs, fmt.Errorf("site %q: %d %s wiring entries, expected one: %s", s, n, engine.name, strings.Join(engine.by[s], "; ")))
			}
		}
	}
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	if len(errs) > 0 {
		return errs, nil
	}
	return nil, sums
}

// OverlayPath is the Flux spec.path of site's overlay: from the root of
// the repository when the checker knows where the tree is in it (WithPlace),
// else from the tree's root.
func (c *Checker) OverlayPath(site string) string {
	return "./" + c.place.Prefix() + OverlaysDir + "/" + site
}

func (c *Checker) misplaced(where, site, got string) error {
	return fmt.Errorf("%s: site %q: Kustomization spec.path %q does not resolve to the site's overlay from the root of the repository %s: the tree is at %q in it, so the path must be %q (set gitops.path to %q or leave it unset, and regenerate)",
		where, site, got, c.place.Root, c.place.Path, c.OverlayPath(site), c.place.Path)
}

// CheckPaths validates the given wiring files strictly and checks that
// each Flux Kustomization in clusters/<site>/ points at that site's
// overlay (from the repository's root, see WithPlace), without the
// coverage checks of Check: it is for a few files of a tree, such as the
// ones that drifted from what the inventory gives.
func (c *Checker) CheckPaths(files map[string][]byte) []error {
	var errs []error
	paths := make([]string, 0, len(files))
	for p := range files {
		if isWiringFile(p) {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	for _, p := range paths {
		r := c.checkFile(p, files[p])
		errs = append(errs, r.errs...)
		for _, ref := range r.sum.Refs {
			if ref.Kind != FluxRef {
				continue
			}
			where := fmt.Sprintf("%s (document %d)", p, ref.Doc)
			dir := strings.Split(p, "/")[1]
			site, ok := overlayOf(ref.Path)
			switch {
			case !ok:
				errs = append(errs, fmt.Errorf("%s: site %q: Kustomization spec.path %q does not point at overlays/<site>", where, dir, ref.Path))
			case site != dir:
				errs = append(errs, fmt.Errorf("%s: site %q: Kustomization spec.path %q points at the overlay of site %q", where, dir, ref.Path, site))
			case c.place.InRepo() && ref.Path != c.OverlayPath(site):
				errs = append(errs, c.misplaced(where, site, ref.Path))
			}
		}
	}
	return errs
}

// fileCheck is what one wiring file yields: its problems and the summary
// of its objects.
type fileCheck struct {
	errs []error
	sum  Summary
}

// checkFile decodes one wiring file, validates its objects and summarises
// them.
func (c *Checker) checkFile(p string, data []byte) (res fileCheck) {
	if isSiteParams(p) {
		sp, errs := checkSiteParams(p, data)
		if len(errs) > 0 {
			res.errs = errs
			return res
		}
		res.sum.Refs = []Ref{{Kind: ArgoParamsRef, Doc: 1, Site: sp.Site, Path: sp.Project}}
		return res
	}
	docs, err := policy.DecodeObjects(data)
	if err != nil {
		res.errs = append(res.errs, fmt.Errorf("%s: %w", p, err))
		return res
	}
	for i, d := range docs {
		o := object{file: p, doc: i + 1, obj: d}
		if apiVersion, kind := o.gvk(); strings.HasPrefix(apiVersion, ArgoApplicationSet.Group+"/") {
			res.errs = append(res.errs, c.checkArgo(o, apiVersion, kind)...)
			res.sum.Refs = append(res.sum.Refs, o.refs()...)
			continue
		}
		r := c.v.Validate(d)
		switch {
		case r.Skipped:
			apiVersion, kind := o.gvk()
			res.errs = append(res.errs, fmt.Errorf("%s: %s %s is not a wiring kind fleetgen knows (%s)", o.where(), apiVersion, kind, knownKinds()))
			continue
		case len(r.Errors) > 0:
			for _, fe := range r.Errors {
				res.errs = append(res.errs, fmt.Errorf("%s: %s: %w", o.where(), r.Object(), fe))
			}
		}
		res.errs = append(res.errs, checkPinnedCRD(o)...)
		res.sum.Refs = append(res.sum.Refs, o.refs()...)
	}
	return res
}

// CheckObjects validates the Flux objects of one generated file that is
// not wiring (a site's Helm chart releases, in its overlay) as Check
// validates wiring: each decoded strictly into its upstream Go type and,
// for the kinds fleetgen pins a CRD of, against that CRD's schema. Errors
// name the file, the document, the object and the field.
func (c *Checker) CheckObjects(p string, data []byte) []error {
	return c.checkFile(p, data).errs
}

// checkPinnedCRD validates a Flux object whose kind has a pinned published
// CRD (HelmRelease, HelmRepository, OCIRepository: pkg/schema/crds/flux)
// against that CRD's schema, CEL rules included, as the API server would
// after the Go types accepted it.
func checkPinnedCRD(o object) []error {
	apiVersion, kind := o.gvk()
	crd, ok, err := fleetschema.PinnedCRD(apiVersion, kind)
	switch {
	case !ok:
		return nil
	case err != nil:
		return []error{fmt.Errorf("%s: the embedded CRD of %s %s does not compile: %w", o.where(), apiVersion, kind, err)}
	}
	release := "source-controller " + fleetschema.SourceControllerVersion
	if crd.GVK.Group == FluxHelmRelease.Group {
		release = "helm-controller " + fleetschema.HelmControllerVersion
	}
	var errs []error
	for _, fe := range crd.Validate(o.obj) {
		errs = append(errs, fmt.Errorf("%s: %s: %w (%s CRD)", o.where(), o.describe(), fe, release))
	}
	return errs
}

// checkArgo validates an argoproj.io object against the pinned Argo CD
// CRD of its kind.
func (c *Checker) checkArgo(o object, apiVersion, kind string) []error {
	gv, _ := schema.ParseGroupVersion(apiVersion)
	compiled, ok := argoCRDs[gv.WithKind(kind)]
	if !ok || (kind != ArgoApplicationSet.Kind && kind != ArgoAppProject.Kind) {
		return []error{fmt.Errorf("%s: %s %s is not a wiring kind fleetgen knows (%s)", o.where(), apiVersion, kind, knownKinds())}
	}
	v, err := compiled()
	if err != nil {
		return []error{fmt.Errorf("%s: %w: %w", o.where(), errNoArgoCRDs, err)}
	}
	var errs []error
	for _, fe := range v.Validate(o.obj) {
		errs = append(errs, fmt.Errorf("%s: %s: %w (Argo CD %s CRD)", o.where(), o.describe(), fe, ArgoCDVersion))
	}
	return errs
}

// describe names an object as schema.Result.Object does: Kind apiVersion
// namespace/name.
func (o object) describe() string {
	apiVersion, kind := o.gvk()
	name, _ := nested(o.obj, "metadata", "name").(string)
	if ns, _ := nested(o.obj, "metadata", "namespace").(string); ns != "" {
		name = ns + "/" + name
	}
	return kind + " " + apiVersion + " " + name
}

// object is one decoded YAML document of a wiring file.
type object struct {
	file string
	doc  int
	obj  map[string]any
}

func (o object) gvk() (apiVersion, kind string) {
	apiVersion, _ = o.obj["apiVersion"].(string)
	kind, _ = o.obj["kind"].(string)
	return apiVersion, kind
}

func (o object) where() string {
	return fmt.Sprintf("%s (document %d)", o.file, o.doc)
}

// refs summarises an object for the coverage check.
func (o object) refs() []Ref {
	apiVersion, kind := o.gvk()
	switch {
	case apiVersion == FluxKustomization.GroupVersion().String() && kind == FluxKustomization.Kind:
		p, _ := nested(o.obj, "spec", "path").(string)
		ref := Ref{Kind: FluxRef, Doc: o.doc, Path: p}
		if sa, _ := nested(o.obj, "spec", "serviceAccountName").(string); sa != "" {
			ns, _ := nested(o.obj, "metadata", "namespace").(string)
			ref.Account = ns + "/" + sa
		}
		return []Ref{ref}
	case apiVersion == "v1" && kind == ServiceAccount.Kind && isApplierFile(o.file):
		ns, _ := nested(o.obj, "metadata", "namespace").(string)
		name, _ := nested(o.obj, "metadata", "name").(string)
		return []Ref{{Kind: ApplierRef, Doc: o.doc, Path: ns + "/" + name}}
	case apiVersion == ArgoApplicationSet.GroupVersion().String() && kind == ArgoApplicationSet.Kind:
		refs := []Ref{{Kind: ArgoSetRef, Doc: o.doc}}
		gens, _ := nested(o.obj, "spec", "generators").([]any)
		for gi, g := range gens {
			files, _ := nested(g, "git", "files").([]any)
			for fi, f := range files {
				p, _ := nested(f, "path").(string)
				refs = append(refs, Ref{Kind: ArgoFilesRef, Doc: o.doc, Gen: gi, Elem: fi, Path: p})
			}
			elems, _ := nested(g, "list", "elements").([]any)
			for ei, e := range elems {
				site, _ := nested(e, "site").(string)
				refs = append(refs, Ref{Kind: ArgoElementRef, Doc: o.doc, Gen: gi, Elem: ei, Site: site})
			}
		}
		return refs
	case apiVersion == ArgoAppProject.GroupVersion().String() && kind == ArgoAppProject.Kind:
		name, _ := nested(o.obj, "metadata", "name").(string)
		return []Ref{{Kind: ArgoProjectRef, Doc: o.doc, Path: name}}
	case apiVersion == FluxGitRepository.GroupVersion().String() && kind == FluxGitRepository.Kind:
		var refs []Ref
		for _, d := range sparseList(o.obj) {
			refs = append(refs, Ref{Kind: SparseRef, Doc: o.doc, Elem: len(refs), Path: d})
		}
		return refs
	}
	return nil
}

// ApplierFile is the name, in clusters/<site>/, of a site's
// least-privilege applier: the service account its engine applies the
// overlay as, with that account's roles and bindings.
const ApplierFile = "applier.yaml"

// isApplierFile reports whether p is clusters/<site>/applier.yaml.
func isApplierFile(p string) bool {
	parts := strings.Split(p, "/")
	return len(parts) == 3 && parts[0] == ClustersDir && parts[2] == ApplierFile
}

// isSiteParams reports whether p is a site's ApplicationSet parameter
// file, overlays/<site>/argocd-site.json.
func isSiteParams(p string) bool {
	parts := strings.Split(p, "/")
	return len(parts) == 3 && parts[0] == OverlaysDir && parts[2] == SiteParamsFile
}

// isWiringFile reports whether p is a YAML file under clusters/<dir>/ or
// argocd/, or a site's ApplicationSet parameter file.
func isWiringFile(p string) bool { return IsWiringFile(p) }

// IsWiringFile reports whether p (slash-separated, relative to the tree
// root) is a YAML file under clusters/<dir>/ (not flux-system/) or
// argocd/, or a site's ApplicationSet parameter file: the files Check
// looks at.
func IsWiringFile(p string) bool {
	if isSiteParams(p) {
		return true
	}
	if ext := path.Ext(p); ext != ".yaml" && ext != ".yml" {
		return false
	}
	parts := strings.Split(p, "/")
	switch parts[0] {
	case ClustersDir:
		// clusters/<site>/... ; flux-system/ written by flux bootstrap is
		// not fleetgen's and is left alone.
		return len(parts) >= 3 && !(len(parts) >= 4 && parts[2] == "flux-system")
	case ArgoCDDir:
		return len(parts) >= 2
	}
	return false
}

// overlayOf returns the site of a Flux path "./[root/]overlays/<site>".
func overlayOf(p string) (string, bool) {
	clean := path.Clean(strings.TrimPrefix(p, "./"))
	if !strings.HasPrefix(p, "./") || clean != strings.TrimSuffix(strings.TrimPrefix(p, "./"), "/") {
		return "", false
	}
	dir, site := path.Split(clean)
	if path.Base(strings.TrimSuffix(dir, "/")) != OverlaysDir || site == "" {
		return "", false
	}
	return site, true
}

func nested(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func knownKinds() string {
	names := []string{
		ArgoApplicationSet.GroupVersion().String() + " " + ArgoApplicationSet.Kind,
		ArgoAppProject.GroupVersion().String() + " " + ArgoAppProject.Kind,
	}
	for gvk := range Types() {
		names = append(names, gvk.GroupVersion().String()+" "+gvk.Kind)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// SparseCheckout returns spec.sparseCheckout of the Flux GitRepository in
// a wiring file's content, and whether it has one with a non-empty list.
func SparseCheckout(data []byte) ([]string, bool) {
	docs, err := policy.DecodeObjects(data)
	if err != nil {
		return nil, false
	}
	for _, d := range docs {
		o := object{obj: d}
		if apiVersion, kind := o.gvk(); apiVersion != FluxGitRepository.GroupVersion().String() || kind != FluxGitRepository.Kind {
			continue
		}
		out := sparseList(d)
		return out, len(out) > 0
	}
	return nil, false
}

// sparseList is the strings of a GitRepository's spec.sparseCheckout.
func sparseList(obj any) []string {
	list, _ := nested(obj, "spec", "sparseCheckout").([]any)
	var out []string
	for _, v := range list {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// SparseDirs is SparseCheckout from a wiring file's summary: the list of
// the first GitRepository with a non-empty one.
func (s Summary) SparseDirs() ([]string, bool) {
	var out []string
	doc := 0
	for _, r := range s.Refs {
		if r.Kind != SparseRef || (doc != 0 && r.Doc != doc) {
			continue
		}
		doc = r.Doc
		out = append(out, r.Path)
	}
	return out, len(out) > 0
}
