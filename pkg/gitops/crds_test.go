package gitops

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path"
	"regexp"
	"testing"
)

// TestEmbeddedCRDsAreThePublishedOnes decompresses each embedded Argo CD
// CRD and compares its SHA-256 with the one recorded in the README beside
// it, so the embedded schemas stay byte for byte the published files.
func TestEmbeddedCRDsAreThePublishedOnes(t *testing.T) {
	dir := path.Join("crds/argocd", ArgoCDVersion)
	readme, err := os.ReadFile(path.Join(dir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := regexp.MustCompile("(?m)^\\| `([a-z]+-crd\\.yaml)` \\|.*\\| `([0-9a-f]{64})` \\|$").FindAllSubmatch(readme, -1)
	if len(rows) != 3 {
		t.Fatalf("%s/README.md: want a SHA-256 row for each of the 3 CRDs, found %d", dir, len(rows))
	}
	for _, r := range rows {
		data, err := readCRD(argoCRDFiles, path.Join(dir, string(r[1])))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != string(r[2]) {
			t.Errorf("%s: SHA-256 %s, README records %s", r[1], got, r[2])
		}
	}
}
