package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUnusableCacheIsReportedOnce: a cache directory that cannot be created
// or written makes generate, check and verify run without the cache and say
// so in one line on standard error (naming the directory, the cause and
// --no-cache); --no-cache runs without the warning.
func TestUnusableCacheIsReportedOnce(t *testing.T) {
	tmp := inRepo(t, t.TempDir())
	blocker := filepath.Join(tmp, "not-a-dir")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cacheDir := filepath.Join(blocker, "cache")
	t.Setenv(cacheDirEnv, cacheDir)
	out := filepath.Join(tmp, "fleet")
	for _, args := range [][]string{
		{"generate", "--sample", "-o", out},
		{"check", "--sample", "-o", out},
		{"verify", out},
	} {
		code, _, stderr := run(t, args...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", strings.Join(args, " "), code, stderr)
		}
		var warnings []string
		for _, line := range strings.Split(stderr, "\n") {
			if strings.HasPrefix(line, "warning:") {
				warnings = append(warnings, line)
			}
		}
		if len(warnings) != 1 || !strings.Contains(warnings[0], cacheDir) ||
			!strings.Contains(warnings[0], "not a directory") || !strings.Contains(warnings[0], "--no-cache") {
			t.Errorf("%s: warnings %q, want one naming %s, the cause and --no-cache", strings.Join(args, " "), warnings, cacheDir)
		}
	}
	code, _, stderr := run(t, "check", "--sample", "--no-cache", "-o", out)
	if code != 0 || strings.Contains(stderr, "warning:") {
		t.Errorf("--no-cache: exit %d, stderr %q", code, stderr)
	}
}
