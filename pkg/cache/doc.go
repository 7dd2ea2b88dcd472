// Package cache is a content-addressed store of small entries on disk,
// used to remember overlays that verified so an unchanged overlay is not
// built again.
//
// An entry is a file named by its key (a hex SHA-256 the caller derives
// from everything the cached result depends on) holding a checksum line
// and the payload. Get treats a missing, truncated or damaged entry as a
// miss; Put writes a temporary file and renames it into place, so readers
// and concurrent runs see a whole entry or none. Nothing is fsynced: a
// crash can only lose or damage entries, and a damaged entry is a miss.
//
// The cache never decides what may be served: callers store only results
// they are willing to serve and re-check the inputs an entry lists before
// using it (see pkg/verify).
package cache
