package schema

import (
	"errors"
	"fmt"
	"sort"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Helpers only tests call: production code uses the functions they wrap.

// Err joins the errors of r into one error, each line naming the object
// and the field, or returns nil when there are none.
func (r Result) Err() error {
	if len(r.Errors) == 0 {
		return nil
	}
	obj := r.Object()
	errs := make([]error, len(r.Errors))
	for i, fe := range r.Errors {
		errs[i] = fmt.Errorf("%s: %w", obj, fe)
	}
	return errors.Join(errs...)
}

// Known reports whether v has a schema for apiVersion and kind.
func (v *Validator) Known(apiVersion, kind string) bool {
	_, ok := v.kinds[gvKey{apiVersion, kind}]
	return ok
}

// Kinds lists the known kinds, sorted by apiVersion and kind.
func (v *Validator) Kinds() []schema.GroupVersionKind {
	out := make([]schema.GroupVersionKind, 0, len(v.kinds))
	for k := range v.kinds {
		out = append(out, schema.FromAPIVersionAndKind(k.apiVersion, k.kind))
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Group != b.Group {
			return a.Group < b.Group
		}
		if a.Version != b.Version {
			return a.Version < b.Version
		}
		return a.Kind < b.Kind
	})
	return out
}
