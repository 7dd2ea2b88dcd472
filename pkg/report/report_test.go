package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetgen/fleetgen/pkg/policy"
	"github.com/fleetgen/fleetgen/pkg/verify"
)

var update = flag.Bool("update", false, "rewrite golden files")

// sample is a report with one site of each kind of outcome.
func sample() *verify.Report {
	monitor := verify.ObjectRef{APIVersion: "monitoring.coreos.com/v1", Kind: "ServiceMonitor", Namespace: "edge-app", Name: "app"}
	deploy := verify.ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "edge-app", Name: "edge-app"}
	capacity := policy.Finding{Policy: "capacity", Object: "Site/store-b", Field: "cpu", Message: "requests cpu 100m + reserve 500m exceed capacity 100m (largest: Deployment/edge-app/edge-app 100m)"}
	results := []verify.Result{
		{Site: "store-a", Dir: "overlays/store-a", Skipped: []verify.ObjectRef{monitor}},
		{Site: "store-b", Dir: "overlays/store-b", Findings: []policy.Finding{capacity}},
		{Site: "store-c", Dir: "overlays/store-c", Skipped: []verify.ObjectRef{monitor},
			SchemaErrors: []verify.SchemaError{{Object: deploy, Path: "spec.replicas", Message: `expected integer, got string "two"`}}},
		{Site: "store-d", Dir: "overlays/store-d", Errors: []error{errors.New("accumulating resources: open patch.yaml: no such file\nsecond line")}},
	}
	waived := capacity
	waived.Object = "Site/store-e"
	waived.Waived, waived.WaiverReason, waived.WaiverSource = true, "second device arrives in May", "inventory.yaml:12:7 (site)"
	results = append(results, verify.Result{Site: "store-e", Dir: "overlays/store-e", Findings: []policy.Finding{waived}})
	for i := range results {
		r := &results[i]
		var errs []error
		errs = append(errs, r.Errors...)
		for _, e := range r.SchemaErrors {
			errs = append(errs, errors.New(e.String()))
		}
		for _, f := range r.Unwaived() {
			errs = append(errs, errors.New(f.String()))
		}
		if len(errs) > 0 {
			r.Err = &verify.SiteError{Site: r.Site, Dir: r.Dir, Err: errors.Join(errs...)}
		}
	}
	return &verify.Report{Results: results}
}

func TestGolden(t *testing.T) {
	r := FromVerify(sample())
	for _, tc := range []struct {
		format Format
		file   string
	}{{JSON, "report.json"}, {Text, "report.txt"}} {
		var b bytes.Buffer
		if err := r.Write(&b, tc.format); err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", tc.file)
		if *update {
			if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run with -update)", err)
		}
		if !bytes.Equal(b.Bytes(), want) {
			t.Errorf("%s differs (run with -update and review the diff):\n%s", tc.file, b.String())
		}
	}
}

func TestSummaryCounts(t *testing.T) {
	s := FromVerify(sample()).Summary
	want := Summary{Sites: 5, OK: 2, Failed: 3, Errors: 1, SchemaErrors: 1, PolicyFindings: 1, Waived: 1, Skipped: 2}
	if s != want {
		t.Errorf("summary %+v, want %+v", s, want)
	}
}

// TestListsNeverNull keeps the documented promise that every list is
// present, so consumers can iterate without checks.
func TestListsNeverNull(t *testing.T) {
	var b bytes.Buffer
	if err := FromVerify(&verify.Report{Results: []verify.Result{{Site: "s", Dir: "overlays/s"}}}).Write(&b, JSON); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	site := doc["sites"].([]any)[0].(map[string]any)
	for _, k := range []string{"errors", "schemaErrors", "skipped", "findings"} {
		if _, ok := site[k].([]any); !ok {
			t.Errorf("%s is %#v, want a list", k, site[k])
		}
	}
	b.Reset()
	if err := FromVerify(nil).Write(&b, JSON); err != nil || !strings.Contains(b.String(), `"sites": []`) {
		t.Errorf("empty report: %v %s", err, b.String())
	}
}

func TestParseFormat(t *testing.T) {
	for in, ok := range map[string]bool{"text": true, "json": true, "yaml": false, "": false, "JSON": false} {
		if _, err := ParseFormat(in); (err == nil) != ok {
			t.Errorf("ParseFormat(%q): %v", in, err)
		}
	}
}

func TestNotesNameSitesAndCount(t *testing.T) {
	var results []verify.Result
	for _, n := range []string{"a", "b", "c", "d", "e", "f", "g"} {
		results = append(results, verify.Result{Site: n, Skipped: []verify.ObjectRef{{APIVersion: "x/v1", Kind: "Widget", Name: "w"}, {APIVersion: "x/v1", Kind: "Widget", Name: "v"}}})
	}
	notes := FromVerify(&verify.Report{Results: results}).Notes()
	want := "note: not checked against a schema (unknown kind): x/v1 Widget: 7 sites (a, b, c, d, e and 2 more)"
	if len(notes) != 1 || notes[0] != want {
		t.Errorf("notes %q, want %q", notes, want)
	}
}
