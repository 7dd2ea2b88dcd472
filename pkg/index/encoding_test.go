package index

import (
	"reflect"
	"strings"
	"testing"
)

type gobList interface {
	GobEncode() ([]byte, error)
}

// The compact lists round-trip exactly, and any truncation or trailing
// byte is an error, never a wrong list.
func TestListEncodings(t *testing.T) {
	h := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		name   string
		list   gobList
		decode func([]byte) (any, error)
	}{
		{"sites", SiteList{
			{Name: "a", Dir: "overlays/a", Target: h, Digest: h, Units: 3},
			{Name: "b", Dir: "overlays/b", Target: "not-hex", Digest: strings.ToUpper(h), Units: 0,
				Skipped:  []byte("skipped objects, as the caller encoded them"),
				Findings: []byte{0, 1, 2, 0xff}},
		}, func(b []byte) (any, error) { var l SiteList; err := l.GobDecode(b); return l, err }},
		{"renders", RenderList{{Site: "a", Key: h}, {Site: "b", Key: "k"}},
			func(b []byte) (any, error) { var l RenderList; err := l.GobDecode(b); return l, err }},
		{"wiring", WiringList{
			{Path: "clusters/a/sync.yaml", Hash: h, Refs: []Ref{{Kind: 1, Doc: 2, Path: "./overlays/a", Account: "edge-app/fleet-applier"}}},
			{Path: "argocd/set.yaml", Hash: h, Refs: []Ref{{Kind: 2, Doc: 1},
				{Kind: 3, Doc: 1, Gen: 1, Elem: 7, Site: "a"}}},
			{Path: "clusters/b/empty.yaml", Hash: h},
		}, func(b []byte) (any, error) { var l WiringList; err := l.GobDecode(b); return l, err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := tc.list.GobEncode()
			if err != nil {
				t.Fatal(err)
			}
			back, err := tc.decode(data)
			if err != nil || !reflect.DeepEqual(back, tc.list) {
				t.Fatalf("round trip: %v\n%+v\nwant\n%+v", err, back, tc.list)
			}
			for i := range len(data) {
				if _, err := tc.decode(data[:i]); err == nil {
					t.Errorf("truncated to %d bytes: no error", i)
				}
			}
			if _, err := tc.decode(append(data, 0)); err == nil {
				t.Error("trailing byte: no error")
			}
		})
	}
}

// Decoding arbitrary bytes never panics, and what decodes encodes back to
// the same list.
func FuzzListDecode(f *testing.F) {
	h := strings.Repeat("0f", 32)
	for _, l := range []gobList{
		FileList{{Path: "base/a.yaml", Hash: h, Size: 3}, {Path: "base/b.yaml", Site: "s", Hash: h, Seed: true}},
		SiteList{{Name: "a", Dir: "d", Target: h, Digest: "x", Units: 1}},
		RenderList{{Site: "a", Key: h}},
		WiringList{{Path: "p", Hash: h, Refs: []Ref{{Kind: 1, Doc: 1, Path: "./overlays/a"}}}},
	} {
		data, err := l.GobEncode()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var fl FileList
		if fl.GobDecode(data) == nil {
			roundTrip(t, fl, func(b []byte) (any, error) { var l FileList; err := l.GobDecode(b); return l, err })
		}
		var s SiteList
		if s.GobDecode(data) == nil {
			roundTrip(t, s, func(b []byte) (any, error) { var l SiteList; err := l.GobDecode(b); return l, err })
		}
		var r RenderList
		if r.GobDecode(data) == nil {
			roundTrip(t, r, func(b []byte) (any, error) { var l RenderList; err := l.GobDecode(b); return l, err })
		}
		var w WiringList
		if w.GobDecode(data) == nil {
			roundTrip(t, w, func(b []byte) (any, error) { var l WiringList; err := l.GobDecode(b); return l, err })
		}
	})
}

func roundTrip(t *testing.T, l gobList, decode func([]byte) (any, error)) {
	t.Helper()
	data, err := l.GobEncode()
	if err != nil {
		return // a decoded list the encoder refuses (a negative index) is never written
	}
	back, err := decode(data)
	if err != nil || !reflect.DeepEqual(back, l) {
		t.Fatalf("re-encoded list does not decode to itself: %v", err)
	}
}
