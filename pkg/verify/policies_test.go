package verify

import (
	"context"
	"errors"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/fleetgen/fleetgen/pkg/policy"
)

// runOne verifies the store-1 overlay of tree as target t.
func runOne(t *testing.T, tree files, target Target) Result {
	t.Helper()
	if target.Site == "" {
		target.Site, target.Dir = "store-1", "overlays/store-1"
	}
	rep, err := Run(context.Background(), []Target{target}, Options{FS: memFS(t, tree), Root: root})
	if err != nil {
		t.Fatal(err)
	}
	return rep.Results[0]
}

func TestSchemaErrors(t *testing.T) {
	tree := goodTree().with(files{"overlays/store-1/replicas.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  replicas: \"two\"\n"})
	res := runOne(t, tree, Target{})
	if len(res.SchemaErrors) != 1 {
		t.Fatalf("schema errors %v, want one", res.SchemaErrors)
	}
	e := res.SchemaErrors[0]
	if e.Object.String() != "Deployment/store-1/app" || e.Path != "spec.replicas" || e.Object.APIVersion != "apps/v1" {
		t.Errorf("schema error %+v", e)
	}
	if res.Err == nil || !strings.Contains(res.Err.Error(), "schema: Deployment/store-1/app spec.replicas: ") {
		t.Errorf("Err %v does not name the object and field", res.Err)
	}
	if len(res.Errors) != 0 {
		t.Errorf("build errors %v", res.Errors)
	}
}

func TestSkippedKindsAreReportedNotFailed(t *testing.T) {
	res := runOne(t, goodTree(), Target{})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if len(res.Skipped) != 1 || res.Skipped[0].String() != "ServiceMonitor/store-1/app" || res.Skipped[0].APIVersion != "monitoring.coreos.com/v1" {
		t.Errorf("skipped %v, want the ServiceMonitor", res.Skipped)
	}
}

func TestPolicyFactsAndWaivers(t *testing.T) {
	small := &policy.Facts{Arch: "arm64", CPU: "100m", Memory: "128Mi"}
	tests := []struct {
		name     string
		target   Target
		wantErr  []string
		unwaived int
		waived   int
	}{
		{name: "no facts: capacity unknown", target: Target{}},
		{name: "fits", target: Target{Facts: &policy.Facts{Arch: "arm64", CPU: "2", Memory: "2Gi"}}},
		{
			name:     "too small",
			target:   Target{Facts: small},
			wantErr:  []string{"capacity: Site/store-1 cpu: requests cpu 200m + reserve 500m exceed capacity 100m", "capacity: Site/store-1 memory: "},
			unwaived: 2,
		},
		{
			name:   "too small, waived",
			target: Target{Facts: small, Waivers: []policy.Waiver{{Policy: policy.Capacity, Reason: "second device in May", Source: "inv.yaml:3:5 (site)"}}},
			waived: 2,
		},
		{
			name:     "wrong arch",
			target:   Target{Facts: &policy.Facts{Arch: "amd64"}},
			wantErr:  []string{"arch-pinned: Deployment/store-1/app spec.template.spec.nodeSelector"},
			unwaived: 1,
		},
		{
			name:     "digests required",
			target:   Target{Facts: &policy.Facts{RequireDigests: true}},
			wantErr:  []string{"image-digest: Deployment/store-1/app"},
			unwaived: 1,
		},
		{
			name:    "bad waiver",
			target:  Target{Waivers: []policy.Waiver{{Policy: "nope", Reason: "x"}}},
			wantErr: []string{`policies: waiver at waivers[0]: unknown policy "nope"`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := runOne(t, goodTree(), tc.target)
			if got := len(res.Unwaived()); got != tc.unwaived {
				t.Errorf("%d unwaived findings, want %d: %v", got, tc.unwaived, res.Findings)
			}
			if got := len(res.Waived()); got != tc.waived {
				t.Errorf("%d waived findings, want %d: %v", got, tc.waived, res.Findings)
			}
			for _, f := range res.Waived() {
				if f.WaiverReason != "second device in May" || f.WaiverSource != "inv.yaml:3:5 (site)" {
					t.Errorf("waived finding %+v lacks the waiver", f)
				}
			}
			if len(tc.wantErr) == 0 {
				if res.Err != nil {
					t.Fatalf("unexpected error: %v", res.Err)
				}
				return
			}
			if res.Err == nil {
				t.Fatalf("no error, want %q", tc.wantErr)
			}
			var se *SiteError
			if !errors.As(res.Err, &se) || se.Site != "store-1" {
				t.Errorf("not a SiteError: %v", res.Err)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(res.Err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", res.Err, w)
				}
			}
		})
	}
}

func TestSiteFactsRoundTrip(t *testing.T) {
	f := SiteFacts{Site: "store-1", Arch: "arm64", Capacity: Resources{CPU: "2", Memory: "2Gi"}, Reserve: Resources{Memory: "1536Mi"},
		RequireDigests: true, ConfigMapName: "site-config", Waivers: []SiteWaiver{{Policy: "capacity", Reason: "yes: really", From: "group/eu"}}}
	data, err := f.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	again, err := f.Marshal()
	if err != nil || string(again) != string(data) {
		t.Fatalf("not deterministic")
	}
	got, err := ParseSiteFacts("x.yaml", data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	facts, ws := got.Policy("x.yaml")
	if facts.Arch != "arm64" || facts.CPU != "2" || facts.ReserveMemory != "1536Mi" || !facts.RequireDigests || facts.Site != "store-1" {
		t.Errorf("facts %+v", facts)
	}
	if len(ws) != 1 || ws[0].Reason != "yes: really" || ws[0].Source != "x.yaml (group/eu)" {
		t.Errorf("waivers %+v", ws)
	}
	for name, bad := range map[string]string{
		"unknown field":  strings.Replace(string(data), "arch:", "archh:", 1),
		"unknown policy": strings.Replace(string(data), "policy: capacity", "policy: capacityy", 1),
		"no reason":      strings.Replace(string(data), "reason: 'yes: really'", `reason: ""`, 1),
		"bad quantity":   strings.Replace(string(data), "memory: 2Gi", "memory: lots", 1),
		"wrong kind":     strings.Replace(string(data), "kind: SiteFacts", "kind: Other", 1),
		"empty":          "",
	} {
		if bad == string(data) {
			t.Fatalf("%s: replacement did not apply:\n%s", name, data)
		}
		if _, err := ParseSiteFacts("x.yaml", []byte(bad)); err == nil || !strings.HasPrefix(err.Error(), "x.yaml: ") {
			t.Errorf("%s: error %v", name, err)
		}
	}
}

func TestOverlaysReadSiteFacts(t *testing.T) {
	facts, err := SiteFacts{Site: "store-1", Arch: "arm64", Capacity: Resources{CPU: "100m", Memory: "128Mi"},
		Waivers: []SiteWaiver{{Policy: "capacity", Reason: "lab device", From: "site"}}}.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	tree := goodTree().with(siteFiles("store-2", goodConfig)).with(files{"overlays/store-1/" + SiteFactsFile: string(facts)})
	dir := diskTree(t, tree)
	fsys := filesys.MakeFsOnDisk()
	targets, err := Overlays(fsys, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(targets) != 2 || targets[0].Facts == nil || targets[0].Facts.CPU != "100m" || len(targets[0].Waivers) != 1 || targets[1].Facts != nil {
		t.Fatalf("targets %+v", targets)
	}
	if src := targets[0].Waivers[0].Source; src != "overlays/store-1/fleetgen-site.yaml (site)" {
		t.Errorf("waiver source %q", src)
	}
	rep, err := Run(context.Background(), targets, Options{FS: fsys, Root: dir})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || len(rep.Results[0].Waived()) != 2 {
		t.Fatalf("%v; findings %v", rep.Err(), rep.Results[0].Findings)
	}

	// A facts file for another site, or a malformed one, is an error
	// naming the file.
	for name, content := range map[string]string{
		"other site": strings.Replace(string(facts), "site: store-1", "site: store-9", 1),
		"malformed":  "apiVersion: [\n",
	} {
		dir := diskTree(t, tree.with(files{"overlays/store-1/" + SiteFactsFile: content}))
		if _, err := Overlays(fsys, dir); err == nil || !strings.Contains(err.Error(), "overlays/store-1/fleetgen-site.yaml") {
			t.Errorf("%s: error %v", name, err)
		}
	}
}

func TestSummaryThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 12345: "12,345", 1234567: "1,234,567", -1000: "-1,000"} {
		if got := Thousands(n); got != want {
			t.Errorf("Thousands(%d) = %q, want %q", n, got, want)
		}
	}
	rep := &Report{Results: make([]Result, 1000)}
	rep.Results[3].Err = errors.New("x")
	rep.Results[4].Err = errors.New("x")
	if got := rep.Summary(); got != "1,000 sites: 998 ok, 2 failed" {
		t.Errorf("summary %q", got)
	}
}
