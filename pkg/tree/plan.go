package tree

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/fleetgen/fleetgen/pkg/changes"
	"github.com/fleetgen/fleetgen/pkg/render"
)

// Action is what Apply will do to one file.
type Action int

const (
	// Create writes a file that is not on disk.
	Create Action = iota
	// Update replaces a file's content.
	Update
	// Delete removes a file fleetgen wrote that the tree no longer has.
	Delete
	// Unchanged leaves the file alone (the ledger may still change: adopted
	// files and files already gone are recorded or forgotten).
	Unchanged
	// Conflict blocks the whole apply: fleetgen would overwrite or delete
	// content it did not write.
	Conflict
)

func (a Action) String() string {
	switch a {
	case Create:
		return "create"
	case Update:
		return "update"
	case Delete:
		return "delete"
	case Unchanged:
		return "unchanged"
	case Conflict:
		return "conflict"
	}
	return fmt.Sprintf("Action(%d)", int(a))
}

// Change is the planned fate of one path.
type Change struct {
	Path   string // slash-separated, relative to the root
	Site   string // owning site, "" for fleet-level files
	Action Action
	// Old is the content on disk (nil if there is no file); New is the
	// rendered content (nil for Delete and for conflicts over a deletion).
	// Both are nil for Unchanged.
	Old, New []byte
	// Reason explains conflicts, forced changes, adoptions and other
	// non-obvious decisions; empty for plain creates, updates and deletes.
	Reason string

	disk diskState // what MakePlan saw on disk, re-checked by Apply
}

// PlanOptions tunes MakePlan.
type PlanOptions struct {
	// Force turns every conflict into the change fleetgen wants: overwrite
	// hand-edited files and files fleetgen did not write, delete hand-edited
	// files that are no longer rendered.
	Force bool
	// Only, when set, limits the plan to fleet-level files and the files of
	// the sites it returns true for. Other sites' files are left exactly as
	// they are: not written, not deleted, their ledger entries kept.
	Only func(site string) bool
	// Stats, when set, lets MakePlan skip reading files whose stat data
	// matches a trusted entry, and records every file it hashed or matched;
	// Apply then records the files it writes and forgets those it deletes.
	// The plan is the same with or without it.
	Stats *changes.StatCache
	// Snapshot, when set, answers lstat for the paths it holds, taken
	// earlier in the same run; see Snapshot. Files are still read (and
	// re-checked by Apply) as without it.
	Snapshot *changes.Snapshot
	// Ledger, when set, is the ledger of root as read earlier in the same
	// run (ReadLedgerState, or Plan.LedgerRead of an earlier plan), with
	// nothing written to the tree since: MakePlan plans against it instead
	// of reading the ledger's files again. A plan that will be applied
	// must be made against a ledger read under the lock Apply runs under.
	Ledger *LedgerRead

	// beforeRead, when set (tests only), is called before each file
	// MakePlan reads with Stats set: the files the cache did not spare.
	beforeRead func(rel string)
}

// Plan is the set of changes that brings a root in line with a rendered tree.
type Plan struct {
	Root    string
	Changes []Change // one per path in the tree or the ledger, sorted by path
	// Ledger is the state of the ledger the plan was made against.
	Ledger LedgerState
	// Notes are messages for the user about the ledger (missing, corrupt,
	// recovered); empty in the common case.
	Notes []string

	base, target []Entry // ownership before and after the apply
	journal      *journal
	stats        *changes.StatCache // PlanOptions.Stats
	ledgerDigest string             // of the ledger Apply wrote (LedgerDigest)
	// ledgerRead is the ledger base was read from, when it was read whole
	// from the root (no journal pending, not corrupt).
	ledgerRead *LedgerRead
	// ledgerSums are the SHA-256 of the ledger files base was read from,
	// when it was read from .fleetgen/ledger.d.
	ledgerSums map[string]string
	// legacyLedger: base was read from the one-file ledger of earlier
	// releases, which Apply converts.
	legacyLedger bool
	// gitignoreStale: .fleetgen/.gitignore is missing or not as fleetgen
	// writes it.
	gitignoreStale bool
	// hook, when set (tests only), is called at each step of Apply.
	hook func(step, path string)
}

// LedgerRead returns the ledger the plan was made against, for the steps of
// the same run that need it again (see LedgerRead); nil when it was not
// read whole from the root: no root, an interrupted apply pending, or a
// corrupt ledger.
func (p *Plan) LedgerRead() *LedgerRead {
	if p == nil {
		return nil
	}
	return p.ledgerRead
}

// SiteChanges is the pending changes of one site.
type SiteChanges struct {
	Site    string // "" for fleet-level files
	Changes []Change
}

// Conflicts returns the changes whose Action is Conflict.
func (p *Plan) Conflicts() []Change {
	var cs []Change
	for _, c := range p.Changes {
		if c.Action == Conflict {
			cs = append(cs, c)
		}
	}
	return cs
}

// Pending returns the changes whose Action is not Unchanged.
func (p *Plan) Pending() []Change {
	var cs []Change
	for _, c := range p.Changes {
		if c.Action != Unchanged {
			cs = append(cs, c)
		}
	}
	return cs
}

// InSync reports whether Apply has nothing to do: every file is Unchanged and
// the ledger on disk already records exactly the right files.
func (p *Plan) InSync() bool {
	return len(p.Pending()) == 0 && !p.ledgerNeedsWrite()
}

func (p *Plan) ledgerNeedsWrite() bool {
	return p.journal != nil || p.Ledger == LedgerCorrupt || p.legacyLedger || p.gitignoreStale || !entriesEqual(p.base, p.target)
}

// BySite groups the pending changes (Action other than Unchanged) by owning
// site: fleet-level files first, then sites by name; paths sorted within a
// group. Sites without pending changes are left out.
func (p *Plan) BySite() []SiteChanges {
	idx := map[string]int{}
	var groups []SiteChanges
	for _, c := range p.Pending() {
		i, ok := idx[c.Site]
		if !ok {
			i = len(groups)
			idx[c.Site] = i
			groups = append(groups, SiteChanges{Site: c.Site})
		}
		groups[i].Changes = append(groups[i].Changes, c)
	}
	sort.SliceStable(groups, func(i, j int) bool { return groups[i].Site < groups[j].Site })
	return groups
}

// ErrNoContent is returned by MakePlan when a file the tree knows only by
// its hash (render.File with Hash and no Data) would have to be written or
// shown: the tree must be rendered in full.
var ErrNoContent = errors.New("the content of the file is not loaded; render the tree in full")

// MakePlan compares the rendered tree t with what is under root and with the
// ledger, and returns the changes Apply would make. It only reads: it never
// creates root or anything in it. Conflicts are reported in the plan, not as
// an error; errors are reserved for an unusable root, an invalid tree (bad
// path or site, duplicate path, a file that is also a parent directory) and
// disk state that cannot be handled safely (a symlink inside the root, a
// directory or special file where a file is expected, an I/O error).
func MakePlan(root string, t *render.Tree, opts PlanOptions) (*Plan, error) {
	if err := ValidateRoot(root); err != nil {
		return nil, err
	}
	files, err := checkTree(t)
	if err != nil {
		return nil, err
	}
	r, err := openRoot(root)
	if err != nil {
		return nil, err
	}
	if r != nil {
		defer r.Close()
	}
	p := &Plan{Root: root, stats: opts.Stats}
	if opts.Snapshot != nil {
		// The snapshot starts no later than the ledger is read here, so
		// that a seal made from it cannot hold stat data of a ledger file
		// newer than the content read (changes.Snapshot.Seal's horizon).
		_, _ = opts.Snapshot.Lstat(root, "")
	}
	var led *Ledger
	if l := opts.Ledger; l != nil && l.root == root && r != nil {
		p.ledgerRead = l
		led = l.ledger
	} else if led, err = readLedger(r); err == nil && r != nil && (led.State == LedgerPresent || led.State == LedgerMissing) {
		p.ledgerRead = newLedgerRead(root, led)
	}
	if err != nil {
		ce, ok := err.(*LedgerCorruptError)
		if !ok {
			return nil, fmt.Errorf("reading ledger: %w", err)
		}
		led = &Ledger{State: LedgerCorrupt}
		p.Notes = append(p.Notes, fmt.Sprintf("the ledger is unreadable (%v): every file on disk is treated as not written by fleetgen, "+
			"and files listed only in it will not be deleted; check the conflicting files, then either delete %s and run again "+
			"(identical files are adopted, differing ones stay conflicts) or run again with --force to overwrite them", ce, ce.File))
	}
	p.Ledger = led.State
	p.base = led.Entries
	p.ledgerSums, p.legacyLedger = led.sums, led.legacy
	p.journal = led.journal
	if led.legacy {
		p.Notes = append(p.Notes, fmt.Sprintf("the ledger %s (one file for the whole fleet) will be converted to %s/ "+
			"(one file per site, %s for fleet-level files), which stays small and merges in git; "+
			"the entries are the same, no other file changes for it: commit the new directory and the removal of %s",
			legacyLedgerFile, ledgerDir, fleetLedgerName+ledgerExt, legacyLedgerFile))
	}
	if r != nil {
		if fi, err := r.Lstat(stateDir); err == nil && fi.IsDir() {
			if data, err := readRegular(r, gitignoreFile); err != nil || string(data) != gitignoreContent {
				p.gitignoreStale = true
				if led.State == LedgerPresent {
					p.Notes = append(p.Notes, fmt.Sprintf("%s will be written: the lock and the journal under %s/ are local state, not to be committed", gitignoreFile, stateDir))
				}
			}
		}
	}
	if led.State == LedgerRecovered {
		p.Notes = append(p.Notes, fmt.Sprintf("an interrupted apply was found (%s): files it had already written are counted as fleetgen's, and applying this plan finishes the job", journalFile))
	}

	preexisting := false
	sorted := unionPaths(files, p.base)
	inScope := func(path string) bool {
		f, inTree := lookupFile(files, path)
		le, _ := lookup(p.base, path)
		site := siteOf(f, inTree, le)
		return opts.Only == nil || site == "" || opts.Only(site)
	}
	states, errs := prefetch(r, sorted, inScope, opts.Stats, opts.Snapshot, opts.beforeRead)
	// Re-inspection reads the file whatever the cache says: the change
	// shows its content.
	in := newInspector(r)
	in.stats = opts.Stats
	in.beforeRead = opts.beforeRead
	defer in.close()
	p.Changes = make([]Change, 0, len(sorted))
	p.target = make([]Entry, 0, len(sorted))
	for i, path := range sorted {
		f, inTree := lookupFile(files, path)
		le, inLedger := lookup(p.base, path)
		if !inScope(path) {
			if inLedger {
				p.target = append(p.target, le)
			}
			continue
		}
		if errs[i] != nil {
			return nil, errs[i]
		}
		d := states[i]
		decide := func(d diskState) Change {
			if inTree {
				return planFile(f, le, inLedger, d, opts.Force)
			}
			return planRemoval(le, d, opts.Force)
		}
		c := decide(d)
		if d.exists && c.Action != Unchanged && c.Action != Create {
			// The change shows the disk content: read it again (prefetch
			// keeps only hashes, and may not have read the file at all)
			// and decide on what is there now.
			var err error
			if d, err = in.inspect(path); err != nil {
				return nil, err
			}
			c = decide(d)
		}
		if inTree && f.Data == nil && f.Hash != "" && (c.Action == Create || c.Action == Update || c.Action == Conflict) {
			// The tree knows this file by its hash only (a render that
			// was skipped): there is nothing to write or show.
			return nil, fmt.Errorf("rendered tree: %s: %w", path, ErrNoContent)
		}
		if inTree && d.exists && !inLedger {
			preexisting = true
		}
		c.disk = d
		c.disk.data = nil
		p.Changes = append(p.Changes, c)
		if e, ok := targetEntry(c, f, inTree, le, inLedger); ok {
			p.target = append(p.target, e)
		}
	}
	if led.State == LedgerMissing && preexisting {
		p.Notes = append(p.Notes, fmt.Sprintf("no ledger (%s/) was found: files already on disk are treated as not written by fleetgen; "+
			"identical ones are adopted, differing ones are conflicts (--force overwrites them)", ledgerDir))
	}
	return p, nil
}

// unionPaths returns the paths of files and of entries, both sorted by
// path, sorted and without repeats.
func unionPaths(files []render.File, entries []Entry) []string {
	out := make([]string, 0, max(len(files), len(entries)))
	i, k := 0, 0
	for i < len(files) || k < len(entries) {
		switch {
		case k == len(entries) || (i < len(files) && files[i].Path < entries[k].Path):
			out = append(out, files[i].Path)
			i++
		case i == len(files) || entries[k].Path < files[i].Path:
			out = append(out, entries[k].Path)
			k++
		default:
			out = append(out, files[i].Path)
			i++
			k++
		}
	}
	return out
}

// siteOf is the site a path belongs to: the rendered file's, else the
// ledger's.
func siteOf(f render.File, inTree bool, le Entry) string {
	if inTree {
		return f.Site
	}
	return le.Site
}

// planFile decides the fate of a path the tree renders.
func planFile(f render.File, le Entry, inLedger bool, d diskState, force bool) Change {
	c := Change{Path: f.Path, Site: f.Site}
	if f.Seed {
		// A seed is the user's once it exists: never updated, never a
		// conflict, never recorded in the ledger.
		if !d.exists {
			c.Action, c.New, c.Reason = Create, f.Data, "seed: written once, yours to edit"
		} else {
			c.Action = Unchanged
		}
		return c
	}
	newHash := f.ContentHash()
	switch {
	case !d.exists:
		c.Action, c.New = Create, f.Data
		if inLedger {
			c.Reason = "removed from disk since fleetgen wrote it; recreating"
		}
	case d.hash == newHash:
		c.Action = Unchanged
		if !inLedger {
			c.Reason = "adopted: identical file already on disk"
		}
	case inLedger && d.hash == le.Hash:
		c.Action, c.Old, c.New = Update, d.data, f.Data
	case force:
		c.Action, c.Old, c.New = Update, d.data, f.Data
		if inLedger {
			c.Reason = "forced: overwriting changes made by hand"
		} else {
			c.Reason = "forced: overwriting a file not written by fleetgen"
		}
	default:
		c.Action, c.Old, c.New = Conflict, d.data, f.Data
		if inLedger {
			c.Reason = "edited by hand since fleetgen wrote it"
		} else {
			c.Reason = "exists and was not written by fleetgen"
		}
	}
	return c
}

// planRemoval decides the fate of a path fleetgen wrote that the tree no
// longer renders.
func planRemoval(le Entry, d diskState, force bool) Change {
	c := Change{Path: le.Path, Site: le.Site}
	switch {
	case !d.exists:
		c.Action, c.Reason = Unchanged, "already gone from disk; dropped from the ledger"
	case d.hash == le.Hash:
		c.Action, c.Old = Delete, d.data
	case force:
		c.Action, c.Old, c.Reason = Delete, d.data, "forced: deleting a file edited by hand"
	default:
		c.Action, c.Old, c.Reason = Conflict, d.data, "edited by hand since fleetgen wrote it, and no longer generated (would be deleted)"
	}
	return c
}

// targetEntry is the ledger entry for a path after the apply.
func targetEntry(c Change, f render.File, inTree bool, le Entry, inLedger bool) (Entry, bool) {
	switch {
	case c.Action == Conflict:
		return le, inLedger
	case inTree && f.Seed:
		return Entry{}, false
	case inTree:
		return Entry{Path: f.Path, Site: f.Site, Hash: f.ContentHash()}, true
	}
	return Entry{}, false
}

func lookupFile(files []render.File, p string) (render.File, bool) {
	i := sort.Search(len(files), func(i int) bool { return files[i].Path >= p })
	if i < len(files) && files[i].Path == p {
		return files[i], true
	}
	return render.File{}, false
}

// checkTree validates the rendered tree and returns its files sorted: its
// Files themselves when they are (a tree taken from the index is; a copy
// of a 100,000-site tree's is 61 MB), else a sorted copy. MakePlan only
// reads them.
func checkTree(t *render.Tree) ([]render.File, error) {
	if t == nil {
		return nil, nil
	}
	files := t.Files
	if !slices.IsSortedFunc(files, func(a, b render.File) int { return strings.Compare(a.Path, b.Path) }) {
		files = append([]render.File(nil), t.Files...)
		sort.SliceStable(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	}
	set := make(map[string]bool, len(files))
	for i, f := range files {
		if err := validPath(f.Path); err != nil {
			return nil, fmt.Errorf("rendered tree: %w", err)
		}
		if err := validSite(f.Site); err != nil {
			return nil, fmt.Errorf("rendered tree: %s: %w", f.Path, err)
		}
		if i > 0 && files[i-1].Path == f.Path {
			return nil, fmt.Errorf("rendered tree: duplicate path %q", f.Path)
		}
		set[f.Path] = true
	}
	for _, f := range files {
		for d := path.Dir(f.Path); d != "."; d = path.Dir(d) {
			if set[d] {
				return nil, fmt.Errorf("rendered tree: %q is both a file and the parent directory of %q", d, f.Path)
			}
		}
	}
	return files, nil
}

// ConflictError is returned by Apply for a plan with conflicts; nothing was
// written.
type ConflictError struct {
	Conflicts []Change
}

func (e *ConflictError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d conflicting file(s), nothing written:", len(e.Conflicts))
	for _, c := range e.Conflicts {
		fmt.Fprintf(&b, "\n  %s: %s", c.Path, c.Reason)
	}
	return b.String()
}
