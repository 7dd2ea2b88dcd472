// Package index remembers, for one output tree, what the last generate or
// check run rendered, verified and saw on disk, so that the next run can
// skip the work whose inputs did not change.
//
// An index is a cache entry (pkg/cache) keyed by the tree's absolute path
// and salted like the verification cache: an index written by another
// build of fleetgen is never used. It holds
//
//   - Inputs, a digest of everything the render reads (the inventory
//     files' bytes, the template set, the selector). When it matches, the
//     rendered tree is the one recorded in Files, and a run need not load
//     the inventory or render at all.
//   - Files, the rendered tree of the run by content hash and size.
//   - Renders, each site's render key (render.Tree.SiteKeys): when a
//     site's key is unchanged, the next render takes its files from Files
//     instead of executing its templates.
//   - Wiring, a summary of each GitOps wiring file (the references it
//     makes, Ref) by path and content hash, so unchanged wiring files are
//     not decoded again.
//   - Sites, one record per site that passed verification: a digest of
//     what its build depended on and its verdict (skipped objects, waived
//     findings). The dependencies (Units) are what the build saw: the
//     kind and content of every path it read or tested, and the names in
//     every directory it listed or globbed. A record
//     is used only when its digest, recomputed from the tree of this run,
//     still matches; so any change to a file, a name or a directory
//     listing the build looked at, or to the site's own config, facts or
//     waivers, makes the site verify again. Failures are never recorded.
//   - Stats, the stat cache of the tree (changes.StatCache), so unchanged files
//     are not read again. It is stored under its own key (SaveStats).
//
// The stored index begins with a line of the salt and a line of Inputs, so
// that a run learns whether its inputs are the index's before decoding the
// rest (Open, Stored.Decode). Beside the index, a Seal records what a clean
// check of the tree looked at (changes.Seal) for the index it was made with;
// it is stored as a small header and an entry of paths, so that a clean
// generate carries it over to its new index by rewriting the header only
// (CarrySeal).
//
// The index is an optimisation only: a missing, damaged or foreign index
// costs time, never a verdict. It is a storage format only: it imports no
// verification or policy package, and pkg/pipeline converts the checks'
// types to its records (Ref, Access, the verdict payloads of Site).
package index
