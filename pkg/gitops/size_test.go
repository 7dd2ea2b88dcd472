package gitops_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/fleetgen/fleetgen/pkg/gitops"
	"github.com/fleetgen/fleetgen/pkg/policy"
)

// bigConfigMap returns a YAML ConfigMap whose JSON encoding is n bytes.
func bigConfigMap(n int) []byte {
	const head = `{"apiVersion":"v1","data":{"k":""},"kind":"ConfigMap","metadata":{"name":"big"}}`
	return fmt.Appendf(nil, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n  k: %s\n", strings.Repeat("x", n-len(head)))
}

func TestCheckSizes(t *testing.T) {
	small := []byte("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: edge-app\n")
	for _, tc := range []struct {
		name  string
		files map[string][]byte
		want  []string
	}{
		{"small tree", map[string][]byte{"base/namespace.yaml": small, "argocd/appproject.yaml": []byte("schedule: \"0 * * * *\"\n")}, nil},
		{"object at the bound", map[string][]byte{"base/cm.yaml": bigConfigMap(policy.MaxObjectBytes)}, nil},
		{"object over the bound, second document", map[string][]byte{"argocd/applicationset.yaml": append(append(small, "---\n"...), bigConfigMap(policy.MaxObjectBytes+1)...)},
			[]string{"object-size: argocd/applicationset.yaml (document 2): ConfigMap v1 big: 262145 bytes as JSON, over the 262144-byte (256 KiB) bound"}},
		{"file over the bound", map[string][]byte{"overlays/a/blob.txt": make([]byte, policy.MaxFileBytes+1), "overlays/a/ok.txt": make([]byte, policy.MaxFileBytes)},
			[]string{"file-size: overlays/a/blob.txt: 1048577 bytes, over the 1048576-byte (1 MiB) bound"}},
		{"YAML file and objects over the bound", map[string][]byte{"clusters/a/x.yaml": []byte(strings.Repeat(string(bigConfigMap(policy.MaxObjectBytes+10))+"---\n", 5))},
			[]string{"file-size: clusters/a/x.yaml:", "object-size: clusters/a/x.yaml (document 1)", "object-size: clusters/a/x.yaml (document 2)", "object-size: clusters/a/x.yaml (document 3)", "object-size: clusters/a/x.yaml (document 4)", "object-size: clusters/a/x.yaml (document 5)"}},
		{"content known by hash is skipped", map[string][]byte{"argocd/applicationset.yaml": nil}, nil},
		{"the root .sops.yaml is the documented exception", map[string][]byte{".sops.yaml": make([]byte, policy.MaxFileBytes+1), "x/.sops.yaml": make([]byte, policy.MaxFileBytes+1)},
			[]string{"file-size: x/.sops.yaml:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs := gitops.CheckSizes(tc.files)
			if len(errs) != len(tc.want) {
				t.Fatalf("got %d errors, want %d: %v", len(errs), len(tc.want), errs)
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(errs[i].Error(), w) {
					t.Errorf("error %d = %q, want it to start with %q", i, errs[i], w)
				}
			}
		})
	}
}
