package render

import (
	"sort"
)

// File is one rendered file of the output tree.
type File struct {
	// Path is slash-separated and relative to the tree root, e.g.
	// "overlays/store-berlin-001/kustomization.yaml".
	Path string
	Data []byte
	// Site is the site the file belongs to, or "" for fleet-level files.
	Site string
	// Seed marks a file that is written only when it is missing and then
	// belongs to the user: regeneration never updates, deletes or records it
	// (the per-site overlays/<site>/local/ component is made of seeds).
	Seed bool
}

// Tree is a rendered output tree held in memory. Files are sorted by Path
// and paths are unique.
type Tree struct {
	Files []File
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
