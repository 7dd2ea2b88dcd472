package inventory

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
)

const chartsDoc = k3sHead + `  charts:
    edge-agent:
      chart: charts/edge-agent
      version: 0.3.1
      values:
        replicas: 1
        logLevel: info
        siteID: "007"
        debug: no
        ratio: 0.5
        tags: [a, b]
        resources: {limits: {cpu: 100m, memory: 128Mi}}
        drop: x
groups:
  - name: big
    charts:
      edge-agent:
        values:
          replicas: 3
          resources: {limits: {memory: 512Mi}}
          tags: [c]
sites:
  - name: s1
    groups: [big]
    charts:
      edge-agent:
        namespace: agents
        values: {drop: null, logLevel: debug}
  - name: s2
`

func TestChartsMerge(t *testing.T) {
	f, err := loadK3s(t, strings.TrimPrefix(chartsDoc, k3sHead))
	if err != nil {
		t.Fatal(err)
	}
	s1, s2 := f.Sites[0], f.Sites[1]
	want1 := SiteChart{
		Chart: "charts/edge-agent", Version: "0.3.1", Namespace: "agents", Mode: ChartModeRendered,
		Values: map[string]any{
			"replicas": float64(3), "logLevel": "debug", "siteID": "007", "debug": false, "ratio": 0.5,
			"tags": []any{"c"}, "drop": nil,
			"resources": map[string]any{"limits": map[string]any{"cpu": "100m", "memory": "512Mi"}},
		},
	}
	if got := s1.Charts["edge-agent"]; !reflect.DeepEqual(got, want1) {
		t.Errorf("s1 edge-agent:\n got %#v\nwant %#v", got, want1)
	}
	if got := s2.Charts["edge-agent"].Values["replicas"]; got != float64(1) {
		t.Errorf("s2 replicas = %#v, want 1", got)
	}
	if s2.Charts["edge-agent"].Values["drop"] != "x" {
		t.Errorf("s2 lost drop, which only s1 deletes")
	}
	for key, want := range map[string]string{
		"charts.edge-agent.values.replicas":                "group/big:inventory.yaml:26",
		"charts.edge-agent.values.resources.limits.memory": "group/big:inventory.yaml:27",
		"charts.edge-agent.values.resources.limits.cpu":    "defaults:inventory.yaml:19",
		"charts.edge-agent.values.tags[0]":                 "group/big:inventory.yaml:28",
		"charts.edge-agent.values.logLevel":                "site:inventory.yaml:35",
		"charts.edge-agent.namespace":                      "site:inventory.yaml:34",
		"charts.edge-agent.version":                        "defaults:inventory.yaml:11",
	} {
		o, ok := s1.Origins[key]
		if got := o.Layer + ":" + o.File + ":" + strconv.Itoa(o.Line); !ok || got != want {
			t.Errorf("origin of %s = %q, want %q", key, got, want)
		}
	}
	if o := s1.Origins["charts.edge-agent.values.drop"]; o.Layer != "site" {
		t.Errorf("the null that deletes drop comes from %q, want site", o.Layer)
	}
	for _, gone := range []string{"charts.edge-agent.values.tags[1]"} {
		if _, ok := s1.Origins[gone]; ok {
			t.Errorf("origin of deleted %s kept", gone)
		}
	}
	// Sites never share value maps.
	s1.Charts["edge-agent"].Values["resources"].(map[string]any)["x"] = 1
	if _, ok := s2.Charts["edge-agent"].Values["resources"].(map[string]any)["x"]; ok {
		t.Error("sites share a values map")
	}
}

func TestChartValueTypes(t *testing.T) {
	for in, want := range map[string]any{
		"3": float64(3), "1.5": 1.5, "true": true, "yes": true, "off": false, "null": nil, "~": nil,
		"007": float64(7), "1.10": 1.1, "abc": "abc", "2024-01-02": "2024-01-02", "0x1F": float64(31),
	} {
		if got := helmScalar(in); !reflect.DeepEqual(got, want) {
			t.Errorf("helmScalar(%q) = %#v, want %#v", in, got, want)
		}
	}
}

func TestChartsRules(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		want      []string
	}{
		{"valid", "  charts:\n    a: {chart: charts/a, version: 1.0.0}\nsites:\n  - name: s\n", nil},
		{"release name", "  charts:\n    Edge_Agent: {chart: charts/a, version: 1.0.0}\nsites:\n  - name: s\n",
			[]string{`inventory.yaml:9:5: defaults.charts.Edge_Agent: invalid release name "Edge_Agent": must be a DNS-1123 label`}},
		{"unknown field", "  charts:\n    a: {chart: charts/a, version: 1.0.0, valuse: {}}\nsites:\n  - name: s\n",
			[]string{`inventory.yaml:9:42: defaults.charts.a: unknown field "valuse" (did you mean "values"?)`}},
		{"missing version", "  charts:\n    a: {chart: charts/a}\nsites:\n  - name: s\n",
			[]string{`inventory.yaml:9:16: site "s": sites[0].charts.a.version: is not set by the site, its groups or defaults`}},
		{"missing chart", "sites:\n  - name: s\n    charts:\n      a: {values: {x: 1}}\n",
			[]string{`inventory.yaml:11:23: site "s": sites[0].charts.a.chart: is not set`}},
		{"version range", "  charts:\n    a: {chart: charts/a, version: ^1.0.0}\nsites:\n  - name: s\n", []string{"must be one exact chart version"}},
		{"bad mode", "  charts:\n    a: {chart: charts/a, version: 1.0.0, mode: helm}\nsites:\n  - name: s\n", []string{`invalid value "helm": must be one of rendered, release`}},
		{"bad namespace", "  charts:\n    a: {chart: charts/a, version: 1.0.0, namespace: Edge}\nsites:\n  - name: s\n", []string{"charts.a.namespace: invalid value \"Edge\""}},
		{"absolute chart", "  charts:\n    a: {chart: /srv/a, version: 1.0.0}\nsites:\n  - name: s\n", []string{"must be relative to the inventory file"}},
		{"oci tag", "  charts:\n    a: {chart: \"oci://r.example/c/a@sha256:00\", version: 1.0.0}\nsites:\n  - name: s\n", []string{"without a tag"}},
		{"two charts one release", "  charts:\n    a: {chart: charts/a, version: 1.0.0}\nsites:\n  - name: s\n    charts:\n      a: {chart: charts/b}\n",
			[]string{`inventory.yaml:13:18: site "s": sites[0].charts.a.chart: release "a" uses chart "charts/b" here but chart "charts/a" in defaults.charts.a (line 9)`}},
		{"tagged value", "  charts:\n    a: {chart: charts/a, version: 1.0.0, values: {x: !!binary aGk=}}\nsites:\n  - name: s\n", []string{"YAML tag !!binary is not supported in chart values"}},
		{"charts not a map", "  charts: [a]\nsites:\n  - name: s\n", []string{"expected a mapping of release names to charts"}},
		{"oci", "  charts:\n    a: {chart: \"oci://r.example/c/a\", version: 1.0.0}\nsites:\n  - name: s\n", nil},
		{"repo", "  charts:\n    a: {repo: \"https://charts.example.com/stable\", chart: a, version: 1.0.0}\nsites:\n  - name: s\n", nil},
		{"repo wildcard version", "  charts:\n    a: {repo: \"https://charts.example.com\", chart: a, version: 1.2.x}\nsites:\n  - name: s\n",
			[]string{`inventory.yaml:9:64: defaults.charts.a.version: invalid value "1.2.x": must be one exact chart version`}},
		{"repo not http", "  charts:\n    a: {repo: \"oci://r.example/c\", chart: a, version: 1.0.0}\nsites:\n  - name: s\n",
			[]string{`inventory.yaml:9:15: defaults.charts.a.repo: invalid value "oci://r.example/c": an OCI registry is not a chart repository`}},
		{"repo with oci chart", "  charts:\n    a: {chart: \"oci://r.example/c/a\", version: 1.0.0}\ngroups:\n  - name: g\n    charts:\n      a: {repo: \"https://charts.example.com\"}\nsites:\n  - name: s\n    groups: [g]\n",
			[]string{`inventory.yaml:9:16: site "s": sites[0].charts.a.chart: release "a": an oci:// chart names its registry itself: remove repo (repo is for HTTP(S) chart repositories); repo "https://charts.example.com" is set (line 13)`}},
		{"repo with chart path", "  charts:\n    a: {repo: \"https://charts.example.com\", chart: charts/a, version: 1.0.0}\nsites:\n  - name: s\n",
			[]string{`sites[0].charts.a.chart: release "a": chart "charts/a": with repo, chart is the chart's name in that repository`}},
		{"https chart", "  charts:\n    a: {chart: \"https://charts.example.com/stable/a\", version: 1.0.0}\nsites:\n  - name: s\n",
			[]string{`write repo: https://charts.example.com/stable and chart: a`}},
		{"two repos one release", "  charts:\n    a: {repo: \"https://one.example.com\", chart: a, version: 1.0.0}\nsites:\n  - name: s\n    charts:\n      a: {repo: \"https://two.example.com\"}\n",
			[]string{`sites[0].charts.a.repo: release "a" uses repo "https://two.example.com" here but repo "https://one.example.com" in defaults.charts.a (line 9)`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadK3s(t, tc.doc)
			wantErrors(t, err, tc.want)
		})
	}
}

// wantErrors checks that err contains every one of want, or that err is
// nil when want is empty.
func wantErrors(t *testing.T, err error, want []string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("no error, want %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
}
