package gitops

import (
	"bytes"
	"compress/gzip"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"

	fleetschema "github.com/fleetgen/fleetgen/pkg/schema"
)

// ArgoCDVersion is the Argo CD release whose published CRDs
// (crds/argocd/<version>/, see the README there) Argo CD objects are
// validated against.
const ArgoCDVersion = "v3.5.1"

//go:embed crds/argocd/v3.5.1/*-crd.yaml.gz
var argoCRDFiles embed.FS

// SiteParamsFile is the base name of a site's ApplicationSet parameter
// file, overlays/<site>/argocd-site.json, read by the ApplicationSet's git
// files generator.
const SiteParamsFile = "argocd-site.json"

// crdValidator validates objects of one kind against the OpenAPI v3 schema
// of one version of a CustomResourceDefinition, as the API server does on
// create: structural pruning (every pruned field is reported as unknown),
// the OpenAPI schema validator, list-type (set and map) uniqueness and
// ObjectMeta validation.
type crdValidator struct {
	gvk        schema.GroupVersionKind
	structural *structuralschema.Structural
	validator  apiservervalidation.SchemaValidator
	namespaced bool
}

// argoCRDs are the embedded CRDs by kind. Each is compiled on first use,
// once per process (compiling the ApplicationSet CRD, 1.4 MB of schema,
// takes a few hundred milliseconds), and is read-only afterwards.
var argoCRDs = map[schema.GroupVersionKind]func() (*crdValidator, error){
	{Group: "argoproj.io", Version: "v1alpha1", Kind: "Application"}:    compileOnce("application-crd.yaml", "v1alpha1"),
	{Group: "argoproj.io", Version: "v1alpha1", Kind: "ApplicationSet"}: compileOnce("applicationset-crd.yaml", "v1alpha1"),
	{Group: "argoproj.io", Version: "v1alpha1", Kind: "AppProject"}:     compileOnce("appproject-crd.yaml", "v1alpha1"),
}

func compileOnce(file, version string) func() (*crdValidator, error) {
	return sync.OnceValues(func() (*crdValidator, error) {
		return compileCRD(argoCRDFiles, path.Join("crds/argocd", ArgoCDVersion, file), version)
	})
}

// compileCRD compiles the schema of one served version of the CRD in
// file, stored gzipped as name+".gz" (the ApplicationSet CRD is 1.4 MB of
// YAML).
func compileCRD(fsys embed.FS, name, version string) (*crdValidator, error) {
	data, err := readCRD(fsys, name)
	if err != nil {
		return nil, err
	}
	var crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.UnmarshalStrict(data, &crd); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	for _, v := range crd.Spec.Versions {
		if v.Name != version {
			continue
		}
		if !v.Served {
			return nil, fmt.Errorf("%s: version %s is not served", name, v.Name)
		}
		if v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
			return nil, fmt.Errorf("%s: version %s has no OpenAPI v3 schema", name, v.Name)
		}
		if hasCELRules(v.Schema.OpenAPIV3Schema) {
			return nil, fmt.Errorf("%s: version %s has x-kubernetes-validations rules, which fleetgen does not evaluate", name, v.Name)
		}
		var internal apiextensions.JSONSchemaProps
		if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(v.Schema.OpenAPIV3Schema, &internal, nil); err != nil {
			return nil, fmt.Errorf("%s: version %s: %w", name, v.Name, err)
		}
		structural, err := structuralschema.NewStructural(&internal)
		if err != nil {
			return nil, fmt.Errorf("%s: version %s: schema is not structural: %w", name, v.Name, err)
		}
		validator, _, err := apiservervalidation.NewSchemaValidator(&internal)
		if err != nil {
			return nil, fmt.Errorf("%s: version %s: %w", name, v.Name, err)
		}
		return &crdValidator{
			gvk:        schema.GroupVersionKind{Group: crd.Spec.Group, Version: v.Name, Kind: crd.Spec.Names.Kind},
			structural: structural,
			validator:  validator,
			namespaced: crd.Spec.Scope == apiextensionsv1.NamespaceScoped,
		}, nil
	}
	return nil, fmt.Errorf("%s: no version %s", name, version)
}

// hasCELRules reports whether s or any schema below it has
// x-kubernetes-validations.
func hasCELRules(s *apiextensionsv1.JSONSchemaProps) bool {
	if s == nil {
		return false
	}
	if len(s.XValidations) > 0 {
		return true
	}
	for _, p := range s.Properties {
		if hasCELRules(&p) {
			return true
		}
	}
	if s.Items != nil {
		if hasCELRules(s.Items.Schema) {
			return true
		}
		for i := range s.Items.JSONSchemas {
			if hasCELRules(&s.Items.JSONSchemas[i]) {
				return true
			}
		}
	}
	if s.AdditionalProperties != nil && hasCELRules(s.AdditionalProperties.Schema) {
		return true
	}
	for _, group := range [][]apiextensionsv1.JSONSchemaProps{s.AllOf, s.AnyOf, s.OneOf} {
		for i := range group {
			if hasCELRules(&group[i]) {
				return true
			}
		}
	}
	return false
}

// validate checks one object (as decoded from YAML) and returns its
// problems with the path of each field, sorted by path.
func (v *crdValidator) validate(obj map[string]any) []fleetschema.FieldError {
	// The API server sees JSON: integers as int64, other numbers as
	// float64. A round trip through JSON gives the same values here.
	raw, err := json.Marshal(obj)
	if err != nil {
		return []fleetschema.FieldError{{Msg: fmt.Sprintf("cannot encode as JSON: %v", err)}}
	}
	var u map[string]any
	if err := utiljson.Unmarshal(raw, &u); err != nil {
		return []fleetschema.FieldError{{Msg: fmt.Sprintf("cannot decode JSON: %v", err)}}
	}
	var errs []fleetschema.FieldError
	add := func(list field.ErrorList) {
		for _, fe := range list {
			msg := fe.ErrorBody()
			errs = append(errs, fleetschema.FieldError{Path: fe.Field, Msg: msg})
		}
	}

	// Unknown fields: what structural pruning would drop on the way
	// into etcd, metadata included.
	meta, _, unknownMeta, err := objectmeta.GetObjectMetaWithOptions(u, objectmeta.ObjectMetaOptions{ReturnUnknownFieldPaths: true})
	if err != nil {
		errs = append(errs, fleetschema.FieldError{Path: "metadata", Msg: err.Error()})
	}
	for _, p := range unknownMeta {
		errs = append(errs, fleetschema.FieldError{Path: p, Msg: "unknown field"})
	}
	pruned := pruning.PruneWithOptions(u, v.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})
	for _, p := range pruned {
		errs = append(errs, fleetschema.FieldError{Path: p, Msg: "unknown field (the API server would drop it)"})
	}

	if meta != nil {
		add(apimachineryvalidation.ValidateObjectMeta(meta, v.namespaced, apimachineryvalidation.NameIsDNSSubdomain, field.NewPath("metadata")))
	} else {
		errs = append(errs, fleetschema.FieldError{Path: "metadata", Msg: "Required value"})
	}
	add(objectmeta.Validate(context.Background(), nil, u, v.structural, true))
	add(apiservervalidation.ValidateCustomResource(nil, u, v.validator))
	add(listtype.ValidateListSetsAndMaps(nil, v.structural, u))

	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Path < errs[j].Path })
	return dedupe(errs)
}

func dedupe(errs []fleetschema.FieldError) []fleetschema.FieldError {
	out := errs[:0]
	for i, e := range errs {
		if i > 0 && e == errs[i-1] {
			continue
		}
		out = append(out, e)
	}
	return out
}

// SiteParams is the content of a site's ApplicationSet parameter file,
// overlays/<site>/argocd-site.json. Every field is a string, as the
// Application template's labels need them.
type SiteParams struct {
	// Site is the site's name; it must be the name of the file's
	// directory, which is what the ApplicationSet uses.
	Site string `json:"site"`
	// Wave is the site's rollout wave, a non-negative integer.
	Wave string `json:"wave"`
	// Network selects the retry profile: online, intermittent or
	// airgapped.
	Network string `json:"network"`
	// Project is the AppProject of the site's Application.
	Project string `json:"project"`
}

var waveRE = regexp.MustCompile(`^(0|[1-9][0-9]{0,8})$`)

// checkSiteParams decodes and checks one parameter file strictly; p is its
// path in the tree, overlays/<site>/argocd-site.json.
func checkSiteParams(p string, data []byte) (SiteParams, []error) {
	dir := path.Base(path.Dir(p))
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var sp SiteParams
	if err := dec.Decode(&sp); err != nil {
		return sp, []error{fmt.Errorf("%s: site %q: %w", p, dir, err)}
	}
	if dec.More() {
		return sp, []error{fmt.Errorf("%s: site %q: more than one JSON value", p, dir)}
	}
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: site %q: %s: %s", p, dir, field, fmt.Sprintf(format, args...)))
	}
	if sp.Site != dir {
		bad("site", "is %s, but the file is in the directory of site %q (the ApplicationSet names the Application after the directory)", strconv.Quote(sp.Site), dir)
	}
	if !waveRE.MatchString(sp.Wave) {
		bad("wave", "%s is not a wave (a non-negative integer written as a string)", strconv.Quote(sp.Wave))
	}
	switch sp.Network {
	case "online", "intermittent", "airgapped":
	default:
		bad("network", "%s has no retry profile (online, intermittent, airgapped)", strconv.Quote(sp.Network))
	}
	if msgs := apimachineryvalidation.NameIsDNSSubdomain(sp.Project, false); len(msgs) > 0 {
		bad("project", "%s is not an AppProject name: %s", strconv.Quote(sp.Project), strings.Join(msgs, "; "))
	}
	return sp, errs
}

// errNoArgoCRDs is wrapped when an embedded CRD cannot be compiled, which
// only a broken build can cause.
var errNoArgoCRDs = errors.New("the embedded Argo CD CRD does not compile")

// readCRD returns the published CRD file name, embedded gzipped as
// name+".gz".
func readCRD(fsys embed.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name + ".gz")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s.gz: %w", name, err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("%s.gz: %w", name, err)
	}
	return data, nil
}
