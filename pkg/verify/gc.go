package verify

import (
	"os"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// gcHeadroomPerWorker is the heap the garbage collector lets each build
// worker allocate between collections, at least. A build allocates about
// 6 MB, nearly all of it garbage when the build ends; with Go's default
// (GOGC=100: collect when the heap has grown by the live heap) and the
// small live heap of a small fleet, the collector ran about once per build
// and took a fifth of the CPU time of a run.
const gcHeadroomPerWorker = 48 << 20

// maxGCPercent bounds the GOGC value gcTuner sets.
const maxGCPercent = 1600

// gcTuner raises GOGC while builds run so that at least the headroom of
// the workers lies between the live heap and the next collection: a large
// GOGC while the live heap is small, the caller's setting (GOGC=100 by
// default) once the live heap alone is larger than the headroom, so a
// large fleet's peak heap is not multiplied. It follows the live heap as
// the run goes (tick) and restores the setting it found (done). It never
// lowers GOGC, and does nothing when GOGC is set in the environment or the
// collector is off: the user's choice stands.
type gcTuner struct {
	orig     int
	headroom uint64
	mu       sync.Mutex
	builds   int
	set      int
}

// gcTuning is held by the Run whose tuner sets GOGC, a process-wide
// setting: a Run that starts while another tunes leaves GOGC alone, so the
// setting found is always the caller's and is restored.
var gcTuning sync.Mutex

// newGCTuner returns a tuner for workers build workers, nil when GOGC is
// the user's or another Run's.
func newGCTuner(workers int) *gcTuner {
	if _, ok := os.LookupEnv("GOGC"); ok {
		return nil
	}
	if !gcTuning.TryLock() {
		return nil
	}
	orig := debug.SetGCPercent(100)
	debug.SetGCPercent(orig)
	if orig < 0 {
		gcTuning.Unlock()
		return nil
	}
	t := &gcTuner{orig: orig, set: orig, headroom: uint64(workers) * gcHeadroomPerWorker}
	t.adjust()
	return t
}

// gcPercent is the GOGC value that leaves headroom above live, between
// orig and maxGCPercent.
func gcPercent(orig int, headroom, live uint64) int {
	if live == 0 {
		return max(orig, min(maxGCPercent, 400))
	}
	p := headroom * 100 / live
	return max(orig, int(min(p, maxGCPercent)))
}

// adjust sets GOGC from the live heap the last collection found.
func (t *gcTuner) adjust() {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	var live uint64
	if s[0].Value.Kind() == metrics.KindUint64 {
		live = s[0].Value.Uint64()
	}
	if p := gcPercent(t.orig, t.headroom, live); p != t.set {
		t.set = p
		debug.SetGCPercent(p)
	}
}

// tick counts a build and adjusts GOGC every 16 builds.
func (t *gcTuner) tick() {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.builds++
	if t.builds%16 == 0 {
		t.adjust()
	}
}

// done restores the GOGC value found.
func (t *gcTuner) done() {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	debug.SetGCPercent(t.orig)
	gcTuning.Unlock()
}
