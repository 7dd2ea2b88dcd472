package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOutputDirectoryProblemsExit2: an output directory that cannot be used
// as given (a symlink, or one whose .fleetgen is a symlink) is refused with
// exit 2 before anything is written, by every command that takes -o.
func TestOutputDirectoryProblemsExit2(t *testing.T) {
	tmp := t.TempDir()
	target := filepath.Join(tmp, "target")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(tmp, "fleet-link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	stateLinked := filepath.Join(tmp, "state-linked")
	if err := os.Mkdir(stateLinked, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(stateLinked, ".fleetgen")); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{link, link + "/", stateLinked} {
		for _, cmd := range [][]string{
			{"generate", "--sample", "-o", dir},
			{"generate", "--sample", "--dry-run", "-o", dir},
			{"check", "--sample", "-o", dir},
			{"diff", "--sample", "-o", dir},
		} {
			code, _, stderr := run(t, cmd...)
			if code != ExitBadInput || !strings.Contains(stderr, "symlink") {
				t.Errorf("%s: exit %d, want %d with a message about the symlink; stderr:\n%s", strings.Join(cmd, " "), code, ExitBadInput, stderr)
			}
			if entries, _ := os.ReadDir(target); len(entries) > 0 {
				t.Fatalf("%s: wrote into the link's target: %v", strings.Join(cmd, " "), entries)
			}
		}
	}
}

// TestGenerateFromInsideTheTree: `generate -o fleet` run from inside fleet/
// would plan a nested fleet/fleet; it is refused with exit 2 and a hint,
// nothing is created, and `-o .` regenerates the tree in place.
func TestGenerateFromInsideTheTree(t *testing.T) {
	dir := filepath.Join(inRepo(t, t.TempDir()), "fleet")
	if code, _, stderr := run(t, "generate", "--sample", "-o", dir); code != 0 {
		t.Fatalf("first generate: exit %d: %s", code, stderr)
	}
	t.Chdir(dir)
	code, _, stderr := run(t, "generate", "--sample", "-o", "fleet")
	if code != ExitBadInput || !strings.Contains(stderr, "inside the fleet tree") || !strings.Contains(stderr, "-o .") {
		t.Errorf("exit %d, want %d with a hint at -o .; stderr:\n%s", code, ExitBadInput, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "fleet")); !os.IsNotExist(err) {
		t.Errorf("nested fleet/fleet created (%v)", err)
	}
	if code, stdout, stderr := run(t, "generate", "--sample", "-o", "."); code != 0 || !strings.Contains(stdout, "up to date") {
		t.Errorf("generate -o . inside the tree: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}
