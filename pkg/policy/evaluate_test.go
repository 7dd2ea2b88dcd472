package policy

import (
	"slices"
	"strings"
	"testing"
)

func TestCapacityArithmetic(t *testing.T) {
	// Per pod: app 100m+200m, sidecar 50m/64Mi, init 1 cpu and 1Gi.
	// cpu: max(300m+50m, 50m+1000m) = 1050m; memory: max(128Mi+256Mi+64Mi, 64Mi+1Gi) = 1088Mi.
	pod := `containers:
- {name: a, resources: {requests: {cpu: 100m, memory: 128Mi}}}
- {name: b, resources: {requests: {cpu: 0.2, memory: 256Mi}}}
initContainers:
- {name: proxy, restartPolicy: Always, resources: {requests: {cpu: 50m, memory: 64Mi}}}
- {name: migrate, resources: {requests: {cpu: 1, memory: 1Gi}}}
`
	cases := []struct {
		name, docs      string
		wantCPU, wantMi int64 // total milli-cpu and MiB
	}{
		{"pod", "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: n}\nspec:\n" + indent(pod, 2), 1050, 1088},
		{"deployment x3", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: n}\nspec:\n  replicas: 3\n  template:\n    spec:\n" + indent(pod, 6), 3150, 3264},
		{"deployment default replicas", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: n}\nspec:\n  template:\n    spec:\n" + indent(pod, 6), 1050, 1088},
		{"scaled to zero", "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: d, namespace: n}\nspec:\n  replicas: 0\n  template:\n    spec:\n" + indent(pod, 6), 0, 0},
		{"daemonset", "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: d, namespace: n}\nspec:\n  template:\n    spec:\n" + indent(pod, 6), 1050, 1088},
		{"job parallelism", "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j, namespace: n}\nspec:\n  parallelism: 2\n  template:\n    spec:\n" + indent(pod, 6), 2100, 2176},
		{"job completions cap", "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j, namespace: n}\nspec:\n  parallelism: 4\n  completions: 1\n  template:\n    spec:\n" + indent(pod, 6), 1050, 1088},
		{"cronjob", "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c, namespace: n}\nspec:\n  schedule: '@hourly'\n  jobTemplate:\n    spec:\n      parallelism: 2\n      template:\n        spec:\n" + indent(pod, 10), 2100, 2176},
		{"overhead", "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: n}\nspec:\n  overhead: {cpu: 250m, memory: 120Mi}\n" + indent(pod, 2), 1300, 1208},
		{"runtime class overhead", "apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata: {name: rc}\nhandler: spin\noverhead: {podFixed: {cpu: 25m, memory: 40Mi}}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: n}\nspec:\n  runtimeClassName: rc\n" + indent(pod, 2), 1075, 1128},
		{"spec overhead wins", "apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata: {name: rc}\nhandler: spin\noverhead: {podFixed: {cpu: 25m, memory: 40Mi}}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: n}\nspec:\n  runtimeClassName: rc\n  overhead: {cpu: 250m, memory: 120Mi}\n" + indent(pod, 2), 1300, 1208},
		{"runtime class elsewhere", "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: n}\nspec:\n  runtimeClassName: nvidia\n" + indent(pod, 2), 1050, 1088},
		{"not a workload", "apiVersion: example.com/v1\nkind: Deployment\nmetadata: {name: d, namespace: n}\nspec:\n  template:\n    spec:\n" + indent(pod, 6), 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, err := newEnv(decode(t, c.docs), Facts{})
			if err != nil {
				t.Fatal(err)
			}
			var cpu, mem int64
			for _, p := range e.pods {
				r, fs := p.requests()
				if len(fs) > 0 {
					t.Errorf("unexpected findings %v", fs)
				}
				cpu += r.milliCPU * p.copies
				mem += r.memory * p.copies
			}
			if cpu != c.wantCPU || mem != c.wantMi<<20 {
				t.Errorf("got %dm cpu, %d bytes; want %dm, %dMi", cpu, mem, c.wantCPU, c.wantMi)
			}
		})
	}
}

func TestCapacityMessage(t *testing.T) {
	docs := deploy(7, goodPodSpec) + "---\n" + strings.Replace(deploy(1, goodPodSpec), "name: app,", "name: web,", 1)
	facts := siteFacts()
	facts.Memory = "2Gi"
	got := capacityMessages(t, docs, facts)
	want := []string{
		"cpu: requests cpu 2 + reserve 500m exceed capacity 2 (largest: Deployment/edge-app/app 1750m, Deployment/edge-app/web 250m)",
		"memory: requests memory 2Gi + reserve 768Mi exceed capacity 2Gi (largest: Deployment/edge-app/app 1792Mi, Deployment/edge-app/web 256Mi)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// A custom reserve: 2 cpu of requests + 0 reserve fit 2 cpu.
	facts.ReserveCPU, facts.ReserveMemory = "0", "0"
	facts.Memory = "4Gi"
	if got := capacityMessages(t, docs, facts); len(got) != 0 {
		t.Errorf("with no reserve: got %v, want none", got)
	}
}

// capacityMessages evaluates docs and returns the capacity findings as
// "field: message".
func capacityMessages(t *testing.T, docs string, facts Facts) []string {
	t.Helper()
	fs, err := Evaluate(decode(t, docs), facts, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range fs {
		if f.Policy == Capacity {
			got = append(got, f.Field+": "+f.Message)
		}
	}
	return got
}

// TestCapacityCertManager: a site whose objects include cert-manager.io
// objects is charged cert-manager's footprint, named in the message.
func TestCapacityCertManager(t *testing.T) {
	issuer := "apiVersion: cert-manager.io/v1\nkind: Issuer\nmetadata: {name: ca, namespace: edge-app}\nspec: {ca: {secretName: site-ca}}\n"
	facts := siteFacts()
	facts.CPU, facts.Memory = "1500m", "4Gi"
	if got := capacityMessages(t, deploy(4, goodPodSpec), facts); len(got) != 0 {
		t.Fatalf("without cert-manager objects: got %v, want none", got)
	}
	got := capacityMessages(t, deploy(4, goodPodSpec)+"---\n"+issuer, facts)
	want := []string{"cpu: requests cpu 1030m + reserve 500m exceed capacity 1500m (largest: Deployment/edge-app/app 1, cert-manager (for Issuer/edge-app/ca) 30m)"}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestWaivers(t *testing.T) {
	objs := decode(t, deploy(9, goodPodSpec))
	fs, err := Evaluate(objs, siteFacts(), []Waiver{
		{Policy: Capacity, Reason: "second device arrives in May", Source: "inventory.yaml:12:7 (site store-1)"},
		{Policy: Capacity, Reason: "second device arrives in May", Source: "inventory.yaml:3:5 (defaults)"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for _, f := range fs {
		if f.Policy != Capacity {
			continue
		}
		n++
		if !f.Waived || f.WaiverReason != "second device arrives in May" || f.WaiverSource != "inventory.yaml:12:7 (site store-1); inventory.yaml:3:5 (defaults)" {
			t.Errorf("finding not waived as expected: %+v", f)
		}
		if !strings.Contains(f.String(), "(waived: second device arrives in May)") {
			t.Errorf("String() = %q", f.String())
		}
	}
	if n == 0 {
		t.Fatal("no capacity finding to waive")
	}

	_, err = Evaluate(objs, siteFacts(), []Waiver{
		{Policy: "capacty", Reason: "typo", Source: "inventory.yaml:12:7 (site store-1)"},
		{Policy: Limits, Reason: "  ", Source: "inventory.yaml:14:7 (site store-1)"},
	})
	if err == nil {
		t.Fatal("no error for bad waivers")
	}
	for _, want := range []string{
		`waiver at inventory.yaml:12:7 (site store-1): unknown policy "capacty"`,
		`waiver at inventory.yaml:14:7 (site store-1) for policy "limits": a reason is required`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestBadFacts(t *testing.T) {
	for _, f := range []Facts{{CPU: "two"}, {Memory: "4 GB"}, {ReserveCPU: "-1"}, {ReserveMemory: "lots"}} {
		f.Site = "store-1"
		if _, err := Evaluate(nil, f, nil); err == nil || !strings.Contains(err.Error(), `site "store-1"`) {
			t.Errorf("%+v: error = %v", f, err)
		}
	}
}

func TestDeterministic(t *testing.T) {
	docs := namespaceWithDeny + "---\n" + deploy(9, "containers:\n- {name: a, image: x}\n- {name: b, image: y:latest}\n- {name: c, image: z}\n- {name: d, image: z}\n- {name: e, image: z}\n- {name: f, image: z}\n- {name: g, image: z}\n- {name: h, image: z}\n- {name: i, image: z}\n- {name: j, image: z}\n- {name: k, image: z}\n") +
		"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: edge-app}\ndata: {token: a, password: b, secret: c, apikey: d}\n"
	objs := decode(t, docs)
	first, err := Evaluate(objs, siteFacts(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) < 20 {
		t.Fatalf("only %d findings; the fixture should fail widely", len(first))
	}
	reversed := slices.Clone(objs)
	slices.Reverse(reversed)
	for i := 0; i < 5; i++ {
		for _, in := range [][]Object{objs, reversed} {
			again, err := Evaluate(in, siteFacts(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(first, again) {
				t.Fatalf("run %d differs:\n%v\n%v", i, first, again)
			}
		}
	}
	// containers[2] sorts before containers[10].
	var fields []string
	for _, f := range first {
		if f.Policy == ImagePinned {
			fields = append(fields, f.Field)
		}
	}
	if !slices.IsSortedFunc(fields, naturalCompare) || !strings.Contains(fields[1], "containers[1]") || !strings.Contains(fields[len(fields)-1], "containers[10]") {
		t.Errorf("image-pinned fields out of order: %v", fields)
	}
}

func TestPoliciesRegistry(t *testing.T) {
	ps := Policies()
	if !slices.IsSortedFunc(ps, func(a, b Policy) int { return strings.Compare(a.ID, b.ID) }) {
		t.Error("Policies() not sorted by id")
	}
	if len(ps) != 14 {
		t.Errorf("%d policies, want 14", len(ps))
	}
	for _, p := range ps {
		if p.Rationale == "" || strings.Contains(p.Rationale, "\n") {
			t.Errorf("%s: rationale must be one line", p.ID)
		}
		if p.Default != (p.ID != ImageDigest) {
			t.Errorf("%s: default %v", p.ID, p.Default)
		}
	}
	ps[0].ID = "changed"
	if Policies()[0].ID == "changed" {
		t.Error("Policies() shares its slice between calls")
	}
}

func TestNaturalCompare(t *testing.T) {
	in := []string{"a[10]", "a[2]", "a[1].b", "a[1]", "b", "a[02]"}
	slices.SortFunc(in, naturalCompare)
	want := []string{"a[1]", "a[1].b", "a[2]", "a[02]", "a[10]", "b"}
	if !slices.Equal(in, want) {
		t.Errorf("got %v, want %v", in, want)
	}
}

func TestSplitImage(t *testing.T) {
	for _, c := range []struct{ ref, name, tag, digest string }{
		{"nginx", "nginx", "", ""},
		{"nginx:1.27", "nginx", "1.27", ""},
		{"registry:5000/app", "registry:5000/app", "", ""},
		{"registry:5000/app:v1@" + digest, "registry:5000/app", "v1", digest},
		{"app@" + digest, "app", "", digest},
	} {
		n, tg, d := splitImage(c.ref)
		if n != c.name || tg != c.tag || d != c.digest {
			t.Errorf("splitImage(%q) = %q %q %q", c.ref, n, tg, d)
		}
	}
}
