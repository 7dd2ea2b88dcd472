package cli

import (
	"os"
	"path/filepath"
	"testing"
)

// inRepo makes dir the root of a git work tree the way fleetgen finds one
// (a .git directory; git itself is not needed), so that trees written under
// it are wired from the repository's root without setting gitops.path.
func inRepo(t *testing.T, dir string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
