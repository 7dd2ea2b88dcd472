package treefs

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// ErrNoContent is wrapped by the error of reading a file known only by its
// hash (a File with neither Data nor Load).
var ErrNoContent = errors.New("no content: only the file's hash is known")

// ErrReadOnly is wrapped by the error of every writing method.
var ErrReadOnly = errors.New("read-only file system")

// File is one file of an FS.
//
// A File with no Data, no Load and no Hash is an empty file.
type File struct {
	// Path is slash-separated and relative to the root: clean, not ".",
	// with no ".." element and no leading or trailing "/".
	Path string
	// Data is the content, or nil when Load is set or only Hash is known.
	// New keeps the slice: do not change it afterwards.
	Data []byte
	// Hash is the lowercase hex SHA-256 of the content. When empty, it is
	// computed from Data (or from what Load returns) on first use.
	Hash string
	// Size is the size of the content. It is needed when Data is nil (Stat
	// reports it before the content is read); with Data it is zero or
	// len(Data).
	Size int64
	// Load reads the content on first use, for files left on disk. What it
	// returns must have Size bytes and, when Hash is set, that hash;
	// otherwise the file changed on disk during the run and reading it fails.
	Load func() ([]byte, error)
}

// FS is a read-only filesys.FileSystem over a fixed set of files.
type FS struct {
	root *node // the file system root, "/"
	top  *node // the directory New was given (root when that is "/")
	// nodes holds every file and directory but "/", keyed by its path
	// without the leading "/": "fleet/base/kustomization.yaml".
	nodes map[string]*node
	// topKey is top's key in nodes, "" when top is "/".
	topKey string
	files  int
}

var _ filesys.FileSystem = (*FS)(nil)

// node is a file (file != nil) or a directory.
type node struct {
	abs    string // the absolute path; "/" for the root
	name   string // the base name; "/" for the root
	parent *node
	dir    *dir  // nil for a file
	file   *file // nil for a directory
}

type dir struct {
	children []*node // sorted by name

	digestOnce sync.Once
	digest     string
}

type file struct {
	rel  string // File.Path, for errors
	data []byte // nil unless the content is held in memory
	size int64
	want string // File.Hash
	load func() ([]byte, error)

	loadOnce sync.Once
	loaded   []byte
	loadErr  error

	sumOnce sync.Once
	sum     string
}

// New returns an FS serving files under root, an absolute, clean path such
// as "/fleet". The root, its parent directories and every directory on the
// files' paths exist; there are no empty directories other than root
// itself when files is empty. It is an error for two files to have the
// same path, for a path to be both a file and a directory, and for a path,
// a hash or a size to be invalid.
func New(root string, files []File) (*FS, error) {
	if !path.IsAbs(root) || path.Clean(root) != root {
		return nil, fmt.Errorf("root %q: must be an absolute, clean path", root)
	}
	f := &FS{
		root:   &node{abs: "/", name: "/", dir: &dir{}},
		nodes:  make(map[string]*node, len(files)+len(files)/4+8),
		topKey: root[1:],
		files:  len(files),
	}
	f.top = f.root
	if f.topKey != "" {
		top, err := f.mkdirs(f.topKey)
		if err != nil {
			return nil, err // not reached: the map is empty
		}
		f.top = top
	}
	prefix := root + "/"
	if root == "/" {
		prefix = "/"
	}
	// One allocation each for the files' nodes, their state and their
	// absolute paths.
	size := 0
	for i := range files {
		if err := checkFile(&files[i]); err != nil {
			return nil, err
		}
		size += len(prefix) + len(files[i].Path)
	}
	var b strings.Builder
	b.Grow(size)
	for i := range files {
		b.WriteString(prefix)
		b.WriteString(files[i].Path)
	}
	paths := b.String()
	nodes := make([]node, len(files))
	states := make([]file, len(files))
	parent, lastKey := f.root, "."
	for i := range files {
		fl := &files[i]
		abs := paths[:len(prefix)+len(fl.Path)]
		paths = paths[len(abs):]
		key := abs[1:]
		if n, ok := f.nodes[key]; ok {
			if n.file != nil {
				return nil, fmt.Errorf("%s: duplicate path", fl.Path)
			}
			return nil, fmt.Errorf("%s: both a file and a directory", fl.Path)
		}
		dirKey := "."
		if j := strings.LastIndexByte(key, '/'); j >= 0 {
			dirKey = key[:j]
		}
		if dirKey != lastKey {
			p, err := f.mkdirs(dirKey)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", fl.Path, err)
			}
			parent, lastKey = p, dirKey
		}
		states[i] = file{rel: fl.Path, data: fl.Data, size: fl.Size, want: fl.Hash, load: fl.Load}
		n := &nodes[i]
		n.abs = abs
		n.name = abs[strings.LastIndexByte(abs, '/')+1:]
		n.parent = parent
		n.file = &states[i]
		if fl.Data != nil {
			n.file.size = int64(len(fl.Data))
		} else if fl.Load == nil && fl.Hash == "" {
			n.file.data = []byte{}
		}
		f.nodes[key] = n
		parent.dir.children = append(parent.dir.children, n)
	}
	f.sortChildren(f.root)
	return f, nil
}

// checkFile reports what is wrong with fl, if anything.
func checkFile(fl *File) error {
	if fl.Path == "" || fl.Path == "." || !fs.ValidPath(fl.Path) || strings.ContainsRune(fl.Path, 0) {
		return fmt.Errorf("%q: invalid path: must be relative, slash-separated and clean, without \".\" or \"..\" elements", fl.Path)
	}
	if fl.Hash != "" && !isHexSHA256(fl.Hash) {
		return fmt.Errorf("%s: invalid hash %q: must be a lowercase hex SHA-256", fl.Path, fl.Hash)
	}
	if fl.Data != nil && fl.Load != nil {
		return fmt.Errorf("%s: both Data and Load are set", fl.Path)
	}
	if fl.Size < 0 {
		return fmt.Errorf("%s: negative size %d", fl.Path, fl.Size)
	}
	if fl.Data == nil && fl.Load == nil && fl.Hash == "" && fl.Size != 0 {
		return fmt.Errorf("%s: size %d but no content, no Load and no Hash", fl.Path, fl.Size)
	}
	if fl.Data != nil && fl.Size != 0 && fl.Size != int64(len(fl.Data)) {
		return fmt.Errorf("%s: size %d but %d bytes of data", fl.Path, fl.Size, len(fl.Data))
	}
	return nil
}

func isHexSHA256(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// mkdirs returns the directory with the given key ("." for the root),
// creating it and its parents as needed.
func (f *FS) mkdirs(key string) (*node, error) {
	if key == "." {
		return f.root, nil
	}
	if n, ok := f.nodes[key]; ok {
		if n.file != nil {
			return nil, fmt.Errorf("%s is both a file and a directory", f.rel(n))
		}
		return n, nil
	}
	parent, err := f.mkdirs(path.Dir(key))
	if err != nil {
		return nil, err
	}
	n := &node{abs: "/" + key, parent: parent, dir: &dir{}}
	n.name = n.abs[strings.LastIndexByte(n.abs, '/')+1:]
	f.nodes[key] = n
	parent.dir.children = append(parent.dir.children, n)
	return n, nil
}

// rel is n's path relative to the root New was given, for errors.
func (f *FS) rel(n *node) string {
	if n.file != nil {
		return n.file.rel
	}
	return strings.TrimPrefix(strings.TrimPrefix(n.abs[1:], f.topKey), "/")
}

func (f *FS) sortChildren(n *node) {
	slices.SortFunc(n.dir.children, func(a, b *node) int { return strings.Compare(a.name, b.name) })
	for _, c := range n.dir.children {
		if c.file == nil {
			f.sortChildren(c)
		}
	}
}

// find resolves p as the in-memory file system does: "" is nothing, "/"
// and "." are the root, anything else is cleaned with its leading slashes
// removed and looked up from the root; a file on the way is an error.
func (f *FS) find(p string) (*node, error) {
	switch p {
	case "":
		return nil, nil
	case "/", ".":
		return f.root, nil
	}
	q := path.Clean(filesys.StripLeadingSeps(p))
	if n, ok := f.nodes[q]; ok {
		return n, nil
	}
	for i := 0; i < len(q); i++ {
		if q[i] != '/' {
			continue
		}
		n, ok := f.nodes[q[:i]]
		if !ok {
			return nil, nil
		}
		if n.file != nil {
			return nil, fmt.Errorf("'%s' is not a directory", n.abs)
		}
	}
	return nil, nil
}

// lookup returns the node at rel, a path relative to the root New was
// given ("" for that root), or nil.
func (f *FS) lookup(rel string) *node {
	if rel == "" {
		return f.top
	}
	if rel == "." || !fs.ValidPath(rel) {
		return nil
	}
	key := rel
	if f.topKey != "" {
		key = f.topKey + "/" + rel
	}
	return f.nodes[key]
}

// notExistError matches the in-memory file system's error for a missing
// path.
type notExistError string

func (e notExistError) Error() string { return fmt.Sprintf("'%s' doesn't exist", string(e)) }
func (e notExistError) Unwrap() error { return os.ErrNotExist }

// Files returns the number of files.
func (f *FS) Files() int { return f.files }

// Hash returns the lowercase hex SHA-256 of the file at rel, a path
// relative to the root New was given. When the File had no Hash, it is
// computed once, from Data or from what Load returns. ok is false when rel
// is not a file or its content could not be loaded.
func (f *FS) Hash(rel string) (sum string, ok bool) {
	n := f.lookup(rel)
	if n == nil || n.file == nil {
		return "", false
	}
	s, err := n.file.hash()
	if err != nil {
		return "", false
	}
	return s, true
}

// DirDigest returns a digest of the direct entries of the directory at rel,
// a path relative to the root New was given ("" for that root): the SHA-256
// of each entry's name with its kind and, for files, its hash, in name
// order. It changes when an entry is added, removed or renamed, changes
// between file and directory, or a file's content changes, and not when
// anything deeper in a subdirectory does. A file whose content cannot be
// loaded counts with a marker instead of its hash. For a path that is not a
// directory, DirDigest returns "-". Each digest is computed once.
func (f *FS) DirDigest(rel string) string {
	n := f.lookup(rel)
	if n == nil || n.file != nil {
		return "-"
	}
	n.dir.digestOnce.Do(func() {
		h := sha256.New()
		var buf [binary.MaxVarintLen64 + 1]byte
		for _, c := range n.dir.children {
			h.Write(buf[:binary.PutUvarint(buf[:], uint64(len(c.name)))])
			io.WriteString(h, c.name)
			switch {
			case c.file == nil:
				h.Write([]byte{'d'})
			default:
				if s, err := c.file.hash(); err != nil {
					h.Write([]byte{'!'})
				} else {
					h.Write([]byte{'f'})
					io.WriteString(h, s)
				}
			}
		}
		n.dir.digest = hex.EncodeToString(h.Sum(nil))
	})
	return n.dir.digest
}

// content returns the file's content, loading it on first use. The slice
// must not be changed.
func (fl *file) content() ([]byte, error) {
	if fl.data != nil {
		return fl.data, nil
	}
	if fl.load == nil {
		return nil, fmt.Errorf("reading %s: %w", fl.rel, ErrNoContent)
	}
	fl.loadOnce.Do(func() {
		data, err := fl.load()
		switch {
		case err != nil:
			fl.loadErr = fmt.Errorf("reading %s: %w", fl.rel, err)
		case int64(len(data)) != fl.size:
			fl.loadErr = fmt.Errorf("%s changed on disk during the run: %d bytes, expected %d", fl.rel, len(data), fl.size)
		case fl.want != "":
			if s := sha256.Sum256(data); hex.EncodeToString(s[:]) != fl.want {
				fl.loadErr = fmt.Errorf("%s changed on disk during the run: SHA-256 %x, expected %s", fl.rel, s, fl.want)
			}
		}
		if fl.loadErr == nil {
			fl.loaded = data
		}
	})
	return fl.loaded, fl.loadErr
}

// hash returns the file's SHA-256, computing it once when not given.
func (fl *file) hash() (string, error) {
	if fl.want != "" {
		return fl.want, nil
	}
	fl.sumOnce.Do(func() {
		if data, err := fl.content(); err == nil {
			s := sha256.Sum256(data)
			fl.sum = hex.EncodeToString(s[:])
		}
	})
	if fl.sum == "" {
		_, err := fl.content() // its error, kept
		return "", err
	}
	return fl.sum, nil
}

// IsDir reports whether p is a directory.
func (f *FS) IsDir(p string) bool {
	n, err := f.find(p)
	return err == nil && n != nil && n.file == nil
}

// Exists reports whether p is a file or a directory.
func (f *FS) Exists(p string) bool {
	n, err := f.find(p)
	return err == nil && n != nil
}

// Stat describes the file or directory p: its base name ("/" for the
// root), the size of a file's content (its File.Size before it is read)
// or a directory's number of entries, mode 0444 for files and 0555 for
// directories, and a zero modification time. A missing path gives an error
// wrapping fs.ErrNotExist.
func (f *FS) Stat(p string) (fs.FileInfo, error) {
	n, err := f.find(p)
	if err != nil {
		return nil, err
	}
	if n == nil {
		return nil, notExistError(p)
	}
	return fileInfo{n}, nil
}

// ReadDir returns the names of the entries of directory p, sorted.
func (f *FS) ReadDir(p string) ([]string, error) {
	n, err := f.find(p)
	if err != nil || n == nil {
		return nil, notExistError(p)
	}
	if n.file != nil {
		return nil, fmt.Errorf("%s is not a directory", p)
	}
	names := make([]string, len(n.dir.children))
	for i, c := range n.dir.children {
		names[i] = c.name
	}
	return names, nil
}

// CleanedAbs returns the directory p names, or the directory and base
// name of the file p names, as absolute clean paths.
func (f *FS) CleanedAbs(p string) (filesys.ConfirmedDir, string, error) {
	n, err := f.find(p)
	if err != nil {
		return "", "", fmt.Errorf("unable to clean: %w", err)
	}
	if n == nil {
		return "", "", notExistError(p)
	}
	if n.file == nil {
		return filesys.ConfirmedDir(n.abs), "", nil
	}
	return filesys.ConfirmedDir(n.parent.abs), n.name, nil
}

// ReadFile returns a copy of the content of file p. A file left on disk is
// read on first use; if it changed since its File was made, or has no
// content at all (ErrNoContent), ReadFile fails.
func (f *FS) ReadFile(p string) ([]byte, error) {
	n, err := f.find(p)
	if err != nil {
		return nil, err
	}
	if n == nil {
		return nil, notExistError(p)
	}
	if n.file == nil {
		return nil, fmt.Errorf("cannot read content from non-file '%s'", n.abs)
	}
	data, err := n.file.content()
	if err != nil {
		return nil, err
	}
	return bytes.Clone(data), nil
}

// Glob returns the absolute paths of the files (not directories) matching
// pattern as filepath.Match has it, sorted; files whose base name starts
// with "." are left out unless the pattern's base name does too. Only the
// files under the deepest directory the pattern spells out literally are
// matched, which gives the same result as matching every file.
func (f *FS) Glob(pattern string) ([]string, error) {
	lit := pattern
	if i := strings.IndexAny(pattern, `*?[\`); i >= 0 {
		lit = pattern[:i]
	}
	var under *node // the directory every match is in
	switch {
	case lit == "":
		under = f.root
	case lit[0] != '/':
		// Every file's path is absolute: nothing matches.
	default:
		dir := lit[:strings.LastIndexByte(lit, '/')]
		if dir == "" {
			under = f.root
		} else if n := f.nodes[dir[1:]]; n != nil && n.file == nil {
			under = n
		}
	}
	var matches []string
	tried := 0
	var walk func(n *node) error
	walk = func(n *node) error {
		if n.file != nil {
			tried++
			ok, err := filepath.Match(pattern, n.abs)
			if ok {
				matches = append(matches, n.abs)
			}
			return err
		}
		for _, c := range n.dir.children {
			if err := walk(c); err != nil {
				return err
			}
		}
		return nil
	}
	if under != nil {
		if err := walk(under); err != nil {
			return nil, err
		}
	}
	if tried < f.files {
		// The other files differ from the pattern's literal start, where
		// filepath.Match stops comparing but still checks the pattern's
		// first segment; "" fails there too.
		if _, err := filepath.Match(pattern, ""); err != nil {
			return nil, err
		}
	}
	if !filesys.IsHiddenFilePath(pattern) {
		matches = slices.DeleteFunc(matches, filesys.IsHiddenFilePath)
	}
	if len(matches) == 0 {
		return nil, nil
	}
	slices.Sort(matches)
	return matches, nil
}

// Walk calls walkFn for p and, when p is a directory, for everything under
// it in lexical order, with absolute clean paths. See the package
// documentation for how it treats the errors walkFn returns.
func (f *FS) Walk(p string, walkFn filepath.WalkFunc) error {
	n, err := f.find(p)
	if err != nil {
		return err
	}
	if n == nil {
		return notExistError(p)
	}
	err = walk(n, walkFn)
	if err == filepath.SkipDir || err == filepath.SkipAll {
		return nil
	}
	return err
}

func walk(n *node, walkFn filepath.WalkFunc) error {
	if err := walkFn(n.abs, fileInfo{n}, nil); err != nil || n.file != nil {
		return err
	}
	for _, c := range n.dir.children {
		if err := walk(c, walkFn); err != nil && (c.file != nil || err != filepath.SkipDir) {
			return err
		}
	}
	return nil
}

// Open returns a read-only handle on the file or directory p. Reading a
// directory fails.
func (f *FS) Open(p string) (filesys.File, error) {
	n, err := f.find(p)
	if err != nil {
		return nil, err
	}
	if n == nil {
		return nil, notExistError(p)
	}
	h := &handle{n: n}
	if n.file != nil {
		data, err := n.file.content()
		if err != nil {
			return nil, err
		}
		h.r = bytes.NewReader(data)
	}
	return h, nil
}

// Create fails: the file system is read-only.
func (f *FS) Create(p string) (filesys.File, error) {
	return nil, &fs.PathError{Op: "create", Path: p, Err: ErrReadOnly}
}

// Mkdir fails: the file system is read-only.
func (f *FS) Mkdir(p string) error {
	return &fs.PathError{Op: "mkdir", Path: p, Err: ErrReadOnly}
}

// MkdirAll fails: the file system is read-only.
func (f *FS) MkdirAll(p string) error {
	return &fs.PathError{Op: "mkdir", Path: p, Err: ErrReadOnly}
}

// RemoveAll fails: the file system is read-only.
func (f *FS) RemoveAll(p string) error {
	return &fs.PathError{Op: "remove", Path: p, Err: ErrReadOnly}
}

// WriteFile fails: the file system is read-only.
func (f *FS) WriteFile(p string, _ []byte) error {
	return &fs.PathError{Op: "write", Path: p, Err: ErrReadOnly}
}

// handle is an open file or directory.
type handle struct {
	n      *node
	r      *bytes.Reader // nil for a directory
	closed bool
}

var _ filesys.File = (*handle)(nil)

func (h *handle) Read(b []byte) (int, error) {
	if h.closed {
		return 0, &fs.PathError{Op: "read", Path: h.n.abs, Err: fs.ErrClosed}
	}
	if h.r == nil {
		return 0, fmt.Errorf("cannot read content from non-file '%s'", h.n.abs)
	}
	return h.r.Read(b)
}

func (h *handle) Write([]byte) (int, error) {
	return 0, &fs.PathError{Op: "write", Path: h.n.abs, Err: ErrReadOnly}
}

func (h *handle) Close() error {
	if h.closed {
		return &fs.PathError{Op: "close", Path: h.n.abs, Err: fs.ErrClosed}
	}
	h.closed = true
	return nil
}

func (h *handle) Stat() (os.FileInfo, error) { return fileInfo{h.n}, nil }

// fileInfo describes a node.
type fileInfo struct{ n *node }

func (fi fileInfo) Name() string { return fi.n.name }

func (fi fileInfo) Size() int64 {
	if fi.n.file == nil {
		return int64(len(fi.n.dir.children))
	}
	return fi.n.file.size
}

func (fi fileInfo) Mode() fs.FileMode {
	if fi.n.file == nil {
		return fs.ModeDir | 0o555
	}
	return 0o444
}

func (fi fileInfo) ModTime() time.Time { return time.Time{} }
func (fi fileInfo) IsDir() bool        { return fi.n.file == nil }
func (fi fileInfo) Sys() any           { return nil }
