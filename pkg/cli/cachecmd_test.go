package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fleetgen/fleetgen/pkg/cache"
)

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"2GiB": 2 << 30, "2Gi": 2 << 30, "500MiB": 500 << 20, "500MB": 500e6, "500M": 500e6,
		"1024": 1024, "1024B": 1024, "0": 0, "10KiB": 10 << 10, "10K": 10e3, "10KB": 10e3,
	} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "-1", "2XB", "big", "1.5.5G"} {
		if _, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q): no error", bad)
		}
	}
}

func TestCacheCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "c")
	t.Setenv(cacheDirEnv, dir)
	c, err := cache.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	old := cache.Key([]byte("old"))
	c.Put(old, make([]byte, 4000))
	c.Put(cache.Key([]byte("new")), make([]byte, 1000))
	past := time.Now().Add(-40 * 24 * time.Hour)
	entries, _ := c.Entries()
	for _, e := range entries {
		if strings.HasSuffix(e.Path, old) {
			os.Chtimes(e.Path, past, past)
		}
	}

	if code, out, _ := run(t, "cache", "dir"); code != 0 || out != dir+"\n" {
		t.Errorf("cache dir: exit %d, %q", code, out)
	}
	code, out, _ := run(t, "cache", "size")
	if code != 0 || !strings.Contains(out, dir+": 2 entries") {
		t.Errorf("cache size: exit %d, %q", code, out)
	}
	code, out, _ = run(t, "cache", "prune", "--dry-run")
	if code != 0 || !strings.Contains(out, "would remove 1 entries") || len(mustEntries(t, c)) != 2 {
		t.Errorf("cache prune --dry-run: exit %d, %q", code, out)
	}
	code, out, _ = run(t, "cache", "prune")
	if code != 0 || !strings.Contains(out, "removed 1 entries") || len(mustEntries(t, c)) != 1 {
		t.Errorf("cache prune (default 30 days): exit %d, %q", code, out)
	}
	code, out, _ = run(t, "cache", "prune", "--max-size", "0.5KiB")
	if code != 0 || len(mustEntries(t, c)) != 0 {
		t.Errorf("cache prune --max-size 0.5KiB: exit %d, %q", code, out)
	}
	for _, args := range [][]string{{"--max-size", "lots"}, {"--max-age", "-1h"}, {"--max-age", "soon"}} {
		if code, _, stderr := run(t, append([]string{"cache", "prune"}, args...)...); code != ExitBadInput || !strings.Contains(stderr, args[0]) {
			t.Errorf("cache prune %v: exit %d, %q; want 2 naming the flag", args, code, stderr)
		}
	}
}

func mustEntries(t *testing.T, c *cache.Dir) []cache.Entry {
	t.Helper()
	e, err := c.Entries()
	if err != nil {
		t.Fatal(err)
	}
	return e
}
