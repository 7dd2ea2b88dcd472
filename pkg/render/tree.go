package render

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
)

// File is one rendered file of the output tree.
type File struct {
	// Path is slash-separated and relative to the tree root, e.g.
	// "overlays/store-berlin-001/kustomization.yaml".
	Path string
	// Data is the file's content. When Data is nil and Hash is set, the
	// content is known only by its hash (a tree built from what an earlier
	// run wrote, for example); Render always sets both.
	Data []byte
	// Hash is the lowercase hex SHA-256 of the content, set by Render. It
	// may be empty in a File built by hand; ContentHash covers both cases.
	Hash string
	// Site is the site the file belongs to, or "" for fleet-level files.
	Site string
	// Seed marks a file that is written only when it is missing and then
	// belongs to the user: regeneration never updates, deletes or records it
	// (the per-site overlays/<site>/local/ component is made of seeds).
	Seed bool
}

// ContentHash returns the lowercase hex SHA-256 of the file's content: Hash
// when it is set, otherwise the hash of Data.
func (f File) ContentHash() string {
	if f.Hash != "" {
		return f.Hash
	}
	return hashData(f.Data)
}

// hashData is the lowercase hex SHA-256 of data.
func hashData(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// Tree is a rendered output tree held in memory. Files are sorted by Path
// and paths are unique.
type Tree struct {
	Files []File
	// SiteKeys holds, by site name, the render key each site of the fleet
	// had in the render that made the tree (see RenderOptions.Reuse and the
	// package documentation for what a key covers). A caller that stores a
	// site's key with its per-site files can hand those files back through
	// Reuse when a later render gives the site the same key. It is nil in a
	// tree not made by Render.
	SiteKeys map[string]string
	// VerifyOnly are files laid out for verification builds only, never
	// planned or written: the post-rendered objects of Helm releases in
	// mode release (docs/charts.md), which the site's helm-controller
	// renders itself.
	VerifyOnly []File
}

// Sort orders the files by path.
func (t *Tree) Sort() {
	sort.Slice(t.Files, func(i, j int) bool { return t.Files[i].Path < t.Files[j].Path })
}

// Lookup returns the file at path, if any.
func (t *Tree) Lookup(path string) (File, bool) {
	i := sort.Search(len(t.Files), func(i int) bool { return t.Files[i].Path >= path })
	if i < len(t.Files) && t.Files[i].Path == path {
		return t.Files[i], true
	}
	return File{}, false
}
