package policy

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// builtYAML is what the default template set's overlay builds to, reduced
// to what the coverage check reads.
const builtYAML = `
apiVersion: v1
kind: Namespace
metadata: {name: edge-app}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: edge-app, namespace: edge-app}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: edge-app, namespace: edge-app}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: edge-app, namespace: edge-app}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: site-config-5h2t7, namespace: edge-app}
---
apiVersion: v1
kind: Service
metadata: {name: edge-app, namespace: edge-app}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: edge-app, namespace: edge-app}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: edge-app}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-dns, namespace: edge-app}
`

// applierYAML is the applier file of a site of that overlay.
const applierYAML = `
apiVersion: v1
kind: Namespace
metadata: {name: edge-app}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: fleet-applier, namespace: flux-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: fleet-applier, namespace: edge-app}
rules:
  - apiGroups: [""]
    resources: [configmaps, serviceaccounts, services]
    verbs: [get, list, watch, create, update, patch, delete]
  - apiGroups: [apps]
    resources: [deployments]
    verbs: [get, list, watch, create, update, patch, delete]
  - apiGroups: [networking.k8s.io]
    resources: [networkpolicies]
    verbs: [get, list, watch, create, update, patch, delete]
  - apiGroups: [rbac.authorization.k8s.io]
    resources: [rolebindings, roles]
    verbs: [get, list, watch, create, update, patch, delete]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: fleet-applier, namespace: edge-app}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: fleet-applier}
subjects: [{kind: ServiceAccount, name: fleet-applier, namespace: flux-system}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: fleet-applier-edge-app}
rules:
  - apiGroups: [""]
    resources: [namespaces]
    resourceNames: [edge-app]
    verbs: [get, list, watch, create, update, patch, delete]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: fleet-applier-edge-app}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: fleet-applier-edge-app}
subjects: [{kind: ServiceAccount, name: fleet-applier, namespace: flux-system}]
`

func decodeDocs(t *testing.T, s string) []Object {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader([]byte(s)))
	var out []Object
	for {
		var m map[string]any
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
}

func TestApplierCoverage(t *testing.T) {
	for _, tc := range []struct {
		name           string
		built, applier string
		want           []string // substrings, one per finding, in order
	}{
		{name: "exact", built: builtYAML, applier: applierYAML},
		{
			name:    "new kind in the base",
			built:   builtYAML + "---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: edge-app, namespace: edge-app}\n",
			applier: applierYAML,
			want:    []string{`applier-rbac: PodDisruptionBudget/edge-app/edge-app: site "s1": the overlay has kind PodDisruptionBudget (poddisruptionbudgets.policy), but its applier flux-system/fleet-applier may not get, list, watch, create, update, patch, delete it in namespace edge-app`},
		},
		{
			name:    "new cluster-scoped kind",
			built:   builtYAML + "---\napiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata: {name: wasmtime}\n",
			applier: applierYAML,
			want:    []string{`RuntimeClass/wasmtime: site "s1": the overlay has kind RuntimeClass (runtimeclasses.node.k8s.io), but its applier flux-system/fleet-applier may not get, list, watch, create, update, patch, delete it cluster-wide`},
		},
		{
			name:    "custom kind by lowercase plural",
			built:   builtYAML + "---\napiVersion: example.com/v1\nkind: Policy\nmetadata: {name: p, namespace: edge-app}\n",
			applier: applierYAML,
			want:    []string{`(policies.example.com)`},
		},
		{
			name:    "extra resource",
			built:   builtYAML,
			applier: strings.Replace(applierYAML, "[configmaps, serviceaccounts, services]", "[configmaps, secrets, serviceaccounts, services]", 1),
			want:    []string{`Site/s1 Role/edge-app/fleet-applier rules[0]: site "s1": grants secrets in namespace edge-app, where the overlay has none`},
		},
		{
			name:    "optional resource without objects",
			built:   builtYAML,
			applier: strings.Replace(strings.Replace(applierYAML, "[configmaps, serviceaccounts, services]", "[configmaps, secrets, serviceaccounts, services]", 1), "metadata: {name: fleet-applier, namespace: edge-app}\nrules:", "metadata: {name: fleet-applier, namespace: edge-app, annotations: {fleetgen.dev/applier-optional-resources: secrets}}\nrules:", 1),
		},
		{
			name:    "optional resource with objects",
			built:   builtYAML + "---\napiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: edge-app}\n",
			applier: strings.Replace(strings.Replace(applierYAML, "[configmaps, serviceaccounts, services]", "[configmaps, secrets, serviceaccounts, services]", 1), "metadata: {name: fleet-applier, namespace: edge-app}\nrules:", "metadata: {name: fleet-applier, namespace: edge-app, annotations: {fleetgen.dev/applier-optional-resources: secrets}}\nrules:", 1),
		},
		{
			name:    "optional names another resource",
			built:   builtYAML,
			applier: strings.Replace(strings.Replace(applierYAML, "[configmaps, serviceaccounts, services]", "[configmaps, secrets, serviceaccounts, services]", 1), "metadata: {name: fleet-applier, namespace: edge-app}\nrules:", "metadata: {name: fleet-applier, namespace: edge-app, annotations: {fleetgen.dev/applier-optional-resources: pods}}\nrules:", 1),
			want:    []string{`grants secrets in namespace edge-app, where the overlay has none`},
		},
		{
			name:    "every namespace",
			built:   builtYAML,
			applier: strings.Replace(applierYAML, "    resourceNames: [edge-app]\n", "", 1),
			want:    []string{`ClusterRole/fleet-applier-edge-app rules[0]: site "s1": grants every namespace; limit it with resourceNames to the overlay's: edge-app`},
		},
		{
			name:    "other namespace name",
			built:   builtYAML,
			applier: strings.Replace(applierYAML, "resourceNames: [edge-app]", "resourceNames: [edge-app, kube-system]", 1),
			want:    []string{`grants namespaces "kube-system", which the overlay does not contain`},
		},
		{
			name:    "extra verb",
			built:   builtYAML,
			applier: strings.Replace(applierYAML, "[apps]\n    resources: [deployments]\n    verbs: [get, list, watch, create, update, patch, delete]", "[apps]\n    resources: [deployments]\n    verbs: [get, list, watch, create, update, patch, delete, escalate]", 1),
			want:    []string{`Role/edge-app/fleet-applier rules[1]: site "s1": grants verb "escalate"`},
		},
		{
			name:    "missing verb",
			built:   builtYAML,
			applier: strings.Replace(applierYAML, "[apps]\n    resources: [deployments]\n    verbs: [get, list, watch, create, update, patch, delete]", "[apps]\n    resources: [deployments]\n    verbs: [get, list, watch, create, update, patch]", 1),
			want:    []string{`Deployment/edge-app/edge-app: site "s1": the overlay has kind Deployment (deployments.apps), but its applier flux-system/fleet-applier may not delete it in namespace edge-app`},
		},
		{
			name:    "wildcard",
			built:   builtYAML,
			applier: strings.Replace(applierYAML, "[networking.k8s.io]\n    resources: [networkpolicies]", "[networking.k8s.io]\n    resources: [\"*\"]", 1),
			want:    []string{`rules[2]: site "s1": grants a wildcard API group or resource`},
		},
		{
			name:    "unbound role",
			built:   builtYAML,
			applier: strings.Replace(applierYAML, "subjects: [{kind: ServiceAccount, name: fleet-applier, namespace: flux-system}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole", "subjects: [{kind: ServiceAccount, name: other, namespace: flux-system}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole", 1),
			want: []string{
				"ConfigMap/edge-app/site-config-5h2t7", "Deployment/edge-app/edge-app", "NetworkPolicy/edge-app/default-deny",
				"Role/edge-app/edge-app", "RoleBinding/edge-app/edge-app", "Service/edge-app/edge-app", "ServiceAccount/edge-app/edge-app",
			},
		},
		{
			name:    "objects helm-controller applies",
			built:   builtYAML + "---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: agent, namespace: agents, labels: {helm.toolkit.fluxcd.io/name: agent}}\n",
			applier: applierYAML,
		},
		{
			name:    "a HelmRelease the applier may not create",
			built:   builtYAML + "---\napiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: agent, namespace: edge-app}\n",
			applier: applierYAML,
			want:    []string{`HelmRelease/edge-app/agent: site "s1": the overlay has kind HelmRelease (helmreleases.helm.toolkit.fluxcd.io), but its applier flux-system/fleet-applier may not`},
		},
		{
			name:    "no service account",
			built:   builtYAML,
			applier: strings.Replace(applierYAML, "kind: ServiceAccount\nmetadata", "kind: ConfigMap\nmetadata", 1),
			want:    []string{`Site/s1: site "s1": the applier file has no ServiceAccount`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ApplierCoverage("s1", decodeDocs(t, tc.built), decodeDocs(t, tc.applier))
			if len(got) != len(tc.want) {
				t.Fatalf("got %d findings, want %d:\n%v", len(got), len(tc.want), got)
			}
			for i, f := range got {
				if !strings.Contains(f.String(), tc.want[i]) {
					t.Errorf("finding %d = %q, want it to contain %q", i, f, tc.want[i])
				}
			}
		})
	}
}

func TestResourceOf(t *testing.T) {
	for _, tc := range []struct {
		apiVersion, kind string
		namespaced       bool
		want             Resource
	}{
		{"v1", "Namespace", true, Resource{"", "namespaces", false}},
		{"networking.k8s.io/v1", "Ingress", true, Resource{"networking.k8s.io", "ingresses", true}},
		{"example.com/v1", "Gateway", false, Resource{"example.com", "gateways", false}},
		{"example.com/v1", "Proxy", true, Resource{"example.com", "proxies", true}},
		{"example.com/v1", "Mesh", true, Resource{"example.com", "meshes", true}},
		{"example.com/v1", "Alias", true, Resource{"example.com", "aliases", true}},
	} {
		if got := ResourceOf(tc.apiVersion, tc.kind, tc.namespaced); got != tc.want {
			t.Errorf("ResourceOf(%q, %q) = %+v, want %+v", tc.apiVersion, tc.kind, got, tc.want)
		}
	}
}

// FuzzApplierCoverage feeds arbitrary applier files (and built objects)
// to the coverage check: it must never panic, and an applier file without
// a ServiceAccount is always a finding.
func FuzzApplierCoverage(f *testing.F) {
	f.Add(applierYAML, builtYAML)
	f.Add("kind: ServiceAccount\napiVersion: v1\n", "kind: Pod\napiVersion: v1\n")
	f.Add("apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nroleRef: 7\nsubjects: [1, {kind: ServiceAccount}]\n", "metadata: []\n")
	f.Fuzz(func(t *testing.T, applier, built string) {
		decode := func(s string) ([]Object, bool) {
			dec := yaml.NewDecoder(strings.NewReader(s))
			var out []Object
			for {
				var m map[string]any
				err := dec.Decode(&m)
				if errors.Is(err, io.EOF) {
					return out, true
				}
				if err != nil {
					return nil, false
				}
				if m != nil {
					out = append(out, m)
				}
			}
		}
		a, ok1 := decode(applier)
		b, ok2 := decode(built)
		if !ok1 || !ok2 {
			return
		}
		got := ApplierCoverage("s", b, a)
		hasSA := false
		for _, o := range a {
			hasSA = hasSA || (str(o, "apiVersion") == "v1" && str(o, "kind") == "ServiceAccount")
		}
		if !hasSA && len(got) == 0 {
			t.Fatalf("no ServiceAccount and no finding")
		}
	})
}
