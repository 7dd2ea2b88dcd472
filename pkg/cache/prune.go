package cache

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Default limits of Prune, as `fleetgen cache prune` documents them.
const (
	DefaultMaxAge  = 30 * 24 * time.Hour
	DefaultMaxSize = 2 << 30
)

// touchAfter is how old an entry's modification time must be before a hit
// refreshes it: often enough for Prune's least-recently-used order (by
// the hour), rarely enough that hits cost no write.
const touchAfter = time.Hour

// tmpMaxAge is how old a temporary file must be before Prune removes it:
// no Put takes this long, so it was left by a run that died.
const tmpMaxAge = time.Hour

// Entry is one file of the cache.
type Entry struct {
	Path    string
	Size    int64
	ModTime time.Time
	// Temp is a temporary file a Put left behind.
	Temp bool
}

// Entries lists the cache's entries (and leftover temporary files),
// least recently used first.
func (d *Dir) Entries() ([]Entry, error) {
	var out []Entry
	subs, err := os.ReadDir(d.path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	for _, sub := range subs {
		if !sub.IsDir() || len(sub.Name()) != 2 {
			continue
		}
		files, err := os.ReadDir(filepath.Join(d.path, sub.Name()))
		if err != nil {
			continue // removed meanwhile
		}
		for _, f := range files {
			name := f.Name()
			temp := strings.Contains(name, ".tmp-")
			if !temp && (!validKey(name) || name[:2] != sub.Name()) {
				continue // not ours: never removed
			}
			info, err := f.Info()
			if err != nil || !info.Mode().IsRegular() {
				continue
			}
			out = append(out, Entry{Path: filepath.Join(d.path, sub.Name(), name), Size: info.Size(), ModTime: info.ModTime(), Temp: temp})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].ModTime.Equal(out[j].ModTime) {
			return out[i].ModTime.Before(out[j].ModTime)
		}
		return out[i].Path < out[j].Path
	})
	return out, nil
}

// PruneOptions bound the cache.
type PruneOptions struct {
	// MaxAge removes entries not used for longer; 0 keeps any age.
	MaxAge time.Duration
	// MaxSize removes the least recently used entries until the rest
	// fit; 0 keeps any size.
	MaxSize int64
	// DryRun removes nothing and reports what would be removed.
	DryRun bool
	// Now is the time ages are measured from (time.Now when zero).
	Now time.Time
}

// PruneResult says what Prune removed (or would remove) and kept.
type PruneResult struct {
	Removed, Kept           int
	RemovedBytes, KeptBytes int64
}

// Prune removes entries unused for longer than MaxAge, then the least
// recently used until the rest are at most MaxSize bytes. Used means read
// or written: a hit refreshes an entry's modification time when it is
// older than an hour. It is safe while other runs use the cache: entries
// are replaced by rename, so removing one never truncates a file another
// run reads (it keeps reading the open file or, opening it later, misses
// and rebuilds).
func (d *Dir) Prune(o PruneOptions) (PruneResult, error) {
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	entries, err := d.Entries()
	if err != nil {
		return PruneResult{}, err
	}
	var total int64
	for _, e := range entries {
		total += e.Size
	}
	var res PruneResult
	for _, e := range entries {
		age := now.Sub(e.ModTime)
		drop := (o.MaxAge > 0 && age > o.MaxAge) || (o.MaxSize > 0 && total > o.MaxSize)
		if e.Temp {
			drop = age > tmpMaxAge
		}
		if !drop {
			res.Kept++
			res.KeptBytes += e.Size
			continue
		}
		if !o.DryRun {
			if err := os.Remove(e.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return res, err
			}
		}
		total -= e.Size
		res.Removed++
		res.RemovedBytes += e.Size
	}
	return res, nil
}
