package gitops_test

import (
	"os"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/fleetgen/fleetgen/pkg/policy"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	sigsyaml "sigs.k8s.io/yaml"
)

// TestMaintenanceWindowJobs checks the objects that enforce a Flux site's
// window: two CronJobs in the window's zone, at its opening and closing,
// within the restricted Pod Security Standard and with resources set, and a
// Role that may only get and patch the site's own Kustomization.
func TestMaintenanceWindowJobs(t *testing.T) {
	data, err := os.ReadFile("testdata/flux-networks/golden/clusters/site-intermittent/maintenance-window.yaml")
	if err != nil {
		t.Fatal(err)
	}
	docs := strings.Split(string(data), "\n---\n")
	var jobs []batchv1.CronJob
	var roles []rbacv1.Role
	for _, d := range docs {
		var meta struct{ Kind string }
		if err := yaml.Unmarshal([]byte(d), &meta); err != nil {
			t.Fatal(err)
		}
		switch meta.Kind {
		case "CronJob":
			var cj batchv1.CronJob
			if err := sigsyaml.UnmarshalStrict([]byte(d), &cj); err != nil {
				t.Fatal(err)
			}
			jobs = append(jobs, cj)
		case "Role":
			var r rbacv1.Role
			if err := sigsyaml.UnmarshalStrict([]byte(d), &r); err != nil {
				t.Fatal(err)
			}
			roles = append(roles, r)
		}
	}
	if len(jobs) != 2 || len(roles) != 1 {
		t.Fatalf("%d CronJobs, %d Roles; want 2 and 1", len(jobs), len(roles))
	}
	want := map[string]struct{ schedule, patch string }{
		"fleet-window-open":  {"30 1 * * SUN", `--patch={"spec":{"suspend":false}}`},
		"fleet-window-close": {"0 3 * * SUN", `--patch={"spec":{"suspend":true}}`},
	}
	for _, cj := range jobs {
		w, ok := want[cj.Name]
		if !ok {
			t.Fatalf("unexpected CronJob %s", cj.Name)
		}
		if cj.Spec.Schedule != w.schedule || cj.Spec.TimeZone == nil || *cj.Spec.TimeZone != "Europe/Lisbon" {
			t.Errorf("%s: schedule %q zone %v", cj.Name, cj.Spec.Schedule, cj.Spec.TimeZone)
		}
		pod := cj.Spec.JobTemplate.Spec.Template.Spec
		psc := pod.SecurityContext
		if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.SeccompProfile == nil || psc.SeccompProfile.Type != "RuntimeDefault" {
			t.Errorf("%s: pod securityContext %+v", cj.Name, psc)
		}
		if pod.ServiceAccountName != "fleet-window" || len(pod.Containers) != 1 {
			t.Fatalf("%s: pod %+v", cj.Name, pod)
		}
		c := pod.Containers[0]
		sc := c.SecurityContext
		if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
			sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" {
			t.Errorf("%s: container securityContext %+v", cj.Name, sc)
		}
		for _, r := range []string{"cpu", "memory"} {
			if _, ok := c.Resources.Requests[corev1ResourceName(r)]; !ok {
				t.Errorf("%s: no %s request", cj.Name, r)
			}
			if _, ok := c.Resources.Limits[corev1ResourceName(r)]; !ok {
				t.Errorf("%s: no %s limit", cj.Name, r)
			}
		}
		if !strings.Contains(c.Image, "@sha256:") {
			t.Errorf("%s: image %s not pinned by digest", cj.Name, c.Image)
		}
		if got := c.Args[len(c.Args)-1]; got != w.patch {
			t.Errorf("%s: patch %s, want %s", cj.Name, got, w.patch)
		}
	}
	// The project's own policies (restricted Pod Security, limits,
	// capacity, architecture pinning, RBAC) pass on the whole file.
	var objs []policy.Object
	for _, d := range docs {
		var o map[string]any
		if err := yaml.Unmarshal([]byte(d), &o); err != nil {
			t.Fatal(err)
		}
		objs = append(objs, o)
	}
	findings, err := policy.Evaluate(objs, policy.Facts{Site: "site-intermittent", Arch: "arm64", CPU: "2", Memory: "4Gi"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range findings {
		t.Errorf("policy finding: %s", f)
	}
	r := roles[0]
	if len(r.Rules) != 1 || strings.Join(r.Rules[0].Verbs, ",") != "get,patch" || strings.Join(r.Rules[0].ResourceNames, ",") != "fleet" ||
		strings.Join(r.Rules[0].Resources, ",") != "kustomizations" || strings.Join(r.Rules[0].APIGroups, ",") != "kustomize.toolkit.fluxcd.io" {
		t.Errorf("Role is not limited to patching Kustomization fleet: %+v", r.Rules)
	}
}

func corev1ResourceName(s string) corev1.ResourceName { return corev1.ResourceName(s) }
