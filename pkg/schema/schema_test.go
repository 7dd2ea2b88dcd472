package schema

import (
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// shared is built once: construction walks every registered type.
var shared = sync.OnceValue(New)

func decode(t testing.TB, doc string) map[string]any {
	t.Helper()
	var obj map[string]any
	if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
		t.Fatalf("decoding test object: %v", err)
	}
	return obj
}

func readFile(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func errorLines(r Result) []string {
	var out []string
	for _, e := range r.Errors {
		out = append(out, e.Error())
	}
	return out
}

const pod = `
apiVersion: v1
kind: Pod
metadata:
  name: agent
spec:
  os:
    name: linux
  initContainers:
    - name: log-shipper
      image: registry.example.com/shipper:2
      restartPolicy: Always
  containers:
    - name: agent
      image: registry.example.com/agent:1
      resources:
        limits:
          cpu: 1
          memory: 1.5Gi
`

func TestValidateValid(t *testing.T) {
	tests := map[string]string{
		"Deployment": readFile(t, "testdata/deployment.yaml"),
		"Service": `
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  type: ClusterIP
  selector: {app.kubernetes.io/name: web}
  ports:
    - name: http
      port: 80
      targetPort: http
    - name: metrics
      port: 9090
      targetPort: 9090
      protocol: TCP
`,
		"NetworkPolicy": `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
  ingress:
    - from:
        - namespaceSelector:
            matchLabels: {kubernetes.io/metadata.name: ingress}
        - ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}
      ports:
        - {protocol: TCP, port: 8080}
        - {protocol: TCP, port: http, endPort: null}
`,
		"Role": `
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader, namespace: shop}
rules:
  - apiGroups: [""]
    resources: [configmaps, secrets]
    verbs: [get, list, watch]
`,
		"RoleBinding": `
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
subjects:
  - {kind: ServiceAccount, name: web, namespace: shop}
`,
		"ServiceAccount": `
apiVersion: v1
kind: ServiceAccount
metadata: {name: web, namespace: shop}
automountServiceAccountToken: false
imagePullSecrets: [{name: registry}]
`,
		"ConfigMap": `
apiVersion: v1
kind: ConfigMap
metadata: {name: web-config, namespace: shop}
data:
  SITE: store-7
  config.yaml: |
    listen: :8080
binaryData:
  logo.png: iVBORw0KGgo=
`,
		"Namespace": `
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: {pod-security.kubernetes.io/enforce: restricted}
`,
		"HorizontalPodAutoscaler v2": `
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: shop}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 2
  maxReplicas: 10
  metrics:
    - type: Resource
      resource:
        name: cpu
        target: {type: Utilization, averageUtilization: 70}
  behavior:
    scaleDown:
      stabilizationWindowSeconds: 300
      policies: [{type: Percent, value: 50, periodSeconds: 60}]
`,
		"Pod with os and sidecar": pod,
		"generateName instead of name": `
apiVersion: batch/v1
kind: Job
metadata: {generateName: migrate-}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: migrate, image: migrate:1}]
`,
	}
	v := shared()
	for name, doc := range tests {
		t.Run(name, func(t *testing.T) {
			r := v.Validate(decode(t, doc))
			if r.Skipped {
				t.Fatalf("%s skipped", r.GVK)
			}
			if len(r.Errors) > 0 {
				t.Errorf("unexpected errors:\n%s", strings.Join(errorLines(r), "\n"))
			}
		})
	}
}

func TestValidateErrors(t *testing.T) {
	deploy := func(spec string) string {
		return `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
` + spec
	}
	tests := []struct {
		name, doc string
		want      []string
	}{
		{
			name: "wrong type",
			doc: deploy(`  replicas: two
  template: {spec: {containers: [{name: web}]}}`),
			want: []string{`spec.replicas: expected integer, got string "two"`},
		},
		{
			name: "missing required",
			doc: deploy(`  template:
    spec:
      containers:
        - image: web:1`),
			want: []string{`spec.template.spec.containers[0]: missing required field "name"`},
		},
		{
			name: "unknown field with suggestion",
			doc: deploy(`  template:
    spec:
      containers:
        - name: web
          imagePullPolicyy: Always
          colour: blue`),
			want: []string{
				`spec.template.spec.containers[0].colour: unknown field`,
				`spec.template.spec.containers[0].imagePullPolicyy: unknown field (did you mean "imagePullPolicy"?)`,
			},
		},
		{
			name: "every error collected, sorted with numeric indexes",
			doc: deploy(`  replicas: 1.5
  paused: "yes"
  template:
    spec:
      containers:
        - {name: a, ports: [{containerPort: 99999999999}]}
        - {name: b}
        - {name: c}
        - {name: d}
        - {name: e}
        - {name: f}
        - {name: g}
        - {name: h}
        - {name: i}
        - {name: j}
        - {name: k, env: [{name: X, value: 5}]}
        - {name: l, resources: {limits: {memory: 12Gx}}}
        - null`),
			want: []string{
				`spec.paused: expected boolean, got string "yes"`,
				`spec.replicas: expected integer, got number 1.5`,
				`spec.template.spec.containers[0].ports[0].containerPort: integer 99999999999 out of range for int32`,
				`spec.template.spec.containers[10].env[0].value: expected string, got integer 5`,
				`spec.template.spec.containers[11].resources.limits.memory: invalid quantity "12Gx": expected a number with an optional suffix such as 250m, 128Mi or 2G`,
				`spec.template.spec.containers[12]: expected object, got null`,
			},
		},
		{
			name: "IntOrString forms",
			doc: deploy(`  strategy:
    rollingUpdate: {maxSurge: 1, maxUnavailable: 25%}
  template:
    spec:
      containers:
        - name: web
          readinessProbe: {httpGet: {port: [80]}}
          livenessProbe: {tcpSocket: {port: true}}`),
			want: []string{
				`spec.template.spec.containers[0].livenessProbe.tcpSocket.port: expected integer or string, got boolean true`,
				`spec.template.spec.containers[0].readinessProbe.httpGet.port: expected integer or string, got array`,
			},
		},
		{
			name: "null for required and optional fields",
			doc: deploy(`  replicas: null
  template: null`),
			want: []string{`spec.template: required field is null`},
		},
		{
			name: "missing name",
			doc: `
apiVersion: v1
kind: ConfigMap
metadata: {labels: {a: b}}
data: {k: v}`,
			want: []string{`metadata: missing required field "name"`},
		},
		{
			name: "map key paths and values",
			doc: `
apiVersion: v1
kind: ConfigMap
metadata:
  name: c
  labels: {app.kubernetes.io/name: 7, plain: null}
data: {k: true}`,
			want: []string{
				`data.k: expected string, got boolean true`,
				`metadata.labels.plain: expected string, got null`,
				`metadata.labels["app.kubernetes.io/name"]: expected string, got integer 7`,
			},
		},
		{
			name: "time, duration-free kinds and base64",
			doc: `
apiVersion: v1
kind: Secret
metadata: {name: s, creationTimestamp: yesterday}
data: {key: "not base64!"}`,
			want: []string{
				`data.key: invalid base64 data: illegal base64 data at input byte 3`,
				`metadata.creationTimestamp: invalid time "yesterday": expected RFC 3339 such as "2006-01-02T15:04:05Z"`,
			},
		},
		{
			name: "removed API version",
			doc: `
apiVersion: extensions/v1beta1
kind: Ingress
metadata: {name: web}`,
			want: []string{`apiVersion: extensions/v1beta1 Ingress is no longer served: removed in Kubernetes 1.22; use networking.k8s.io/v1`},
		},
		{
			name: "missing kind",
			doc:  `{apiVersion: v1, metadata: {name: x}}`,
			want: []string{`missing required field "kind"`},
		},
		{
			name: "object where a list belongs",
			doc: `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: x}
roleRef: {kind: ClusterRole, name: view, apiGroup: rbac.authorization.k8s.io}
subjects: {kind: User, name: alice}`,
			want: []string{`subjects: expected array, got object`},
		},
	}
	v := shared()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := v.Validate(decode(t, tt.doc))
			if r.Skipped {
				t.Fatalf("%s skipped", r.GVK)
			}
			got := errorLines(r)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("errors:\n got: %q\nwant: %q", got, tt.want)
			}
		})
	}
}

func TestValidateSkipped(t *testing.T) {
	r := shared().Validate(decode(t, `
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: fleet, namespace: flux-system}
spec: {url: "https://example.com/fleet.git"}`))
	if !r.Skipped || len(r.Errors) != 0 {
		t.Fatalf("got %+v, want Skipped with no errors", r)
	}
	if r.Object() != "GitRepository source.toolkit.fluxcd.io/v1 flux-system/fleet" {
		t.Errorf("Object() = %q", r.Object())
	}
}

// TestRequiredFields pins the required/optional decision for fields whose
// behaviour on the API server is known.
func TestRequiredFields(t *testing.T) {
	v := shared()
	type probe struct{ apiVersion, kind, path, field string }
	fieldOf := func(p probe) *fieldInfo {
		ti := v.kinds[gvKey{p.apiVersion, p.kind}]
		if ti == nil {
			t.Fatalf("%s %s not registered", p.apiVersion, p.kind)
		}
		for _, step := range strings.Split(p.path, ".") {
			if step == "" {
				continue
			}
			f := ti.fields[step]
			if f == nil {
				t.Fatalf("%s %s: no field %q", p.apiVersion, p.kind, step)
			}
			ti = f.t
			for ti.kind == kindSlice || ti.kind == kindMap {
				ti = ti.elem
			}
		}
		f := ti.fields[p.field]
		if f == nil {
			t.Fatalf("%s %s %s: no field %q", p.apiVersion, p.kind, p.path, p.field)
		}
		return f
	}
	required := []probe{
		{"v1", "Pod", "spec.containers", "name"},
		{"v1", "Pod", "spec", "containers"},
		{"apps/v1", "Deployment", "spec", "selector"},
		{"apps/v1", "Deployment", "spec", "template"},
		{"v1", "Service", "spec.ports", "port"},
		{"rbac.authorization.k8s.io/v1", "RoleBinding", "", "roleRef"},
		{"rbac.authorization.k8s.io/v1", "Role", "rules", "verbs"},
		{"rbac.authorization.k8s.io/v1", "RoleBinding", "subjects", "kind"},
		{"rbac.authorization.k8s.io/v1", "RoleBinding", "subjects", "name"},
		{"rbac.authorization.k8s.io/v1", "RoleBinding", "roleRef", "kind"},
		{"v1", "Pod", "spec.containers.env", "name"},
		{"v1", "Pod", "spec.volumes", "name"},
		{"networking.k8s.io/v1", "Ingress", "spec.rules.http.paths", "pathType"},
		{"autoscaling/v2", "HorizontalPodAutoscaler", "spec", "maxReplicas"},
		{"apps/v1", "Deployment", "", "spec"}, // +required despite omitempty
	}
	optional := []probe{
		{"v1", "Pod", "spec.containers", "image"},
		{"v1", "Pod", "", "metadata"},
		{"v1", "Service", "spec.ports", "protocol"},
		{"rbac.authorization.k8s.io/v1", "RoleBinding", "roleRef", "apiGroup"}, // +optional without omitempty
		{"rbac.authorization.k8s.io/v1", "Role", "", "rules"},                  // +optional without omitempty
		{"networking.k8s.io/v1", "NetworkPolicy", "spec", "podSelector"},       // +optional without omitempty
		{"apps/v1", "StatefulSet", "spec", "serviceName"},                      // +optional without omitempty
		{"v1", "Pod", "spec.volumes.projected", "sources"},                     // +optional without omitempty
	}
	for _, p := range required {
		if !fieldOf(p).required {
			t.Errorf("%s %s %s.%s: optional, want required", p.apiVersion, p.kind, p.path, p.field)
		}
	}
	for _, p := range optional {
		if fieldOf(p).required {
			t.Errorf("%s %s %s.%s: required, want optional", p.apiVersion, p.kind, p.path, p.field)
		}
	}
}

func TestKnown(t *testing.T) {
	v := shared()
	for _, k := range [][2]string{
		{"v1", "Pod"}, {"apps/v1", "Deployment"}, {"batch/v1", "CronJob"},
		{"networking.k8s.io/v1", "NetworkPolicy"}, {"policy/v1", "PodDisruptionBudget"},
		{"autoscaling/v1", "HorizontalPodAutoscaler"}, {"autoscaling/v2", "HorizontalPodAutoscaler"},
		{"scheduling.k8s.io/v1", "PriorityClass"}, {"storage.k8s.io/v1", "StorageClass"},
		{"coordination.k8s.io/v1", "Lease"}, {"discovery.k8s.io/v1", "EndpointSlice"},
		{"node.k8s.io/v1", "RuntimeClass"}, {"admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy"},
		{"certificates.k8s.io/v1", "CertificateSigningRequest"}, {"resource.k8s.io/v1", "ResourceClaim"},
	} {
		if !v.Known(k[0], k[1]) {
			t.Errorf("Known(%q, %q) = false", k[0], k[1])
		}
	}
	for _, k := range [][2]string{
		{"extensions/v1beta1", "Ingress"}, {"policy/v1beta1", "PodSecurityPolicy"},
		{"v1", "ListOptions"}, {"v1", "WatchEvent"}, {"apps/v1", "Nope"},
		{"admissionregistration.k8s.io/v1alpha1", "MutatingAdmissionPolicy"},
	} {
		if v.Known(k[0], k[1]) {
			t.Errorf("Known(%q, %q) = true", k[0], k[1])
		}
	}
	if n := len(v.Kinds()); n < 150 {
		t.Errorf("only %d kinds registered", n)
	}
}

// GitRepository stands in for the Go type of a custom resource.
type GitRepository struct {
	APIVersion string            `json:"apiVersion,omitempty"`
	Kind       string            `json:"kind,omitempty"`
	Metadata   map[string]any    `json:"metadata,omitempty"`
	Spec       GitRepositorySpec `json:"spec"`
}

type GitRepositorySpec struct {
	URL      string            `json:"url"`
	Interval string            `json:"interval"`
	Ref      *GitRepositoryRef `json:"ref,omitempty"`
	Ignore   *string           `json:"ignore,omitempty"`
}

type GitRepositoryRef struct {
	Branch string `json:"branch,omitempty"`
	Tag    string `json:"tag,omitempty"`
}

func TestNewWith(t *testing.T) {
	gvk := schema.GroupVersionKind{Group: "source.toolkit.fluxcd.io", Version: "v1", Kind: "GitRepository"}
	v := NewWith(map[schema.GroupVersionKind]reflect.Type{gvk: reflect.TypeFor[*GitRepository]()})
	if !v.Known("source.toolkit.fluxcd.io/v1", "GitRepository") || !v.Known("apps/v1", "Deployment") {
		t.Fatal("NewWith lost a kind")
	}
	r := v.Validate(decode(t, `
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: fleet}
spec:
  url: https://example.com/fleet.git
  ref: {branch: main, commit: abc}`))
	want := []string{
		`spec: missing required field "interval"`,
		`spec.ref.commit: unknown field`,
	}
	if got := errorLines(r); r.Skipped || !reflect.DeepEqual(got, want) {
		t.Errorf("got skipped=%v %q, want %q", r.Skipped, got, want)
	}
}

func TestResultErr(t *testing.T) {
	r := shared().Validate(decode(t, `{apiVersion: v1, kind: Service, metadata: {name: web, namespace: shop}, spec: {ports: [{name: http}]}}`))
	err := r.Err()
	if err == nil || err.Error() != `Service v1 shop/web: spec.ports[0]: missing required field "port"` {
		t.Errorf("Err() = %v", err)
	}
}

func TestConcurrent(t *testing.T) {
	v := shared()
	obj := decode(t, readFile(t, "testdata/deployment.yaml"))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				if r := v.Validate(obj); len(r.Errors) != 0 {
					t.Errorf("errors: %v", r.Errors)
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkValidateDeployment(b *testing.B) {
	v := shared()
	obj := decode(b, readFile(b, "testdata/deployment.yaml"))
	if r := v.Validate(obj); len(r.Errors) != 0 || r.Skipped {
		b.Fatalf("benchmark object invalid: %+v", r)
	}
	b.ReportAllocs()
	for b.Loop() {
		v.Validate(obj)
	}
}

func BenchmarkNew(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		New()
	}
}

func FuzzValidate(f *testing.F) {
	f.Add(readFile(f, "testdata/deployment.yaml"))
	f.Add(pod)
	f.Add("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {1: 2, ? [a]: b}\n")
	f.Add("apiVersion: v1\nkind: Secret\nmetadata: {name: x, managedFields: [{fieldsV1: {f:a: {}}, time: 2024-01-01T00:00:00Z}]}\n")
	f.Add("apiVersion: v1\nkind: Pod\nspec: {containers: [{name: a, resources: {limits: {cpu: .inf}}, ports: [{containerPort: -1e400}]}]}\n")
	f.Add("apiVersion: v1\nkind: List\nitems: [{apiVersion: v1, kind: Pod}]\n")
	v := shared()
	f.Fuzz(func(t *testing.T, doc string) {
		var obj map[string]any
		if yaml.Unmarshal([]byte(doc), &obj) != nil {
			return
		}
		r := v.Validate(obj)
		for i := 1; i < len(r.Errors); i++ {
			if comparePaths(r.Errors[i-1].Path, r.Errors[i].Path) > 0 {
				t.Fatalf("errors not sorted: %q before %q", r.Errors[i-1].Path, r.Errors[i].Path)
			}
		}
	})
}
