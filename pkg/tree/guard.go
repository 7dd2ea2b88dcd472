package tree

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/fleetgen/fleetgen/pkg/changes"
)

// A file edited while Apply runs must not be lost. MakePlan and Apply's first
// re-check compare the whole disk with the plan before the journal is
// written; after that, each target is looked at again right before it is
// replaced or deleted:
//
//   - create: the file is put in place with link(2), which fails if a file
//     appeared at the path meanwhile (no check-then-act window at all);
//   - update: the target's identity (device, inode, size, mtime, ctime,
//     mode) must be what the plan saw and its content must hash to what the
//     plan saw, read through a descriptor whose stat after the read still
//     matches; the rename follows at once;
//   - delete: after the same identity check the file is renamed aside to a
//     name in its own directory, the renamed file is read and checked again,
//     and only then removed; a file that changed is put back (without
//     replacing anything that appeared at its path meanwhile).
//
// A target that changed is left as it is, its change is counted as a
// conflict, and the rest of the plan is applied; Apply then returns a
// *ChangedDuringApplyError. docs/regeneration.md describes the window that
// remains.

// ChangedDuringApplyError is returned by Apply when files changed on disk
// after the plan was checked, while Apply was writing. Those files were left
// exactly as they were found (their ledger entries unchanged, so the next
// run reports them as conflicts); every other change of the plan was
// applied.
type ChangedDuringApplyError struct {
	Kept []Change // Action Conflict, Reason says what was found
}

func (e *ChangedDuringApplyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d file(s) changed on disk while fleetgen was writing and were kept as they are; every other change was applied:", len(e.Kept))
	for _, c := range e.Kept {
		fmt.Fprintf(&b, "\n  %s: %s", c.Path, c.Reason)
	}
	return b.String()
}

// errChanged is a target that no longer is what the plan saw; its message is
// the conflict's reason.
type errChanged struct{ reason string }

func (e *errChanged) Error() string { return e.reason }

func changed(format string, args ...any) error {
	return &errChanged{reason: fmt.Sprintf(format, args...)}
}

// asideName is the name a file to delete is renamed to before its last
// check: in the same directory, derived from the path so that it is found
// again after a crash, and distinct from tmpName.
func asideName(rel string) string {
	sum := sha256.Sum256([]byte(rel))
	return path.Join(path.Dir(rel), tmpPrefix+"del-"+hex.EncodeToString(sum[:8]))
}

// verify checks that the regular file rel (whose Lstat is fi) is the file the
// plan saw: same identity as want (the plan's stat, with ctime when withCtime
// is set) and content hashing to hash, read consistently.
func (a *applier) verify(rel string, fi, want fs.FileInfo, hash string, withCtime bool) error {
	if want != nil && !changes.SameFile(want, fi, withCtime) {
		return changed("changed on disk while fleetgen was writing (its stat data differs from what the plan saw)")
	}
	f, err := a.r.Open(rel)
	if errors.Is(err, fs.ErrNotExist) {
		return changed("removed or replaced on disk while fleetgen was writing")
	}
	if err != nil {
		return err
	}
	data, err := io.ReadAll(f)
	var after fs.FileInfo
	if err == nil {
		after, err = f.Stat()
	}
	f.Close()
	if err != nil {
		return err
	}
	if int64(len(data)) != fi.Size() || !changes.SameFile(fi, after, true) {
		return changed("changed on disk while fleetgen was reading it")
	}
	if hashOf(data) != hash {
		return changed("edited on disk while fleetgen was writing")
	}
	return nil
}

// place puts the temporary file tmp at c.Path, provided the target is still
// what the plan saw; an *errChanged otherwise, with tmp removed.
func (a *applier) place(tmp string, c Change) error {
	a.step("verify", c.Path)
	if !c.disk.exists {
		// link(2) does not replace an existing file: a file that
		// appeared at the path since the plan stays. Filesystems
		// without hard links fall back to check, then rename.
		err := a.r.Link(tmp, c.Path)
		switch {
		case err == nil:
			return a.r.Remove(tmp)
		case errors.Is(err, fs.ErrExist):
			a.r.Remove(tmp)
			return changed("created on disk while fleetgen was writing")
		}
		if _, err := a.r.Lstat(c.Path); err == nil {
			a.r.Remove(tmp)
			return changed("created on disk while fleetgen was writing")
		} else if !errors.Is(err, fs.ErrNotExist) {
			a.r.Remove(tmp)
			return err
		}
		return a.r.Rename(tmp, c.Path)
	}
	fi, err := a.r.Lstat(c.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// Removed meanwhile: there is nothing to lose, and the plan's
		// rule for a missing file is to write it.
	case err != nil:
		a.r.Remove(tmp)
		return err
	case !fi.Mode().IsRegular():
		a.r.Remove(tmp)
		return fmt.Errorf("not a regular file (%s); refusing to replace it", fi.Mode().Type())
	default:
		if err := a.verify(c.Path, fi, c.disk.stat, c.disk.hash, true); err != nil {
			a.r.Remove(tmp)
			return err
		}
	}
	return a.r.Rename(tmp, c.Path)
}

// removeChecked deletes c.Path, provided it is still what the plan saw: it
// is renamed aside, checked again under that name, then removed; put back if
// it changed. An *errChanged when the file was kept.
func (a *applier) removeChecked(c Change) error {
	rel := c.Path
	a.step("verify", rel)
	fi, err := a.r.Lstat(rel)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil // already gone: nothing to delete, nothing to lose
	case err != nil:
		return err
	case !fi.Mode().IsRegular():
		return fmt.Errorf("%s: not a regular file (%s); refusing to delete it", rel, fi.Mode().Type())
	}
	if c.disk.stat != nil && !changes.SameFile(c.disk.stat, fi, true) {
		return changed("changed on disk while fleetgen was deleting it (its stat data differs from what the plan saw); not deleted")
	}
	aside := asideName(rel)
	if _, err := a.r.Lstat(aside); err == nil {
		return fmt.Errorf("%s: temporary file %s already exists and is not fleetgen's to remove; delete it and run again", rel, aside)
	}
	if err := a.r.Rename(rel, aside); err != nil {
		return err
	}
	a.dirty[path.Dir(rel)] = true
	a.step("aside", aside)
	afi, err := a.r.Lstat(aside)
	if err == nil && !afi.Mode().IsRegular() {
		err = fmt.Errorf("%s: not a regular file", aside)
	}
	if err == nil {
		err = a.verify(aside, afi, fi, c.disk.hash, false)
	}
	if err == nil {
		return a.r.Remove(aside)
	}
	var ce *errChanged
	if !errors.As(err, &ce) {
		// An I/O error: put the file back all the same.
		if rerr := a.restore(aside, rel); rerr != nil {
			return fmt.Errorf("%w (and putting it back failed: %v)", err, rerr)
		}
		return err
	}
	if rerr := a.restore(aside, rel); rerr != nil {
		return changed("%s; %v", ce.reason, rerr)
	}
	return err
}

// restore moves aside back to rel without replacing a file that appeared at
// rel; if one did, aside is left where it is and the error names it.
func (a *applier) restore(aside, rel string) error {
	err := a.r.Link(aside, rel)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("a new file appeared at the path meanwhile; the previous one is kept as %s", aside)
	}
	if err != nil {
		if _, lerr := a.r.Lstat(rel); lerr == nil {
			return fmt.Errorf("a new file appeared at the path meanwhile; the previous one is kept as %s", aside)
		}
		return a.r.Rename(aside, rel)
	}
	return a.r.Remove(aside)
}

// restoreAsides handles the files an interrupted apply had renamed aside to
// delete them: one still holding the content the ledger recorded is
// removed; any other is put back at its path (or left, named, if a file
// appeared there) and counted as kept.
func (a *applier) restoreAsides(old *journal) error {
	if old == nil {
		return nil
	}
	for _, d := range old.delete {
		aside := asideName(d)
		fi, err := a.r.Lstat(aside)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		data, err := a.r.ReadFile(aside)
		if err != nil {
			return err
		}
		a.dirty[path.Dir(d)] = true
		b, ok := lookup(old.base, d)
		if ok && hashOf(data) == b.Hash {
			if err := a.r.Remove(aside); err != nil {
				return err
			}
			continue
		}
		reason := "edited while an interrupted run was deleting it; put back"
		if err := a.restore(aside, d); err != nil {
			reason = "edited while an interrupted run was deleting it; " + err.Error()
		}
		a.keep(Change{Path: d, Site: b.Site, Old: data}, reason)
	}
	return nil
}
