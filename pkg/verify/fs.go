package verify

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// MaxFileSize is the largest file a build may read. Fleet trees hold small
// YAML files; anything larger is refused before it reaches kustomize.
const MaxFileSize = 8 << 20

// ErrOutsideRoot is wrapped by errors for paths that resolve outside the
// tree root (after following symbolic links on disk).
var ErrOutsideRoot = errors.New("path is outside the tree root")

// ErrReadOnly is returned by every writing method of the guarded file system.
var ErrReadOnly = errors.New("the build file system is read-only")

// guardedFS is the file system handed to kustomize for one build. It
// confines every access to root, refuses writes, and checks each file as
// it is read (size, YAML alias expansion, remote references), so the check
// happens before kustomize acts on the content.
//
// A guardedFS belongs to one build; it is safe for concurrent use but holds
// the problems it saw, which Build reports in preference to kustomize's own
// (often less precise) error.
type guardedFS struct {
	fs filesys.FileSystem
	// root is the tree root as the underlying file system resolves it
	// (symbolic links evaluated on disk); lexRoot is its lexical form.
	root    filesys.ConfirmedDir
	lexRoot string

	mu       sync.Mutex
	problems []error

	// mode says whether this build runs beside others (see schemaGate).
	mode buildMode
	// rec, when set, records every probe and read for the verification
	// cache.
	rec *recorder
	// memo, when set, remembers content checks across the builds of a Run.
	memo *contentMemo
}

var _ filesys.FileSystem = (*guardedFS)(nil)

// newGuardedFS confines fsys to root. root must be an existing directory.
func newGuardedFS(fsys filesys.FileSystem, root string) (*guardedFS, error) {
	if fsys == nil {
		return nil, errors.New("no file system")
	}
	if root == "" {
		return nil, errors.New("empty tree root")
	}
	d, f, err := fsys.CleanedAbs(root)
	if err != nil {
		return nil, fmt.Errorf("tree root %q: %w", root, err)
	}
	if f != "" {
		return nil, fmt.Errorf("tree root %q is not a directory", root)
	}
	lex := root
	if filepath.IsAbs(lex) {
		lex = filepath.Clean(lex)
	} else {
		lex = d.String()
	}
	return &guardedFS{fs: fsys, root: d, lexRoot: lex}, nil
}

// problem records p and returns it.
func (g *guardedFS) problem(p error) error {
	g.mu.Lock()
	g.problems = append(g.problems, p)
	g.mu.Unlock()
	return p
}

// err returns the problems seen so far, joined, or nil.
func (g *guardedFS) err() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return errors.Join(dedupe(g.problems)...)
}

func dedupe(errs []error) []error {
	seen := make(map[string]bool, len(errs))
	var out []error
	for _, e := range errs {
		if s := e.Error(); !seen[s] {
			seen[s] = true
			out = append(out, e)
		}
	}
	return out
}

// rel returns p relative to the tree root for messages, or p itself.
func (g *guardedFS) rel(p string) string {
	for _, r := range []string{g.root.String(), g.lexRoot} {
		if r == string(filepath.Separator) {
			continue
		}
		if x, err := filepath.Rel(r, p); err == nil && x != ".." && !strings.HasPrefix(x, ".."+string(filepath.Separator)) {
			return filepath.ToSlash(x)
		}
	}
	return p
}

// within reports whether the clean absolute path p is root or below it.
func within(p, root string) bool {
	return filesys.ConfirmedDir(p).HasPrefix(filesys.ConfirmedDir(root))
}

// outside records and returns the error for a path that leaves the root.
func (g *guardedFS) outside(p string) error {
	return g.problem(fmt.Errorf("%w: %q is not in or below %q", ErrOutsideRoot, p, g.lexRoot))
}

// check confines p lexically and, when it exists, after resolution by the
// underlying file system (which follows symbolic links on disk). It returns
// the resolved directory and file name; exists is false when p does not
// exist (it is then only confined lexically).
func (g *guardedFS) check(p string) (dir filesys.ConfirmedDir, file string, exists bool, err error) {
	if !filepath.IsAbs(p) {
		// Every path kustomize derives is absolute; Build makes the
		// overlay path absolute too. A relative path here would be
		// resolved against the process's working directory.
		return "", "", false, g.problem(fmt.Errorf("relative path %q refused: %w", p, ErrOutsideRoot))
	}
	clean := filepath.Clean(p)
	if !within(clean, g.lexRoot) && !within(clean, g.root.String()) {
		return "", "", false, g.outside(clean)
	}
	d, f, cerr := g.fs.CleanedAbs(clean)
	if cerr != nil {
		// Does not exist (or a dangling link): nothing to read.
		return "", "", false, nil
	}
	if !within(d.Join(f), g.root.String()) {
		return "", "", false, g.outside(clean + " (resolves to " + d.Join(f) + ")")
	}
	return d, f, true, nil
}

func (g *guardedFS) Create(string) (filesys.File, error) { return nil, ErrReadOnly }
func (g *guardedFS) Mkdir(string) error                  { return ErrReadOnly }
func (g *guardedFS) MkdirAll(string) error               { return ErrReadOnly }
func (g *guardedFS) RemoveAll(string) error              { return ErrReadOnly }
func (g *guardedFS) WriteFile(string, []byte) error      { return ErrReadOnly }

// Open is refused: the in-memory file system allows only one Open per file
// and kustomize reads through ReadFile, which this type checks.
func (g *guardedFS) Open(p string) (filesys.File, error) {
	return nil, fmt.Errorf("open %q: use ReadFile: %w", p, ErrReadOnly)
}

func (g *guardedFS) IsDir(p string) bool {
	_, f, ok, err := g.check(p)
	r := err == nil && ok && f == ""
	g.rec.add(opIsDir, p, boolDigest(r))
	return r
}

func (g *guardedFS) Exists(p string) bool {
	_, _, ok, err := g.check(p)
	r := err == nil && ok
	g.rec.add(opExists, p, boolDigest(r))
	return r
}

func (g *guardedFS) ReadDir(p string) ([]string, error) {
	names, err := g.readDir(p)
	g.rec.add(opReadDir, p, listDigest(names, err))
	return names, err
}

func (g *guardedFS) readDir(p string) ([]string, error) {
	d, f, ok, err := g.check(p)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%q: %w", p, fs.ErrNotExist)
	}
	if f != "" {
		return nil, fmt.Errorf("%q is not a directory", p)
	}
	return g.fs.ReadDir(d.String())
}

func (g *guardedFS) CleanedAbs(p string) (filesys.ConfirmedDir, string, error) {
	d, f, err := g.cleanedAbs(p)
	g.rec.add(opCleanedAbs, p, listDigest([]string{d.String(), f}, err))
	return d, f, err
}

func (g *guardedFS) cleanedAbs(p string) (filesys.ConfirmedDir, string, error) {
	d, f, ok, err := g.check(p)
	if err != nil {
		return "", "", err
	}
	if !ok {
		return "", "", fmt.Errorf("%q: %w", p, fs.ErrNotExist)
	}
	return d, f, nil
}

func (g *guardedFS) Glob(pattern string) ([]string, error) {
	m, err := g.glob(pattern)
	g.rec.add(opGlob, pattern, listDigest(m, err))
	return m, err
}

func (g *guardedFS) glob(pattern string) ([]string, error) {
	if !filepath.IsAbs(pattern) {
		return nil, g.problem(fmt.Errorf("relative glob %q refused: %w", pattern, ErrOutsideRoot))
	}
	matches, err := g.fs.Glob(pattern)
	if err != nil {
		return nil, err
	}
	out := matches[:0]
	for _, m := range matches {
		if _, _, ok, err := g.check(m); err == nil && ok {
			out = append(out, m)
		}
	}
	return out, nil
}

func (g *guardedFS) Walk(p string, walkFn filepath.WalkFunc) error {
	// What a walk sees is not recorded: a build that walks is not cached.
	g.rec.uncacheable()
	if _, _, _, err := g.check(p); err != nil {
		return err
	}
	return g.fs.Walk(p, walkFn)
}

// ReadFile reads a regular file of at most MaxFileSize bytes inside the
// root and checks its content (see checkContent) before returning it.
func (g *guardedFS) ReadFile(p string) ([]byte, error) {
	data, err := g.readFile(p)
	g.rec.add(opReadFile, p, dataDigest(data, err))
	return data, err
}

// stat returns the file info of real (nil when Walk reports nothing). It
// stats through Walk: that works for both file systems and, unlike Open,
// does not change the state of the in-memory one.
// statFS is a file system that can stat a path directly (pkg/treefs);
// others are asked through Walk.
type statFS interface {
	Stat(p string) (os.FileInfo, error)
}

func (g *guardedFS) stat(real string) (os.FileInfo, error) {
	if s, ok := g.fs.(statFS); ok {
		return s.Stat(real)
	}
	var info os.FileInfo
	err := g.fs.Walk(real, func(_ string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		info = fi
		return filepath.SkipDir
	})
	if err != nil && !errors.Is(err, filepath.SkipDir) {
		return nil, err
	}
	return info, nil
}

func (g *guardedFS) readFile(p string) ([]byte, error) {
	d, f, ok, err := g.check(p)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%q: %w", p, fs.ErrNotExist)
	}
	if f == "" {
		return nil, fmt.Errorf("%q is a directory", p)
	}
	real := d.Join(f)
	info, err := g.stat(real)
	if err != nil {
		return nil, err
	}
	name := g.rel(real)
	if info == nil || !info.Mode().IsRegular() {
		return nil, g.problem(fmt.Errorf("file %s: not a regular file", name))
	}
	if info.Size() > MaxFileSize {
		return nil, g.problem(fmt.Errorf("file %s: %d bytes exceeds the limit of %d bytes", name, info.Size(), MaxFileSize))
	}
	data, err := g.fs.ReadFile(real)
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, g.problem(fmt.Errorf("file %s: %d bytes exceeds the limit of %d bytes", name, len(data), MaxFileSize))
	}
	openAPI, err := g.memo.check(name, data)
	if err != nil {
		return nil, g.problem(err)
	}
	if g.mode == shared && openAPI {
		return nil, g.problem(fmt.Errorf("file %s: %w", name, errNeedsExclusive))
	}
	return data, nil
}

// contentMemo remembers, for the builds of one Run, the files whose content
// passed checkContent, by name and SHA-256, with whether they may set
// openapi: (setsOpenAPI). Both depend on nothing else, and a base or
// component file is read by every overlay: it is parsed and checked once.
type contentMemo struct {
	m sync.Map // contentKey -> bool (setsOpenAPI)
}

type contentKey struct {
	name string
	sum  [sha256.Size]byte
}

// check runs checkContent and setsOpenAPI on data read from the file name
// (relative to the root), or returns what they returned for the same name
// and content before. A nil memo checks every time.
func (c *contentMemo) check(name string, data []byte) (openAPI bool, err error) {
	if c == nil {
		if err := checkContent(name, data); err != nil {
			return false, err
		}
		return setsOpenAPI(name, data), nil
	}
	k := contentKey{name, sha256.Sum256(data)}
	if v, ok := c.m.Load(k); ok {
		return v.(bool), nil
	}
	if err := checkContent(name, data); err != nil {
		return false, err // not remembered: failures are rare and reported in full
	}
	openAPI = setsOpenAPI(name, data)
	c.m.Store(k, openAPI)
	return openAPI, nil
}
