package verify

import (
	"os"
	"runtime/debug"
	"testing"
)

func TestGCPercent(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		orig           int
		headroom, live uint64
		want           int
	}{
		{100, 96 * mib, 0, 400},                // no collection yet
		{100, 96 * mib, 12 * mib, 800},         // small heap: headroom wins
		{100, 96 * mib, 1 * mib, maxGCPercent}, // bounded
		{100, 96 * mib, 96 * mib, 100},         // the live heap is the headroom
		{100, 96 * mib, 900 * mib, 100},        // large heap: never below the caller's
		{300, 96 * mib, 900 * mib, 300},
	} {
		if got := gcPercent(tc.orig, tc.headroom, tc.live); got != tc.want {
			t.Errorf("gcPercent(%d, %d MiB, %d MiB) = %d, want %d", tc.orig, tc.headroom/mib, tc.live/mib, got, tc.want)
		}
	}
}

// A tuner restores the setting it found, and leaves GOGC alone while
// another tuner holds it.
func TestGCTunerRestores(t *testing.T) {
	if _, ok := os.LookupEnv("GOGC"); ok {
		t.Skip("GOGC is set in the environment: the tuner leaves it alone")
	}
	orig := debug.SetGCPercent(150)
	defer debug.SetGCPercent(orig)
	a := newGCTuner(2)
	if a == nil {
		t.Fatal("no tuner")
	}
	if b := newGCTuner(2); b != nil {
		t.Error("a second tuner while the first runs")
	}
	for range 32 {
		a.tick()
	}
	if p := debug.SetGCPercent(-1); p < 150 {
		t.Errorf("GOGC while tuning = %d, want at least 150", p)
	}
	a.done()
	if p := debug.SetGCPercent(150); p != 150 {
		t.Errorf("GOGC after done = %d, want 150", p)
	}
	if c := newGCTuner(1); c == nil {
		t.Error("no tuner after the first is done")
	} else {
		c.done()
	}
}
