package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestProgressText(t *testing.T) {
	for _, tc := range []struct {
		done, total int
		elapsed     time.Duration
		want        string
	}{
		{0, 10000, 0, "verifying 0/10,000 sites"},
		{1000, 10000, 2 * time.Second, "verifying 1,000/10,000 sites  500/s  ETA 18s"},
		{10000, 10000, 4 * time.Second, "verifying 10,000/10,000 sites  2,500/s"},
	} {
		if got := progressText("verifying", tc.done, tc.total, tc.elapsed); got != tc.want {
			t.Errorf("progressText(%d, %d, %s) = %q, want %q", tc.done, tc.total, tc.elapsed, got, tc.want)
		}
	}
}

// A fake clock drives the line: updates within the interval are dropped,
// the last one is always drawn, finish clears the line.
func TestProgressLine(t *testing.T) {
	var buf bytes.Buffer
	now := time.Unix(0, 0)
	p := newProgressLine(&buf, "verifying", func() time.Time { return now })
	p.update(1, 3)
	now = now.Add(time.Millisecond)
	p.update(2, 3) // within the interval: dropped
	now = now.Add(time.Millisecond)
	p.update(3, 3) // the last: drawn
	p.finish()
	got := strings.Split(buf.String(), "\r\033[K")
	want := []string{"", "verifying 1/3 sites", "verifying 3/3 sites  1,500/s", ""}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("drawn %q, want %q", got, want)
	}
}

// Not a terminal, or --quiet: no progress at all.
func TestProgressSilent(t *testing.T) {
	var buf bytes.Buffer
	for _, o := range []RunOptions{{}, {Quiet: true}} {
		update, finish := o.progress(&buf, "verifying")
		if update != nil {
			t.Fatalf("progress on a buffer with %+v", o)
		}
		finish()
	}
	if buf.Len() != 0 {
		t.Fatalf("wrote %q", buf.String())
	}
}
