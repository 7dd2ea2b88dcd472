package verify

import (
	"strings"
	"testing"
)

// The salt changes with the fleetgen version, the kustomize and Kubernetes
// API versions and the executable, so an upgrade never serves an old verdict.
func TestSaltChanges(t *testing.T) {
	base := salt("v1", "v0.21.2", "v0.37.2", "exe")
	for name, other := range map[string]string{
		"fleetgen version":  salt("v2", "v0.21.2", "v0.37.2", "exe"),
		"kustomize version": salt("v1", "v0.21.3", "v0.37.2", "exe"),
		"k8s api version":   salt("v1", "v0.21.2", "v0.38.0", "exe"),
		"executable":        salt("v1", "v0.21.2", "v0.37.2", "exe2"),
	} {
		if other == base {
			t.Errorf("%s not in the salt", name)
		}
	}
}

// The salt is the same in every process: it must not depend on where the
// build options happen to be allocated.
func TestSaltStable(t *testing.T) {
	if a, b := salt("v1", "k", "a", "exe"), salt("v1", "k", "a", "exe"); a != b {
		t.Errorf("salt differs between calls: %s, %s", a, b)
	}
	if d := optionsDigest(KustomizeOptions()); strings.Contains(d, "0x") {
		t.Errorf("options digest holds an address: %s", d)
	}
}

// A kustomization that sets openapi: (in any letter case, or hidden
// behind a merge key or unparsable YAML) is built alone.
func TestSetsOpenAPI(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		want       bool
	}{
		{"kustomization.yaml", "resources: [a.yaml]\n", false},
		{"kustomization.yaml", "openapi:\n  path: s.json\n", true},
		{"kustomization.yml", "OpenAPI:\n  version: v1.21.2\n", true},
		{"Kustomization", "\"open\\x41pi\": {}\n", true},
		{"kustomization.yaml", "<<: {openapi: {}}\n", true},
		{"kustomization.yaml", ": [broken\n", true},
		{"deployment.yaml", "openapi: {}\n", false},
	} {
		if got := setsOpenAPI(tc.name, []byte(tc.data)); got != tc.want {
			t.Errorf("setsOpenAPI(%s, %q) = %v, want %v", tc.name, tc.data, got, tc.want)
		}
	}
}
