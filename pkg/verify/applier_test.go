package verify

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/fleetgen/fleetgen/pkg/policy"
)

const sampleFleet = "../../testdata/golden/sample-fleet"

// TestSampleFleetApplier verifies the sample fleet's golden tree: every
// site's applier covers its overlay exactly, and the check did read it.
// With a kind taken out of one site's applier Role, that site fails with
// an applier-rbac finding naming the kind; the others still pass.
func TestSampleFleetApplier(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(sampleFleet)); err != nil {
		t.Fatal(err)
	}
	fsys := filesys.MakeFsOnDisk()
	targets, err := Overlays(fsys, dir)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(context.Background(), targets, Options{FS: fsys, Root: dir, RecordAccesses: true})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("%s\n%v", rep.Summary(), rep.Err())
	}
	for _, r := range rep.Results {
		read := false
		for _, a := range r.Accesses {
			read = read || (a.Op == "read" && strings.HasSuffix(filepath.ToSlash(a.Path), "/"+ApplierPath(r.Site)))
		}
		if !read {
			t.Errorf("site %s: %s was not read", r.Site, ApplierPath(r.Site))
		}
	}

	site := targets[0].Site
	p := filepath.Join(dir, filepath.FromSlash(ApplierPath(site)))
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	const rule = "  - apiGroups: [\"apps\"]\n    resources: [\"deployments\"]\n    verbs: [\"get\", \"list\", \"watch\", \"create\", \"update\", \"patch\", \"delete\"]\n"
	if !strings.Contains(string(data), rule) {
		t.Fatalf("%s has no deployments rule:\n%s", p, data)
	}
	if err := os.WriteFile(p, []byte(strings.Replace(string(data), rule, "", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err = Run(context.Background(), targets, Options{FS: fsys, Root: dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Results {
		var found []string
		for _, f := range r.Unwaived() {
			if f.Policy == policy.ApplierRBAC {
				found = append(found, f.String())
			}
		}
		switch {
		case r.Site != site && len(found) > 0:
			t.Errorf("site %s: unexpected findings %v", r.Site, found)
		case r.Site == site && (len(found) != 1 || !strings.Contains(found[0], "Deployment/edge-app/") || !strings.Contains(found[0], "site \""+site+"\"")):
			t.Errorf("site %s: findings %v, want one naming the Deployment and the site", r.Site, found)
		}
	}
}
