package policy

import (
	"fmt"
	"slices"
	"strings"
)

// checkDefaultDeny requires, for every Namespace the overlay creates, a
// NetworkPolicy in it that selects every pod and denies all ingress, and
// one (the same or another) that denies all egress. Namespaces the overlay
// does not create are out of scope.
func checkDefaultDeny(e *env) []Finding {
	var out []Finding
	for _, ns := range e.objs {
		if str(ns, "kind") != "Namespace" || str(ns, "apiVersion") != "v1" {
			continue
		}
		name := str(ns, "metadata", "name")
		ingress, egress := false, false
		for _, np := range e.objs {
			if str(np, "kind") != "NetworkPolicy" || str(np, "apiVersion") != networkingGroupV1 || str(np, "metadata", "namespace") != name {
				continue
			}
			i, eg := denies(np)
			ingress, egress = ingress || i, egress || eg
		}
		var missing []string
		if !ingress {
			missing = append(missing, "ingress")
		}
		if !egress {
			missing = append(missing, "egress")
		}
		if len(missing) > 0 {
			out = append(out, Finding{Object: objectID(ns), Field: "",
				Message: fmt.Sprintf("no default-deny NetworkPolicy for %s: add one with podSelector {}, policyTypes [Ingress, Egress] and no rules", strings.Join(missing, " and "))})
		}
	}
	return out
}

// denies reports whether a NetworkPolicy selects every pod of its
// namespace and denies all ingress or egress traffic.
func denies(np Object) (ingress, egress bool) {
	spec := mapAt(np, "spec")
	sel := mapAt(spec, "podSelector")
	if len(mapAt(sel, "matchLabels")) > 0 || len(slice(sel, "matchExpressions")) > 0 {
		return false, false
	}
	types := strs(spec, "policyTypes")
	if _, set := spec["policyTypes"]; !set {
		// The API server's default: Ingress, plus Egress if egress rules exist.
		types = []string{"Ingress"}
		if Get(spec, "egress") != nil {
			types = append(types, "Egress")
		}
	}
	ingress = slices.Contains(types, "Ingress") && len(slice(spec, "ingress")) == 0
	egress = slices.Contains(types, "Egress") && len(slice(spec, "egress")) == 0
	return ingress, egress
}
