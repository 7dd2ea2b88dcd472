package tree

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidateRoot(t *testing.T) {
	tmp := t.TempDir()
	home := filepath.Join(tmp, "home")
	if err := os.Mkdir(home, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", home)
	if err := os.Symlink(home, filepath.Join(tmp, "home-link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/", filepath.Join(tmp, "slash-link")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, tmp, "a-file", "x")
	if err := os.Mkdir(filepath.Join(tmp, "real"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real", filepath.Join(tmp, "dir-link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("nowhere", filepath.Join(tmp, "dangling-link")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, tmp, "state-file/.fleetgen", "x")
	if err := os.MkdirAll(filepath.Join(tmp, "state-link"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../real", filepath.Join(tmp, "state-link", ".fleetgen")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		root string
		want string // "" for no error
	}{
		{"", "empty"},
		{"/", "filesystem root"},
		{"/..", "filesystem root"},
		{home, "home directory"},
		{home + "/", "home directory"},
		{filepath.Join(tmp, "home-link"), "home directory"},
		{filepath.Join(tmp, "slash-link"), "filesystem root"},
		{filepath.Join(tmp, "a-file"), "not a directory"},
		{filepath.Join(tmp, "dir-link"), "symlink (to real)"},
		{filepath.Join(tmp, "dir-link") + "/", "symlink (to real)"},
		{filepath.Join(tmp, "dangling-link"), "symlink"},
		{filepath.Join(tmp, "dir-link", "sub"), ""}, // a link above the root is fine
		{filepath.Join(tmp, "state-file"), ".fleetgen is not a directory"},
		{filepath.Join(tmp, "state-link"), ".fleetgen is a symlink"},
		{filepath.Join(home, "fleet"), ""},
		{filepath.Join(tmp, "does", "not", "exist"), ""},
		{tmp, ""},
	}
	for _, tc := range tests {
		err := ValidateRoot(tc.root)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("ValidateRoot(%q) = %v, want nil", tc.root, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("ValidateRoot(%q) = %v, want an error mentioning %q", tc.root, err, tc.want)
		}
	}
	if _, err := MakePlan(home, sample(), PlanOptions{}); err == nil {
		t.Error("MakePlan accepted the home directory")
	}
}

func TestSymlinksInsideRootAreRefused(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, root, outside string)
	}{
		{"symlinked directory", func(t *testing.T, root, outside string) {
			os.MkdirAll(filepath.Join(root, "overlays"), 0o755)
			if err := os.Symlink(outside, filepath.Join(root, "overlays", "a")); err != nil {
				t.Fatal(err)
			}
		}},
		{"symlinked top directory", func(t *testing.T, root, outside string) {
			os.MkdirAll(root, 0o755)
			if err := os.Symlink(outside, filepath.Join(root, "overlays")); err != nil {
				t.Fatal(err)
			}
		}},
		{"symlinked file", func(t *testing.T, root, outside string) {
			os.MkdirAll(filepath.Join(root, "overlays", "a"), 0o755)
			if err := os.Symlink(filepath.Join(outside, "kustomization.yaml"), filepath.Join(root, ovA)); err != nil {
				t.Fatal(err)
			}
		}},
		{"relative symlink staying inside", func(t *testing.T, root, outside string) {
			os.MkdirAll(filepath.Join(root, "overlays", "real"), 0o755)
			if err := os.Symlink("real", filepath.Join(root, "overlays", "a")); err != nil {
				t.Fatal(err)
			}
		}},
		{"symlinked file beside a regular one, staying inside", func(t *testing.T, root, outside string) {
			// base/deploy.yaml is inspected first, so its directory is
			// already open when base/kustomization.yaml is looked up.
			writeFile(t, root, "base/deploy.yaml", "kind: Deployment\n")
			if err := os.Symlink("deploy.yaml", filepath.Join(root, "base", "kustomization.yaml")); err != nil {
				t.Fatal(err)
			}
		}},
		{"symlinked bookkeeping directory", func(t *testing.T, root, outside string) {
			os.MkdirAll(root, 0o755)
			if err := os.Symlink(outside, filepath.Join(root, stateDir)); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir()
			root, outside := filepath.Join(tmp, "out"), filepath.Join(tmp, "outside")
			writeFile(t, outside, "kustomization.yaml", "outside\n")
			tc.setup(t, root, outside)
			before := snapshot(t, outside)
			_, err := MakePlan(root, sample(), PlanOptions{Force: true})
			if err == nil || !strings.Contains(err.Error(), "symlink") {
				t.Fatalf("MakePlan: err = %v, want a symlink refusal", err)
			}
			if d := diffSnapshots(before, snapshot(t, outside)); len(d) > 0 {
				t.Fatalf("outside changed: %v", d)
			}
		})
	}
}

func TestApplyRechecksSymlinks(t *testing.T) {
	tmp := t.TempDir()
	root, outside := filepath.Join(tmp, "out"), filepath.Join(tmp, "outside")
	writeFile(t, outside, "keep", "outside\n")
	applyTree(t, root, sample(), PlanOptions{})
	tr := with(sample(), file("overlays/c/kustomization.yaml", "c", "c\n"))
	p, err := MakePlan(root, tr, PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Between plan and apply, overlays/c appears as a symlink out of the tree.
	if err := os.Symlink(outside, filepath.Join(root, "overlays", "c")); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, outside)
	if err := Apply(context.Background(), p); err == nil || !strings.Contains(err.Error(), "symlink") {
		t.Fatalf("Apply: err = %v, want a symlink refusal", err)
	}
	if d := diffSnapshots(before, snapshot(t, outside)); len(d) > 0 {
		t.Fatalf("outside changed: %v", d)
	}
}

// TestRootSymlinkIsRefused: an output directory given as a symlink is
// refused by planning, applying and locking alike, and nothing is written
// into the link's target.
func TestRootSymlinkIsRefused(t *testing.T) {
	tmp := t.TempDir()
	real := filepath.Join(tmp, "real")
	if err := os.Mkdir(real, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(tmp, "link")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	if _, err := MakePlan(link, sample(), PlanOptions{}); err == nil || !strings.Contains(err.Error(), "symlink") {
		t.Errorf("MakePlan: err = %v, want a symlink refusal", err)
	}
	if _, err := Lock(link); err == nil || !strings.Contains(err.Error(), "symlink") {
		t.Errorf("Lock: err = %v, want a symlink refusal", err)
	}
	p, err := MakePlan(real, sample(), PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p.Root = link
	if err := Apply(context.Background(), p); err == nil || !strings.Contains(err.Error(), "symlink") {
		t.Errorf("Apply: err = %v, want a symlink refusal", err)
	}
	if entries, _ := os.ReadDir(real); len(entries) > 0 {
		t.Errorf("the link's target is not empty: %v", entries)
	}
}

// TestValidateRootRefusesNestedTree: a directory inside a fleet tree that is
// not a tree itself is refused (the slip of `generate -o fleet` run from
// inside fleet/), in either ledger layout; the tree itself, as "." from
// inside it too, is fine.
func TestValidateRootRefusesNestedTree(t *testing.T) {
	for _, legacy := range []bool{false, true} {
		tmp := t.TempDir()
		fleet := filepath.Join(tmp, "fleet")
		applyTree(t, fleet, sample(), PlanOptions{})
		if legacy {
			toLegacy(t, fleet)
		}
		for _, root := range []string{filepath.Join(fleet, "fleet"), filepath.Join(fleet, "overlays", "a", "x")} {
			if err := ValidateRoot(root); err == nil || !strings.Contains(err.Error(), "inside the fleet tree") {
				t.Errorf("legacy %v: ValidateRoot(%s) = %v, want a refusal", legacy, root, err)
			}
		}
		if err := ValidateRoot(fleet); err != nil {
			t.Errorf("legacy %v: the tree itself: %v", legacy, err)
		}
		t.Chdir(fleet)
		if err := ValidateRoot("."); err != nil {
			t.Errorf("legacy %v: -o . inside the tree: %v", legacy, err)
		}
		if err := ValidateRoot("fleet"); err == nil || !strings.Contains(err.Error(), "use -o .") {
			t.Errorf("legacy %v: -o fleet inside the tree: %v, want a hint at -o .", legacy, err)
		}
		if err := ValidateRoot(filepath.Join(tmp, "other")); err != nil {
			t.Errorf("legacy %v: a sibling of the tree: %v", legacy, err)
		}
	}
}
