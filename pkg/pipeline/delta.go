package pipeline

import (
	"slices"
	"strings"

	"github.com/fleetgen/fleetgen/pkg/changes"
	"github.com/fleetgen/fleetgen/pkg/index"
	"github.com/fleetgen/fleetgen/pkg/render"
	fstree "github.com/fleetgen/fleetgen/pkg/tree"
)

// A delta is what a run that renders learns from the seal of the last
// run's index (made by a clean check, possibly carried over by clean
// generates since): which paths changed on disk since, and which rendered
// files differ from the index's. A record of a site the sealed check
// covered stands when its build looked at none of those paths (nor inside
// or above them) and the site's target is unchanged; the files of a site
// with nothing changed need no planning, since the plan was in sync then.
type delta struct {
	near nearness
	// covered are the sites the sealed check verified and planned.
	covered map[string]bool
	// owners are the sites owning a changed path, in the last index's
	// tree or in this run's.
	owners map[string]bool
	// hit memoises, by unit list, whether a unit outside the own overlay
	// that is the same for every site relates to a changed path; named
	// are, by unit list, the units that hold the site's name
	// (index.NamesSite), looked at for each site.
	hit   map[int]bool
	named map[int][]string
	// stood are the sites whose record the delta vouched for (reuse).
	stood map[string]bool
}

// sealChanges waits for the seal lookup and returns the seal's changed
// paths outside the state directory when the seal is the last index's,
// made for the same selected sites, and the state directory holds the
// ledger the tree was clean with and no journal.
func (inc *incremental) sealChanges() (look sealLookup, rest []string, ok bool) {
	if inc == nil || inc.sealLookup == nil {
		return sealLookup{}, nil, false
	}
	look = <-inc.sealLookup
	inc.sealLookup <- look // for a second call
	s, prev := look.seal, inc.last()
	if !look.ok || !prev.Sealed(s) || !slices.Equal(s.Selected, prev.Selected) {
		return look, nil, false
	}
	ledgerChecked := false
	for _, c := range look.changed {
		switch {
		case c == fstree.LedgerPath || c == fstree.LegacyLedgerPath || strings.HasPrefix(c, fstree.LedgerPath+"/"):
			// Rewritten: it must be the ledger the tree is clean with.
			if !ledgerChecked {
				// Read once per job: the plan and the seal take this
				// read (incremental.readLedger).
				l, err := inc.readLedger()
				if err != nil {
					return look, nil, false
				}
				if d, err := l.Digest(); err != nil || d != s.Ledger {
					return look, nil, false
				}
				ledgerChecked = true
			}
		case c == render.ReservedDir:
			// Its listing changes when the ledger is replaced; a journal
			// (an interrupted write) shows up below.
		case c == "" || strings.HasPrefix(c, render.ReservedDir+"/"):
			return look, nil, false
		default:
			rest = append(rest, c)
		}
	}
	return look, rest, true
}

// delta returns the delta of a run that rendered tree, nil when the last
// index has no usable seal. The seal's lookups go into snap either way,
// when there were not too many changes to finish them.
func (inc *incremental) delta(tree *render.Tree, snap *changes.Snapshot) *delta {
	look, rest, ok := inc.sealChanges()
	if look.fill != nil && snap != nil {
		look.fill(snap)
	}
	if !ok {
		return nil
	}
	d := &delta{covered: make(map[string]bool, len(look.seal.Selected)), owners: map[string]bool{}, hit: map[int]bool{}, named: map[int][]string{}}
	for _, n := range look.seal.Selected {
		d.covered[n] = true
	}
	prev := inc.last()
	changed := treeChanges(prev.Files, tree.Files)
	for _, f := range changed {
		if f.Site != "" {
			d.owners[f.Site] = true
		}
	}
	paths := make([]string, 0, len(rest)+len(changed))
	paths = append(paths, rest...)
	for _, f := range changed {
		paths = append(paths, f.Path)
	}
	d.near = newNearness(paths)
	for _, c := range rest {
		if f, found := tree.Lookup(c); found && f.Site != "" {
			d.owners[f.Site] = true
		}
		if f, found := prev.File(c); found && f.Site != "" {
			d.owners[f.Site] = true
		}
	}
	return d
}

// treeChanges returns the files of the last index (was) and of this run's
// tree (now) that are not in the other exactly alike (same path, site,
// content and seed flag). Both are sorted by path.
func treeChanges(was []index.File, now []render.File) []index.File {
	var out []index.File
	i, j := 0, 0
	for i < len(was) || j < len(now) {
		switch {
		case j == len(now) || (i < len(was) && was[i].Path < now[j].Path):
			out = append(out, was[i])
			i++
		case i == len(was) || now[j].Path < was[i].Path:
			out = append(out, indexFile(now[j]))
			j++
		default:
			if w, n := was[i], now[j]; w.Site != n.Site || w.Seed != n.Seed || w.Hash != n.ContentHash() {
				out = append(out, w, indexFile(n))
			}
			i++
			j++
		}
	}
	return out
}

func indexFile(f render.File) index.File {
	return index.File{Path: f.Path, Site: f.Site, Hash: f.ContentHash(), Seed: f.Seed}
}

// stands reports whether the seal vouches for the record of a site whose
// target is unchanged: the sealed check covered the site and its build
// looked at nothing that changed since. It is safe for concurrent use
// after unitsNear has run for every record.
func (d *delta) stands(rec *index.Site) bool {
	return d != nil && d.covered[rec.Name] && !d.ownNear(rec) && !d.hit[rec.Units] && !d.namedNear(rec)
}

// namedNear reports whether a unit of the record that holds the site's
// name (clusters/<site>/applier.yaml, bootstrap/<site>) relates to a
// changed path.
func (d *delta) namedNear(rec *index.Site) bool {
	for _, p := range d.named[rec.Units] {
		if d.near.related(index.ExpandName(p, rec.Name)) {
			return true
		}
	}
	return false
}

// ownNear reports whether a changed path is the site's overlay directory,
// inside it or above it: only then can a unit of the own overlay relate
// to one (nearness.related).
func (d *delta) ownNear(rec *index.Site) bool {
	return d.near.related(rec.Dir)
}

// unitsNear fills the memo of the unit lists of recs (not safe for
// concurrent use).
func (d *delta) unitsNear(prev *index.Index, recs []*index.Site) {
	if d == nil {
		return
	}
	shared := map[string]bool{}
	for _, rec := range recs {
		if _, done := d.hit[rec.Units]; done {
			continue
		}
		hit := false
		for _, u := range prev.UnitsOf(rec) {
			p := u[2:]
			if p == "\x00" || strings.HasPrefix(p, "\x00/") {
				continue // the own overlay: ownNear
			}
			if index.NamesSite(p) {
				d.named[rec.Units] = append(d.named[rec.Units], p)
				continue // namedNear, for each site
			}
			h, seen := shared[p]
			if !seen {
				h = d.near.related(p)
				shared[p] = h
			}
			if h {
				hit = true
				break
			}
		}
		d.hit[rec.Units] = hit
	}
}

// scope is Result.Scope of a run with a delta: the sites whose files can
// differ from the plan that was in sync when the seal was made. They are
// the sites owning a changed path and every site whose record the delta
// did not vouch for (rebuilt, checked by digest, not covered by the seal,
// or not selected).
func (d *delta) scope(tree *render.Tree) map[string]bool {
	if d == nil {
		return nil
	}
	scope := make(map[string]bool, len(d.owners))
	for site := range d.owners {
		scope[site] = true
	}
	for _, f := range tree.Files {
		if f.Site != "" && !d.stood[f.Site] {
			scope[f.Site] = true
		}
	}
	return scope
}
