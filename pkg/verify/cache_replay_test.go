package verify

import (
	"bytes"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// A replay reads and hashes files without re-running the content checks
// (the recorded bytes passed them), but a read that failed when recorded
// is replayed with every check, so it still fails for a file that is too
// large and no longer matches once the file is fixed.
func TestReplayRead(t *testing.T) {
	good := []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n")
	big := bytes.Repeat([]byte("#"), MaxFileSize+1)
	fsys := filesys.MakeFsInMemory()
	for name, data := range map[string][]byte{"/r/good.yaml": good, "/r/big.yaml": big} {
		if err := fsys.MkdirAll("/r"); err != nil {
			t.Fatal(err)
		}
		if err := fsys.WriteFile(name, data); err != nil {
			t.Fatal(err)
		}
	}
	c := &verifyCache{fs: fsys, root: "/r"}
	tests := []struct {
		name string
		p    probe
		want bool
	}{
		{"same content", probe{opReadFile, "/r/good.yaml", dataDigest(good, nil)}, true},
		{"other content", probe{opReadFile, "/r/good.yaml", dataDigest([]byte("x"), nil)}, false},
		{"failed read still fails", probe{opReadFile, "/r/big.yaml", "!"}, true},
		{"failed read now succeeds", probe{opReadFile, "/r/good.yaml", "!"}, false},
		{"missing file failed", probe{opReadFile, "/r/none.yaml", "!"}, true},
		{"missing file read", probe{opReadFile, "/r/none.yaml", dataDigest(good, nil)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.matches(tt.p); got != tt.want {
				t.Errorf("matches(%v) = %v, want %v", tt.p, got, tt.want)
			}
		})
	}
}
