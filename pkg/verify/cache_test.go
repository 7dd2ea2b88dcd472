package verify

import (
	"os"
	"path/filepath"
	"runtime"
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

// The executable is identified by its Go build ID where it has one (every
// Linux build), else by the hash of its content: files that differ never
// share an identity.
func TestExeIdentity(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	id, err := exeIdentity(exe)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS == "linux" && (!strings.HasPrefix(id, "buildid:") || !strings.Contains(id, "/")) {
		t.Errorf("identity of the test binary %q, want its Go build ID", id)
	}
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	for name, content := range map[string]string{a: "#!/bin/sh\necho a\n", b: "#!/bin/sh\necho b\n"} {
		if err := os.WriteFile(name, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ia, err := exeIdentity(a)
	if err != nil {
		t.Fatal(err)
	}
	ib, err := exeIdentity(b)
	if err != nil {
		t.Fatal(err)
	}
	if ia == ib || strings.HasPrefix(ia, "buildid:") {
		t.Errorf("scripts a and b: identities %q and %q, want two different content hashes", ia, ib)
	}
	if _, err := exeIdentity(filepath.Join(dir, "missing")); err == nil {
		t.Error("identity of a missing file: no error")
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

// The content memo answers as the checks do, for every content a name has
// had: a remembered pass never hides a later bad content.
func TestContentMemo(t *testing.T) {
	memo := &contentMemo{}
	for _, tc := range []struct {
		name, data  string
		openAPI, ok bool
	}{
		{"base/kustomization.yaml", "resources: [a.yaml]\n", false, true},
		{"base/kustomization.yaml", "resources: [a.yaml]\n", false, true},
		{"base/kustomization.yaml", "openapi: {path: s.json}\n", true, true},
		{"base/kustomization.yaml", "resources: [https://example.com/x.yaml]\n", false, false},
		{"base/kustomization.yaml", "resources: [a.yaml]\n", false, true},
		{"base/a.yaml", "openapi: {path: s.json}\n", false, true},
	} {
		for _, m := range []*contentMemo{memo, nil} {
			openAPI, err := m.check(tc.name, []byte(tc.data))
			if openAPI != tc.openAPI || (err == nil) != tc.ok {
				t.Errorf("memo %v: check(%s, %q) = %v, %v; want %v, ok %v", m != nil, tc.name, tc.data, openAPI, err, tc.openAPI, tc.ok)
			}
		}
	}
}
