package schema

import (
	"fmt"
	"reflect"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Validator checks decoded objects against registered Go API types. It is
// immutable after construction and safe for concurrent use.
type Validator struct {
	kinds map[gvKey]*typeInfo
}

type gvKey struct{ apiVersion, kind string }

// FieldError is one problem in an object: the dotted path of the field
// ("spec.template.spec.containers[0].image"; empty for the object itself)
// and what is wrong with it.
type FieldError struct {
	Path string
	Msg  string
}

// Error returns "path: msg".
func (e FieldError) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

// Result is the outcome of validating one object.
type Result struct {
	// GVK names the object's type as "apps/v1, Kind=Deployment".
	GVK string
	// Name and Namespace are the object's metadata.name and
	// metadata.namespace, when they are strings.
	Name, Namespace string
	// Skipped is set when no schema is known for the apiVersion and kind.
	// The object was not checked; callers must report it, not pass it.
	Skipped bool
	// Errors lists every problem found, sorted by path.
	Errors []FieldError
}

// Object names the object for messages: "Deployment apps/v1 shop/web".
func (r Result) Object() string {
	apiVersion, kind, _ := strings.Cut(r.GVK, ", Kind=")
	name := r.Name
	if r.Namespace != "" {
		name = r.Namespace + "/" + name
	}
	if name == "" {
		return kind + " " + apiVersion
	}
	return kind + " " + apiVersion + " " + name
}

// New returns a Validator that knows every kind of the stable and beta API
// groups of k8s.io/api (Kubernetes 1.37) that the API server still serves.
func New() *Validator {
	return NewWith(nil)
}

// NewWith returns a Validator that knows the kinds New knows plus types, for
// example the Go types of custom resources. A Go type given for a built-in
// kind replaces it. Types may be struct types or pointers to them.
func NewWith(types map[schema.GroupVersionKind]reflect.Type) *Validator {
	all := builtinTypes()
	for gvk, t := range types {
		all[gvk] = t
	}
	b := builder{seen: make(map[reflect.Type]*typeInfo)}
	v := &Validator{kinds: make(map[gvKey]*typeInfo, len(all))}
	for gvk, t := range all {
		apiVersion, kind := gvk.ToAPIVersionAndKind()
		v.kinds[gvKey{apiVersion, kind}] = b.build(t)
	}
	return v
}

// Validate checks obj, an object decoded from YAML or JSON into maps,
// slices and scalars, against the Go type registered for its apiVersion and
// kind, and reports every problem found.
func (v *Validator) Validate(obj map[string]any) Result {
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	r := Result{GVK: apiVersion + ", Kind=" + kind}
	if md, ok := obj["metadata"].(map[string]any); ok {
		r.Name, _ = md["name"].(string)
		r.Namespace, _ = md["namespace"].(string)
	}
	var w walker
	w.errs = r.Errors
	if apiVersion == "" || kind == "" {
		for _, f := range [...]string{"apiVersion", "kind"} {
			switch val, ok := obj[f]; {
			case !ok || val == nil:
				w.addf(nil, "missing required field %q", f)
			case val == "":
				w.addf(nil, "required field %q is empty", f)
			default:
				if _, isString := val.(string); !isString {
					w.push(seg{name: f})
					w.mismatch("string", val)
					w.pop()
				}
			}
		}
		r.Errors = w.sorted()
		return r
	}
	ti, ok := v.kinds[gvKey{apiVersion, kind}]
	if compiled, pinned := pinnedCRDs[gvKey{apiVersion, kind}]; !ok && pinned {
		crd, err := compiled()
		if err != nil {
			r.Errors = []FieldError{{Msg: fmt.Sprintf("the embedded CRD does not compile: %v", err)}}
			return r
		}
		r.Errors = crd.Validate(obj)
		return r
	}
	if !ok {
		if why, removed := removedKind(schema.FromAPIVersionAndKind(apiVersion, kind)); removed {
			w.push(seg{name: "apiVersion"})
			w.addf(nil, "%s %s is no longer served: %s", apiVersion, kind, why)
			w.pop()
			r.Errors = w.sorted()
			return r
		}
		r.Skipped = true
		return r
	}
	w.value(ti, obj)
	if ti.meta {
		w.checkName(obj)
	}
	r.Errors = w.sorted()
	return r
}
