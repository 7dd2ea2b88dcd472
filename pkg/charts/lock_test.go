package charts

import (
	"bytes"
	"strings"
	"testing"
)

const (
	sumA = "3e14723164486e55db980b0aed06fe384a85a8ba5b01545dbaf31ef1a7432139"
	sumB = "0000000000000000000000000000000000000000000000000000000000000001"
)

const validLock = `apiVersion: fleetgen.dev/v1alpha1
kind: ChartLock
charts:
  - chart: "oci://registry.example.com/charts/edge-agent"
    version: "0.3.1"
    file: "charts/.pulled/oci/registry.example.com/charts/edge-agent-0.3.1.tgz"
    sha256: "` + sumA + `"
    manifestDigest: "sha256:` + sumB + `"
  - repo: "https://charts.example.com/stable"
    chart: "edge-agent"
    version: "0.3.1"
    file: "charts/.pulled/https/charts.example.com/stable/edge-agent-0.3.1.tgz"
    sha256: "` + sumB + `"
`

func TestParseLock(t *testing.T) {
	head := "apiVersion: fleetgen.dev/v1alpha1\nkind: ChartLock\ncharts:\n"
	entry := func(fields string) string { return head + "  - " + fields + "\n" }
	oci := `chart: oci://r.example/c/a, version: 1.0.0, file: charts/.pulled/a.tgz, sha256: ` + sumA
	for _, tc := range []struct {
		name, doc string
		err       string // "" for valid
	}{
		{"valid", validLock, ""},
		{"empty list", head[:len(head)-1] + " []\n", ""},
		{"no charts", "apiVersion: fleetgen.dev/v1alpha1\nkind: ChartLock\n", ""},
		{"flow entry", entry("{" + oci + "}"), ""},
		{"wrong apiVersion", "apiVersion: v1\nkind: ChartLock\n", "lock.yaml:1:13: apiVersion must be fleetgen.dev/v1alpha1"},
		{"wrong kind", "apiVersion: fleetgen.dev/v1alpha1\nkind: Lock\n", "lock.yaml:2:7: kind must be ChartLock"},
		{"missing kind", "apiVersion: fleetgen.dev/v1alpha1\n", "lock.yaml:1:1: kind is missing"},
		{"unknown top field", "apiVersion: fleetgen.dev/v1alpha1\nkind: ChartLock\nextra: 1\n", `lock.yaml:3:1: unknown field "extra"`},
		{"not a mapping", "- a\n", "not a chart lock"},
		{"not yaml", "a: [\n", "lock.yaml:"},
		{"charts not a list", head[:len(head)-1] + " {}\n", "lock.yaml:3:9: charts must be a list"},
		{"unknown entry field", entry("{" + oci + ", digest: x}"), `lock.yaml:4:152: unknown field "digest"`},
		{"missing sha256", entry("{chart: oci://r.example/c/a, version: 1.0.0, file: charts/.pulled/a.tgz}"), "lock.yaml:4:5: sha256 is missing"},
		{"bad sha256", entry("{chart: oci://r.example/c/a, version: 1.0.0, file: charts/.pulled/a.tgz, sha256: ABC}"), "lock.yaml:4:86: sha256 must be 64 lowercase hex digits"},
		{"local chart", entry("{chart: charts/a, version: 1.0.0, file: charts/.pulled/a.tgz, sha256: " + sumA + "}"), "only remote charts"},
		{"repo with oci", entry("{repo: https://c.example, " + oci + "}"), "an oci:// chart names its registry itself"},
		{"version range", entry("{chart: oci://r.example/c/a, version: ^1.0.0, file: charts/.pulled/a.tgz, sha256: " + sumA + "}"), "must be one exact chart version"},
		{"escaping file", entry("{chart: oci://r.example/c/a, version: 1.0.0, file: ../a.tgz, sha256: " + sumA + "}"), "must be inside the directory of the lock file"},
		{"absolute file", entry("{chart: oci://r.example/c/a, version: 1.0.0, file: /tmp/a.tgz, sha256: " + sumA + "}"), "must be a clean relative path"},
		{"unclean file", entry("{chart: oci://r.example/c/a, version: 1.0.0, file: charts/../../a.tgz, sha256: " + sumA + "}"), "must be a clean relative path"},
		{"not tgz", entry("{chart: oci://r.example/c/a, version: 1.0.0, file: charts/a, sha256: " + sumA + "}"), "must be a packaged chart"},
		{"manifest for repo", entry("{repo: https://c.example, chart: a, version: 1.0.0, file: charts/a.tgz, sha256: " + sumA + ", manifestDigest: sha256:" + sumA + "}"), "manifestDigest is for charts pulled from an OCI registry"},
		{"bad manifest", entry("{" + oci + ", manifestDigest: md5:00}"), "manifestDigest must be sha256:"},
		{"null field", entry("{chart: oci://r.example/c/a, version: null, file: charts/a.tgz, sha256: " + sumA + "}"), "version must be a string"},
		{"twice", head + "  - {" + oci + "}\n  - {" + oci + "}\n", "lock.yaml:5:5: chart oci://r.example/c/a version 1.0.0 is locked twice (first at line 4)"},
		{"field twice", entry("{" + oci + ", sha256: " + sumB + "}"), `field "sha256" is given twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := ParseLock("lock.yaml", []byte(tc.doc))
			if tc.err == "" {
				if err != nil {
					t.Fatalf("ParseLock: %v", err)
				}
				if _, err := ParseLock("again", l.Marshal()); err != nil {
					t.Fatalf("Marshal output does not parse: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("ParseLock error = %v, want one containing %q", err, tc.err)
			}
		})
	}
}

func TestLockMarshalSorted(t *testing.T) {
	l, err := ParseLock("lock.yaml", []byte(validLock))
	if err != nil {
		t.Fatal(err)
	}
	// The entries in another order write the same bytes: the OCI chart
	// (no repo) first.
	rev := &Lock{Entries: []LockEntry{l.Entries[1], l.Entries[0]}}
	if got := l.Marshal(); !bytes.Equal(got, rev.Marshal()) {
		t.Fatalf("order changes the bytes:\n%s\n%s", got, rev.Marshal())
	}
	want := "# Written by fleetgen charts pull: the remote charts of the inventory,\n# pinned by digest. Commit it with the files it names; generation\n# renders only charts whose file matches its sha256 here.\n" + validLock
	if got := string(l.Marshal()); got != want {
		t.Fatalf("Marshal:\n%s\nwant:\n%s", got, want)
	}
	r, err := ParseRef("edge-agent", "https://charts.example.com/stable/")
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := l.Find(r, "0.3.1"); !ok || e.SHA256 != sumB {
		t.Fatalf("Find = %+v, %v", e, ok)
	}
	if _, ok := l.Find(r, "0.3.2"); ok {
		t.Fatal("Find matched another version")
	}
}

func TestPulledPath(t *testing.T) {
	for _, tc := range []struct{ chart, repo, version, want string }{
		{"oci://registry.example.com/charts/edge-agent", "", "0.3.1", "charts/.pulled/oci/registry.example.com/charts/edge-agent-0.3.1.tgz"},
		{"oci://127.0.0.1:5000/edge-agent", "", "1.0.0+b.1", "charts/.pulled/oci/127.0.0.1_5000/edge-agent-1.0.0+b.1.tgz"},
		{"edge-agent", "https://charts.example.com/", "0.3.1", "charts/.pulled/https/charts.example.com/edge-agent-0.3.1.tgz"},
		{"edge-agent", "http://h.example/a%20b/../c/", "0.3.1", "charts/.pulled/http/h.example/a_20b/_/c/edge-agent-0.3.1.tgz"},
	} {
		if got := PulledPath(mustRef(t, tc.chart, tc.repo), tc.version); got != tc.want {
			t.Errorf("PulledPath(%s %s) = %s, want %s", tc.chart, tc.repo, got, tc.want)
		}
		if msg := checkLockedFile(tc.want); msg != "" {
			t.Errorf("%s: %s", tc.want, msg)
		}
	}
}

// FuzzParseLock checks that ParseLock never panics, and that what it
// accepts writes back to bytes that parse to the same entries and write
// the same bytes again.
func FuzzParseLock(f *testing.F) {
	f.Add([]byte(validLock))
	f.Add([]byte("apiVersion: fleetgen.dev/v1alpha1\nkind: ChartLock\ncharts: []\n"))
	f.Add([]byte("apiVersion: fleetgen.dev/v1alpha1\nkind: ChartLock\ncharts:\n  - &a {chart: x}\n  - *a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := ParseLock("f", data)
		if err != nil {
			return
		}
		out := l.Marshal()
		l2, err := ParseLock("f", out)
		if err != nil {
			t.Fatalf("Marshal output does not parse: %v\n%s", err, out)
		}
		if len(l2.Entries) != len(l.Entries) {
			t.Fatalf("%d entries became %d", len(l.Entries), len(l2.Entries))
		}
		if again := l2.Marshal(); !bytes.Equal(again, out) {
			t.Fatalf("Marshal is not stable:\n%s\n%s", out, again)
		}
	})
}
