package cli

import (
	"fmt"
	"os"
	"testing"
)

// TestMain points the verification cache at a temporary directory, so the
// tests never write to the user's cache.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "fleetgen-cli-cache-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv(cacheDirEnv, dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
