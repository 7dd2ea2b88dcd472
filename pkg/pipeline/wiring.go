package pipeline

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"

	"github.com/fleetgen/fleetgen/pkg/gitops"
)

// CheckTreeWiring checks the GitOps wiring of a tree on disk, without an
// inventory: every wiring object under clusters/ and argocd/ is validated
// strictly, every site (a directory overlays/<site>/ with a
// kustomization.yaml) must be wired exactly once, and when dir is inside a
// git work tree every Flux Kustomization's spec.path must resolve from the
// repository's root to its site's overlay. A tree without wiring passes.
// The findings name the file, the site and the path; the error is for a
// tree that cannot be read.
func CheckTreeWiring(dir string) ([]error, error) {
	files, err := readWiring(dir, nil)
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
		k := path.Join(gitops.OverlaysDir, e.Name(), "kustomization.yaml")
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(k))); err == nil && e.IsDir() {
			sites = append(sites, e.Name())
			files[k] = []byte{}
		}
	}
	return gitops.NewChecker().WithPlace(place).Check(files, sites), nil
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

// readWiring reads the wiring files of dir: those named by paths, or with
// paths nil every YAML file under clusters/ and argocd/.
func readWiring(dir string, paths []string) (map[string][]byte, error) {
	files := map[string][]byte{}
	if paths == nil {
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
	}
	sort.Strings(paths)
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
