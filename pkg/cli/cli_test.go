package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/fleetgen/fleetgen/pkg/tree"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Run(context.Background(), IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, args)
	return code, out.String(), errOut.String()
}

// TestGenerateLockedTree: a second generate on a tree that is being written
// fails before rendering, naming the holder, and writes nothing.
func TestGenerateLockedTree(t *testing.T) {
	repo := t.TempDir()
	if err := os.Mkdir(filepath.Join(repo, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(repo, "fleet")
	if code, _, stderr := run(t, "generate", "--sample", "-o", dir); code != 0 {
		t.Fatalf("first generate: exit %d: %s", code, stderr)
	}
	unlock, err := tree.Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	before, err := os.ReadFile(filepath.Join(dir, ".fleetgen", "ledger.d", "_fleet.ledger"))
	if err != nil {
		t.Fatal(err)
	}
	code, _, stderr := run(t, "generate", "--sample", "-o", dir, "--force")
	if code != ExitFailed {
		t.Fatalf("exit %d, want %d; stderr: %s", code, ExitFailed, stderr)
	}
	host, _ := os.Hostname()
	for _, want := range []string{"locked", "pid " + strconv.Itoa(os.Getpid()), host} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr %q does not mention %q", stderr, want)
		}
	}
	after, _ := os.ReadFile(filepath.Join(dir, ".fleetgen", "ledger.d", "_fleet.ledger"))
	if !bytes.Equal(before, after) {
		t.Error("ledger changed while the tree was locked")
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	cases := [][]string{
		{"generate"},
		{"generate", "--sample"},
		{"generate", "--sample", "-i", "x.yaml", "-o", "out"},
		{"generate", "--sample", "-o", "out", "--diff"},
		{"generate", "--no-such-flag"},
		{"check", "-o", "out"},
		{"diff", "--sample", "-o", "out", "--color", "sometimes"},
		{"verify"},
		{"verify", "a", "b"},
		{"build", "dir"},
		{"version", "extra"},
	}
	for _, args := range cases {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir)
			code, _, stderr := run(t, args...)
			if code != ExitBadInput {
				t.Fatalf("exit %d, want %d; stderr: %s", code, ExitBadInput, stderr)
			}
			if !strings.HasPrefix(stderr, "Error: ") {
				t.Errorf("stderr %q does not start with Error:", stderr)
			}
			if _, err := os.Stat(filepath.Join(dir, "out")); err == nil {
				t.Error("output directory created on a usage error")
			}
		})
	}
}
