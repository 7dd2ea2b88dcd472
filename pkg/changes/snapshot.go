package changes

import (
	"errors"
	"io/fs"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Snapshot is what lstat saw at paths under one root during one run. Steps
// of a run that look at the same files (pkg/pipeline's view of the disk,
// then tree.MakePlan with tree.PlanOptions.Snapshot) share it, so each path is looked
// up once. A path is looked up when first asked for; later answers are that
// one, so a Snapshot must not outlive the run that made it, nor be used
// across a write to the tree. It is safe for concurrent use; the zero value
// is empty.
type Snapshot struct {
	// Now, when set, is the clock the snapshot's creation time is read
	// from (tests set one ahead of time.Now to age what they just wrote);
	// nil means time.Now.
	Now func() time.Time

	// m holds what was seen at each path: a *keyInfo, nil when nothing
	// is there.
	m PathMap[*keyInfo]
	// created is when the first path was looked up (ns since the Unix
	// epoch), the horizon of Seal.
	once    sync.Once
	created int64
	// incomplete is set when a step looked at paths without recording
	// them here (tree.MakePlan on a platform without RootLstat): such a
	// snapshot cannot be sealed.
	incomplete atomic.Bool
	// basePaths (sorted) and baseSeen answer paths m does not hold:
	// the lookups of Seal.Changed.
	basePaths []string
	baseSeen  []*keyInfo
}

// Lstat returns os.Lstat(path), where rel is path relative to the root,
// taken once. Only successes and "does not exist" are kept; other errors
// are returned and the path is looked up again next time.
func (s *Snapshot) Lstat(path, rel string) (fs.FileInfo, error) {
	if fi, err, ok := s.lookup(rel); ok {
		return fi, err
	}
	s.horizon()
	fi, err := os.Lstat(path)
	return s.store(rel, fi, err), err
}

// LstatFunc looks up rel, a path relative to a tree's root, without
// following a final symlink.
type LstatFunc func(rel string) (fs.FileInfo, error)

// Through returns lstat with the snapshot in front: a path the snapshot
// has answered is not looked up again, and what lstat finds is kept. A nil
// lstat (the platform has no RootLstat) means the caller looks at paths the
// snapshot does not see: Through then returns nil and the snapshot can no
// longer be sealed.
func (s *Snapshot) Through(lstat LstatFunc) LstatFunc {
	if lstat == nil {
		s.incomplete.Store(true)
		return nil
	}
	s.horizon()
	return func(rel string) (fs.FileInfo, error) {
		if fi, err, ok := s.lookup(rel); ok {
			return fi, err
		}
		fi, err := lstat(rel)
		return s.store(rel, fi, err), err
	}
}

// each calls f for every path the snapshot holds, with what is there (nil
// when nothing is), until f returns false.
func (s *Snapshot) each(f func(rel string, fi *keyInfo) bool) {
	stopped := false
	s.m.Range(func(rel string, fi *keyInfo) bool {
		stopped = !f(rel, fi)
		return !stopped
	})
	if stopped {
		return
	}
	for i, rel := range s.basePaths {
		if _, inMap := s.m.Load(rel); !inMap {
			if !f(rel, s.baseSeen[i]) {
				return
			}
		}
	}
}

// store keeps the result of a lookup made by the caller, a success or
// "does not exist", and returns fi as kept (nil after an error): callers
// hand on the compact form, not the one lstat made.
func (s *Snapshot) store(rel string, fi fs.FileInfo, err error) fs.FileInfo {
	var ki *keyInfo
	switch {
	case err == nil:
		ki = compact(rel, fi)
	case !errors.Is(err, fs.ErrNotExist):
		return nil
	}
	s.m.Store(rel, ki)
	if ki == nil {
		return nil
	}
	return ki
}

// lookup returns the snapshot's answer for rel, if it has one.
func (s *Snapshot) lookup(rel string) (fs.FileInfo, error, bool) {
	if s == nil {
		return nil, nil, false
	}
	fi, ok := s.m.Load(rel)
	if !ok {
		i, found := slices.BinarySearch(s.basePaths, rel)
		if !found {
			return nil, nil, false
		}
		fi = s.baseSeen[i]
	}
	if fi == nil {
		return nil, &fs.PathError{Op: "lstat", Path: rel, Err: fs.ErrNotExist}, true
	}
	return fi, nil, true
}
