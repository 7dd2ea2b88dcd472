package tree

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A ledger file that is not a regular file is refused, named by its path
// in the tree, whichever of the many files it is.
func TestReadLedgerRefusesIrregularFiles(t *testing.T) {
	for _, tc := range []struct {
		name string
		make func(t *testing.T, p string)
	}{
		{"symlink", func(t *testing.T, p string) {
			if err := os.Symlink("site-a.ledger", p); err != nil {
				t.Fatal(err)
			}
		}},
		{"directory", func(t *testing.T, p string) {
			if err := os.Mkdir(p, 0o755); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, filepath.FromSlash(ledgerDir))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			var es []Entry
			for i := range 20 {
				site := "site-" + string(rune('a'+i))
				es = append(es, Entry{Path: "overlays/" + site + "/kustomization.yaml", Site: site, Hash: hashOf([]byte(site))})
			}
			files, err := marshalLedgerFiles(es)
			if err != nil {
				t.Fatal(err)
			}
			for rel, data := range files {
				if err := os.WriteFile(filepath.Join(root, filepath.FromSlash(rel)), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := ReadLedger(root); err != nil {
				t.Fatalf("the ledger of 20 sites: %v", err)
			}
			tc.make(t, filepath.Join(dir, "site-z"+ledgerExt))
			_, err = ReadLedger(root)
			want := ledgerDir + "/site-z" + ledgerExt + ": not a regular file"
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("ReadLedger: %v, want an error naming %q", err, want)
			}
		})
	}
}
