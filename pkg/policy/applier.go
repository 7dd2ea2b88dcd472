package policy

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// ApplierRBAC names the findings of ApplierCoverage.
const ApplierRBAC = "applier-rbac"

// ApplierOptionalAnnotation, on a Role of an applier file, lists
// (comma-separated, "resource" for the core group, else "resource.group")
// the resources the Role may grant in its namespace before the overlay
// has objects of them, such as the Secrets a site adds by hand.
const ApplierOptionalAnnotation = "fleetgen.dev/applier-optional-resources"

// HelmReleaseLabel is the label helm-controller puts on every object of a
// Flux HelmRelease: such objects are applied by helm-controller, not by
// the site's applier, and ApplierCoverage leaves them out.
const HelmReleaseLabel = "helm.toolkit.fluxcd.io/name"

// ApplierVerbs are what a least-privilege applier may do with each kind it
// applies, and all it may do: server-side apply and its dry run (get,
// create, patch, update), health checks (list, watch) and pruning (delete).
var ApplierVerbs = []string{"get", "list", "watch", "create", "update", "patch", "delete"}

// Resource is the API resource of a kind: its group, its plural resource
// name and whether its objects live in a namespace.
type Resource struct {
	Group, Resource string
	Namespaced      bool
}

// builtinResources maps "group/Kind" of the built-in kinds (and a few
// well-known ones) to their resource. Other kinds use ResourceOf's
// lowercase-plural rule.
var builtinResources = map[string]Resource{
	"/Binding":               {"", "bindings", true},
	"/ConfigMap":             {"", "configmaps", true},
	"/Endpoints":             {"", "endpoints", true},
	"/LimitRange":            {"", "limitranges", true},
	"/Namespace":             {"", "namespaces", false},
	"/Node":                  {"", "nodes", false},
	"/PersistentVolume":      {"", "persistentvolumes", false},
	"/PersistentVolumeClaim": {"", "persistentvolumeclaims", true},
	"/Pod":                   {"", "pods", true},
	"/PodTemplate":           {"", "podtemplates", true},
	"/ReplicationController": {"", "replicationcontrollers", true},
	"/ResourceQuota":         {"", "resourcequotas", true},
	"/Secret":                {"", "secrets", true},
	"/Service":               {"", "services", true},
	"/ServiceAccount":        {"", "serviceaccounts", true},
	"admissionregistration.k8s.io/MutatingWebhookConfiguration":   {"admissionregistration.k8s.io", "mutatingwebhookconfigurations", false},
	"admissionregistration.k8s.io/ValidatingAdmissionPolicy":      {"admissionregistration.k8s.io", "validatingadmissionpolicies", false},
	"admissionregistration.k8s.io/ValidatingWebhookConfiguration": {"admissionregistration.k8s.io", "validatingwebhookconfigurations", false},
	"apiextensions.k8s.io/CustomResourceDefinition":               {"apiextensions.k8s.io", "customresourcedefinitions", false},
	"apps/DaemonSet":                                                {"apps", "daemonsets", true},
	"apps/Deployment":                                               {"apps", "deployments", true},
	"apps/ReplicaSet":                                               {"apps", "replicasets", true},
	"apps/StatefulSet":                                              {"apps", "statefulsets", true},
	"autoscaling/HorizontalPodAutoscaler":                           {"autoscaling", "horizontalpodautoscalers", true},
	"batch/CronJob":                                                 {"batch", "cronjobs", true},
	"batch/Job":                                                     {"batch", "jobs", true},
	"coordination.k8s.io/Lease":                                     {"coordination.k8s.io", "leases", true},
	"discovery.k8s.io/EndpointSlice":                                {"discovery.k8s.io", "endpointslices", true},
	"networking.k8s.io/Ingress":                                     {"networking.k8s.io", "ingresses", true},
	"networking.k8s.io/IngressClass":                                {"networking.k8s.io", "ingressclasses", false},
	"networking.k8s.io/NetworkPolicy":                               {"networking.k8s.io", "networkpolicies", true},
	"node.k8s.io/RuntimeClass":                                      {"node.k8s.io", "runtimeclasses", false},
	"policy/PodDisruptionBudget":                                    {"policy", "poddisruptionbudgets", true},
	"rbac.authorization.k8s.io/ClusterRole":                         {"rbac.authorization.k8s.io", "clusterroles", false},
	"rbac.authorization.k8s.io/ClusterRoleBinding":                  {"rbac.authorization.k8s.io", "clusterrolebindings", false},
	"rbac.authorization.k8s.io/Role":                                {"rbac.authorization.k8s.io", "roles", true},
	"rbac.authorization.k8s.io/RoleBinding":                         {"rbac.authorization.k8s.io", "rolebindings", true},
	"scheduling.k8s.io/PriorityClass":                               {"scheduling.k8s.io", "priorityclasses", false},
	"storage.k8s.io/CSIDriver":                                      {"storage.k8s.io", "csidrivers", false},
	"storage.k8s.io/StorageClass":                                   {"storage.k8s.io", "storageclasses", false},
	"storage.k8s.io/VolumeAttachment":                               {"storage.k8s.io", "volumeattachments", false},
	"cert-manager.io/ClusterIssuer":                                 {"cert-manager.io", "clusterissuers", false},
	"kustomize.toolkit.fluxcd.io/Kustomization":                     {"kustomize.toolkit.fluxcd.io", "kustomizations", true},
	"source.toolkit.fluxcd.io/GitRepository":                        {"source.toolkit.fluxcd.io", "gitrepositories", true},
	"source.toolkit.fluxcd.io/OCIRepository":                        {"source.toolkit.fluxcd.io", "ocirepositories", true},
	"snapshot.storage.k8s.io/VolumeSnapshotClass":                   {"snapshot.storage.k8s.io", "volumesnapshotclasses", false},
	"monitoring.coreos.com/ServiceMonitor":                          {"monitoring.coreos.com", "servicemonitors", true},
	"bitnami.com/SealedSecret":                                      {"bitnami.com", "sealedsecrets", true},
	"external-secrets.io/ExternalSecret":                            {"external-secrets.io", "externalsecrets", true},
	"external-secrets.io/ClusterSecretStore":                        {"external-secrets.io", "clustersecretstores", false},
	"helm.toolkit.fluxcd.io/HelmRelease":                            {"helm.toolkit.fluxcd.io", "helmreleases", true},
	"gateway.networking.k8s.io/GatewayClass":                        {"gateway.networking.k8s.io", "gatewayclasses", false},
	"gateway.networking.k8s.io/HTTPRoute":                           {"gateway.networking.k8s.io", "httproutes", true},
	"cert-manager.io/Certificate":                                   {"cert-manager.io", "certificates", true},
	"cert-manager.io/Issuer":                                        {"cert-manager.io", "issuers", true},
	"apiregistration.k8s.io/APIService":                             {"apiregistration.k8s.io", "apiservices", false},
	"flowcontrol.apiserver.k8s.io/FlowSchema":                       {"flowcontrol.apiserver.k8s.io", "flowschemas", false},
	"certificates.k8s.io/CertificateSigningRequest":                 {"certificates.k8s.io", "certificatesigningrequests", false},
	"resource.k8s.io/DeviceClass":                                   {"resource.k8s.io", "deviceclasses", false},
	"networking.k8s.io/IPAddress":                                   {"networking.k8s.io", "ipaddresses", false},
	"networking.k8s.io/ServiceCIDR":                                 {"networking.k8s.io", "servicecidrs", false},
	"storage.k8s.io/CSINode":                                        {"storage.k8s.io", "csinodes", false},
	"admissionregistration.k8s.io/ValidatingAdmissionPolicyBinding": {"admissionregistration.k8s.io", "validatingadmissionpolicybindings", false},
}

// ResourceOf returns the resource of an object of kind in apiVersion:
// from a fixed table for the built-in kinds (and a few well-known custom
// ones); for any other kind, the lowercase kind made plural the way
// Kubernetes code generators do it ("y" after a consonant becomes "ies";
// "s", "x", "z", "ch" and "sh" take "es"; otherwise "s"), namespaced when
// the object names a namespace.
func ResourceOf(apiVersion, kind string, namespaced bool) Resource {
	group := ""
	if i := strings.Index(apiVersion, "/"); i >= 0 {
		group = apiVersion[:i]
	}
	if r, ok := builtinResources[group+"/"+kind]; ok {
		return r
	}
	return Resource{Group: group, Resource: plural(strings.ToLower(kind)), Namespaced: namespaced}
}

func plural(s string) string {
	switch {
	case s == "":
		return s
	case strings.HasSuffix(s, "y") && len(s) > 1 && !strings.ContainsRune("aeiou", rune(s[len(s)-2])):
		return s[:len(s)-1] + "ies"
	case strings.HasSuffix(s, "s"), strings.HasSuffix(s, "x"), strings.HasSuffix(s, "z"),
		strings.HasSuffix(s, "ch"), strings.HasSuffix(s, "sh"):
		return s + "es"
	}
	return s + "s"
}

// need is what the built objects require of the applier for one resource
// in one namespace ("" for cluster-scoped resources).
type need struct {
	ns, group, resource string
}

// grant is one rule of a role bound to the applier, in one scope.
type grant struct {
	// ns is the namespace the rule applies in; "" means every namespace
	// (a ClusterRole bound by a ClusterRoleBinding).
	ns                              string
	groups, resources, names, verbs []string
	// where names the rule: Kind/[namespace/]name rules[i].
	where string
	// optional are the resources ("resource[.group]") the rule's Role
	// may grant without a built object (ApplierOptionalAnnotation).
	optional []string
}

// ApplierCoverage checks a site's least-privilege applier against the
// site's built objects. applier holds the objects of the site's applier
// file (clusters/<site>/applier.yaml): one ServiceAccount, the roles and
// the bindings that grant it rights. The rules bound to the service
// account must allow ApplierVerbs on the resource of every built object,
// in its namespace (a Namespace by its name), and nothing else: no
// resource no built object has, no other verb, no wildcard, no namespaced
// resource in every namespace, and no namespace other than the built ones.
// Findings name the site, the kind and, for extra rights, the rule.
func ApplierCoverage(site string, built, applier []Object) []Finding {
	var out []Finding
	add := func(object, field, format string, args ...any) {
		out = append(out, Finding{Policy: ApplierRBAC, Object: object, Field: field, Message: fmt.Sprintf("site %q: ", site) + fmt.Sprintf(format, args...)})
	}
	siteObj := siteObjectKind + "/" + site

	// The applier's service account.
	var saNS, saName string
	for _, o := range applier {
		if str(o, "apiVersion") == "v1" && str(o, "kind") == "ServiceAccount" {
			if saName != "" {
				add(siteObj, "", "the applier file has more than one ServiceAccount; the applier is one service account")
				return out
			}
			saNS, saName = meta(o, "namespace"), meta(o, "name")
		}
	}
	if saName == "" {
		add(siteObj, "", "the applier file has no ServiceAccount: the site would apply with the GitOps controller's own rights")
		return out
	}
	sa := saNS + "/" + saName

	roles := map[string][]any{} // "Role/ns/name" or "ClusterRole/name" -> rules
	optional := map[string][]string{}
	for _, o := range applier {
		if str(o, "apiVersion") != rbacGroup+"/v1" {
			continue
		}
		rules, _ := o["rules"].([]any)
		switch str(o, "kind") {
		case "Role":
			key := "Role/" + meta(o, "namespace") + "/" + meta(o, "name")
			roles[key] = rules
			if v := str(o, "metadata", "annotations", ApplierOptionalAnnotation); v != "" {
				optional[key] = strings.Split(v, ",")
			}
		case "ClusterRole":
			roles["ClusterRole/"+meta(o, "name")] = rules
		}
	}
	var grants []grant
	for _, o := range applier {
		kind := str(o, "kind")
		if str(o, "apiVersion") != rbacGroup+"/v1" || (kind != "RoleBinding" && kind != "ClusterRoleBinding") {
			continue
		}
		if !bindsSA(o, saNS, saName) {
			continue
		}
		ref, _ := o["roleRef"].(map[string]any)
		refKind, _ := ref["kind"].(string)
		refName, _ := ref["name"].(string)
		ns := ""
		if kind == "RoleBinding" {
			ns = meta(o, "namespace")
		}
		key := "ClusterRole/" + refName
		if refKind == "Role" {
			key = "Role/" + ns + "/" + refName
		}
		rules, ok := roles[key]
		if !ok {
			add(kind+"/"+objName(o), "roleRef", "binds %s, which is not in the applier file, so its rights cannot be checked", key)
			continue
		}
		for i, r := range rules {
			rm, _ := r.(map[string]any)
			grants = append(grants, grant{
				ns: ns, groups: strs(rm["apiGroups"]), resources: strs(rm["resources"]),
				names: strs(rm["resourceNames"]), verbs: strs(rm["verbs"]),
				where: fmt.Sprintf("%s rules[%d]", key, i), optional: optional[key],
			})
		}
	}

	// What the built objects need.
	needs := map[need][]string{} // -> names
	kinds := map[need]string{}
	var order []need
	for _, o := range built {
		if str(o, "metadata", "labels", HelmReleaseLabel) != "" {
			// helm-controller applies the objects of a HelmRelease with
			// its own rights, not the applier's (and labels them so).
			continue
		}
		ns := meta(o, "namespace")
		r := ResourceOf(str(o, "apiVersion"), str(o, "kind"), ns != "")
		if !r.Namespaced {
			ns = ""
		}
		n := need{ns, r.Group, r.Resource}
		if _, ok := needs[n]; !ok {
			order = append(order, n)
			kinds[n] = str(o, "kind")
		}
		needs[n] = append(needs[n], meta(o, "name"))
	}

	// Every built object is covered.
	for _, n := range order {
		var missing []string
		for _, v := range ApplierVerbs {
			if !allows(grants, n, v, needs[n]) {
				missing = append(missing, v)
			}
		}
		if len(missing) == 0 {
			continue
		}
		obj := kinds[n] + "/" + needs[n][0]
		where := "cluster-wide"
		if n.ns != "" {
			obj = kinds[n] + "/" + n.ns + "/" + needs[n][0]
			where = "in namespace " + n.ns
		}
		add(obj, "", "the overlay has kind %s (%s), but its applier %s may not %s it %s: add %s to the applier's %s (template partial gitops.applier) and have an administrator apply clusters/%s/applier.yaml again",
			kinds[n], groupResource(n.group, n.resource), sa, strings.Join(missing, ", "), where, groupResource(n.group, n.resource), roleFor(n.ns), site)
	}

	// Nothing else is granted.
	for _, g := range grants {
		for _, v := range g.verbs {
			if !slices.Contains(ApplierVerbs, v) {
				add(siteObj, g.where, "grants verb %q, which applying needs not (allowed: %s)", v, strings.Join(ApplierVerbs, ", "))
			}
		}
		if slices.Contains(g.groups, "*") || slices.Contains(g.resources, "*") {
			add(siteObj, g.where, "grants a wildcard API group or resource; list the resources the overlay contains")
			continue
		}
		for _, grp := range g.groups {
			for _, res := range g.resources {
				if strings.Contains(res, "/") {
					add(siteObj, g.where, "grants subresource %s, which applying needs not", groupResource(grp, res))
					continue
				}
				if msg := extra(g, grp, res, needs); msg != "" {
					add(siteObj, g.where, "%s", msg)
				}
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return compareFindings(out[i], out[j]) < 0 })
	return out
}

// extra says why the rule g grants more than the built objects need on
// group/res, or "".
func extra(g grant, grp, res string, needs map[need][]string) string {
	gr := groupResource(grp, res)
	var inNS []string
	var cluster bool
	var clusterNames []string
	for n, names := range needs {
		if n.group != grp || n.resource != res {
			continue
		}
		if n.ns == "" {
			cluster = true
			clusterNames = append(clusterNames, names...)
		} else {
			inNS = append(inNS, n.ns)
		}
	}
	switch {
	case g.ns == "" && len(inNS) > 0:
		return fmt.Sprintf("grants %s in every namespace; the overlay has it only in %s: grant it with a Role there", gr, strings.Join(inNS, ", "))
	case g.ns == "" && !cluster && len(inNS) == 0:
		return fmt.Sprintf("grants %s, which the overlay does not contain", gr)
	case g.ns != "" && !slices.Contains(inNS, g.ns) && slices.Contains(g.optional, gr):
		return ""
	case g.ns != "" && !slices.Contains(inNS, g.ns):
		return fmt.Sprintf("grants %s in namespace %s, where the overlay has none", gr, g.ns)
	}
	if g.ns == "" && cluster {
		if grp == "" && res == "namespaces" && len(g.names) == 0 {
			return fmt.Sprintf("grants every namespace; limit it with resourceNames to the overlay's: %s", strings.Join(clusterNames, ", "))
		}
		for _, name := range g.names {
			if !slices.Contains(clusterNames, name) {
				return fmt.Sprintf("grants %s %q, which the overlay does not contain", gr, name)
			}
		}
	}
	return ""
}

// allows reports whether some grant allows verb on every named object of n.
func allows(grants []grant, n need, verb string, names []string) bool {
	for _, name := range names {
		ok := false
		for _, g := range grants {
			if (g.ns == "" || g.ns == n.ns) && matches(g.groups, n.group) && matches(g.resources, n.resource) &&
				matches(g.verbs, verb) && (len(g.names) == 0 || slices.Contains(g.names, name)) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func matches(list []string, v string) bool {
	return slices.Contains(list, v) || slices.Contains(list, "*")
}

func bindsSA(o Object, ns, name string) bool {
	subjects, _ := o["subjects"].([]any)
	for _, s := range subjects {
		m, _ := s.(map[string]any)
		if m["kind"] == "ServiceAccount" && m["name"] == name && m["namespace"] == ns {
			return true
		}
	}
	return false
}

func roleFor(ns string) string {
	if ns == "" {
		return "ClusterRole"
	}
	return "Role in namespace " + ns
}

func groupResource(group, resource string) string {
	if group == "" {
		return resource
	}
	return resource + "." + group
}

func meta(o Object, k string) string {
	m, _ := o["metadata"].(map[string]any)
	s, _ := m[k].(string)
	return s
}

func objName(o Object) string {
	if ns := meta(o, "namespace"); ns != "" {
		return ns + "/" + meta(o, "name")
	}
	return meta(o, "name")
}
