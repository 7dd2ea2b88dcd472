package gitops

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/fleetgen/fleetgen/pkg/render"
	fleetschema "github.com/fleetgen/fleetgen/pkg/schema"
)

// Where wiring lives in a fleet tree.
const (
	// ClustersDir holds one directory per site with its Flux sync objects.
	ClustersDir = "clusters"
	// ArgoCDDir holds the fleet's ApplicationSet and AppProject.
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
)

// Types returns the Go types wiring objects are validated against, for
// schema.NewWith.
func Types() map[schema.GroupVersionKind]reflect.Type {
	return map[schema.GroupVersionKind]reflect.Type{
		FluxKustomization:  reflect.TypeFor[kustomizev1.Kustomization](),
		FluxGitRepository:  reflect.TypeFor[sourcev1.GitRepository](),
		FluxOCIRepository:  reflect.TypeFor[sourcev1.OCIRepository](),
		ArgoApplicationSet: reflect.TypeFor[ApplicationSet](),
		ArgoAppProject:     reflect.TypeFor[AppProject](),
	}
}

// Checker validates wiring. It is safe for concurrent use.
type Checker struct {
	v *fleetschema.Validator
}

// NewChecker builds the validator for the wiring kinds once.
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

// CheckWiring checks the wiring of a fleet tree given as files by
// slash-separated path relative to the tree root; sites are the fleet's
// site names. See Checker.Check.
func CheckWiring(files map[string][]byte, sites []string) []error {
	return NewChecker().Check(files, sites)
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

// Check validates every object under clusters/ and argocd/ strictly and
// checks coverage: with Flux wiring, each site has exactly one Flux
// Kustomization, in clusters/<site>/, whose path is its overlay; with Argo
// CD wiring, each site has exactly one element in the ApplicationSet's list
// generator. No wiring may name a site that is not in sites or an overlay
// the tree lacks. A tree without wiring (engine none) passes. Errors name
// the file and, where it applies, the site; they are sorted.
func (c *Checker) Check(files map[string][]byte, sites []string) []error {
	var errs []error
	var objs []object
	paths := make([]string, 0, len(files))
	for p := range files {
		if isWiringFile(p) {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	// Decoding and validating each file is most of the cost (one file per
	// site): it runs on every CPU, and the results are taken in file order.
	results := make([]fileCheck, len(paths))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), max(len(paths), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < len(paths); i = int(next.Add(1) - 1) {
				results[i] = c.checkFile(paths[i], files[paths[i]])
			}
		}()
	}
	wg.Wait()
	for _, r := range results {
		errs = append(errs, r.errs...)
		objs = append(objs, r.objs...)
	}

	known := make(map[string]bool, len(sites))
	for _, s := range sites {
		known[s] = true
	}
	hasOverlay := func(site string) bool {
		_, ok := files[path.Join(OverlaysDir, site, "kustomization.yaml")]
		return ok
	}

	flux := map[string][]string{} // site -> where its Kustomizations are
	argo := map[string][]string{}
	fluxSeen, argoSeen := false, false
	for _, o := range objs {
		apiVersion, kind := o.gvk()
		switch {
		case apiVersion == FluxKustomization.GroupVersion().String() && kind == FluxKustomization.Kind:
			fluxSeen = true
			dir := strings.Split(o.file, "/")[1]
			p, _ := nested(o.obj, "spec", "path").(string)
			site, ok := overlayOf(p)
			switch {
			case !ok:
				errs = append(errs, fmt.Errorf("%s: site %q: Kustomization spec.path %q does not point at overlays/<site>", o.where(), dir, p))
				continue
			case site != dir:
				errs = append(errs, fmt.Errorf("%s: site %q: Kustomization spec.path %q points at the overlay of site %q", o.where(), dir, p, site))
			case !known[site]:
				errs = append(errs, fmt.Errorf("%s: site %q: wiring for a site that is not in the inventory", o.where(), site))
			case !hasOverlay(site):
				errs = append(errs, fmt.Errorf("%s: site %q: Kustomization spec.path %q points at a missing overlay (no overlays/%s/kustomization.yaml)", o.where(), site, p, site))
			}
			flux[dir] = append(flux[dir], o.where())
		case apiVersion == ArgoApplicationSet.GroupVersion().String() && kind == ArgoApplicationSet.Kind:
			argoSeen = true
			gens, _ := nested(o.obj, "spec", "generators").([]any)
			for gi, g := range gens {
				elems, _ := nested(g, "list", "elements").([]any)
				for ei, e := range elems {
					where := fmt.Sprintf("%s: spec.generators[%d].list.elements[%d]", o.where(), gi, ei)
					site, _ := nested(e, "site").(string)
					switch {
					case site == "":
						errs = append(errs, fmt.Errorf("%s: element has no site", where))
						continue
					case !known[site]:
						errs = append(errs, fmt.Errorf("%s: site %q: wiring for a site that is not in the inventory", where, site))
					case !hasOverlay(site):
						errs = append(errs, fmt.Errorf("%s: site %q: points at a missing overlay (no overlays/%s/kustomization.yaml)", where, site, site))
					}
					argo[site] = append(argo[site], where)
				}
			}
		}
	}
	for _, engine := range []struct {
		name string
		seen bool
		by   map[string][]string
		what string
	}{
		{"Flux", fluxSeen, flux, "Flux Kustomization under clusters/<site>/"},
		{"Argo CD", argoSeen, argo, "element in the ApplicationSet's list generator"},
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
	return errs
}

// fileCheck is what one wiring file yields: its problems and its objects.
type fileCheck struct {
	errs []error
	objs []object
}

// checkFile decodes one wiring file and validates its objects.
func (c *Checker) checkFile(p string, data []byte) (res fileCheck) {
	docs, err := decodeAll(data)
	if err != nil {
		res.errs = append(res.errs, fmt.Errorf("%s: %w", p, err))
		return res
	}
	for i, d := range docs {
		o := object{file: p, doc: i + 1, obj: d}
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
		res.objs = append(res.objs, o)
	}
	return res
}

// isWiringFile reports whether p is a YAML file under clusters/<dir>/ or
// argocd/.
func isWiringFile(p string) bool {
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

// decodeAll decodes every non-empty YAML document of data into a map.
func decodeAll(data []byte) ([]map[string]any, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []map[string]any
	for i := 1; ; i++ {
		var v any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: invalid YAML: %w", i, err)
		}
		if v == nil {
			continue
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("document %d: expected a Kubernetes object (a mapping), got %T", i, v)
		}
		out = append(out, m)
	}
}

func knownKinds() string {
	var names []string
	for gvk := range Types() {
		names = append(names, gvk.GroupVersion().String()+" "+gvk.Kind)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
