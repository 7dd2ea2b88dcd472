package verify

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// gcHeadroomPerWorker and gcHeadroomShared make the heap the garbage
// collector lets the build workers allocate between collections, at
// least: gcHeadroomShared and gcHeadroomPerWorker a worker. A build
// allocates about 6 MB, nearly all of it garbage when the build ends;
// with Go's default (GOGC=100: collect when the heap has grown by the
// live heap) and the small live heap of a small fleet, the collector ran
// about once per build and took a fifth of the CPU time of a run. Every
// collection marks the whole live heap (the rendered tree, the inventory,
// the index), so the fewer builds between collections, the more a run
// costs as the fleet grows: at 5,000 sites on 2 cores, 96 MiB in all
// (48 MiB a worker, nothing shared) made a cold generate 73 s and 414 MiB
// at its peak, 256 MiB in all made it 54 s and 599 MiB.
const (
	gcHeadroomPerWorker = 48 << 20
	gcHeadroomShared    = 160 << 20
)

// maxGCPercent and minGCPercent bound the GOGC value gcTuner sets.
// With Go's default (GOGC=100) the heap may grow to twice the live heap
// before a collection; on a large fleet, whose live heap (the rendered
// tree, the inventory, the index) is much larger than what builds
// allocate, that doubled the peak memory of a run. minGCPercent lets it
// grow by a quarter instead, once that quarter is more than the workers'
// headroom.
const (
	maxGCPercent = 1600
	minGCPercent = 25
)

// gcInterval is how often a tuner started by TuneGC follows the live
// heap.
const gcInterval = 100 * time.Millisecond

// gcTuner sets GOGC from the live heap. While builds run, the workers'
// headroom lies between the live heap and the next collection: a large
// GOGC while the live heap is small; once the live heap is larger than
// the headroom, the headroom or a quarter of the live heap
// (minGCPercent), whichever is more, so that a large fleet's peak heap is
// not doubled. Between builds (a job's tuner, TuneGC) it never raises
// GOGC above the setting it found, and lowers it the same way once the
// live heap is large. It follows the live heap as the run goes (tick, or
// every gcInterval for a job) and restores the setting it found (done).
// It does nothing when GOGC is set in the environment or the collector is
// off: the user's choice stands.
type gcTuner struct {
	orig     int
	headroom uint64
	mu       sync.Mutex
	builds   int
	set      int
	// runs counts the Runs building under a job's tuner; job is set on a
	// job's tuner (TuneGC), parent on the handle a Run gets from it.
	runs   int
	job    bool
	parent *gcTuner
}

// gcTuning is held by the tuner that sets GOGC, a process-wide setting: a
// Run or job that starts while another tunes leaves GOGC alone (a Run
// inside a job's tuner joins it), so the setting found is always the
// caller's and is restored.
var gcTuning sync.Mutex

// gcJob is the tuner TuneGC started, while it runs.
var (
	gcJobMu sync.Mutex
	gcJob   *gcTuner
)

// newGCTuner returns a tuner for a Run with workers build workers, nil
// when GOGC is the user's or another Run's. Inside a job's tuner, it
// returns a handle that makes the job's tuner leave the headroom of the
// builds until done.
func newGCTuner(workers int) *gcTuner {
	gcJobMu.Lock()
	j := gcJob
	gcJobMu.Unlock()
	if j != nil {
		j.mu.Lock()
		j.runs++
		j.adjust()
		j.mu.Unlock()
		return &gcTuner{parent: j}
	}
	return startGCTuner(workers, false)
}

// startGCTuner takes gcTuning and returns a tuner, nil when GOGC is the
// user's or another tuner holds it.
func startGCTuner(workers int, job bool) *gcTuner {
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
	t := &gcTuner{orig: orig, set: orig, headroom: uint64(workers)*gcHeadroomPerWorker + gcHeadroomShared, job: job}
	t.adjust()
	return t
}

// TuneGC tunes GOGC for a job that renders, verifies and writes a whole
// fleet, from now until the returned function is called: the Runs inside
// it tune as they do alone, and between them the heap of a large fleet
// grows by a quarter of the live heap between collections rather than
// doubling (see gcTuner). workers is the number of build workers (0 means
// GOMAXPROCS). It does nothing when GOGC is set in the environment, the
// collector is off or another tuner runs.
func TuneGC(workers int) (stop func()) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	t := startGCTuner(workers, true)
	if t == nil {
		return func() {}
	}
	gcJobMu.Lock()
	gcJob = t
	gcJobMu.Unlock()
	quit, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(gcInterval)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				return
			case <-tick.C:
				t.mu.Lock()
				t.adjust()
				t.mu.Unlock()
			}
		}
	}()
	return sync.OnceFunc(func() {
		gcJobMu.Lock()
		gcJob = nil
		gcJobMu.Unlock()
		close(quit)
		<-finished
		t.done()
	})
}

// gcPercent is the GOGC value that leaves headroom above live, between
// minGCPercent (or orig, when lower) and maxGCPercent; with building
// false, never above orig.
func gcPercent(orig int, headroom, live uint64, building bool) int {
	if live == 0 {
		if !building {
			return orig
		}
		return max(orig, min(maxGCPercent, 400))
	}
	p := max(min(orig, minGCPercent), int(min(headroom*100/live, maxGCPercent)))
	if !building {
		p = min(p, orig)
	}
	return p
}

// adjust sets GOGC from the live heap the last collection found; t.mu
// is held (or t not yet shared).
func (t *gcTuner) adjust() {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	var live uint64
	if s[0].Value.Kind() == metrics.KindUint64 {
		live = s[0].Value.Uint64()
	}
	if p := gcPercent(t.orig, t.headroom, live, !t.job || t.runs > 0); p != t.set {
		t.set = p
		debug.SetGCPercent(p)
	}
}

// tick counts a build and adjusts GOGC every 16 builds.
func (t *gcTuner) tick() {
	if t == nil {
		return
	}
	if t.parent != nil {
		t = t.parent
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.builds++
	if t.builds%16 == 0 {
		t.adjust()
	}
}

// done restores the GOGC value found; a Run's handle on a job's tuner
// leaves it to the job.
func (t *gcTuner) done() {
	if t == nil {
		return
	}
	if j := t.parent; j != nil {
		j.mu.Lock()
		j.runs--
		j.adjust()
		j.mu.Unlock()
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	debug.SetGCPercent(t.orig)
	gcTuning.Unlock()
}
