package schema

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"sort"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"sigs.k8s.io/yaml"
)

// CRD validates objects of one kind against the OpenAPI v3 schema of one
// served version of a published CustomResourceDefinition, as an API
// server with the CRD installed does on create: structural pruning (every
// field it would drop is reported as unknown), the OpenAPI schema
// validator, the x-kubernetes-validations (CEL) rules with the API
// server's cost limits, list-type (set and map) uniqueness and ObjectMeta
// validation. It is read-only after CompileCRD and safe for concurrent
// use.
type CRD struct {
	// GVK is the group, served version and kind the CRD defines.
	GVK        schema.GroupVersionKind
	structural *structuralschema.Structural
	validator  apiservervalidation.SchemaValidator
	// Namespaced is true for a namespaced kind.
	Namespaced bool
	// rules is nil when the schema has no CEL rules.
	rules *cel.Validator
}

// CompileCRD compiles the schema of the served version of the
// CustomResourceDefinition in data (YAML, one document, decoded strictly).
func CompileCRD(data []byte, version string) (*CRD, error) {
	var crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.UnmarshalStrict(data, &crd); err != nil {
		return nil, err
	}
	for _, v := range crd.Spec.Versions {
		if v.Name != version {
			continue
		}
		if !v.Served {
			return nil, fmt.Errorf("version %s is not served", v.Name)
		}
		if v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
			return nil, fmt.Errorf("version %s has no OpenAPI v3 schema", v.Name)
		}
		var internal apiextensions.JSONSchemaProps
		if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(v.Schema.OpenAPIV3Schema, &internal, nil); err != nil {
			return nil, fmt.Errorf("version %s: %w", v.Name, err)
		}
		structural, err := structuralschema.NewStructural(&internal)
		if err != nil {
			return nil, fmt.Errorf("version %s: schema is not structural: %w", v.Name, err)
		}
		validator, _, err := apiservervalidation.NewSchemaValidator(&internal)
		if err != nil {
			return nil, fmt.Errorf("version %s: %w", v.Name, err)
		}
		return &CRD{
			GVK:        schema.GroupVersionKind{Group: crd.Spec.Group, Version: v.Name, Kind: crd.Spec.Names.Kind},
			structural: structural,
			validator:  validator,
			rules:      cel.NewValidator(structural, true, celconfig.PerCallLimit),
			Namespaced: crd.Spec.Scope == apiextensionsv1.NamespaceScoped,
		}, nil
	}
	return nil, fmt.Errorf("no version %s", version)
}

// Validate checks one object (as decoded from YAML) and returns its
// problems with the path of each field, sorted by path.
func (v *CRD) Validate(obj map[string]any) []FieldError {
	// The API server sees JSON: integers as int64, other numbers as
	// float64. A round trip through JSON gives the same values here.
	raw, err := json.Marshal(obj)
	if err != nil {
		return []FieldError{{Msg: fmt.Sprintf("cannot encode as JSON: %v", err)}}
	}
	var u map[string]any
	if err := utiljson.Unmarshal(raw, &u); err != nil {
		return []FieldError{{Msg: fmt.Sprintf("cannot decode JSON: %v", err)}}
	}
	var errs []FieldError
	add := func(list field.ErrorList) {
		for _, fe := range list {
			errs = append(errs, FieldError{Path: fe.Field, Msg: fe.ErrorBody()})
		}
	}

	// Unknown fields: what structural pruning would drop on the way
	// into etcd, metadata included.
	meta, _, unknownMeta, err := objectmeta.GetObjectMetaWithOptions(u, objectmeta.ObjectMetaOptions{ReturnUnknownFieldPaths: true})
	if err != nil {
		errs = append(errs, FieldError{Path: "metadata", Msg: err.Error()})
	}
	for _, p := range unknownMeta {
		errs = append(errs, FieldError{Path: p, Msg: "unknown field"})
	}
	pruned := pruning.PruneWithOptions(u, v.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})
	for _, p := range pruned {
		errs = append(errs, FieldError{Path: p, Msg: "unknown field (the API server would drop it)"})
	}

	if meta != nil {
		add(apimachineryvalidation.ValidateObjectMeta(meta, v.Namespaced, apimachineryvalidation.NameIsDNSSubdomain, field.NewPath("metadata")))
	} else {
		errs = append(errs, FieldError{Path: "metadata", Msg: "Required value"})
	}
	add(objectmeta.Validate(context.Background(), nil, u, v.structural, true))
	add(apiservervalidation.ValidateCustomResource(nil, u, v.validator))
	add(listtype.ValidateListSetsAndMaps(nil, v.structural, u))
	if v.rules != nil {
		// The rules see the object the API server would store: pruned,
		// as above. A create has no old object.
		celErrs, _ := v.rules.Validate(context.Background(), nil, v.structural, u, nil, celconfig.RuntimeCELCostBudget)
		add(celErrs)
	}

	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Path < errs[j].Path })
	out := errs[:0]
	for i, e := range errs {
		if i > 0 && e == errs[i-1] {
			continue
		}
		out = append(out, e)
	}
	return out
}

// ReadGzip returns the content of the gzipped file name in fsys: the
// published CRDs are kept gzipped (`gzip -n -9`) beside a README that
// records their source and SHA-256.
func ReadGzip(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return data, nil
}
