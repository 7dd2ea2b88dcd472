package report

import (
	"encoding/json"
	"strings"
	"testing"
)

func shardReport(index, count int, fleet string, checks bool, problems int, sites ...Site) Input {
	r := Report{APIVersion: APIVersion, Kind: Kind, Sites: []Site{},
		Shard: &Shard{Index: index, Count: count, Fleet: fleet, FleetChecks: checks, FleetProblems: problems}}
	for _, s := range sites {
		r.Sites = append(r.Sites, s)
		r.Summary.Sites++
		if s.Status == StatusOK {
			r.Summary.OK++
		} else {
			r.Summary.Failed++
			r.Summary.Errors += len(s.Errors)
		}
	}
	return Input{Name: "r" + string(rune('0'+index)) + ".json", Report: r}
}

func site(name string, ok bool) Site {
	s := Site{Name: name, Dir: "overlays/" + name, Status: StatusOK, Errors: []string{}, SchemaErrors: []SchemaError{}, Skipped: []Object{}, Findings: []Finding{}}
	if !ok {
		s.Status, s.Errors = StatusFailed, []string{"boom"}
	}
	return s
}

func TestMerge(t *testing.T) {
	m, err := Merge([]Input{
		shardReport(2, 2, "f", false, 0, site("b", true), site("d", false)),
		shardReport(1, 2, "f", true, 0, site("a", true), site("c", true)),
	})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range m.Report.Sites {
		names = append(names, s.Name)
	}
	if strings.Join(names, ",") != "a,b,c,d" || m.Report.Shard != nil {
		t.Errorf("sites %v, shard %v; want a,b,c,d sorted and no shard", names, m.Report.Shard)
	}
	if want := (Summary{Sites: 4, OK: 3, Failed: 1, Errors: 1}); m.Report.Summary != want || m.OK() {
		t.Errorf("summary %+v ok %v, want %+v and not ok", m.Report.Summary, m.OK(), want)
	}
	m, err = Merge([]Input{shardReport(1, 1, "f", true, 2, site("a", true))})
	if err != nil || m.OK() || !m.Report.OK() {
		t.Errorf("fleet-wide problems: err %v, ok %v; want a failed merge with passing sites", err, m.OK())
	}
}

func TestMergeErrors(t *testing.T) {
	unsharded := shardReport(1, 1, "f", true, 0)
	unsharded.Report.Shard = nil
	for _, tc := range []struct {
		name string
		in   []Input
		want string
	}{
		{"none", nil, "no reports"},
		{"counts", []Input{shardReport(1, 2, "f", true, 0), shardReport(2, 3, "f", false, 0)}, "r2.json: shard 2/3, but r1.json is shard 1/2"},
		{"fleets", []Input{shardReport(1, 2, "f", true, 0), shardReport(2, 2, "g", false, 0)}, "r2.json: fleet g, but r1.json has fleet f"},
		{"missing", []Input{shardReport(1, 3, "f", true, 0), shardReport(3, 3, "f", false, 0)}, "missing shard 2/3"},
		{"twice", []Input{shardReport(1, 2, "f", true, 0), shardReport(1, 2, "f", true, 0), shardReport(2, 2, "f", false, 0)}, "shard 1/2 given more than once: r1.json, r1.json"},
		{"overlap", []Input{shardReport(1, 2, "f", true, 0, site("a", true)), shardReport(2, 2, "f", false, 0, site("a", true))}, "site a is in both r1.json and r2.json"},
		{"checks twice", []Input{shardReport(1, 2, "f", true, 0), shardReport(2, 2, "f", true, 0)}, "2 of the 2 reports ran the fleet-wide checks"},
		{"unsharded", []Input{unsharded}, "r1.json: not the report of a shard"},
		{"range", []Input{shardReport(3, 2, "f", true, 0)}, "out of range"},
		{"huge count", []Input{shardReport(1, 1<<62, "f", true, 0)}, "missing shard 2/4611686018427387904"},
	} {
		_, err := Merge(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestDecode(t *testing.T) {
	good, _ := json.Marshal(shardReport(1, 1, "f", true, 0).Report)
	if _, err := Decode("a.json", good); err != nil {
		t.Errorf("a report: %v", err)
	}
	for _, bad := range []string{"", "not json", `{"apiVersion":"v1","kind":"ConfigMap"}`, `{"apiVersion":"fleetgen.dev/v1alpha1","kind":"VerifyReport","extra":1}`} {
		if _, err := Decode("x.json", []byte(bad)); err == nil || !strings.Contains(err.Error(), "x.json") {
			t.Errorf("Decode(%q): %v, want an error naming x.json", bad, err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	good, _ := json.Marshal(shardReport(1, 2, "f", true, 0, site("a", true)).Report)
	f.Add(good)
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := Decode("f.json", data)
		if err != nil {
			return
		}
		_, _ = Merge([]Input{in})
	})
}
