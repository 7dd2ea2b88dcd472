package tree

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/fleetgen/fleetgen/pkg/changes"
)

// ErrStalePlan is returned (wrapped) by Apply when the disk no longer matches
// what MakePlan saw; nothing was written.
var ErrStalePlan = errors.New("output directory changed since the plan was made")

// Apply carries out p. It refuses a plan with conflicts (*ConflictError) and
// a plan whose files changed on disk since MakePlan (ErrStalePlan); in both
// cases it writes nothing. An in-sync plan is a no-op that touches nothing.
//
// Otherwise Apply creates the root if needed, writes the journal, performs
// every create, update and delete in path order (each file replaced
// atomically), removes directories emptied by deletions, writes the new
// ledger atomically and removes the journal. If ctx is cancelled or Apply
// fails part way, the journal stays behind and the next MakePlan and Apply
// finish the job.
//
// The caller should hold Lock(p.Root) from before MakePlan until Apply
// returns.
func Apply(ctx context.Context, p *Plan) error {
	if cs := p.Conflicts(); len(cs) > 0 {
		return &ConflictError{Conflicts: cs}
	}
	if p.InSync() {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := ValidateRoot(p.Root); err != nil {
		return err
	}
	if err := p.recheck(); err != nil {
		return err
	}
	if err := os.MkdirAll(p.Root, 0o755); err != nil {
		return fmt.Errorf("creating output directory: %w", err)
	}
	r, err := os.OpenRoot(p.Root)
	if err != nil {
		return fmt.Errorf("opening output directory: %w", err)
	}
	defer r.Close()
	a := &applier{r: r, hook: p.hook, dirty: map[string]bool{}, stats: p.stats}
	return a.run(ctx, p)
}

// recheck verifies that every path still looks as MakePlan saw it.
func (p *Plan) recheck() error {
	r, err := openRoot(p.Root)
	if err != nil {
		return err
	}
	if r != nil {
		defer r.Close()
	}
	if err := checkStateDir(r); err != nil {
		return err
	}
	paths := make([]string, len(p.Changes))
	for i, c := range p.Changes {
		paths[i] = c.Path
	}
	// Changes are sorted by path, as prefetch wants them; the first
	// problem in path order is reported. The stat cache vouches for files
	// it matches exactly as it did for MakePlan.
	states, errs := prefetch(r, paths, func(string) bool { return true }, p.stats, nil, nil)
	for i, c := range p.Changes {
		if errs[i] != nil {
			return errs[i]
		}
		d := states[i]
		if d.exists != c.disk.exists || d.hash != c.disk.hash {
			return fmt.Errorf("%w: %s", ErrStalePlan, c.Path)
		}
		// From here on each target is compared with this stat data
		// right before it is replaced or deleted.
		p.Changes[i].disk.stat = d.stat
	}
	return nil
}

type applier struct {
	r    *os.Root
	hook func(step, path string)
	// dirty holds the directories whose entries changed (file renamed in
	// or removed, subdirectory created or removed) and are not yet
	// fsynced. They are all fsynced before the new ledger is written.
	dirty map[string]bool
	// stats, when set, records each file written and forgets each file
	// deleted.
	stats *changes.StatCache
	// kept are the changes not made because their target changed on disk
	// while Apply ran (see guard.go).
	kept []Change
}

// keep records that c was not made because its target changed: reason says
// how.
func (a *applier) keep(c Change, reason string) {
	if a.stats != nil {
		a.stats.Forget(c.Path)
	}
	c.Action, c.Reason, c.New = Conflict, reason, nil
	a.kept = append(a.kept, c)
	a.step("kept", c.Path)
}

func (a *applier) step(step, path string) {
	if a.hook != nil {
		a.hook(step, path)
	}
}

func (a *applier) run(ctx context.Context, p *Plan) error {
	if err := a.mkdirs(stateDir); err != nil {
		return err
	}
	if err := a.removeLeftovers(p.journal); err != nil {
		return err
	}
	if err := a.restoreAsides(p.journal); err != nil {
		return err
	}
	next, err := marshalLedgerFiles(p.target)
	if err != nil {
		return err
	}
	j := a.journalFor(p, next)
	prune := map[string]bool{}
	for _, c := range p.Changes {
		switch c.Action {
		case Create, Update:
			j.writes = append(j.writes, c.Path)
		case Delete:
			j.delete = append(j.delete, c.Path)
			prune[path.Dir(c.Path)] = true
		}
	}
	if old := p.journal; old != nil {
		for _, d := range old.prune {
			prune[d] = true
		}
	}
	delete(prune, ".")
	j.prune = sortedKeys(prune)

	ops := len(j.writes) + len(j.delete)
	// Converting a one-file ledger replaces it by many files, and
	// finishing an interrupted apply replaces the ledger its journal
	// refers to: both need the journal even when no other file changes.
	if ops > 0 || p.legacyLedger || p.journal != nil {
		if err := a.writeAtomic(journalFile, j.marshal(), 0o644, true); err != nil {
			return fmt.Errorf("writing journal: %w", err)
		}
		// .fleetgen itself may be new: the journal must be durable
		// before the first change.
		if err := a.syncDirty(); err != nil {
			return err
		}
		a.step("journal", journalFile)
	}
	done := 0
	// Writes are staged in batches: every temporary file of a batch is
	// written, their data made durable at once (syncAll), then each is
	// renamed into place in path order. A crash before a rename leaves the
	// old file and a temporary file the journal lets the next run remove.
	var batch []Change
	flush := func() error {
		err := a.writeBatch(ctx, batch, &done, ops)
		batch = batch[:0]
		return err
	}
	for _, c := range p.Changes {
		if c.Action != Create && c.Action != Update && c.Action != Delete {
			continue
		}
		if c.Action != Delete {
			if batch = append(batch, c); len(batch) >= writeBatchSize {
				if err := flush(); err != nil {
					return err
				}
			}
			continue
		}
		if err := flush(); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("interrupted after %d of %d changes (the next run finishes the job): %w", done, ops, err)
		}
		if err := a.remove(c); err != nil {
			return fmt.Errorf("after %d of %d changes (the next run finishes the job): %w", done, ops, err)
		}
		done++
	}
	if err := flush(); err != nil {
		return err
	}
	for _, d := range j.prune {
		if err := a.prune(d); err != nil {
			return err
		}
	}
	if err := a.syncDirty(); err != nil {
		return err
	}
	if len(a.kept) > 0 {
		// The kept files keep the ownership they had: the journal is
		// rewritten to name the ledger actually written, so that a crash
		// from here on recovers to it.
		p.target = keepEntries(p.target, p.base, a.kept)
		if next, err = marshalLedgerFiles(p.target); err != nil {
			return err
		}
		j2 := a.journalFor(p, next)
		j2.writes, j2.delete, j2.prune = j.writes, j.delete, j.prune
		if err := a.writeAtomic(journalFile, j2.marshal(), 0o644, true); err != nil {
			return fmt.Errorf("writing journal: %w", err)
		}
		for _, k := range a.kept {
			for i := range p.Changes {
				if p.Changes[i].Path == k.Path {
					p.Changes[i] = k
				}
			}
		}
	}
	if err := a.writeGitignore(); err != nil {
		return fmt.Errorf("writing %s: %w", gitignoreFile, err)
	}
	if err := a.writeLedger(p, next); err != nil {
		return fmt.Errorf("writing ledger: %w", err)
	}
	if p.ledgerDigest, err = p.LedgerDigest(); err != nil {
		return err
	}
	a.step("ledger", ledgerDir)
	if err := a.r.Remove(journalFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing journal: %w", err)
	}
	if err := a.syncDir(stateDir); err != nil {
		return err
	}
	if len(a.kept) > 0 {
		return &ChangedDuringApplyError{Kept: a.kept}
	}
	return nil
}

// keepEntries returns target with the entry of each kept path replaced by
// its entry in base, or dropped if base has none. All lists are sorted.
func keepEntries(target, base []Entry, kept []Change) []Entry {
	drop := make(map[string]bool, len(kept))
	var add []Entry
	for _, c := range kept {
		drop[c.Path] = true
		if b, ok := lookup(base, c.Path); ok {
			add = append(add, b)
		}
	}
	sort.Slice(add, func(i, j int) bool { return add[i].Path < add[j].Path })
	var remove []Entry
	for _, e := range target {
		if drop[e.Path] {
			remove = append(remove, e)
		}
	}
	for _, b := range add {
		if _, ok := lookup(target, b.Path); !ok {
			remove = append(remove, b) // not in target: nothing to drop
		}
	}
	return patchEntries(target, remove, add)
}

// journalFor returns the journal of applying p with the ledger files next.
// It lists only the entries and ledger files that change when the ledger
// directory on disk is the one the plan was made against (the common case):
// at 10,000 sites the whole ownership is megabytes to write for every
// one-file change. Otherwise it lists the whole ownership before and after.
func (a *applier) journalFor(p *Plan, next map[string][]byte) *journal {
	if p.Ledger == LedgerPresent && !p.legacyLedger && p.ledgerSums != nil {
		j := filesJournal(p.base, p.target, p.ledgerSums, next)
		for _, ref := range j.files {
			cur, err := readRegular(a.r, ref.file)
			switch {
			case ref.before == "" && errors.Is(err, fs.ErrNotExist):
			case err != nil || hashOf(cur) != ref.before:
				return &journal{base: p.base, target: p.target}
			}
		}
		return j
	}
	return &journal{base: p.base, target: p.target}
}

// writeLedger makes the ledger directory hold exactly the files next: it
// writes the files that differ from what the plan read (all of them when
// the plan did not read a ledger directory), removes ledger files no site
// needs any more and the one-file ledger of earlier releases.
func (a *applier) writeLedger(p *Plan, next map[string][]byte) error {
	if err := a.mkdirs(ledgerDir); err != nil {
		return err
	}
	entries, err := fs.ReadDir(a.r.FS(), ledgerDir)
	if err != nil {
		return err
	}
	onDisk := map[string]bool{}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ledgerExt) && !strings.HasPrefix(e.Name(), tmpPrefix) {
			onDisk[path.Join(ledgerDir, e.Name())] = true
		}
	}
	trusted := p.Ledger == LedgerPresent && !p.legacyLedger
	var names, tmps []string
	cleanup := func() {
		for _, t := range tmps {
			a.r.Remove(t)
		}
	}
	for _, f := range sortedFileNames(next) {
		if trusted && onDisk[f] && p.ledgerSums[f] == hashOf(next[f]) {
			continue
		}
		if _, err := a.writeTemp(f, next[f], 0o644, false); err != nil {
			cleanup()
			return err
		}
		names, tmps = append(names, f), append(tmps, tmpName(f))
	}
	if err := a.syncAll(tmps); err != nil {
		cleanup()
		return err
	}
	for i, f := range names {
		err := a.checkReplaceable(f)
		if err == nil {
			err = a.r.Rename(tmps[i], f)
		}
		if err != nil {
			tmps = tmps[i:]
			cleanup()
			return err
		}
		a.step("ledger-file", f)
	}
	for _, f := range sortedKeys(onDisk) {
		if _, ok := next[f]; !ok {
			if err := a.r.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
	}
	if err := a.syncDir(ledgerDir); err != nil {
		return err
	}
	if fi, err := a.r.Lstat(legacyLedgerFile); err == nil && fi.Mode().IsRegular() {
		if err := a.r.Remove(legacyLedgerFile); err != nil {
			return err
		}
	}
	return a.syncDir(stateDir)
}

// writeGitignore writes .fleetgen/.gitignore if it is not as it should be.
func (a *applier) writeGitignore() error {
	if data, err := readRegular(a.r, gitignoreFile); err == nil && string(data) == gitignoreContent {
		return nil
	}
	return a.writeAtomic(gitignoreFile, []byte(gitignoreContent), 0o644, false)
}

// removeLeftovers deletes temporary files of an earlier, interrupted run:
// any in .fleetgen/ and .fleetgen/ledger.d/, and, when that run left a journal, the temporary file of
// each write it had planned. Nothing else is touched.
func (a *applier) removeLeftovers(old *journal) error {
	var tmps []string
	for _, dir := range []string{stateDir, ledgerDir} {
		entries, err := fs.ReadDir(a.r.FS(), dir)
		if errors.Is(err, fs.ErrNotExist) && dir == ledgerDir {
			continue
		}
		if err != nil {
			return err
		}
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), tmpPrefix) && e.Type().IsRegular() {
				tmps = append(tmps, path.Join(dir, e.Name()))
			}
		}
	}
	if old != nil {
		for _, w := range old.writes {
			tmps = append(tmps, tmpName(w))
		}
	}
	for _, t := range tmps {
		fi, err := a.r.Lstat(t)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if err := a.r.Remove(t); err != nil {
			return fmt.Errorf("removing leftover temporary file: %w", err)
		}
	}
	return nil
}

// mkdirs creates dir and its parents inside the root, refusing symlinks and
// non-directories on the way, and fsyncs each parent of a new directory.
func (a *applier) mkdirs(dir string) error {
	if dir == "." {
		return nil
	}
	parts := strings.Split(dir, "/")
	for i := range parts {
		p := strings.Join(parts[:i+1], "/")
		fi, err := a.r.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			if err := a.r.Mkdir(p, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
				return err
			}
			a.dirty[path.Dir(p)] = true
			fi, err = a.r.Lstat(p)
		}
		if err != nil {
			return err
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%s: refusing to follow symlink inside the output directory", p)
		}
		if !fi.IsDir() {
			return fmt.Errorf("%s: not a directory", p)
		}
	}
	return nil
}

// writeBatchSize bounds the temporary files staged before one sync.
const writeBatchSize = 1024

// writeBatch creates or replaces the files of batch: all temporary files
// first, one sync of their data, then the renames in order.
func (a *applier) writeBatch(ctx context.Context, batch []Change, done *int, ops int) error {
	if len(batch) == 0 {
		return nil
	}
	tmps := make([]string, 0, len(batch))
	written := make([]fs.FileInfo, 0, len(batch)) // the temporary files' stat data, if wanted
	cleanup := func() {
		for _, t := range tmps {
			a.r.Remove(t)
		}
	}
	for _, c := range batch {
		if err := ctx.Err(); err != nil {
			cleanup()
			return fmt.Errorf("interrupted after %d of %d changes (the next run finishes the job): %w", *done, ops, err)
		}
		if err := a.mkdirs(path.Dir(c.Path)); err != nil {
			cleanup()
			return fmt.Errorf("after %d of %d changes (the next run finishes the job): %s: %w", *done, ops, c.Path, err)
		}
		mode := fs.FileMode(0o644)
		if c.Action == Update && c.disk.mode != 0 {
			mode = c.disk.mode
		}
		fi, err := a.writeTemp(c.Path, c.New, mode, false)
		if err != nil {
			cleanup()
			return fmt.Errorf("after %d of %d changes (the next run finishes the job): %s: %w", *done, ops, c.Path, err)
		}
		tmps = append(tmps, tmpName(c.Path))
		written = append(written, fi)
	}
	if err := a.syncAll(tmps); err != nil {
		cleanup()
		return fmt.Errorf("syncing written files: %w", err)
	}
	for i, c := range batch {
		a.step("synced", c.Path)
		err := ctx.Err()
		if err == nil {
			err = a.place(tmps[i], c)
		}
		var ce *errChanged
		if errors.As(err, &ce) {
			a.keep(c, ce.reason)
			*done++
			continue
		}
		if err != nil {
			for _, t := range tmps[i:] {
				a.r.Remove(t)
			}
			return fmt.Errorf("after %d of %d changes (the next run finishes the job): %s: %w", *done, ops, c.Path, err)
		}
		a.dirty[path.Dir(c.Path)] = true
		a.record(c.Path, written[i], c.New)
		a.step("written", c.Path)
		*done++
	}
	return nil
}

// record remembers in the stat cache the hash of data, just renamed into
// place at rel from a temporary file whose stat data was tmp, if rel's stat
// data shows that very file.
func (a *applier) record(rel string, tmp fs.FileInfo, data []byte) {
	if a.stats == nil {
		return
	}
	fi, err := a.r.Lstat(rel)
	if err != nil || !changes.SameWrite(tmp, fi) {
		a.stats.Forget(rel)
		return
	}
	a.stats.Record(rel, fi, hashOf(data))
}

// fsyncEach fsyncs each of the files.
func fsyncEach(r *os.Root, files []string) error {
	for _, t := range files {
		f, err := r.OpenFile(t, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		err = f.Sync()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// writeAtomic replaces rel with data: a temporary file in the same directory
// is written and fsynced, then renamed over rel. A reader, or a crash, sees
// the old content or the new, never a mix. The directory is fsynced at once
// when syncNow is set, otherwise with the other dirty directories before the
// ledger is written (until then, losing the rename only means the old
// content, which the journal accounts for).
func (a *applier) writeAtomic(rel string, data []byte, mode fs.FileMode, syncNow bool) error {
	if _, err := a.writeTemp(rel, data, mode, true); err != nil {
		return err
	}
	tmp := tmpName(rel)
	err := a.checkReplaceable(rel)
	if err == nil {
		err = a.r.Rename(tmp, rel)
	}
	if err != nil {
		a.r.Remove(tmp)
		return err
	}
	if syncNow {
		return a.syncDir(path.Dir(rel))
	}
	a.dirty[path.Dir(rel)] = true
	return nil
}

// writeTemp writes data to the temporary file of rel, fsynced when sync is
// set. On error nothing is left behind. With a stat cache it returns the
// temporary file's stat data once written (nil if it could not be taken).
func (a *applier) writeTemp(rel string, data []byte, mode fs.FileMode, sync bool) (fs.FileInfo, error) {
	tmp := tmpName(rel)
	f, err := a.r.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("temporary file %s already exists and is not fleetgen's to remove; delete it and run again", tmp)
	}
	if err != nil {
		return nil, err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(mode) // the umask may have narrowed it; keep the old file's mode on update
	}
	if err == nil && sync {
		err = f.Sync()
	}
	var fi fs.FileInfo
	if err == nil && a.stats != nil {
		fi, _ = f.Stat()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		a.r.Remove(tmp)
		return nil, err
	}
	if sync {
		a.step("synced", rel)
	}
	return fi, nil
}

// checkReplaceable refuses to rename over anything but a regular file.
func (a *applier) checkReplaceable(rel string) error {
	fi, err := a.r.Lstat(rel)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file (%s); refusing to replace it", rel, fi.Mode().Type())
	}
	return nil
}

func (a *applier) remove(c Change) error {
	if a.stats != nil {
		a.stats.Forget(c.Path)
	}
	err := a.removeChecked(c)
	var ce *errChanged
	if errors.As(err, &ce) {
		a.keep(c, ce.reason)
		return nil
	}
	if err != nil {
		return err
	}
	a.dirty[path.Dir(c.Path)] = true
	a.step("deleted", c.Path)
	return nil
}

// prune removes dir and then its parents, as long as each is an empty real
// directory. It never removes the root or .fleetgen.
func (a *applier) prune(dir string) error {
	for d := dir; d != "." && d != stateDir; d = path.Dir(d) {
		fi, err := a.r.Lstat(d)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if !fi.IsDir() || fi.Mode()&fs.ModeSymlink != 0 {
			return nil
		}
		entries, err := fs.ReadDir(a.r.FS(), d)
		if err != nil {
			return err
		}
		if len(entries) > 0 {
			return nil
		}
		// rmdir fails on a directory that is no longer empty, so a file
		// created meanwhile is never lost.
		if err := a.r.Remove(d); err != nil {
			return nil
		}
		delete(a.dirty, d)
		a.dirty[path.Dir(d)] = true
	}
	return nil
}

// syncDirty fsyncs every directory changed so far that still exists.
func (a *applier) syncDirty() error {
	for _, d := range sortedKeys(a.dirty) {
		fi, err := a.r.Lstat(d)
		if errors.Is(err, fs.ErrNotExist) || err == nil && !fi.IsDir() {
			continue
		}
		if err := a.syncDir(d); err != nil {
			return err
		}
	}
	a.dirty = map[string]bool{}
	return nil
}

func (a *applier) syncDir(dir string) error {
	f, err := a.r.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	return nil
}
