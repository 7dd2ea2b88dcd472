package chartref

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, chart, repo string
		want              Ref
		err               string
	}{
		{name: "local dir", chart: "charts/edge-agent", want: Ref{Kind: Local, Path: "charts/edge-agent"}},
		{name: "local tgz", chart: "../vendor/edge-agent-0.3.1.tgz", want: Ref{Kind: Local, Path: "../vendor/edge-agent-0.3.1.tgz"}},
		{name: "local absolute", chart: "/srv/charts/a", err: "must be relative to the inventory file"},
		{name: "local windows absolute", chart: `C:\charts\a`, err: "must be relative"},
		{name: "oci", chart: "oci://registry.example.com/charts/edge-agent",
			want: Ref{Kind: OCI, URL: "oci://registry.example.com/charts/edge-agent", Name: "edge-agent"}},
		{name: "oci port one segment", chart: "oci://127.0.0.1:5000/edge-agent",
			want: Ref{Kind: OCI, URL: "oci://127.0.0.1:5000/edge-agent", Name: "edge-agent"}},
		{name: "oci tag", chart: "oci://r.example/c/a:1.0.0", err: "without a tag or digest"},
		{name: "oci digest", chart: "oci://r.example/c/a@sha256:00", err: "without a tag or digest"},
		{name: "oci no repository", chart: "oci://r.example", err: "must be oci://HOST/REPOSITORY/CHART"},
		{name: "oci trailing slash", chart: "oci://r.example/c/", err: "each part must be lowercase"},
		{name: "oci uppercase", chart: "oci://r.example/Charts/a", err: "each part must be lowercase"},
		{name: "oci bad host", chart: "oci://r_example/a", err: `registry host "r_example"`},
		{name: "oci with repo", chart: "oci://r.example/c/a", repo: "https://charts.example.com", err: "an oci:// chart names its registry itself: remove repo"},
		{name: "https chart", chart: "https://charts.example.com/stable/edge-agent", err: "write repo: https://charts.example.com/stable and chart: edge-agent"},
		{name: "https chart no path", chart: "https://charts.example.com/", err: "write repo: https://HOST/PATH and chart: NAME"},
		{name: "other scheme", chart: "git://example.com/a", err: "must be a chart directory or .tgz"},
		{name: "repo", chart: "edge-agent", repo: "https://charts.example.com/stable/",
			want: Ref{Kind: HTTP, URL: "https://charts.example.com/stable", Name: "edge-agent"}},
		{name: "repo plain http", chart: "edge-agent", repo: "http://127.0.0.1:8080",
			want: Ref{Kind: HTTP, URL: "http://127.0.0.1:8080", Name: "edge-agent"}},
		{name: "repo chart path", chart: "charts/edge-agent", repo: "https://charts.example.com", err: "with repo, chart is the chart's name"},
		{name: "repo without chart", repo: "https://charts.example.com", err: "repo is set but chart is not"},
		{name: "repo oci scheme", chart: "a", repo: "oci://r.example/c", err: "an OCI registry is not a chart repository"},
		{name: "repo ftp", chart: "a", repo: "ftp://r.example/c", err: "must be the URL of a Helm chart repository"},
		{name: "repo no host", chart: "a", repo: "https:///c", err: "must be the URL of a Helm chart repository"},
		{name: "repo credentials", chart: "a", repo: "https://user:pw@r.example/c", err: "credentials do not go in the inventory"},
		{name: "repo query", chart: "a", repo: "https://r.example/c?x=1", err: "without a query or fragment"},
		{name: "repo index", chart: "a", repo: "https://r.example/c/index.yaml", err: "give the directory, not index.yaml"},
		{name: "empty", err: "chart is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.chart, tc.repo)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Parse(%q, %q) error = %v, want one containing %q", tc.chart, tc.repo, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q, %q): %v", tc.chart, tc.repo, err)
			}
			if got != tc.want {
				t.Fatalf("Parse(%q, %q) = %+v, want %+v", tc.chart, tc.repo, got, tc.want)
			}
			if got.Remote() != (got.Kind != Local) {
				t.Errorf("Remote() = %v for %s", got.Remote(), got.Kind)
			}
		})
	}
}

func TestRefStrings(t *testing.T) {
	oci, err := Parse("oci://127.0.0.1:5000/charts/edge-agent", "")
	if err != nil {
		t.Fatal(err)
	}
	if got := oci.OCIReference("0.3.1+build.7"); got != "127.0.0.1:5000/charts/edge-agent:0.3.1_build.7" {
		t.Errorf("OCIReference = %q", got)
	}
	if got := oci.OCIHost(); got != "127.0.0.1:5000" {
		t.Errorf("OCIHost = %q", got)
	}
	if got := oci.String(); got != "oci://127.0.0.1:5000/charts/edge-agent" {
		t.Errorf("String = %q", got)
	}
	h, err := Parse("edge-agent", "https://charts.example.com/stable")
	if err != nil {
		t.Fatal(err)
	}
	if got := h.String(); got != "edge-agent (repo https://charts.example.com/stable)" {
		t.Errorf("String = %q", got)
	}
	if h.OCIHost() != "" {
		t.Errorf("OCIHost of an HTTP chart = %q", h.OCIHost())
	}
}

func TestCheckVersion(t *testing.T) {
	for v, ok := range map[string]bool{
		"0.3.1": true, "v1.2.3": true, "1.0.0-rc.1": true, "1.0.0+build.5": true, "1.0": true,
		"^1.0.0": false, "~1.2": false, ">=1.0.0": false, "1.2.x": false, "1.X": false, "*": false,
		"1.0.0 || 2.0.0": false, "1.0.0,2.0.0": false, "1..2": false, "": false,
	} {
		if err := CheckVersion(v); (err == nil) != ok {
			t.Errorf("CheckVersion(%q) = %v, want ok=%v", v, err, ok)
		}
	}
}

// FuzzParse checks that Parse never panics and that what it accepts
// parses again to the same reference from its parts.
func FuzzParse(f *testing.F) {
	for _, s := range [][2]string{{"charts/a", ""}, {"oci://r.example/c/a", ""}, {"a", "https://r.example/c"}, {"https://x/y", ""}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, chart, repo string) {
		r, err := Parse(chart, repo)
		if err != nil {
			return
		}
		switch r.Kind {
		case OCI:
			if r2, err := Parse(r.URL, ""); err != nil || r2 != r {
				t.Fatalf("OCI %+v does not parse back: %+v %v", r, r2, err)
			}
		case HTTP:
			if r2, err := Parse(r.Name, r.URL); err != nil || r2 != r {
				t.Fatalf("HTTP %+v does not parse back: %+v %v", r, r2, err)
			}
		}
	})
}
