package verify

import (
	"fmt"

	"github.com/fleetgen/fleetgen/pkg/policy"
	"github.com/fleetgen/fleetgen/pkg/schema"
)

// ObjectRef names one built object.
type ObjectRef struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
}

// String names the object as the policies do: Kind/namespace/name, or
// Kind/name for objects without a namespace.
func (r ObjectRef) String() string {
	if r.Namespace == "" {
		return r.Kind + "/" + r.Name
	}
	return r.Kind + "/" + r.Namespace + "/" + r.Name
}

// SchemaError is one field of one built object that does not match the
// schema of its kind.
type SchemaError struct {
	Object ObjectRef
	// Path is the dotted path of the field
	// ("spec.template.spec.containers[0].image"); empty for the object
	// itself.
	Path string
	// Message says what is wrong.
	Message string
}

// String reads like a policy finding:
// "schema: Deployment/edge-app/edge-app spec.replicas: expected ...".
func (e SchemaError) String() string {
	s := "schema: " + e.Object.String()
	if e.Path != "" {
		s += " " + e.Path
	}
	return s + ": " + e.Message
}

// validateObjects checks every object against the schema of its kind. It
// returns the field errors and the objects whose kind has no schema (not
// checked, and not failed), both in output order.
func validateObjects(v *schema.Validator, objs []policy.Object) (errs []SchemaError, skipped []ObjectRef) {
	for _, o := range objs {
		r := v.Validate(o)
		ref := refOf(o)
		if r.Skipped {
			skipped = append(skipped, ref)
			continue
		}
		for _, fe := range r.Errors {
			errs = append(errs, SchemaError{Object: ref, Path: fe.Path, Message: fe.Msg})
		}
	}
	return errs, skipped
}

func refOf(o policy.Object) ObjectRef {
	s := func(m map[string]any, k string) string { v, _ := m[k].(string); return v }
	md, _ := o["metadata"].(map[string]any)
	return ObjectRef{APIVersion: s(o, "apiVersion"), Kind: s(o, "kind"), Namespace: s(md, "namespace"), Name: s(md, "name")}
}

// decodeObjects decodes the parsed output into the plain maps the schema
// validator and the policies read.
func decodeObjects(objs []object) ([]policy.Object, error) {
	out := make([]policy.Object, 0, len(objs))
	for _, o := range objs {
		var m map[string]any
		if err := o.doc.Decode(&m); err != nil {
			return nil, fmt.Errorf("%s: decoding the built object: %w", o, err)
		}
		out = append(out, m)
	}
	return out, nil
}

// siteFacts returns the facts the policies see for t: t.Facts, or only the
// site's name when the tree carries no facts (architecture and capacity
// then unknown).
func siteFacts(t Target) policy.Facts {
	var f policy.Facts
	if t.Facts != nil {
		f = *t.Facts
	}
	if f.Site == "" {
		f.Site = t.Site
	}
	if f.ConfigMapName == "" {
		f.ConfigMapName = t.ConfigMapName
	}
	if f.ConfigMapName == "" {
		f.ConfigMapName = DefaultConfigMapName
	}
	return f
}

// flatten splits joined errors into their parts, so each problem of a site
// is listed on its own.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}
