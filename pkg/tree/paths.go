package tree

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/fleetgen/fleetgen/pkg/changes"
)

// Names inside the output root that belong to fleetgen's own bookkeeping.
const (
	stateDir = ".fleetgen"
	// ledgerDir holds the ledger: one file per site and one for the
	// fleet-level files (see ledgerFileOf).
	ledgerDir = ".fleetgen/ledger.d"
	// legacyLedgerFile is the ledger as one file, the layout before
	// ledgerDir: read, and converted by the next Apply.
	legacyLedgerFile = ".fleetgen/ledger"
	journalFile      = ".fleetgen/journal"
	lockFile         = ".fleetgen/lock"
	// gitignoreFile keeps the local state under .fleetgen out of git.
	gitignoreFile = ".fleetgen/.gitignore"
	// tmpPrefix starts the name of every temporary file fleetgen creates;
	// the rest is derived from the final path, so a crashed run's temporary
	// files can be found again from its journal.
	tmpPrefix = ".fleetgen-tmp-"
)

// LedgerPath (a directory), LegacyLedgerPath (the one-file ledger of
// earlier releases), JournalPath and GitignorePath are paths relative to
// the output root.
const (
	LedgerPath       = ledgerDir
	LegacyLedgerPath = legacyLedgerFile
	JournalPath      = journalFile
	GitignorePath    = gitignoreFile
)

// ValidateRoot reports whether root may be used as an output directory. It
// refuses the empty path, the filesystem root and the user's home directory
// (also when reached through a symlink), a root that is itself a symlink
// (fleetgen would write outside the path it was given; parent directories
// may be links), an existing path that is not a directory, a .fleetgen
// inside it that is a symlink or not a directory, and a root that holds no
// fleet tree but lies inside one (a directory above it has a ledger): the
// usual slip of running `generate -o fleet` from inside fleet/. A root that
// does not exist yet is fine otherwise. It only reads: callers check it
// before taking the lock, so a refused root gets nothing written into it.
func ValidateRoot(root string) error {
	if root == "" {
		return errors.New("output directory: empty path")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return fmt.Errorf("output directory %s: %w", root, err)
	}
	candidates := []string{abs}
	if resolved, err := filepath.EvalSymlinks(abs); err == nil && resolved != abs {
		candidates = append(candidates, resolved)
	}
	var homes []string
	if home, err := os.UserHomeDir(); err == nil && home != "" {
		if h, err := filepath.Abs(home); err == nil {
			homes = append(homes, h)
			if r, err := filepath.EvalSymlinks(h); err == nil && r != h {
				homes = append(homes, r)
			}
		}
	}
	for _, c := range candidates {
		if filepath.Dir(c) == c {
			return fmt.Errorf("output directory %s: refusing to write into the filesystem root", root)
		}
		for _, h := range homes {
			if c == h {
				return fmt.Errorf("output directory %s: refusing to write into the home directory; name a subdirectory", root)
			}
		}
	}
	if fi, err := os.Lstat(filepath.Clean(root)); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		target, _ := os.Readlink(filepath.Clean(root))
		return fmt.Errorf("output directory %s: is a symlink (to %s); refusing to write through it, name the directory itself", root, target)
	}
	st, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return checkNotNested(root, abs)
	case err != nil:
		return fmt.Errorf("output directory %s: %w", root, err)
	case !st.IsDir():
		return fmt.Errorf("output directory %s: not a directory", root)
	}
	switch fi, err := os.Lstat(filepath.Join(abs, stateDir)); {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("output directory %s: %w", root, err)
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("output directory %s: %s is a symlink; refusing to follow it", root, stateDir)
	case !fi.IsDir():
		return fmt.Errorf("output directory %s: %s is not a directory", root, stateDir)
	default:
		return nil // a tree of its own
	}
	return checkNotNested(root, abs)
}

// checkNotNested refuses abs, which holds no fleet tree, when a directory
// above it is a fleet tree (has a ledger in either layout).
func checkNotNested(root, abs string) error {
	for d := filepath.Dir(abs); ; d = filepath.Dir(d) {
		for _, l := range []string{ledgerDir, legacyLedgerFile} {
			if _, err := os.Lstat(filepath.Join(d, filepath.FromSlash(l))); err == nil {
				name := d
				if wd, err := os.Getwd(); err == nil {
					if rel, err := filepath.Rel(wd, d); err == nil {
						name = rel
					}
				}
				where := "in " + name
				if name == "." {
					where = "in the current directory"
				}
				return fmt.Errorf("output directory %s is inside the fleet tree %s (it has %s): this would write a second tree nested in it; to regenerate that tree, use -o %s",
					root, where, path.Dir(l)+"/", name)
			}
		}
		if filepath.Dir(d) == d {
			return nil
		}
	}
}

// validPath checks a slash-separated path relative to the output root, as
// found in a rendered tree, the ledger or the journal.
func validPath(p string) error {
	if p == "" {
		return errors.New("empty path")
	}
	if strings.HasPrefix(p, "/") || filepath.IsAbs(p) {
		return fmt.Errorf("path %q: must be relative to the output directory", p)
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("path %q: contains a control character", p)
		}
		if r == '\\' {
			return fmt.Errorf("path %q: must be slash-separated (contains a backslash)", p)
		}
	}
	first, last := "", ""
	for rest, i := p, 0; ; i++ {
		c, after, more := strings.Cut(rest, "/")
		switch c {
		case "":
			return fmt.Errorf("path %q: empty path element", p)
		case ".":
			return fmt.Errorf("path %q: contains a %q element", p, c)
		case "..":
			return fmt.Errorf("path %q: contains '..'", p)
		}
		if i == 0 {
			first = c
		}
		if !more {
			last = c
			break
		}
		rest = after
	}
	if first == stateDir {
		return fmt.Errorf("path %q: %s/ is reserved for fleetgen's ledger", p, stateDir)
	}
	if strings.HasPrefix(last, tmpPrefix) {
		return fmt.Errorf("path %q: names starting with %s are reserved for temporary files", p, tmpPrefix)
	}
	return nil
}

// validSite checks a site name as it must appear in the ledger: it also
// names the site's ledger file, so it must be usable as a file name.
func validSite(s string) error {
	if s == "-" {
		return fmt.Errorf("site %q: reserved for fleet-level files in the ledger", s)
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return fmt.Errorf("site %q: contains white space or a control character", s)
	}
	if strings.ContainsAny(s, `/\`) || strings.HasPrefix(s, ".") || strings.HasPrefix(s, "_") {
		return fmt.Errorf("site %q: must not contain a slash or start with '.' or '_' (it names the site's ledger file)", s)
	}
	return nil
}

// hashOf returns the lowercase hex SHA-256 of data.
func hashOf(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// tmpName is the temporary file used while writing rel: in the same
// directory, named from a hash of rel so that it is found again after a crash.
func tmpName(rel string) string {
	sum := sha256.Sum256([]byte(rel))
	return path.Join(path.Dir(rel), tmpPrefix+hex.EncodeToString(sum[:8]))
}

// diskState is what fleetgen saw at a path.
type diskState struct {
	exists bool
	hash   string
	data   []byte
	mode   fs.FileMode
	// stat is the Lstat of the file the hash belongs to (nil when it
	// does not exist): Apply compares it with the file right before
	// replacing or deleting it.
	stat fs.FileInfo
}

// inspect reads the file at rel under r without following any symlink
// inside the tree. r is nil when the root does not exist. Every parent
// directory is checked with Lstat: a symlink anywhere on the way, or a
// parent that is not a directory, is an error; so is a final element that
// is anything but a regular file.
func inspect(r *os.Root, rel string) (diskState, error) {
	in := newInspector(r)
	defer in.close()
	return in.inspect(rel)
}

// inspector inspects many paths of one pass over a tree, checking each
// parent directory once.
type inspector struct {
	r *os.Root
	// dirs are the parent directories already found to be real
	// directories in this pass; prefetch's workers share one set.
	dirs *dirSet
	// sub is subDir opened as a root of its own, once its path was checked
	// like any parent: the files of one directory are then looked up and
	// read by their names alone instead of resolving every element of their
	// path again.
	subDir string
	sub    *os.Root
	// parent is parentDir (a checked directory) opened as a root: the
	// directories in it are checked and opened by their names alone, so a
	// tree of many sibling directories costs one lookup per directory.
	parentDir string
	parent    *os.Root
	// stats, when set, records the stat data and hash of every file read
	// consistently; when useStats is also set, a file whose stat data
	// matches a trusted entry is not read (its state then has no data).
	stats    *changes.StatCache
	useStats bool
	// beforeRead, when set (tests only), is called between a file's Lstat
	// and its read.
	beforeRead func(rel string)
	// lstat, when set, looks a path up in one system call (RootLstat):
	// prefetch only reads the states of files, so it checks each parent
	// with it and reads through the roots only the files it must hash.
	lstat changes.LstatFunc
}

// close releases the directories the inspector holds open.
func (in *inspector) close() {
	in.closeSub()
	if in.parent != nil {
		in.parent.Close()
	}
	in.parent, in.parentDir = nil, ""
}

func (in *inspector) closeSub() {
	if in.sub != nil {
		in.sub.Close()
	}
	in.sub, in.subDir = nil, ""
}

// within returns the root to look the checked directory dir's entry name
// up in, and the name relative to it: the parent root when it holds dir
// (opened now if need be), else the tree root.
func (in *inspector) within(dir, name string) (*os.Root, string) {
	if dir == "" {
		return in.r, name
	}
	if in.parent == nil || in.parentDir != dir {
		if in.parent != nil {
			in.parent.Close()
		}
		in.parent, in.parentDir = nil, ""
		pr, err := in.r.OpenRoot(dir)
		if err != nil {
			return in.r, dir + "/" + name
		}
		in.parent, in.parentDir = pr, dir
	}
	return in.parent, name
}

// leaf returns the root to look the file rel up in and its name there: the
// directory of rel opened as a root (kept for the next file of the same
// directory), or the tree root and rel itself at the top level or when the
// directory cannot be opened. Every parent of rel must already be checked.
func (in *inspector) leaf(rel string) (*os.Root, string) {
	dir, name := path.Split(rel)
	dir = strings.TrimSuffix(dir, "/")
	if dir == "" {
		return in.r, rel
	}
	if in.sub != nil && in.subDir == dir {
		return in.sub, name
	}
	in.closeSub()
	pdir, base := path.Split(dir)
	pr, pname := in.within(strings.TrimSuffix(pdir, "/"), base)
	sub, err := pr.OpenRoot(pname)
	if err != nil {
		return in.r, rel
	}
	in.sub, in.subDir = sub, dir
	return sub, name
}

func newInspector(r *os.Root) *inspector {
	return &inspector{r: r, dirs: &dirSet{}}
}

// dirSet is a set of directory paths, safe for concurrent use.
type dirSet struct{ m sync.Map }

func (s *dirSet) has(p string) bool {
	_, ok := s.m.Load(p)
	return ok
}

func (s *dirSet) add(p string) { s.m.Store(p, struct{}{}) }

func (in *inspector) inspect(rel string) (diskState, error) {
	r := in.r
	if r == nil {
		return diskState{}, nil
	}
	parts := strings.Split(rel, "/")
	for i := range parts {
		p := strings.Join(parts[:i+1], "/")
		last := i == len(parts)-1
		if !last && in.dirs.has(p) {
			continue
		}
		var fi fs.FileInfo
		var err error
		switch {
		case in.lstat != nil:
			// Every parent of p is checked already.
			fi, err = in.lstat(p)
		case last:
			lr, name := in.leaf(rel)
			fi, err = lr.Lstat(name)
		default:
			// Every parent of p is checked already.
			pr, name := in.within(strings.Join(parts[:i], "/"), parts[i])
			fi, err = pr.Lstat(name)
		}
		if errors.Is(err, fs.ErrNotExist) {
			return diskState{}, nil
		}
		if err != nil {
			return diskState{}, fmt.Errorf("%s: %w", rel, err)
		}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			return diskState{}, fmt.Errorf("%s: refusing to follow symlink %s inside the output directory", rel, p)
		case !last && !fi.IsDir():
			return diskState{}, fmt.Errorf("%s: %s is not a directory", rel, p)
		case !last:
			in.dirs.add(p)
		case fi.IsDir():
			return diskState{}, fmt.Errorf("%s: is a directory, expected a file", rel)
		case !fi.Mode().IsRegular():
			return diskState{}, fmt.Errorf("%s: not a regular file (%s)", rel, fi.Mode().Type())
		default:
			if in.useStats {
				if h, ok := in.stats.Hash(rel, fi); ok {
					return diskState{exists: true, hash: h, mode: fi.Mode().Perm(), stat: fi}, nil
				}
			}
			lr, name := in.leaf(rel)
			if in.stats == nil {
				data, err := lr.ReadFile(name)
				if err != nil {
					return diskState{}, fmt.Errorf("%s: %w", rel, err)
				}
				return diskState{exists: true, hash: hashOf(data), data: data, mode: fi.Mode().Perm(), stat: fi}, nil
			}
			if in.beforeRead != nil {
				in.beforeRead(rel)
			}
			data, h, err := in.stats.ReadRoot(lr, name, rel, fi)
			if err != nil {
				return diskState{}, fmt.Errorf("%s: %w", rel, err)
			}
			return diskState{exists: true, hash: h, data: data, mode: fi.Mode().Perm(), stat: fi}, nil
		}
	}
	return diskState{}, nil
}

// prefetch inspects the paths for which want is true, in parallel, and
// returns each one's state without its data (exists, hash, mode) or its
// error, by index. Each worker checks parent directories with its own
// inspector; a worker takes the paths of one directory together (paths is
// sorted), so it opens that directory once. With stats set, files whose stat
// data matches a trusted entry are not read, and files read are recorded.
func prefetch(r *os.Root, paths []string, want func(string) bool, stats *changes.StatCache, snap *changes.Snapshot, beforeRead func(rel string)) ([]diskState, []error) {
	states := make([]diskState, len(paths))
	errs := make([]error, len(paths))
	workers := runtime.GOMAXPROCS(0)
	wanted := make([]bool, len(paths))
	for i, p := range paths {
		wanted[i] = want(p)
	}
	type run struct{ from, to int }
	next := make(chan run)
	// A directory checked by one worker is not checked again by another.
	dirs := &dirSet{}
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := newInspector(r)
			in.dirs = dirs
			in.stats, in.useStats = stats, stats != nil
			in.beforeRead = beforeRead
			var release func()
			in.lstat, release = changes.RootLstat(r)
			if snap != nil {
				in.lstat = snap.Through(in.lstat)
			}
			defer release()
			defer in.close()
			for g := range next {
				for i := g.from; i < g.to; i++ {
					if !wanted[i] {
						continue
					}
					d, err := in.inspect(paths[i])
					d.data = nil
					states[i], errs[i] = d, err
				}
			}
		}()
	}
	for from := 0; from < len(paths); {
		to := from + 1
		for to < len(paths) && path.Dir(paths[to]) == path.Dir(paths[from]) {
			to++
		}
		next <- run{from, to}
		from = to
	}
	close(next)
	wg.Wait()
	return states, errs
}

// openRoot opens root for traversal-safe access, or returns nil if it does
// not exist.
func openRoot(root string) (*os.Root, error) {
	r, err := os.OpenRoot(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("opening output directory: %w", err)
	}
	return r, nil
}

// checkStateDir makes sure .fleetgen, if present, is a real directory.
func checkStateDir(r *os.Root) error {
	if r == nil {
		return nil
	}
	fi, err := r.Lstat(stateDir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("%s: refusing to follow a symlink", stateDir)
	case !fi.IsDir():
		return fmt.Errorf("%s: not a directory", stateDir)
	}
	return nil
}
