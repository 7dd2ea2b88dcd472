// Package treefs serves a fixed set of files to kustomize as a read-only file
// system.
//
// New builds an FS once from a flat list of files under a root directory
// (such as /fleet); directories are implied by the file paths. Every path
// resolves with one map lookup, whatever the number of entries in a
// directory, so a tree with thousands of overlays under overlays/ costs no
// more per lookup than a small one. A file's content is either held in
// memory (File.Data) or read on first use (File.Load, for files left on
// disk) and then kept; a file can also be known by its hash only. Hash gives
// each file's SHA-256 and DirDigest a digest of a directory's entries, for
// change detection without reading the whole tree.
//
// The read methods behave like those of filesys.MakeFsInMemory() holding
// the same files, for absolute and relative paths alike (a relative path is
// taken relative to "/", as there): the root "/" and the root's parent
// directories exist, unclean paths are cleaned the same way (so "//", "/x/.."
// and paths starting with "/.." do not exist), a path through a file is an
// error naming that file, and Glob matches and hides dot files as there. The
// differences:
//
//   - ReadDir returns the names sorted.
//   - ReadFile of a directory names that directory in its error.
//   - Walk follows filepath.Walk where the in-memory file system differs: an
//     error a WalkFunc returns for a directory stops the walk and is returned
//     (the in-memory one walks on), filepath.SkipAll stops the walk and Walk
//     returns nil, and so does filepath.SkipDir returned for the file the
//     walk starts at. The FileInfo values have the names and sizes of the
//     in-memory ones (a directory's size is its number of entries) but the
//     modes of Stat.
//   - Open returns an independent read-only handle each time (the in-memory
//     one refuses to open a file twice and lets the opener write to it).
//   - Every write method (Create, Mkdir, MkdirAll, RemoveAll, WriteFile)
//     fails with an error wrapping ErrReadOnly.
//
// An FS is safe for concurrent use by many goroutines: it never changes
// after New, except that each file's Load runs at most once (its result,
// content or error, is kept) and hashes and digests are computed once.
// A handle returned by Open belongs to one goroutine.
package treefs
