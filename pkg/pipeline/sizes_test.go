package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetgen/fleetgen/pkg/policy"
)

func TestCheckSizesOnDisk(t *testing.T) {
	root := t.TempDir()
	write := func(p string, data []byte) {
		fp := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(fp), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(fp, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	big := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n  k: " + strings.Repeat("x", policy.MaxObjectBytes) + "\n"
	write("argocd/applicationset.yaml", []byte(big))
	write("clusters/a/blob.bin", make([]byte, policy.MaxFileBytes+1))
	write("overlays/a/kustomization.yaml", []byte("resources: [../../base]\n"))
	write(".sops.yaml", make([]byte, policy.MaxFileBytes+1))
	write(".git/objects/pack/big.pack", make([]byte, policy.MaxFileBytes+1))
	write(".fleetgen/ledger", make([]byte, policy.MaxFileBytes+1))
	errs, err := CheckSizesOnDisk(root)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"file-size: clusters/a/blob.bin: 1048577 bytes",
		"object-size: argocd/applicationset.yaml (document 1): ConfigMap v1 big:",
	}
	if len(errs) != len(want) {
		t.Fatalf("got %v, want %d errors", errs, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(errs[i].Error(), w) {
			t.Errorf("error %d = %v, want prefix %q", i, errs[i], w)
		}
	}
}
