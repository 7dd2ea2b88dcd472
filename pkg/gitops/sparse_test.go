package gitops_test

import (
	"context"
	"path"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/fleetgen/fleetgen/pkg/gitops"
	"github.com/fleetgen/fleetgen/pkg/pipeline"
	"github.com/fleetgen/fleetgen/pkg/verify"
)

// sparseInventory is a Flux fleet whose sites use no component, one, or
// two.
const sparseInventory = `apiVersion: fleetgen.dev/v1alpha1
kind: Inventory
fleet: sparse
gitops:
  engine: flux
  repo: https://git.example.com/edge/fleet.git
  path: deploy/fleet
defaults:
  type: store
  region: eu-west
  arch: arm64
  images: {app: registry.example.com/shop/app:1.0.0}
sites:
  - name: plain
  - name: both
    components: [gpu, eu-compliance]
  - name: eu
    components: [eu-compliance]
`

// TestSparseCheckoutCoversBuild checks that each site's GitRepository
// narrows its artifact to exactly the directories its overlay build reads:
// every file the build reads (as verification records it) is under one of
// the sparseCheckout directories, and each of them is read.
func TestSparseCheckoutCoversBuild(t *testing.T) {
	fleet, tree := renderFixture(t, "sparse.yaml", []byte(sparseInventory))
	fsys := filesys.MakeFsInMemory()
	for _, f := range tree.Files {
		if err := fsys.WriteFile(path.Join("/fleet", f.Path), f.Data); err != nil {
			t.Fatal(err)
		}
	}
	targets := pipeline.Targets(fleet)
	rep, err := verify.Run(context.Background(), targets, verify.Options{FS: fsys, Root: "/fleet", RecordAccesses: true})
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, f := range tree.Files {
		files[f.Path] = f.Data
	}
	for i, res := range rep.Results {
		if res.Err != nil {
			t.Fatalf("site %s: %v", res.Site, res.Err)
		}
		root := strings.TrimSuffix(targets[i].Dir, "/overlays/"+res.Site) + "/"
		sparse := sparseCheckout(t, files["clusters/"+res.Site+"/fleet-sync.yaml"])
		var dirs []string // the sparse directories from the tree's root
		for _, d := range sparse {
			rel, ok := strings.CutPrefix(d, "deploy/fleet/")
			if !ok {
				t.Fatalf("site %s: sparseCheckout entry %q is not from the repository root (deploy/fleet/...)", res.Site, d)
			}
			dirs = append(dirs, rel)
		}
		read := map[string]bool{}
		for _, a := range res.Accesses {
			if a.Op != "read" {
				continue
			}
			rel := strings.TrimPrefix(a.Path, root)
			if rel == verify.ApplierPath(res.Site) {
				// Read by the applier coverage check, not by the build
				// Flux runs: an administrator applies it at bootstrap.
				continue
			}
			i := slices.IndexFunc(dirs, func(d string) bool { return strings.HasPrefix(rel, d+"/") })
			if i < 0 {
				t.Errorf("site %s: the build reads %s, outside sparseCheckout %v", res.Site, rel, sparse)
				continue
			}
			read[dirs[i]] = true
		}
		for _, d := range dirs {
			if !read[d] {
				t.Errorf("site %s: sparseCheckout lists %s, which the build does not read", res.Site, d)
			}
		}
		want := []string{"base"}
		for _, c := range fleet.Sites[i].Components {
			want = append(want, path.Join("components", c))
		}
		want = append(want, "overlays/"+res.Site)
		if !slices.Equal(dirs, want) {
			t.Errorf("site %s: sparseCheckout %v, want %v", res.Site, dirs, want)
		}
	}
}

// sparseCheckout returns spec.sparseCheckout of the GitRepository in a
// Flux wiring file.
func sparseCheckout(t *testing.T, data []byte) []string {
	t.Helper()
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	for {
		var obj struct {
			Kind string `yaml:"kind"`
			Spec struct {
				SparseCheckout []string `yaml:"sparseCheckout"`
			} `yaml:"spec"`
		}
		if err := dec.Decode(&obj); err != nil {
			t.Fatalf("no GitRepository: %v", err)
		}
		if obj.Kind == "GitRepository" {
			return obj.Spec.SparseCheckout
		}
	}
}

// A wiring file's summary gives the same sparseCheckout list as its
// content: incremental runs take the list from the summary.
func TestSummarySparseDirs(t *testing.T) {
	fleet, tree := renderFixture(t, "sparse.yaml", []byte(sparseInventory))
	files := gitops.Files(tree)
	var names []string
	for _, s := range fleet.Sites {
		names = append(names, s.Name)
	}
	errs, sums := gitops.NewChecker().CheckSummarized(files, nil, names)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	for _, site := range names {
		p := "clusters/" + site + "/fleet-sync.yaml"
		want, ok := gitops.SparseCheckout(files[p])
		if !ok || !slices.Equal(want, sparseCheckout(t, files[p])) {
			t.Fatalf("%s: SparseCheckout = %v, %v", p, want, ok)
		}
		got, ok := sums[p].SparseDirs()
		if !ok || !slices.Equal(got, want) {
			t.Errorf("%s: summary's SparseDirs = %v, %v; want %v", p, got, ok, want)
		}
	}
	if got, ok := sums["clusters/plain/applier.yaml"].SparseDirs(); ok {
		t.Errorf("the applier's summary has a sparseCheckout list: %v", got)
	}
}
