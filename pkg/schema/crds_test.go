package schema

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestEmbeddedCRDsAreThePublishedOnes decompresses each embedded CRD and
// compares its SHA-256 with the one recorded in the README beside it, so
// the embedded schemas stay byte for byte the published files, and checks
// that every kind validated against them compiles.
func TestEmbeddedCRDsAreThePublishedOnes(t *testing.T) {
	dir := path.Join("crds/cert-manager", CertManagerVersion)
	readme, err := os.ReadFile(path.Join(dir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := regexp.MustCompile("(?m)^\\| `([a-z.-]+_[a-z]+\\.yaml)` \\| (https://\\S+) \\|.*\\| `([0-9a-f]{64})` \\|$").FindAllSubmatch(readme, -1)
	files, _ := certManagerFiles.ReadDir(dir)
	if len(rows) != len(files) || len(rows) != 2 {
		t.Fatalf("%s/README.md: want a row with source and SHA-256 for each of the %d embedded CRDs, found %d", dir, len(files), len(rows))
	}
	for _, r := range rows {
		file := string(r[1])
		if !strings.HasSuffix(string(r[2]), "/"+CertManagerVersion+"/deploy/crds/"+file) {
			t.Errorf("%s: source %s is not the file of tag %s", file, r[2], CertManagerVersion)
		}
		data, err := ReadGzip(certManagerFiles, path.Join(dir, file+".gz"))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != string(r[3]) {
			t.Errorf("%s: SHA-256 %s, README records %s", file, got, r[3])
		}
	}
	for k, compiled := range pinnedCRDs {
		crd, err := compiled()
		if err != nil {
			t.Fatalf("%s %s: %v", k.apiVersion, k.kind, err)
		}
		if got := crd.GVK.GroupVersion().String(); got != k.apiVersion || crd.GVK.Kind != k.kind || !crd.Namespaced {
			t.Errorf("%s %s: compiled as %s, namespaced %v", k.apiVersion, k.kind, crd.GVK, crd.Namespaced)
		}
	}
}

// TestCertManagerObjects validates cert-manager objects through New(), as
// pkg/verify does with every built object: what the mtls component
// generates passes; unknown fields, wrong types, values outside an enum
// and a broken CEL rule are errors naming the field.
func TestCertManagerObjects(t *testing.T) {
	const issuer = `
apiVersion: cert-manager.io/v1
kind: Issuer
metadata: {name: mtls-site-ca, namespace: edge-app}
spec:
  ca: {secretName: site-ca}
`
	const certificate = `
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: edge-app-mtls, namespace: edge-app}
spec:
  secretName: edge-app-mtls
  uris: ["spiffe://acme-retail/site/store-1/ns/edge-app/sa/edge-app"]
  duration: 24h
  renewBefore: 8h
  privateKey: {algorithm: ECDSA, size: 256, rotationPolicy: Always}
  usages: [digital signature, client auth]
  issuerRef: {name: mtls-site-ca, kind: Issuer, group: cert-manager.io}
`
	for _, tc := range []struct {
		name, doc string
		want      []string // substrings of the errors, in order; none for a pass
	}{
		{"issuer", issuer, nil},
		{"certificate", certificate, nil},
		{"unknown field", strings.Replace(issuer, "secretName: site-ca", "secretName: site-ca, secret: x", 1),
			[]string{"spec.ca.secret: unknown field"}},
		{"missing required field", strings.Replace(issuer, "secretName: site-ca", "crlDistributionPoints: []", 1),
			[]string{"spec.ca.secretName: Required value"}},
		{"enum", strings.Replace(certificate, "algorithm: ECDSA", "algorithm: DSA", 1),
			[]string{`spec.privateKey.algorithm: Unsupported value: "DSA"`}},
		{"wrong type", strings.Replace(certificate, "size: 256", "size: large", 1),
			[]string{"spec.privateKey.size: Invalid value: \"string\""}},
		{"CEL rule", strings.Replace(issuer, "ca: {secretName: site-ca}", "venafi: {zone: z, tpp: {url: https://tpp.example.com, credentialsRef: {name: c}}, cloud: {apiTokenSecretRef: {name: t, key: k}}}", 1),
			[]string{"spec.venafi: Invalid value: exactly one of tpp, cloud, or ngts must be configured"}},
		{"bad name", strings.Replace(issuer, "name: mtls-site-ca", "name: Mtls_CA", 1),
			[]string{"metadata.name: Invalid value: \"Mtls_CA\""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var obj map[string]any
			if err := yaml.Unmarshal([]byte(tc.doc), &obj); err != nil {
				t.Fatal(err)
			}
			r := New().Validate(obj)
			if r.Skipped {
				t.Fatalf("%s skipped: the pinned CRD was not used", r.GVK)
			}
			if len(r.Errors) != len(tc.want) {
				t.Fatalf("got %d errors %v, want %d: %q", len(r.Errors), r.Errors, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if got := r.Errors[i].Error(); !strings.Contains(got, w) {
					t.Errorf("error %d: %q does not contain %q", i, got, w)
				}
			}
		})
	}
}

// TestEmbeddedFluxCRDsAreThePublishedOnes does for the Flux CRDs
// (crds/flux/) what TestEmbeddedCRDsAreThePublishedOnes does for
// cert-manager's: each embedded file decompresses to the SHA-256 its
// README records, from a source under config/crd/bases/ of the Flux
// repository, and each Flux kind compiles.
func TestEmbeddedFluxCRDsAreThePublishedOnes(t *testing.T) {
	readme, err := os.ReadFile("crds/flux/README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := regexp.MustCompile("(?m)^\\| `([a-z0-9.-]+/[a-z.]+_[a-z]+\\.yaml)` \\| (https://\\S+) \\|.*\\| `([0-9a-f]{64})` \\|$").FindAllSubmatch(readme, -1)
	if len(rows) != len(fluxCRDs) {
		t.Fatalf("crds/flux/README.md: want a row with source and SHA-256 for each of the %d embedded CRDs, found %d", len(fluxCRDs), len(rows))
	}
	for _, r := range rows {
		file := string(r[1])
		if !strings.HasSuffix(string(r[2]), "/config/crd/bases/"+path.Base(file)) {
			t.Errorf("%s: source %s is not a published CRD file", file, r[2])
		}
		data, err := ReadGzip(fluxFiles, path.Join("crds/flux", file+".gz"))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != string(r[3]) {
			t.Errorf("%s: SHA-256 %s, README records %s", file, got, r[3])
		}
	}
	for k := range fluxCRDs {
		crd, ok, err := PinnedCRD(k.apiVersion, k.kind)
		if !ok || err != nil {
			t.Fatalf("%s %s: pinned %v, %v", k.apiVersion, k.kind, ok, err)
		}
		if crd.GVK.GroupVersion().String() != k.apiVersion || crd.GVK.Kind != k.kind || !crd.Namespaced {
			t.Errorf("%s %s: compiled as %s, namespaced %v", k.apiVersion, k.kind, crd.GVK, crd.Namespaced)
		}
	}
}
