package policy

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// decode reads a multi-document YAML fixture into objects.
func decode(t *testing.T, docs string) []Object {
	t.Helper()
	dec := yaml.NewDecoder(strings.NewReader(docs))
	var out []Object
	for {
		var o Object
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("fixture: %v", err)
		}
		if o != nil {
			out = append(out, o)
		}
	}
}

// indent indents every line of s by n spaces.
func indent(s string, n int) string {
	pad := strings.Repeat(" ", n)
	var b bytes.Buffer
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		if l != "" {
			b.WriteString(pad)
		}
		b.WriteString(l + "\n")
	}
	return b.String()
}

// goodPodSpec passes every pod policy for an arm64 site.
const goodPodSpec = `automountServiceAccountToken: false
nodeSelector: {kubernetes.io/arch: arm64}
securityContext:
  runAsNonRoot: true
  seccompProfile: {type: RuntimeDefault}
containers:
- name: app
  image: registry.example/app:1.2.3@` + digest + `
  resources:
    requests: {cpu: 250m, memory: 256Mi}
    limits: {memory: 256Mi}
  securityContext:
    allowPrivilegeEscalation: false
    readOnlyRootFilesystem: true
    capabilities: {drop: [ALL]}
volumes:
- name: tmp
  emptyDir: {}
`

// deploy wraps a pod spec in a Deployment edge-app/app with replicas.
func deploy(replicas int, spec string) string {
	return `apiVersion: apps/v1
kind: Deployment
metadata: {name: app, namespace: edge-app}
spec:
  replicas: ` + strconv.Itoa(replicas) + `
  template:
    spec:
` + indent(spec, 6)
}

// modify returns goodPodSpec with old replaced by new, failing the test if
// old is not there.
func modify(t *testing.T, old, new string) string {
	t.Helper()
	if !strings.Contains(goodPodSpec, old) {
		t.Fatalf("fixture: %q not in goodPodSpec", old)
	}
	return strings.Replace(goodPodSpec, old, new, 1)
}

const namespaceWithDeny = `apiVersion: v1
kind: Namespace
metadata: {name: edge-app}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: edge-app}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
`

func siteFacts() Facts {
	return Facts{Site: "store-1", Arch: "arm64", CPU: "2", Memory: "4Gi", ConfigMapName: "site-config", RequireDigests: true}
}

// where lists the findings of one policy as "object field".
func where(fs []Finding, policy string) []string {
	var out []string
	for _, f := range fs {
		if f.Policy == policy {
			out = append(out, strings.TrimSpace(f.Object+" "+f.Field))
		}
	}
	return out
}

func TestPolicies(t *testing.T) {
	type tc struct {
		name   string
		policy string
		docs   string
		facts  func(*Facts)
		want   []string // "object field" of every finding of the policy
	}
	const d = "Deployment/edge-app/app "
	const c0 = d + "spec.template.spec.containers[0]"
	cases := []tc{
		// The good fixture passes every policy.
		{name: "good", docs: namespaceWithDeny + "---\n" + deploy(2, goodPodSpec)},

		// capacity
		{name: "fits", policy: Capacity, docs: deploy(4, goodPodSpec)}, // 1000m+500m <= 2, 1Gi+768Mi <= 4Gi
		{name: "cpu over", policy: Capacity, docs: deploy(7, goodPodSpec), want: []string{"Site/store-1 cpu"}},
		{name: "memory over", policy: Capacity, docs: deploy(7, goodPodSpec), facts: func(f *Facts) { f.CPU = "8"; f.Memory = "2Gi" }, want: []string{"Site/store-1 memory"}},
		{name: "unknown capacity", policy: Capacity, docs: deploy(9, goodPodSpec), facts: func(f *Facts) { f.CPU, f.Memory = "", "" }},
		{name: "no requests", policy: Capacity, docs: deploy(1, modify(t, "    requests: {cpu: 250m, memory: 256Mi}\n", "")), want: []string{c0 + ".resources.requests"}},
		{name: "limits stand in for requests", policy: Capacity, docs: deploy(1, modify(t, "    requests: {cpu: 250m, memory: 256Mi}\n    limits: {memory: 256Mi}", "    limits: {cpu: 250m, memory: 256Mi}"))},
		{name: "bad request", policy: Capacity, docs: deploy(1, modify(t, "cpu: 250m", "cpu: lots")), want: []string{c0 + ".resources.requests.cpu"}},

		// limits
		{name: "limits ok", policy: Limits, docs: deploy(1, goodPodSpec)},
		{name: "no memory limit", policy: Limits, docs: deploy(1, modify(t, "    limits: {memory: 256Mi}\n", "")), want: []string{c0 + ".resources.limits.memory"}},
		{name: "limit below request", policy: Limits, docs: deploy(1, modify(t, "limits: {memory: 256Mi}", "limits: {memory: 128Mi, cpu: 100m}")), want: []string{c0 + ".resources.limits.cpu", c0 + ".resources.limits.memory"}},
		{name: "init container without limit", policy: Limits, docs: deploy(1, goodPodSpec+"initContainers:\n- name: migrate\n  image: x:1\n"), want: []string{d + "spec.template.spec.initContainers[0].resources.limits.memory"}},

		// arch-pinned
		{name: "pinned", policy: ArchPinned, docs: deploy(1, goodPodSpec)},
		{name: "wrong arch", policy: ArchPinned, docs: deploy(1, goodPodSpec), facts: func(f *Facts) { f.Arch = "amd64" }, want: []string{d + "spec.template.spec.nodeSelector[kubernetes.io/arch]"}},
		{name: "not pinned", policy: ArchPinned, docs: deploy(1, modify(t, "nodeSelector: {kubernetes.io/arch: arm64}\n", "")), want: []string{d + "spec.template.spec.nodeSelector"}},
		{name: "not pinned, arch unknown", policy: ArchPinned, docs: deploy(1, modify(t, "nodeSelector: {kubernetes.io/arch: arm64}\n", "")), facts: func(f *Facts) { f.Arch = "" }, want: []string{d + "spec.template.spec.nodeSelector"}},
		{name: "pinned, arch unknown", policy: ArchPinned, docs: deploy(1, goodPodSpec), facts: func(f *Facts) { f.Arch = "" }},
		{name: "affinity", policy: ArchPinned, docs: deploy(1, modify(t, "nodeSelector: {kubernetes.io/arch: arm64}\n", `affinity:
  nodeAffinity:
    requiredDuringSchedulingIgnoredDuringExecution:
      nodeSelectorTerms:
      - matchExpressions:
        - {key: kubernetes.io/arch, operator: In, values: [arm64]}
`))},
		{name: "affinity allows another arch", policy: ArchPinned, docs: deploy(1, modify(t, "nodeSelector: {kubernetes.io/arch: arm64}\n", `affinity:
  nodeAffinity:
    requiredDuringSchedulingIgnoredDuringExecution:
      nodeSelectorTerms:
      - matchExpressions:
        - {key: kubernetes.io/arch, operator: In, values: [arm64, amd64]}
`)), want: []string{d + "spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values"}},
		{name: "affinity term without arch", policy: ArchPinned, docs: deploy(1, modify(t, "nodeSelector: {kubernetes.io/arch: arm64}\n", `affinity:
  nodeAffinity:
    requiredDuringSchedulingIgnoredDuringExecution:
      nodeSelectorTerms:
      - matchExpressions:
        - {key: kubernetes.io/arch, operator: In, values: [arm64]}
      - matchExpressions:
        - {key: zone, operator: In, values: [a]}
`)), want: []string{d + "spec.template.spec.nodeSelector"}},

		// pod-security
		{name: "restricted", policy: PodSecurity, docs: deploy(1, goodPodSpec)},
		{name: "root allowed", policy: PodSecurity, docs: deploy(1, modify(t, "  runAsNonRoot: true\n", "")), want: []string{c0 + ".securityContext.runAsNonRoot"}},
		{name: "nonroot per container", policy: PodSecurity, docs: deploy(1, strings.Replace(modify(t, "  runAsNonRoot: true\n", ""), "    allowPrivilegeEscalation: false\n", "    allowPrivilegeEscalation: false\n    runAsNonRoot: true\n", 1))},
		{name: "seccomp unconfined", policy: PodSecurity, docs: deploy(1, modify(t, "{type: RuntimeDefault}", "{type: Unconfined}")), want: []string{c0 + ".securityContext.seccompProfile.type", d + "spec.template.spec.securityContext.seccompProfile.type"}},
		{name: "escalation, caps, rootfs", policy: PodSecurity, docs: deploy(1, modify(t, `    allowPrivilegeEscalation: false
    readOnlyRootFilesystem: true
    capabilities: {drop: [ALL]}`, `    capabilities: {add: [NET_ADMIN, NET_BIND_SERVICE]}`)), want: []string{
			c0 + ".securityContext.allowPrivilegeEscalation", c0 + ".securityContext.capabilities.add[0]",
			c0 + ".securityContext.capabilities.drop", c0 + ".securityContext.readOnlyRootFilesystem"}},
		{name: "volume type", policy: PodSecurity, docs: deploy(1, goodPodSpec+"- name: nfs\n  nfs: {server: nas, path: /x}\n"), want: []string{d + "spec.template.spec.volumes[1].nfs"}},
		{name: "token mounted", policy: PodSecurity, docs: deploy(1, modify(t, "automountServiceAccountToken: false\n", "")), want: []string{d + "spec.template.spec.automountServiceAccountToken"}},
		{name: "token off on the service account", policy: PodSecurity, docs: deploy(1, modify(t, "automountServiceAccountToken: false\n", "")) + `---
apiVersion: v1
kind: ServiceAccount
metadata: {name: default, namespace: edge-app}
automountServiceAccountToken: false
`},

		// host-access
		{name: "no host access", policy: HostAccess, docs: deploy(1, goodPodSpec)},
		{name: "host everything", policy: HostAccess, docs: deploy(1, goodPodSpec+`hostNetwork: true
hostPID: true
hostIPC: true
initContainers:
- name: setup
  image: x:1
  securityContext: {privileged: true}
  ports: [{containerPort: 80, hostPort: 80}]
`+"- name: dev\n  hostPath: {path: /dev}\n"), want: []string{
			d + "spec.template.spec.hostIPC", d + "spec.template.spec.hostNetwork", d + "spec.template.spec.hostPID",
			d + "spec.template.spec.initContainers[0].ports[0].hostPort", d + "spec.template.spec.initContainers[0].securityContext.privileged",
		}},

		// default-deny
		{name: "deny", policy: DefaultDeny, docs: namespaceWithDeny},
		{name: "deny split in two", policy: DefaultDeny, docs: `apiVersion: v1
kind: Namespace
metadata: {name: edge-app}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-ingress, namespace: edge-app}
spec: {podSelector: {}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-egress, namespace: edge-app}
spec: {podSelector: {}, policyTypes: [Egress]}
`},
		{name: "no policy", policy: DefaultDeny, docs: "apiVersion: v1\nkind: Namespace\nmetadata: {name: edge-app}\n", want: []string{"Namespace/edge-app"}},
		{name: "allows egress", policy: DefaultDeny, docs: strings.Replace(namespaceWithDeny, "policyTypes: [Ingress, Egress]", "policyTypes: [Ingress, Egress]\n  egress: [{to: [{ipBlock: {cidr: 0.0.0.0/0}}]}]", 1), want: []string{"Namespace/edge-app"}},
		{name: "selects some pods", policy: DefaultDeny, docs: strings.Replace(namespaceWithDeny, "podSelector: {}", "podSelector: {matchLabels: {app: x}}", 1), want: []string{"Namespace/edge-app"}},
		{name: "namespace not created here", policy: DefaultDeny, docs: deploy(1, goodPodSpec)},

		// no-secrets
		{name: "sealed", policy: NoSecrets, docs: "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {name: db, namespace: edge-app}\nspec: {encryptedData: {password: AgB}}\n"},
		{name: "sops", policy: NoSecrets, docs: "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: edge-app}\ndata: {password: 'ENC[AES256_GCM,data:x]'}\nsops: {mac: 'ENC[x]', version: 3.9.0}\n"},
		{name: "plain secret", policy: NoSecrets, docs: "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: edge-app}\ndata: {password: aHVudGVyMg==}\nstringData: {user: admin}\n", want: []string{"Secret/edge-app/db data", "Secret/edge-app/db stringData"}},
		{name: "empty secret", policy: NoSecrets, docs: "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: edge-app}\n"},

		// config-secrets
		{name: "clean config", policy: ConfigSecrets, docs: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: site-config-7h2k9m4c5t, namespace: edge-app}\ndata: {LOG_LEVEL: info, DB_PASSWORD_FILE: /run/secrets/db, ca.crt: \"-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n\"}\n"},
		{name: "secret keys", policy: ConfigSecrets, docs: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: site-config-7h2k9m4c5t, namespace: edge-app}\ndata: {db-Password: x, apiKey: y, Api_Key: z, authToken: t, MQTT_CREDENTIALS: c, LOG_LEVEL: info}\n", want: []string{
			"ConfigMap/edge-app/site-config-7h2k9m4c5t data[Api_Key]", "ConfigMap/edge-app/site-config-7h2k9m4c5t data[MQTT_CREDENTIALS]",
			"ConfigMap/edge-app/site-config-7h2k9m4c5t data[apiKey]", "ConfigMap/edge-app/site-config-7h2k9m4c5t data[authToken]",
			"ConfigMap/edge-app/site-config-7h2k9m4c5t data[db-Password]"}},
		{name: "secret values", policy: ConfigSecrets, docs: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other, namespace: edge-app}\ndata:\n  tls.pem: \"-----BEGIN EC PRIVATE KEY-----\\nMHc\\n-----END EC PRIVATE KEY-----\\n\"\n  aws: AKIAIOSFODNN7EXAMPLE\nbinaryData:\n  key.bin: LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCg==\n", want: []string{
			"ConfigMap/edge-app/other binaryData[key.bin]", "ConfigMap/edge-app/other data[aws]", "ConfigMap/edge-app/other data[tls.pem]"}},

		// image-pinned and image-digest
		{name: "tagged", policy: ImagePinned, docs: deploy(1, modify(t, "app:1.2.3@"+digest, "app:1.2.3"))},
		{name: "registry port, no tag", policy: ImagePinned, docs: deploy(1, modify(t, "registry.example/app:1.2.3@"+digest, "registry.example:5000/app")), want: []string{c0 + ".image"}},
		{name: "latest", policy: ImagePinned, docs: deploy(1, modify(t, "app:1.2.3@"+digest, "app:latest")), want: []string{c0 + ".image"}},
		{name: "latest with digest", policy: ImagePinned, docs: deploy(1, modify(t, "app:1.2.3@", "app:latest@"))},
		{name: "digest", policy: ImageDigest, docs: deploy(1, goodPodSpec)},
		{name: "tag only", policy: ImageDigest, docs: deploy(1, modify(t, "app:1.2.3@"+digest, "app:1.2.3")), want: []string{c0 + ".image"}},
		{name: "digest off", policy: ImageDigest, docs: deploy(1, modify(t, "app:1.2.3@"+digest, "app:1.2.3")), facts: func(f *Facts) { f.RequireDigests = false }},

		// rbac
		{name: "narrow binding", policy: RBACClusterAdmin, docs: "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: b, namespace: edge-app}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}\nsubjects: [{kind: ServiceAccount, name: app, namespace: edge-app}]\n"},
		{name: "cluster-admin", policy: RBACClusterAdmin, docs: "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: b, namespace: edge-app}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: c}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: admin}\n", want: []string{
			"ClusterRoleBinding/c roleRef.name", "RoleBinding/edge-app/b roleRef.name"}},
		{name: "no wildcard", policy: RBACWildcard, docs: "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r, namespace: edge-app}\nrules: [{apiGroups: [''], resources: [configmaps], verbs: [get, watch]}]\n"},
		{name: "wildcards", policy: RBACWildcard, docs: "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\nrules: [{apiGroups: ['*'], resources: [pods/*], verbs: ['*']}]\n", want: []string{
			"ClusterRole/r rules[0].apiGroups[0]", "ClusterRole/r rules[0].resources[0]", "ClusterRole/r rules[0].verbs[0]"}},
		{name: "no escalation", policy: RBACEscalation, docs: "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r, namespace: edge-app}\nrules: [{apiGroups: [rbac.authorization.k8s.io], resources: [roles], verbs: [get, list]}]\n"},
		{name: "escalation", policy: RBACEscalation, docs: "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\nrules:\n- {apiGroups: [rbac.authorization.k8s.io], resources: [rolebindings], verbs: [create]}\n- {apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles], verbs: [bind, escalate]}\n- {apiGroups: [''], resources: [users], verbs: [impersonate]}\n", want: []string{
			"ClusterRole/r rules[0].resources", "ClusterRole/r rules[1].verbs[0]", "ClusterRole/r rules[1].verbs[1]", "ClusterRole/r rules[2].verbs[0]"}},
	}
	for _, c := range cases {
		t.Run(c.policy+"/"+c.name, func(t *testing.T) {
			facts := siteFacts()
			if c.facts != nil {
				c.facts(&facts)
			}
			fs, err := Evaluate(decode(t, c.docs), facts, nil)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			if c.policy == "" {
				for _, f := range fs {
					got = append(got, f.String())
				}
			} else {
				got = where(fs, c.policy)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("findings:\n got  %q\n want %q\nall: %v", got, c.want, fs)
			}
		})
	}
}
