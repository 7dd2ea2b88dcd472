// Package changes tells what changed in an output tree since a run looked
// at it: a stat cache of file identities and hashes, directory listings,
// seals of clean checks, snapshots of lstat results. It only reads the
// disk; pkg/tree, which writes the tree safely, uses it to skip files that
// cannot have changed, and pkg/pipeline uses it to skip whole runs.
//
// # Stat cache
//
// pkg/tree's MakePlan reads and hashes every file it compares. With a
// StatCache it skips files whose stat data (size, mtime, ctime, inode,
// device and mode on unix; size, mtime and mode elsewhere) matches a trusted
// entry, and records every file it hashed or matched; Apply records each
// file it writes and forgets (Forget) each file it deletes. An entry is
// trusted only if the file's mtime is more than 2 s older than the moment
// its hash was taken, and an entry that was racy then is never saved, so
// right after a run that wrote N files the next run reads those N again;
// only pairs observed consistently are recorded (the Lstat before a read
// equals the Fstat after it: ReadFile, ReadRoot), never symlinks or special
// files. MarshalBinary saves only the entries recorded or matched since the
// cache was created or loaded, so a plan limited to some sites leaves other
// sites' files to be hashed again next time. UnmarshalBinary refuses any
// damaged or foreign blob (a SHA-256 trailer covers the whole), and the
// caller starts empty.
//
// The cache also keeps directory listings (StatCache.ReadDir), matched on
// the directory's own stat data like git's untracked cache: adding,
// removing or renaming an entry changes a directory's mtime and ctime.
// Listings follow the same racy and consistency rules, and are only kept
// where stat data carries ctime, inode and device.
//
// # Snapshots and seals
//
// A Snapshot carries the lstat results an earlier step of the same run took,
// so later steps do not look those paths up again (Snapshot.Lstat, and
// Snapshot.Through in front of RootLstat). A Seal, made from the snapshot of
// a clean check (Snapshot.Seal), records what that check looked at; a later
// run asks Seal.Changed which of those paths changed since, and skips the
// work when none did.
package changes
