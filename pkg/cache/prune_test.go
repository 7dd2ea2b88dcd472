package cache

import (
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func put(t *testing.T, d *Dir, name string, size int, age time.Duration, now time.Time) string {
	t.Helper()
	key := Key([]byte(name))
	if err := d.Put(key, make([]byte, size)); err != nil {
		t.Fatal(err)
	}
	when := now.Add(-age)
	if err := os.Chtimes(d.file(key), when, when); err != nil {
		t.Fatal(err)
	}
	return key
}

func TestPrune(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		name    string
		opts    PruneOptions
		removed []string
	}{
		{"age", PruneOptions{MaxAge: 48 * time.Hour}, []string{"old", "older"}},
		{"size keeps the most recent", PruneOptions{MaxSize: 2500}, []string{"older", "old"}},
		{"size then age", PruneOptions{MaxAge: 100 * time.Hour, MaxSize: 1500}, []string{"older", "old", "day"}},
		{"no bounds", PruneOptions{}, nil},
		{"dry run", PruneOptions{MaxAge: time.Hour, DryRun: true}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			keys := map[string]string{
				"fresh": put(t, d, "fresh", 1000, 0, now),
				"day":   put(t, d, "day", 1000, 24*time.Hour, now),
				"old":   put(t, d, "old", 1000, 72*time.Hour, now),
				"older": put(t, d, "older", 1000, 96*time.Hour, now),
			}
			foreign := filepath.Join(d.Path(), "README")
			os.WriteFile(foreign, []byte("not an entry"), 0o644)
			tc.opts.Now = now
			res, err := d.Prune(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			gone := map[string]bool{}
			for _, n := range tc.removed {
				gone[n] = true
			}
			for n, k := range keys {
				_, statErr := os.Stat(d.file(k))
				if exists := statErr == nil; exists == gone[n] {
					t.Errorf("%s: exists %v, want %v", n, exists, !gone[n])
				}
			}
			if _, err := os.Stat(foreign); err != nil {
				t.Errorf("a file that is not an entry was removed: %v", err)
			}
			wantRemoved := len(tc.removed)
			if tc.opts.DryRun {
				wantRemoved = 3 // all but fresh would go
			}
			if res.Removed != wantRemoved || res.Removed+res.Kept != 4 {
				t.Errorf("result %+v, want %d removed of 4", res, wantRemoved)
			}
		})
	}
}

func TestPruneTempFiles(t *testing.T) {
	d, _ := Open(t.TempDir())
	now := time.Now()
	key := put(t, d, "x", 10, 0, now)
	stale := d.file(key) + ".tmp-0123456789abcdef"
	live := d.file(key) + ".tmp-fedcba9876543210"
	for _, f := range []string{stale, live} {
		os.WriteFile(f, []byte("partial"), 0o644)
	}
	old := now.Add(-2 * time.Hour)
	os.Chtimes(stale, old, old)
	if _, err := d.Prune(PruneOptions{Now: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); err == nil {
		t.Error("a temporary file left by a dead run was kept")
	}
	if _, err := os.Stat(live); err != nil {
		t.Error("a temporary file a running Put may still rename was removed")
	}
}

// TestGetTouches checks that a hit marks the entry used, so Prune keeps
// it over entries written later but not read since.
func TestGetTouches(t *testing.T) {
	d, _ := Open(t.TempDir())
	now := time.Now()
	read := put(t, d, "read", 100, 72*time.Hour, now)
	unread := put(t, d, "unread", 100, 48*time.Hour, now)
	if _, ok := d.Get(read); !ok {
		t.Fatal("miss")
	}
	if _, err := d.Prune(PruneOptions{MaxAge: 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	if _, ok := d.Get(read); !ok {
		t.Error("an entry read just now was pruned")
	}
	if _, ok := d.Get(unread); ok {
		t.Error("an entry unused for two days survived --max-age 24h")
	}
}

// TestPruneWhileReading checks that removing an entry another run has
// open leaves that run's read whole.
func TestPruneWhileReading(t *testing.T) {
	d, _ := Open(t.TempDir())
	key := Key([]byte("k"))
	payload := []byte("payload of an entry being read")
	d.Put(key, payload)
	f, err := os.Open(d.file(key))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := d.Prune(PruneOptions{MaxSize: 1}); err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	if got, _, ok := decode(raw); !ok || string(got) != string(payload) {
		t.Errorf("read of a pruned entry: %q, %v", got, ok)
	}
	if _, ok := d.Get(key); ok {
		t.Error("pruned entry still a hit")
	}
}
