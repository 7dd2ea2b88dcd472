package inventory

import (
	"reflect"
	"strings"
	"testing"
)

// knownPolicies stands in for the policy ids pkg/pipeline passes.
var knownPolicies = []string{"capacity", "host-access", "image-digest", "limits"}

func resolveWithPolicies(doc string) (*Fleet, error) {
	inv, err := Load("t.yaml", strings.NewReader(doc))
	if err != nil {
		return nil, err
	}
	return inv.Resolve(ResolveOptions{Policies: knownPolicies})
}

func TestWaiversReserveDigestsMerge(t *testing.T) {
	doc := header + `defaults:
  type: store
  region: eu
  arch: arm64
  requireDigests: true
  capacity: {cpu: "2", memory: 2Gi, reserve: {cpu: 250m}}
  waivers:
    - {policy: limits, reason: "defaults reason"}
    - {policy: capacity, reason: "defaults capacity"}
groups:
  - name: big
    capacity: {reserve: {memory: 1536Mi}}
    waivers:
      - policy: host-access
        reason: modbus bridge
      - policy: limits
        reason: group reason
sites:
  - name: s1
    groups: [big]
    requireDigests: false
    waivers: [{policy: capacity, reason: "site wins"}]
  - name: s2
`
	fleet, err := resolveWithPolicies(doc)
	if err != nil {
		t.Fatal(err)
	}
	s1, s2 := fleet.Sites[0], fleet.Sites[1]
	want := []Waiver{{"limits", "group reason"}, {"capacity", "site wins"}, {"host-access", "modbus bridge"}}
	if !reflect.DeepEqual(s1.Waivers, want) {
		t.Errorf("s1 waivers %+v, want %+v", s1.Waivers, want)
	}
	if s1.RequireDigests || !s2.RequireDigests {
		t.Errorf("requireDigests s1 %v s2 %v", s1.RequireDigests, s2.RequireDigests)
	}
	if r := s1.Capacity.Reserve; r.CPU != "250m" || r.Memory != "1536Mi" {
		t.Errorf("s1 reserve %+v", r)
	}
	if r := s2.Capacity.Reserve; r.CPU != "250m" || r.Memory != "" {
		t.Errorf("s2 reserve %+v", r)
	}
	for key, want := range map[string]Origin{
		"waivers[0]":              {Layer: "group/big", File: "t.yaml", Line: 19, Column: 17},
		"waivers[1]":              {Layer: "site", File: "t.yaml", Line: 25, Column: 24},
		"waivers[2]":              {Layer: "group/big", File: "t.yaml", Line: 17, Column: 17},
		"requireDigests":          {Layer: "site", File: "t.yaml", Line: 24, Column: 21},
		"capacity.reserve.cpu":    {Layer: "defaults", File: "t.yaml", Line: 9, Column: 52},
		"capacity.reserve.memory": {Layer: "group/big", File: "t.yaml", Line: 15, Column: 34},
	} {
		if got := s1.Origins[key]; got != want {
			t.Errorf("s1 origin %s = %+v, want %+v", key, got, want)
		}
	}
	if want := []Waiver{{"limits", "defaults reason"}, {"capacity", "defaults capacity"}}; !reflect.DeepEqual(s2.Waivers, want) {
		t.Errorf("s2 waivers %+v", s2.Waivers)
	}
}

func TestWaiverErrors(t *testing.T) {
	site := "sites:\n  - name: s1\n    type: store\n    region: eu\n    arch: arm64\n"
	cases := []struct {
		name, doc string
		want      []string
	}{
		{
			name: "unknown policy names file:line:col and suggests",
			doc:  header + site + "    waivers: [{policy: capacty, reason: x}]\n",
			want: []string{`t.yaml:9:24: site "s1": sites[0].waivers[0].policy: unknown policy "capacty" (did you mean "capacity"?); known policies: capacity, host-access, image-digest, limits`},
		},
		{
			name: "reason required",
			doc:  header + "defaults:\n  waivers:\n    - policy: limits\n      reason: \"  \"\n" + site,
			want: []string{`t.yaml:7:15: defaults.waivers[0].reason: is required: say why the policy is waived`},
		},
		{
			name: "missing reason and policy",
			doc:  header + site + "    waivers:\n      - {}\n",
			want: []string{`sites[0].waivers[0].policy: is required`, `sites[0].waivers[0].reason: is required`},
		},
		{
			name: "twice in a layer",
			doc:  header + site + "    waivers: [{policy: limits, reason: a}, {policy: limits, reason: b}]\n",
			want: []string{`sites[0].waivers[1].policy: policy "limits" is waived twice in this layer (first as waivers[0])`},
		},
		{
			name: "unknown waiver field",
			doc:  header + site + "    waivers: [{policy: limits, reason: a, until: may}]\n",
			want: []string{`unknown field "until"; allowed fields: policy, reason`},
		},
		{
			name: "waivers not a list",
			doc:  header + site + "    waivers: {policy: limits}\n",
			want: []string{`sites[0].waivers: expected a list of waivers`},
		},
		{
			name: "requireDigests not a bool",
			doc:  header + site + "    requireDigests: \"yes\"\n",
			want: []string{`t.yaml:9:21: site "s1": sites[0].requireDigests: expected true or false, got the scalar "yes"`},
		},
		{
			name: "bad reserve",
			doc:  header + site + "    capacity: {reserve: {cpu: -1, memory: lots, disk: 1Gi}}\n",
			want: []string{
				`sites[0].capacity.reserve.cpu: invalid value "-1": must not be negative`,
				`sites[0].capacity.reserve.memory: invalid value "lots": must be a Kubernetes quantity`,
				`unknown field "disk"; allowed fields: cpu, memory`,
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := resolveWithPolicies(tc.doc)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%s\ndoes not contain\n%s", err, w)
				}
			}
		})
	}
	// Without known policies (Load alone, or ResolveOptions.Policies nil)
	// an unknown id is not an error.
	if _, err := loadAndResolve(header+site+"    waivers: [{policy: capacty, reason: x}]\n", nil); err != nil {
		t.Errorf("unchecked policies: %v", err)
	}
}
