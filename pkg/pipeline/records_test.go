package pipeline

import (
	"bytes"
	"encoding/gob"
	"reflect"
	"testing"

	"github.com/fleetgen/fleetgen/pkg/gitops"
	"github.com/fleetgen/fleetgen/pkg/index"
	"github.com/fleetgen/fleetgen/pkg/policy"
	"github.com/fleetgen/fleetgen/pkg/verify"
)

// A result that passed comes back from its index record as it was, and
// its details are stored as the gob encoding of each list, as the index
// stored them before it left the encoding to the pipeline (indexes written
// by earlier versions of the same format still read).
func TestSiteRecordRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		r    verify.Result
	}{
		{"bare", verify.Result{Site: "a", Dir: "overlays/a"}},
		{"skipped", verify.Result{Site: "b", Dir: "overlays/b",
			Skipped: []verify.ObjectRef{{APIVersion: "v1", Kind: "ConfigMap", Namespace: "n", Name: "x"}}}},
		{"findings", verify.Result{Site: "c", Dir: "overlays/c",
			Skipped:  []verify.ObjectRef{{APIVersion: "example.com/v1", Kind: "Widget", Name: "w"}},
			Findings: []policy.Finding{{Policy: "p", Object: "Pod/x", Field: "spec", Message: "m", Waived: true}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec, err := siteRecord(&tc.r)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range []struct {
				got  []byte
				list any
				n    int
			}{{rec.Skipped, tc.r.Skipped, len(tc.r.Skipped)}, {rec.Findings, tc.r.Findings, len(tc.r.Findings)}} {
				var want []byte
				if p.n > 0 {
					var b bytes.Buffer
					if err := gob.NewEncoder(&b).Encode(p.list); err != nil {
						t.Fatal(err)
					}
					want = b.Bytes()
				}
				if !bytes.Equal(p.got, want) {
					t.Errorf("payload %x, want the gob encoding %x", p.got, want)
				}
			}
			rec.Dir = tc.r.Dir
			back, ok := resultOf(&rec)
			if !ok || !reflect.DeepEqual(back, tc.r) {
				t.Errorf("resultOf = %+v, %v; want %+v", back, ok, tc.r)
			}
		})
	}
	// Details that do not decode make the record unusable, not a verdict.
	for _, bad := range []index.Site{
		{Name: "x", Skipped: []byte{1, 2, 3}},
		{Name: "x", Findings: []byte("not gob")},
	} {
		if r, ok := resultOf(&bad); ok {
			t.Errorf("resultOf(%+v) = %+v, ok", bad, r)
		}
	}
}

func TestWiringRefsRoundTrip(t *testing.T) {
	for _, sum := range []gitops.Summary{
		{},
		{Refs: []gitops.Ref{{Kind: gitops.FluxRef, Doc: 2, Path: "./overlays/a"}}},
		{Refs: []gitops.Ref{{Kind: gitops.ArgoSetRef, Doc: 1}, {Kind: gitops.ArgoElementRef, Doc: 1, Gen: 1, Elem: 7, Site: "a"}}},
	} {
		if back := wiringSummary(wiringRefs(sum)); !reflect.DeepEqual(back, sum) {
			t.Errorf("round trip of %+v: %+v", sum, back)
		}
	}
}

func TestAccessesOf(t *testing.T) {
	got := accessesOf([]verify.Access{{Op: "read", Path: "/fleet/a"}, {Op: "glob", Path: "/fleet/b/*.yaml"}})
	want := []index.Access{{Op: "read", Path: "/fleet/a"}, {Op: "glob", Path: "/fleet/b/*.yaml"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("accessesOf = %+v, want %+v", got, want)
	}
}
