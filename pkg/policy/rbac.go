package policy

import (
	"fmt"
	"slices"
	"strings"
)

// checkClusterAdmin forbids binding the ClusterRole cluster-admin, and
// binding admin or edit cluster-wide. admin and edit in a RoleBinding stay
// within one namespace and are allowed.
func checkClusterAdmin(e *env) []Finding {
	var out []Finding
	for _, o := range e.objs {
		kind := str(o, "kind")
		if apiGroup(str(o, "apiVersion")) != rbacGroup || (kind != "RoleBinding" && kind != "ClusterRoleBinding") {
			continue
		}
		if str(o, "roleRef", "kind") != "ClusterRole" {
			continue
		}
		role := str(o, "roleRef", "name")
		if role == "cluster-admin" || (kind == "ClusterRoleBinding" && (role == "admin" || role == "edit")) {
			out = append(out, Finding{Object: objectID(o), Field: "roleRef.name",
				Message: fmt.Sprintf("binds ClusterRole %s%s", role, subjects(o))})
		}
	}
	return out
}

func subjects(o Object) string {
	var s []string
	for _, x := range slice(o, "subjects") {
		name := str(x, "name")
		if ns := str(x, "namespace"); ns != "" {
			name = ns + "/" + name
		}
		s = append(s, str(x, "kind")+" "+name)
	}
	if len(s) == 0 {
		return ""
	}
	return " to " + strings.Join(s, ", ")
}

// rule is one rule of a Role or ClusterRole.
type rule struct {
	id, path                       string
	verbs, resources, groups, urls []string
}

func rules(e *env) []rule {
	var out []rule
	for _, o := range e.objs {
		kind := str(o, "kind")
		if apiGroup(str(o, "apiVersion")) != rbacGroup || (kind != "Role" && kind != "ClusterRole") {
			continue
		}
		for i, r := range slice(o, "rules") {
			out = append(out, rule{
				id: objectID(o), path: fmt.Sprintf("rules[%d]", i),
				verbs: strs(r, "verbs"), resources: strs(r, "resources"),
				groups: strs(r, "apiGroups"), urls: strs(r, "nonResourceURLs"),
			})
		}
	}
	return out
}

// checkWildcard forbids * in the verbs, resources (including pods/* and
// */scale forms), apiGroups and nonResourceURLs of rules.
func checkWildcard(e *env) []Finding {
	var out []Finding
	for _, r := range rules(e) {
		for _, f := range []struct {
			name string
			list []string
		}{{"apiGroups", r.groups}, {"nonResourceURLs", r.urls}, {"resources", r.resources}, {"verbs", r.verbs}} {
			for i, v := range f.list {
				if strings.Contains(v, "*") {
					out = append(out, Finding{Object: r.id, Field: fmt.Sprintf("%s.%s[%d]", r.path, f.name, i),
						Message: fmt.Sprintf("wildcard %q in %s", v, f.name)})
				}
			}
		}
	}
	return out
}

// checkEscalation forbids rules that let a subject widen its own rights:
// writing roles or bindings, the escalate, bind and impersonate verbs, and
// every verb on the resources impersonation acts on.
func checkEscalation(e *env) []Finding {
	var out []Finding
	rbacResources := []string{"roles", "clusterroles", "rolebindings", "clusterrolebindings", "*"}
	for _, r := range rules(e) {
		anyVerb := slices.Contains(r.verbs, "*")
		var writes []string
		for _, v := range r.verbs {
			if v == "create" || v == "update" || v == "patch" || v == "*" {
				writes = append(writes, v)
			}
		}
		if len(writes) > 0 && (slices.Contains(r.groups, rbacGroup) || slices.Contains(r.groups, "*")) {
			for _, res := range r.resources {
				if slices.Contains(rbacResources, res) {
					out = append(out, Finding{Object: r.id, Field: r.path + ".resources",
						Message: fmt.Sprintf("grants %s on %s: the subject can write its own permissions", strings.Join(writes, ", "), res)})
					break
				}
			}
		}
		for i, v := range r.verbs {
			if v == "escalate" || v == "bind" || v == "impersonate" {
				out = append(out, Finding{Object: r.id, Field: fmt.Sprintf("%s.verbs[%d]", r.path, i),
					Message: fmt.Sprintf("grants %s on %s", v, strings.Join(r.resources, ", "))})
			}
		}
		if anyVerb {
			for _, res := range r.resources {
				if res == "users" || res == "groups" || res == "serviceaccounts" || res == "uids" || strings.HasPrefix(res, "userextras") {
					out = append(out, Finding{Object: r.id, Field: r.path + ".verbs",
						Message: fmt.Sprintf("grants * on %s, which includes impersonate", res)})
					break
				}
			}
		}
	}
	return out
}
