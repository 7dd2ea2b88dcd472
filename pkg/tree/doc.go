// Package tree writes a rendered fleet tree to disk safely: it plans the
// changes against what is on disk and in an ownership ledger, refuses to
// overwrite or delete what it did not write, and applies the plan so that a
// crash at any moment leaves every file whole and the next run finishes the
// job.
//
// # Use
//
//	unlock, err := tree.Lock(out)              // exclusive; fails fast if held
//	defer unlock()
//	plan, err := tree.MakePlan(out, rendered, tree.PlanOptions{Force: force})
//	// show plan.BySite(), plan.Conflicts(), plan.Notes, tree.UnifiedDiff(...)
//	err = tree.Apply(ctx, plan)                // nothing written if any conflict
//
// MakePlan only reads; it never creates the output directory. A dry run may
// skip Lock, which creates the output directory and .fleetgen/.
//
// # Output directory
//
// ValidateRoot refuses the empty path, the filesystem root and the user's
// home directory (also when reached through a symlink), a path that exists
// but is not a directory, a root that is itself a symlink and a .fleetgen
// that is a symlink or not a directory. Inside
// the root nothing is ever followed: every path is slash-separated,
// relative, without "." or ".." elements, and every parent directory and the
// file itself are checked with Lstat; a symlink anywhere inside the root is
// an error (MakePlan refuses to plan, Apply re-checks before writing). All
// writes go through an os.Root, so no path can resolve outside the root.
// Paths under .fleetgen/ and names starting with ".fleetgen-tmp-" are
// reserved.
//
// # Ledger
//
// <root>/.fleetgen/ledger.d/ lists every file fleetgen wrote, with the
// SHA-256 of the content it wrote and its owning site: one file per site,
// <site>.ledger, and _fleet.ledger for fleet-level files, so that no file
// grows with the number of sites and branches adding different sites merge
// in git. Each is text, sorted by path, and byte-identical for identical
// trees:
//
//	# fleetgen ledger v2
//	<sha256 hex>  <site, or - for fleet-level>  <path>
//
// Fields are separated by two spaces; the path is the rest of the line. Any
// other content (wrong header, bad hash, unsorted or repeated path, invalid
// path, an entry of another site, missing final newline) makes the ledger
// corrupt (ErrLedgerCorrupt). Removing a line disowns that file: fleetgen
// will treat it as the user's. The one-file <root>/.fleetgen/ledger of
// earlier releases ("# fleetgen ledger v1", same lines) is read, and Apply
// converts it. Apply also writes <root>/.fleetgen/.gitignore, which keeps
// the lock, the journal and temporary files out of git.
//
// # Conflict rules
//
// For each path in the rendered tree or the ledger, comparing the disk
// content's hash with the ledger's hash and the rendered content:
//
//   - In the tree, not on disk: Create (also when the ledger lists it and it
//     was deleted by hand).
//   - In the tree, on disk, not in the ledger: identical content is adopted
//     (Unchanged, recorded in the ledger); different content is a Conflict,
//     "exists and was not written by fleetgen".
//   - In the tree and the ledger, disk matches the ledger: Update if the
//     rendered content differs, else Unchanged (the file is not rewritten;
//     content and mtime stay as they are).
//   - In the tree and the ledger, disk differs from the ledger (edited by
//     hand): Conflict, with Old holding the disk content for a diff; if the
//     edit already equals the rendered content, Unchanged.
//   - In the ledger only (site removed, template dropped): Delete if the disk
//     matches the ledger; Conflict if edited by hand; if already gone, it is
//     just dropped from the ledger. Directories emptied by the deletions are
//     removed, up to but never including the root; a directory that still
//     holds anything (a user's file) stays.
//   - Files neither rendered nor in the ledger are never looked at, changed
//     or deleted.
//
// PlanOptions.Force turns every conflict into the change fleetgen wants:
// Update (overwrite) or Delete, with a Reason starting "forced:".
//
// A conflict anywhere makes Apply write nothing at all, for any site
// (*ConflictError). Apply also writes nothing if a file changed on disk
// since MakePlan (ErrStalePlan). After that, each target is checked again
// right before it is replaced or deleted (see guard.go); one that changed
// is kept, the rest applied, and Apply returns *ChangedDuringApplyError.
//
// Without a ledger (first run, or .fleetgen/ledger.d deleted) every existing
// file is the user's: new files are written, identical ones adopted,
// differing ones conflict. With a corrupt ledger MakePlan does the same
// (Plan.Ledger is LedgerCorrupt) and adds a note to Plan.Notes: check the
// conflicting files, then either delete the ledger file named and run again
// (identical files are adopted, differing ones remain conflicts) or run with
// --force to overwrite them. Files listed only in the corrupt ledger are no
// longer tracked and will not be deleted. The next successful apply writes
// a valid ledger.
//
// # Writing and crash recovery
//
// Every file is written to a temporary file in its own directory
// (".fleetgen-tmp-" and 16 hex digits derived from the path), fsynced, and
// renamed over the target, so it is always either the old or the new
// content. An update keeps the file's permission bits; new files are 0644
// and new directories 0755 (less the umask).
//
// Apply first writes the journal <root>/.fleetgen/journal, atomically and
// fsynced, before changing anything:
//
//	# fleetgen journal v3
//	ledger <file> <sha256 or -> <sha256 or ->   a ledger file this apply changes: before, after
//	base <sha256>  <site or ->  <path>     ownership before this apply
//	target <sha256>  <site or ->  <path>   ownership after this apply
//	write <path>                           file to create or replace
//	delete <path>                          file to delete
//	prune <dir>                            directory to remove if emptied
//
// In a v3 journal, base and target list only the entries this apply
// changes, and the ledger records name the ledger files that change; the
// other entries are read from the ledger directory, where each listed file
// must be as before or as after (any other content makes the journal
// unusable, like a corrupt ledger). When there is no ledger directory the
// plan was made against (first run, missing, corrupt, recovered or one-file
// ledger), Apply writes a v1 journal, which has no ledger records and lists
// the whole ownership before and after. A one-file change to a 10,000-site
// tree thus journals a few lines instead of some 12 MB. A v2 journal (one
// ledger and next record, by the one-file ledger of earlier releases) is
// still read.
//
// It then performs the writes and deletes in path order, removes emptied
// directories, fsyncs every changed directory, writes .fleetgen/.gitignore
// and each ledger file that changes (each atomically), removes the ledger
// files of sites that are gone and the one-file ledger, and removes the
// journal.
//
// If the process dies (or ctx is cancelled) part way, the journal stays. The
// next ReadLedger or MakePlan sees it and rebuilds ownership without
// writing anything (Plan.Ledger is LedgerRecovered, with a note): for each
// path the journal names, if the disk holds the target content the target
// entry holds (fleetgen wrote it), otherwise the base entry holds (if any).
// Beyond completing a v2 or v3 journal, the ledger is ignored while a
// journal exists. So files the
// interrupted run had written count as fleetgen's, not as conflicts, while a
// file edited by hand after the crash is still a conflict. The following
// Apply removes the interrupted run's temporary files (those of its write
// records, and any in .fleetgen/), replaces the journal with its own (whose
// base is the recovered ownership, so a second interruption recovers too),
// finishes, and removes the journal. A temporary file not accounted for by a
// journal is never removed; Apply stops and names it. A journal that does not
// parse is treated like a corrupt ledger.
//
// # Change detection
//
// MakePlan reads and hashes every file it compares. With PlanOptions.Stats
// (a *changes.StatCache) it skips files whose stat data matches a trusted
// entry, and records every file it hashed or matched; Apply records each file
// it writes and forgets each file it deletes, and its stale-plan check uses
// the cache too. Wherever a change shows the disk content (Old) the file is
// read whatever the cache says: the plan is the same with or without it. A
// changes.Snapshot (PlanOptions.Snapshot) carries the lstat results an
// earlier step of the same run took (pkg/pipeline's view of the disk), so
// MakePlan does not look those paths up again; Apply never uses one. The
// rules that make a cached answer safe are in pkg/changes.
//
// # Lock
//
// Lock takes flock(LOCK_EX|LOCK_NB) on <root>/.fleetgen/lock, creating the
// root and .fleetgen if needed. It never waits: if the lock is held (by
// another process, or by another Lock call in this process) it returns a
// *LockedError naming the holder. The holder writes into the lock file:
//
//	pid <pid>
//	host <hostname>
//	started <RFC 3339 time, UTC>
//
// The kernel releases the lock when the holder's process ends, however it
// ends, so a lock file left by a dead process never blocks: the next holder
// overwrites it. unlock empties the file and releases the lock; the file
// itself stays. flock is advisory and, on network filesystems, only as good
// as the filesystem's support for it. Hold the lock from before MakePlan
// until Apply returns.
package tree
