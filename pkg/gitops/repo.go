package gitops

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// Place is where a directory sits in a git work tree.
type Place struct {
	// Root is the absolute path of the work tree's root, the directory
	// that holds .git; "" when the directory is in no work tree.
	Root string
	// Path is the directory's path from Root, slash-separated, "." for
	// Root itself; "" when the directory is in no work tree.
	Path string
}

// InRepo reports whether the directory is inside a git work tree.
func (p Place) InRepo() bool { return p.Root != "" }

// Prefix is Path as wiring paths start with it: "" for the work tree's
// root, else Path and a slash.
func (p Place) Prefix() string {
	if p.Path == "" || p.Path == "." {
		return ""
	}
	return p.Path + "/"
}

// FindRepo finds the git work tree that holds dir, which need not exist
// yet: its nearest existing ancestor is resolved through symlinks, then
// each directory from there up to the file system's root is looked at for
// a .git entry, the way git finds a work tree without GIT_DIR: a .git
// directory, or a .git file starting with "gitdir:" (a linked worktree or
// a submodule). Git itself is not run. A dir inside a .git directory is an
// error; a dir in no work tree gives the zero Place.
func FindRepo(dir string) (Place, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Place{}, fmt.Errorf("finding the git repository of %s: %w", dir, err)
	}
	// The part of dir that does not exist yet is kept as written.
	var missing []string
	existing := abs
	for {
		_, err := os.Lstat(existing)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return Place{}, fmt.Errorf("finding the git repository of %s: %w", dir, err)
		}
		parent := filepath.Dir(existing)
		if parent == existing {
			return Place{}, fmt.Errorf("finding the git repository of %s: no part of %s exists", dir, abs)
		}
		missing = append(missing, filepath.Base(existing))
		existing = parent
	}
	real, err := filepath.EvalSymlinks(existing)
	if err != nil {
		return Place{}, fmt.Errorf("finding the git repository of %s: %w", dir, err)
	}
	slices.Reverse(missing)
	full := filepath.Join(append([]string{real}, missing...)...)
	for d := real; ; {
		if filepath.Base(d) == ".git" {
			return Place{}, fmt.Errorf("%s: is inside the git directory %s, not in a work tree", dir, d)
		}
		ok, err := hasGitEntry(d)
		if err != nil {
			return Place{}, fmt.Errorf("finding the git repository of %s: %w", dir, err)
		}
		if ok {
			rel, err := filepath.Rel(d, full)
			if err != nil {
				return Place{}, fmt.Errorf("finding the git repository of %s: %w", dir, err)
			}
			return Place{Root: d, Path: filepath.ToSlash(rel)}, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return Place{}, nil
		}
		d = parent
	}
}

// hasGitEntry reports whether dir holds a .git directory or a .git file
// that points at one ("gitdir: ...").
func hasGitEntry(dir string) (bool, error) {
	p := filepath.Join(dir, ".git")
	st, err := os.Stat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, fs.ErrPermission):
		return false, nil
	case err != nil:
		return false, err
	case st.IsDir():
		return true, nil
	case !st.Mode().IsRegular():
		return false, nil
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return false, err
	}
	return bytes.HasPrefix(data, []byte("gitdir:")), nil
}
