package render

import (
	"fmt"
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"
)

// TestDefaultSetHardening asserts, on every site's built output, the
// hardening the default template set promises: a Namespace enforcing the
// Pod Security "restricted" profile; a Deployment whose container "app"
// (image "app", overridden per site) has the restricted fields and
// requests/limits that fit a 2 GiB device; no service-account token; a
// ServiceAccount; a Role that only reads ConfigMaps, bound to that account;
// a Service; a default-deny NetworkPolicy for Ingress and Egress plus DNS
// egress.
func TestDefaultSetHardening(t *testing.T) {
	fleet := defaultFleet()
	built := buildOverlays(t, renderDefault(t, fleet))
	for _, site := range fleet.Sites {
		objs := built[site.Name]
		t.Run(site.Name, func(t *testing.T) {
			expect := func(what string, got, want any) {
				t.Helper()
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("%s = %v, want %v", what, got, want)
				}
			}
			ns := find(objs, "Namespace", "edge-app")
			if ns == nil {
				t.Fatal("no Namespace")
			}
			for _, mode := range []string{"enforce", "audit", "warn"} {
				expect("namespace label "+mode, dig(ns, "metadata", "labels", "pod-security.kubernetes.io/"+mode), "restricted")
			}

			dep := find(objs, "Deployment", "edge-app")
			if dep == nil {
				t.Fatal("no Deployment")
			}
			pod := dig(dep, "spec", "template", "spec")
			expect("automountServiceAccountToken", dig(pod, "automountServiceAccountToken"), false)
			expect("serviceAccountName", dig(pod, "serviceAccountName"), "edge-app")
			expect("pod runAsNonRoot", dig(pod, "securityContext", "runAsNonRoot"), true)
			expect("pod seccompProfile", dig(pod, "securityContext", "seccompProfile", "type"), "RuntimeDefault")
			containers, _ := dig(pod, "containers").([]any)
			if len(containers) != 1 {
				t.Fatalf("%d containers, want 1", len(containers))
			}
			c := containers[0]
			expect("container name", dig(c, "name"), "app")
			expect("allowPrivilegeEscalation", dig(c, "securityContext", "allowPrivilegeEscalation"), false)
			expect("readOnlyRootFilesystem", dig(c, "securityContext", "readOnlyRootFilesystem"), true)
			expect("runAsNonRoot", dig(c, "securityContext", "runAsNonRoot"), true)
			expect("capabilities.drop", dig(c, "securityContext", "capabilities", "drop"), []any{"ALL"})
			for _, kind := range []string{"requests", "limits"} {
				for _, res := range []string{"cpu", "memory"} {
					s, ok := dig(c, "resources", kind, res).(string)
					if !ok {
						t.Errorf("resources.%s.%s missing", kind, res)
						continue
					}
					q := resource.MustParse(s)
					if res == "memory" && q.Cmp(resource.MustParse("1Gi")) > 0 {
						t.Errorf("resources.%s.memory %s does not fit a 2 GiB device next to K3s", kind, s)
					}
					if res == "cpu" && q.Cmp(resource.MustParse("1")) > 0 {
						t.Errorf("resources.%s.cpu %s is more than a small device offers", kind, s)
					}
				}
			}

			sa := find(objs, "ServiceAccount", "edge-app")
			if sa == nil {
				t.Fatal("no ServiceAccount")
			}
			expect("ServiceAccount automountServiceAccountToken", dig(sa, "automountServiceAccountToken"), false)
			role := find(objs, "Role", "edge-app")
			if role == nil {
				t.Fatal("no Role")
			}
			wantRules := []any{map[string]any{"apiGroups": []any{""}, "resources": []any{"configmaps"}, "verbs": []any{"get", "list", "watch"}}}
			if !reflect.DeepEqual(dig(role, "rules"), wantRules) {
				t.Errorf("Role rules = %v, want read-only configmaps", dig(role, "rules"))
			}
			rb := find(objs, "RoleBinding", "edge-app")
			if rb == nil {
				t.Fatal("no RoleBinding")
			}
			expect("RoleBinding roleRef", fmt.Sprint(dig(rb, "roleRef", "kind"))+"/"+fmt.Sprint(dig(rb, "roleRef", "name")), "Role/edge-app")
			expect("RoleBinding subject", fmt.Sprint(dig(rb, "subjects", 0, "kind"))+"/"+fmt.Sprint(dig(rb, "subjects", 0, "name")), "ServiceAccount/edge-app")
			if find(objs, "Service", "edge-app") == nil {
				t.Error("no Service")
			}

			deny := find(objs, "NetworkPolicy", "default-deny")
			if deny == nil {
				t.Fatal("no default-deny NetworkPolicy")
			}
			expect("default-deny podSelector", dig(deny, "spec", "podSelector"), map[string]any{})
			expect("default-deny policyTypes", dig(deny, "spec", "policyTypes"), []any{"Ingress", "Egress"})
			if dig(deny, "spec", "ingress") != nil || dig(deny, "spec", "egress") != nil {
				t.Error("default-deny allows traffic")
			}
			dns := find(objs, "NetworkPolicy", "allow-dns")
			if dns == nil {
				t.Fatal("no DNS egress NetworkPolicy")
			}
			expect("DNS egress port", dig(dns, "spec", "egress", 0, "ports", 0, "port"), 53)
			expect("DNS egress to", dig(dns, "spec", "egress", 0, "to", 0, "podSelector", "matchLabels", "k8s-app"), "kube-dns")
		})
	}
}
