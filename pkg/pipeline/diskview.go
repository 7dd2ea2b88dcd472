package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/fleetgen/fleetgen/pkg/changes"
	"github.com/fleetgen/fleetgen/pkg/index"
	"github.com/fleetgen/fleetgen/pkg/render"
	fstree "github.com/fleetgen/fleetgen/pkg/tree"
	"github.com/fleetgen/fleetgen/pkg/treefs"
)

// Digests of what a laid-out tree holds at a path (index.Tree). fsTree
// computes them from a laid-out file system, diskView from the recorded
// render and the disk; both must agree for every path.
const (
	absentDigest = "-"
	dirDigest    = "d"
	filePrefix   = "f"
)

// listDigest is the digest of a directory listing: each name with the
// entry digest of what it is.
func listDigest(names []string, entry func(name string) string) string {
	h := sha256.New()
	for _, n := range names {
		h.Write([]byte(n))
		h.Write([]byte{0})
		h.Write([]byte(entry(n)))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// fsTree answers the units of index records from a laid-out tree.
type fsTree struct{ fs *treefs.FS }

var _ index.Tree = fsTree{}

func (t fsTree) EntryDigest(rel string) string {
	fi, err := t.fs.Stat(path.Join(memRoot, rel))
	switch {
	case err != nil:
		return absentDigest
	case fi.IsDir():
		return dirDigest
	}
	h, ok := t.fs.Hash(rel)
	if !ok {
		return "?" // unreadable: never equal to a recorded digest
	}
	return filePrefix + h
}

func (t fsTree) ListDigest(rel string) string {
	abs := path.Join(memRoot, rel)
	if !t.fs.IsDir(abs) {
		return absentDigest
	}
	names, err := t.fs.ReadDir(abs)
	if err != nil {
		return "?"
	}
	sort.Strings(names)
	return listDigest(names, func(n string) string { return t.EntryDigest(path.Join(rel, n)) })
}

// diskView answers the same questions as fsTree for the tree layout would
// lay out from a render known by hashes and the output directory, without
// walking the output directory: it looks at the disk only where asked.
type diskView struct {
	output string
	// files answers what the render holds at a path.
	files renderedFiles
	stats *changes.StatCache
	// snap is every lstat the view made, for the plan that follows.
	snap *changes.Snapshot

	// owned are the files fleetgen wrote that the tree no longer has (the
	// write deletes them), from the ledger, read when first needed: only
	// files on disk that the render does not produce are looked up in it.
	ownedOnce sync.Once
	owned     map[string]bool
	// ledger, when set, returns the ledger's entries as the job read
	// them (incremental.ledgerEntries); nil reads the ledger.
	ledger func() []fstree.Entry

	childrenOnce sync.Once
	children     map[string][]string // rendered dir → names in it

	// Memos by path: entry and list digests, what lstat saw, and
	// directory listings.
	entries, lists changes.PathMap[string]
	seen           changes.PathMap[fs.FileInfo]
	listings       changes.PathMap[[]changes.DirEntry]
}

var _ index.Tree = (*diskView)(nil)

// newDiskView is a view over the rendered files (sorted by path) and the
// output directory. A view that answers for every site indexes the files
// in maps; one that answers for a few (sealed) searches them.
func newDiskView(files []render.File, output string, stats *changes.StatCache) *diskView {
	return &diskView{output: output, files: newFileMaps(files), stats: stats, snap: &changes.Snapshot{}}
}

// renderedFiles answers what the render holds at a path: a file (not a
// seed) with its entry digest, a seed with its hash, or a directory.
type renderedFiles interface {
	rendered(rel string) (digest string, ok bool)
	seed(rel string) (hash string, ok bool)
	isDir(rel string) bool
	paths(f func(p string))
}

type fileMaps struct {
	files map[string]string // non-seed rendered files: path → entry digest
	seeds map[string]string // seed files: path → rendered hash
	dirs  map[string]bool   // parents of every rendered file, "" included
}

func newFileMaps(files []render.File) *fileMaps {
	m := &fileMaps{files: make(map[string]string, len(files)), seeds: map[string]string{}, dirs: map[string]bool{"": true}}
	for _, f := range files {
		if f.Seed {
			m.seeds[f.Path] = f.ContentHash()
		} else {
			m.files[f.Path] = filePrefix + f.ContentHash()
		}
		for d := path.Dir(f.Path); d != "."; d = path.Dir(d) {
			if m.dirs[d] {
				break
			}
			m.dirs[d] = true
		}
	}
	return m
}

func (m *fileMaps) rendered(rel string) (string, bool) { d, ok := m.files[rel]; return d, ok }
func (m *fileMaps) seed(rel string) (string, bool)     { h, ok := m.seeds[rel]; return h, ok }
func (m *fileMaps) isDir(rel string) bool              { return m.dirs[rel] }
func (m *fileMaps) paths(f func(p string)) {
	for p := range m.files {
		f(p)
	}
	for p := range m.seeds {
		f(p)
	}
}

// sortedFiles searches rendered files sorted by path.
type sortedFiles []render.File

func (s sortedFiles) find(rel string) (render.File, bool) {
	i := sort.Search(len(s), func(i int) bool { return s[i].Path >= rel })
	if i < len(s) && s[i].Path == rel {
		return s[i], true
	}
	return render.File{}, false
}

func (s sortedFiles) rendered(rel string) (string, bool) {
	if f, ok := s.find(rel); ok && !f.Seed {
		return filePrefix + f.ContentHash(), true
	}
	return "", false
}

func (s sortedFiles) seed(rel string) (string, bool) {
	if f, ok := s.find(rel); ok && f.Seed {
		return f.ContentHash(), true
	}
	return "", false
}

func (s sortedFiles) isDir(rel string) bool {
	if rel == "" {
		return true
	}
	prefix := rel + "/"
	i := sort.Search(len(s), func(i int) bool { return s[i].Path >= prefix })
	return i < len(s) && strings.HasPrefix(s[i].Path, prefix)
}

func (s sortedFiles) paths(f func(p string)) {
	for _, file := range s {
		f(file.Path)
	}
}

// deleted reports whether the write deletes the file at rel: fleetgen
// wrote it (the ledger says so) and the tree no longer has it.
func (v *diskView) deleted(rel string) bool {
	if _, ok := v.files.rendered(rel); ok {
		return false
	}
	if _, ok := v.files.seed(rel); ok {
		return false
	}
	v.ownedOnce.Do(func() {
		v.owned = map[string]bool{}
		for _, e := range ownedEntries(v.output, v.ledger) {
			v.owned[e.Path] = true
		}
	})
	return v.owned[rel]
}

// ownedEntries are the entries of the ledger of output: ledger's when set,
// else those tree.ReadLedger reads (none when it cannot).
func ownedEntries(output string, ledger func() []fstree.Entry) []fstree.Entry {
	if ledger != nil {
		return ledger()
	}
	if led, err := fstree.ReadLedger(output); err == nil {
		return led.Entries
	}
	return nil
}

// excluded reports whether layout leaves rel out whatever is on disk.
func excluded(rel string) bool {
	if rel == render.ReservedDir || strings.HasPrefix(rel, render.ReservedDir+"/") {
		return true
	}
	for _, part := range strings.Split(rel, "/") {
		if part == ".git" {
			return true
		}
	}
	return false
}

// lstat is what layout's walk of the output directory would see at rel:
// nil when it would not see a regular file or directory there (missing,
// excluded, a symbolic link, or below one). Each path is looked up once.
func (v *diskView) lstat(rel string) fs.FileInfo {
	if v.output == "" || rel == "" || excluded(rel) {
		return nil
	}
	if fi, ok := v.seen.Load(rel); ok {
		return fi
	}
	var fi fs.FileInfo
	if parent := path.Dir(rel); parent == "." || v.realDir(parent) && !v.absent(parent, path.Base(rel)) {
		if st, err := v.snap.Lstat(filepath.Join(v.output, filepath.FromSlash(rel)), rel); err == nil && (st.Mode().IsRegular() || st.IsDir()) {
			fi = st
		}
	}
	v.seen.Store(rel, fi)
	return fi
}

// absent reports whether the listing of the disk directory dir, taken
// from the stat cache by the directory's stat data, shows that it has no
// entry name. It is false when it cannot tell.
func (v *diskView) absent(dir, name string) bool {
	if v.stats == nil {
		return false
	}
	var entries []changes.DirEntry
	if l, ok := v.listings.Load(dir); ok {
		entries = l
	} else {
		fi := v.lstat(dir)
		if fi == nil {
			return false
		}
		var err error
		if entries, err = v.stats.ReadDirStat(filepath.Join(v.output, filepath.FromSlash(dir)), dir, fi); err != nil {
			return false
		}
		v.listings.Store(dir, entries)
	}
	_, found := slices.BinarySearchFunc(entries, name, func(e changes.DirEntry, n string) int { return strings.Compare(e.Name, n) })
	return !found
}

// realDir reports whether rel is a directory on disk reached without
// symbolic links.
func (v *diskView) realDir(rel string) bool {
	fi := v.lstat(rel)
	return fi != nil && fi.IsDir()
}

func (v *diskView) EntryDigest(rel string) string {
	if d, ok := v.files.rendered(rel); ok {
		return d
	}
	if d, ok := v.entries.Load(rel); ok {
		return d
	}
	d := v.entry(rel)
	v.entries.Store(rel, d)
	return d
}

func (v *diskView) entry(rel string) string {
	fi := v.lstat(rel)
	seed, _ := v.files.seed(rel)
	switch {
	case fi != nil && fi.Mode().IsRegular() && !v.deleted(rel):
		if h, ok := v.diskHash(rel, fi); ok {
			return filePrefix + h
		}
		return "?"
	case seed != "":
		if fi != nil && fi.IsDir() {
			return "?" // a directory where a seed goes: let the full run decide
		}
		return filePrefix + seed
	case v.files.isDir(rel):
		return dirDigest
	case fi != nil && fi.IsDir() && v.holdsFiles(rel):
		return dirDigest
	}
	return absentDigest
}

// diskHash is the content hash of the regular file at rel.
func (v *diskView) diskHash(rel string, fi fs.FileInfo) (string, bool) {
	if v.stats != nil {
		if h, ok := v.stats.Hash(rel, fi); ok {
			return h, true
		}
	}
	_, h, err := readHashed(filepath.Join(v.output, filepath.FromSlash(rel)), rel, fi, v.stats)
	return h, err == nil
}

// holdsFiles reports whether the disk directory rel holds a file layout
// would lay out (it lays out files, and directories only through them).
func (v *diskView) holdsFiles(rel string) bool {
	names := v.diskNames(rel)
	for _, n := range names {
		child := path.Join(rel, n)
		fi := v.lstat(child)
		switch {
		case fi == nil:
		case fi.Mode().IsRegular() && !v.deleted(child):
			return true
		case fi.IsDir() && v.holdsFiles(child):
			return true
		}
	}
	return false
}

func (v *diskView) diskNames(rel string) []string {
	if !v.realDir(rel) && rel != "" {
		return nil
	}
	entries, err := os.ReadDir(filepath.Join(v.output, filepath.FromSlash(rel)))
	if err != nil {
		return nil
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	return names
}

func (v *diskView) ListDigest(rel string) string {
	if d, ok := v.lists.Load(rel); ok {
		return d
	}
	d := v.list(rel)
	v.lists.Store(rel, d)
	return d
}

func (v *diskView) list(rel string) string {
	if v.EntryDigest(rel) != dirDigest && rel != "" {
		return absentDigest
	}
	v.childrenOnce.Do(v.indexChildren)
	set := map[string]bool{}
	for _, n := range v.children[rel] {
		set[n] = true
	}
	if v.output != "" {
		for _, n := range v.diskNames(rel) {
			set[n] = true
		}
	}
	var names []string
	for n := range set {
		if d := v.EntryDigest(path.Join(rel, n)); d != absentDigest {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return listDigest(names, func(n string) string { return v.EntryDigest(path.Join(rel, n)) })
}

func (v *diskView) indexChildren() {
	v.children = map[string][]string{}
	seen := map[string]bool{}
	add := func(p string) {
		for !seen[p] && p != "." && p != "" {
			seen[p] = true
			dir := path.Dir(p)
			if dir == "." {
				dir = ""
			}
			v.children[dir] = append(v.children[dir], path.Base(p))
			p = dir
		}
	}
	v.files.paths(add)
}
