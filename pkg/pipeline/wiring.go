package pipeline

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/fleetgen/fleetgen/pkg/gitops"
	"github.com/fleetgen/fleetgen/pkg/inventory"
	"github.com/fleetgen/fleetgen/pkg/k3s"
	"github.com/fleetgen/fleetgen/pkg/render"
	"github.com/fleetgen/fleetgen/pkg/verify"
)

// CheckTreeWiring checks the GitOps wiring of a tree on disk, without an
// inventory: every wiring object under clusters/ and argocd/ is validated
// strictly, every site (a directory overlays/<site>/ with a
// kustomization.yaml) must be wired exactly once (with Argo CD, by its
// parameter file overlays/<site>/argocd-site.json), and when dir is inside
// a git work tree every Flux Kustomization's spec.path must resolve from
// the repository's root to its site's overlay. A tree without wiring
// passes. The files are read one at a time and only their summaries kept,
// so its memory does not grow with the size of the sites' wiring. The
// findings name the file, the site and the path; the error is for a tree
// that cannot be read.
func CheckTreeWiring(dir string) ([]error, error) {
	paths, err := wiringPaths(dir)
	if err != nil {
		return nil, err
	}
	place, err := gitops.FindRepo(dir)
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(filepath.Join(dir, gitops.OverlaysDir))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	var sites []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		k := path.Join(gitops.OverlaysDir, e.Name(), "kustomization.yaml")
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(k))); err == nil {
			sites = append(sites, e.Name())
			// Read only if it exists (an Argo CD tree).
			paths = append(paths, path.Join(gitops.OverlaysDir, e.Name(), gitops.SiteParamsFile))
		}
	}
	read := func(p string) ([]byte, error) { return os.ReadFile(filepath.Join(dir, filepath.FromSlash(p))) }
	errs, err := gitops.NewChecker().WithPlace(place).CheckRead(paths, read, sites)
	if err != nil {
		return nil, fmt.Errorf("reading the wiring of %s: %w", dir, err)
	}
	return errs, nil
}

// CheckWiringPaths checks the wiring files of dir given by paths (tree
// relative, slash-separated; other paths are ignored), as
// gitops.Checker.CheckPaths does: each is validated and each Flux
// Kustomization must point at its site's overlay from the root of the
// repository dir is in. A file that no longer exists is skipped.
func CheckWiringPaths(dir string, paths []string) ([]error, error) {
	files, err := readWiring(dir, paths)
	if err != nil || len(files) == 0 {
		return nil, err
	}
	place, err := gitops.FindRepo(dir)
	if err != nil {
		return nil, err
	}
	return gitops.NewChecker().WithPlace(place).CheckPaths(files), nil
}

// readWiring reads the wiring files of dir named by paths (tree relative,
// slash-separated; other paths are ignored). A file that no longer exists
// is skipped.
func readWiring(dir string, paths []string) (map[string][]byte, error) {
	files := map[string][]byte{}
	for _, p := range paths {
		if !gitops.IsWiringFile(p) {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading the wiring of %s: %w", dir, err)
		}
		files[p] = data
	}
	return files, nil
}

// wiringPaths lists the regular files under clusters/ and argocd/ of dir,
// tree relative and slash-separated.
func wiringPaths(dir string) ([]string, error) {
	var paths []string
	for _, top := range []string{gitops.ClustersDir, gitops.ArgoCDDir} {
		err := filepath.WalkDir(filepath.Join(dir, top), func(p string, d fs.DirEntry, err error) error {
			if errors.Is(err, fs.ErrNotExist) && p == filepath.Join(dir, top) {
				return fs.SkipDir
			}
			if err != nil || d.IsDir() || !d.Type().IsRegular() {
				return err
			}
			rel, err := filepath.Rel(dir, p)
			if err != nil {
				return err
			}
			paths = append(paths, filepath.ToSlash(rel))
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("reading the wiring of %s: %w", dir, err)
		}
	}
	return paths, nil
}

// sparseDirs returns, for the sites of todo, the directories (relative to the tree's
// root) that the site's Flux GitRepository checks out (spec.sparseCheckout
// in clusters/<site>/*.yaml of the rendered tree: from the file's wiring
// summary, else from its content, read through fsys when the render
// reused it by hash); sites without one are left out.
func sparseDirs(fleet *inventory.Fleet, tree *render.Tree, wiring map[string]gitops.Summary, fsys filesys.FileSystem, todo []verify.Target) map[string][]string {
	if fleet.GitOps.Engine != inventory.EngineFlux || len(todo) == 0 {
		return nil
	}
	// Only the sites verified in this run need their list.
	wanted := make(map[string]bool, len(todo))
	for _, t := range todo {
		wanted[t.Site] = true
	}
	prefix := ""
	if p := fleet.GitOps.Path; p != "" && p != "." {
		prefix = p + "/"
	}
	out := map[string][]string{}
	for _, f := range tree.Files {
		if f.Site == "" || !wanted[f.Site] || !strings.HasPrefix(f.Path, gitops.ClustersDir+"/"+f.Site+"/") {
			continue
		}
		var dirs []string
		var ok bool
		if sum, known := wiring[f.Path]; known {
			dirs, ok = sum.SparseDirs()
		} else {
			data := f.Data
			if data == nil {
				var err error
				if data, err = fsys.ReadFile(path.Join(memRoot, f.Path)); err != nil {
					continue
				}
			}
			dirs, ok = gitops.SparseCheckout(data)
		}
		if !ok {
			continue
		}
		var rel []string
		for _, d := range dirs {
			r, ok := strings.CutPrefix(strings.TrimPrefix(d, "./"), prefix)
			if !ok {
				// Outside the tree (the chart of a release in mode
				// release): no overlay build reads it.
				continue
			}
			rel = append(rel, path.Clean(r))
		}
		if rel != nil {
			out[f.Site] = rel
		}
	}
	return out
}

// checkSparse fails a site whose overlay build read a file outside the
// directories its Flux source checks out: Flux would not find that file.
func checkSparse(r *verify.Result, dirs []string) {
	if r.Err != nil || dirs == nil {
		return
	}
	for _, a := range r.Accesses {
		if a.Op != "read" {
			continue
		}
		rel, ok := strings.CutPrefix(a.Path, memRoot+"/")
		if !ok {
			continue
		}
		if isReleaseCheck(rel) {
			// The verification build of releases in mode release:
			// helm-controller renders those objects on the site.
			continue
		}
		if rel == verify.ApplierPath(r.Site) {
			// The applier is read by fleetgen's coverage check; an
			// administrator applies it at bootstrap, not the site's source.
			continue
		}
		if strings.HasPrefix(rel, k3s.BundleDir+"/"+r.Site+"/") {
			// The K3s bootstrap bundle is read by fleetgen's own bundle
			// check, not by the build Flux runs: it reaches the device by
			// provisioning, never through the site's GitRepository.
			continue
		}
		inside := false
		for _, d := range dirs {
			inside = inside || strings.HasPrefix(rel, d+"/")
		}
		if !inside {
			r.Err = fmt.Errorf("site %q: the overlay build reads %s, outside the directories the site's Flux GitRepository checks out (spec.sparseCheckout in %s/%s/: %s), so Flux would not find it: move it into base/, a component the site uses or the site's overlay", r.Site, rel, gitops.ClustersDir, r.Site, strings.Join(dirs, ", "))
			return
		}
	}
}
