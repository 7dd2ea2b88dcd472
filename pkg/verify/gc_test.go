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
		building       bool
		want           int
	}{
		{100, 96 * mib, 0, true, 400},                  // no collection yet
		{100, 96 * mib, 12 * mib, true, 800},           // small heap: headroom wins
		{100, 96 * mib, 1 * mib, true, maxGCPercent},   // bounded
		{100, 96 * mib, 96 * mib, true, 100},           // the live heap is the headroom
		{100, 96 * mib, 192 * mib, true, 50},           // larger: the headroom still
		{100, 96 * mib, 900 * mib, true, minGCPercent}, // large heap: a quarter of it
		{300, 96 * mib, 900 * mib, true, minGCPercent},
		{10, 96 * mib, 900 * mib, true, 10}, // never above a lower setting of the caller's
		// Between builds: never above the caller's setting.
		{100, 96 * mib, 0, false, 100},
		{100, 96 * mib, 12 * mib, false, 100},
		{100, 96 * mib, 192 * mib, false, 50},
		{100, 96 * mib, 900 * mib, false, minGCPercent},
		{10, 96 * mib, 900 * mib, false, 10},
	} {
		if got := gcPercent(tc.orig, tc.headroom, tc.live, tc.building); got != tc.want {
			t.Errorf("gcPercent(%d, %d MiB, %d MiB, %v) = %d, want %d", tc.orig, tc.headroom/mib, tc.live/mib, tc.building, got, tc.want)
		}
	}
}

// A tuner restores the setting it found, and leaves GOGC alone while
// another tuner holds it.
func TestGCTunerRestores(t *testing.T) {
	setGOGC150(t)
	a := newGCTuner(2)
	if a == nil {
		t.Fatal("no tuner")
	}
	if b := newGCTuner(2); b != nil {
		t.Error("a second tuner while the first runs")
	}
	buildWith(t, a)
	a.done()
	checkRestored(t, "done")
}

// TuneGC holds GOGC for a job: a Run inside it joins its tuner, GOGC is
// never above the caller's between builds, and stopping it restores the
// setting found.
func TestTuneGCRestores(t *testing.T) {
	setGOGC150(t)
	stop := TuneGC(0)
	inner := newGCTuner(2)
	if inner == nil || inner.parent == nil {
		t.Fatal("a Run inside TuneGC does not join its tuner")
	}
	buildWith(t, inner)
	inner.done()
	if p := gogc(); p > 150 {
		t.Errorf("GOGC between builds = %d, want at most the caller's 150", p)
	}
	if other := startGCTuner(1, false); other != nil {
		other.done()
		t.Error("a second tuner while TuneGC runs")
	}
	stop()
	stop() // a second call is harmless
	checkRestored(t, "stop")
}

// setGOGC150 sets GOGC to 150 for the test (the caller's setting the
// tuners find), or skips it when GOGC is set in the environment.
func setGOGC150(t *testing.T) {
	t.Helper()
	if _, ok := os.LookupEnv("GOGC"); ok {
		t.Skip("GOGC is set in the environment: the tuner leaves it alone")
	}
	orig := debug.SetGCPercent(150)
	t.Cleanup(func() { debug.SetGCPercent(orig) })
}

// buildWith counts builds on tuner and checks the GOGC it sets.
func buildWith(t *testing.T, tuner *gcTuner) {
	t.Helper()
	for range 32 {
		tuner.tick()
	}
	if p := gogc(); p < minGCPercent {
		t.Errorf("GOGC while building = %d, want at least %d", p, minGCPercent)
	}
}

// checkRestored checks that GOGC is back to 150 after step and that a new
// tuner can start.
func checkRestored(t *testing.T, step string) {
	t.Helper()
	if p := gogc(); p != 150 {
		t.Errorf("GOGC after %s = %d, want 150", step, p)
	}
	if c := newGCTuner(1); c == nil {
		t.Errorf("no tuner after %s", step)
	} else {
		c.done()
	}
}

// gogc reads GOGC without changing it.
func gogc() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}
