package gitops

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindRepo(t *testing.T) {
	base, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	mk := func(p string) {
		if err := os.MkdirAll(filepath.Join(base, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, data string) {
		if err := os.WriteFile(filepath.Join(base, p), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mk("repo/.git")
	mk("repo/deploy/edge")
	mk("wt/x")
	write("wt/.git", "gitdir: /elsewhere/.git/worktrees/wt\n")
	mk("notgit/a")
	write("notgit/.git", "not a pointer\n")
	mk("plain")
	if err := os.Symlink(filepath.Join(base, "repo", "deploy"), filepath.Join(base, "link")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		dir, root, path, err string
	}{
		{dir: "repo", root: "repo", path: "."},
		{dir: "repo/deploy/edge", root: "repo", path: "deploy/edge"},
		{dir: "repo/deploy/new/fleet", root: "repo", path: "deploy/new/fleet"}, // does not exist yet
		{dir: "wt/x/fleet", root: "wt", path: "x/fleet"},
		{dir: "link/fleet", root: "repo", path: "deploy/fleet"}, // through a symlink
		{dir: "notgit/a", root: "", path: ""},
		{dir: "plain/fleet", root: "", path: ""},
		{dir: "repo/.git/fleet", err: "inside the git directory"},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			p, err := FindRepo(filepath.Join(base, tc.dir))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			wantRoot := ""
			if tc.root != "" {
				wantRoot = filepath.Join(base, tc.root)
			}
			// A temporary directory is not expected to be in a work tree;
			// if it is, the cases without one cannot be told apart.
			if tc.root == "" && p.Root != "" && !strings.HasPrefix(p.Root, base) {
				t.Skipf("the temporary directory is inside the work tree %s", p.Root)
			}
			if p.Root != wantRoot || p.Path != tc.path {
				t.Fatalf("FindRepo(%s) = %+v, want root %q path %q", tc.dir, p, wantRoot, tc.path)
			}
		})
	}
}

func TestPlacePrefix(t *testing.T) {
	for _, tc := range []struct{ path, prefix string }{{".", ""}, {"", ""}, {"fleet", "fleet/"}, {"a/b", "a/b/"}} {
		if got := (Place{Root: "/r", Path: tc.path}).Prefix(); got != tc.prefix {
			t.Errorf("Prefix(%q) = %q, want %q", tc.path, got, tc.prefix)
		}
	}
}
