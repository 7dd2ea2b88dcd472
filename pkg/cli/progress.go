package cli

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/fleetgen/fleetgen/pkg/pipeline"
)

// RunOptions are the flags of the commands that verify overlays: how many
// at once, whether to use the verification cache, and whether to show
// progress and notes.
type RunOptions struct {
	Workers int
	NoCache bool
	Quiet   bool
}

// cacheDirEnv overrides the verification cache directory.
const cacheDirEnv = pipeline.CacheDirEnv

func addRunFlags(cmd *cobra.Command, o *RunOptions) {
	f := cmd.Flags()
	f.IntVar(&o.Workers, "workers", 0, "overlays built at once (0: one per CPU)")
	f.BoolVar(&o.NoCache, "no-cache", false, "build every overlay and read every file; do not read or write the verification cache or the tree's index ($"+cacheDirEnv+", default the user cache directory/fleetgen)")
	f.BoolVarP(&o.Quiet, "quiet", "q", false, "no progress line and no notes; only results and errors")
}

// tuning is the pipeline's tuning for these flags, with progress on
// errOut (when it is a terminal and o is not quiet) and cache warnings on
// errOut. The returned function clears the progress line.
func (o *RunOptions) tuning(errOut io.Writer) (pipeline.Tuning, func()) {
	t := pipeline.Tuning{Workers: o.Workers, NoCache: o.NoCache, Version: version, Warn: errOut}
	var end func()
	t.Progress, end = o.progress(errOut, "verifying")
	return t, end
}

// progress returns the progress callback for w and a function that clears
// the line at the end, or nils when w is not a terminal or o is quiet.
func (o *RunOptions) progress(w io.Writer, what string) (func(done, total int), func()) {
	if o.Quiet || !isTerminal(w) {
		return nil, func() {}
	}
	p := newProgressLine(w, what, time.Now)
	return p.update, p.finish
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progressLine draws "verifying 1,234/10,000 sites  812/s  ETA 11s" on one
// terminal line, redrawn at most every interval.
type progressLine struct {
	w        io.Writer
	what     string
	now      func() time.Time
	interval time.Duration

	mu    sync.Mutex
	start time.Time
	last  time.Time
	drawn bool
}

func newProgressLine(w io.Writer, what string, now func() time.Time) *progressLine {
	t := now()
	return &progressLine{w: w, what: what, now: now, interval: 100 * time.Millisecond, start: t}
}

func (p *progressLine) update(done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.now()
	if p.drawn && done < total && t.Sub(p.last) < p.interval {
		return
	}
	p.last = t
	p.drawn = true
	fmt.Fprintf(p.w, "\r\033[K%s", progressText(p.what, done, total, t.Sub(p.start)))
}

// finish clears the line.
func (p *progressLine) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
}

// progressText is the text of the progress line after elapsed.
func progressText(what string, done, total int, elapsed time.Duration) string {
	s := fmt.Sprintf("%s %s/%s sites", what, pipeline.Thousands(done), pipeline.Thousands(total))
	if elapsed <= 0 || done == 0 {
		return s
	}
	rate := float64(done) / elapsed.Seconds()
	s += fmt.Sprintf("  %s/s", pipeline.Thousands(int(rate+0.5)))
	if done < total {
		eta := time.Duration(float64(total-done) / rate * float64(time.Second)).Round(time.Second)
		s += fmt.Sprintf("  ETA %s", eta)
	}
	return s
}
