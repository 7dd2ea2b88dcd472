package pipeline

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/fleetgen/fleetgen/pkg/benchfleet"
	fstree "github.com/fleetgen/fleetgen/pkg/tree"
	"golang.org/x/sys/unix"
)

// ledgerOpens watches the ledger directory of a tree (inotify) and counts
// the opens of each of its ledger files.
type ledgerOpens struct {
	t  *testing.T
	fd int
}

func watchLedger(t *testing.T, out string) *ledgerOpens {
	t.Helper()
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		t.Skipf("inotify: %v", err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	dir := filepath.Join(out, filepath.FromSlash(fstree.LedgerPath))
	// Closes are watched too, so that two opens of a file are never
	// consecutive events, which inotify would merge into one.
	if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_OPEN|unix.IN_CLOSE); err != nil {
		t.Fatalf("watching %s: %v", dir, err)
	}
	w := &ledgerOpens{t: t, fd: fd}
	w.take() // nothing before the watch counts
	return w
}

// take returns the opens of each ledger file since the last call.
func (w *ledgerOpens) take() map[string]int {
	w.t.Helper()
	opens := map[string]int{}
	buf := make([]byte, 64<<10)
	for {
		n, err := unix.Read(w.fd, buf)
		if errors.Is(err, unix.EAGAIN) {
			return opens
		}
		if err != nil {
			w.t.Fatalf("reading inotify events: %v", err)
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			if ev.Mask&unix.IN_Q_OVERFLOW != 0 {
				w.t.Fatal("inotify queue overflow")
			}
			name := string(bytes.TrimRight(buf[off+unix.SizeofInotifyEvent:off+unix.SizeofInotifyEvent+int(ev.Len)], "\x00"))
			if ev.Mask&unix.IN_OPEN != 0 && ev.Mask&unix.IN_ISDIR == 0 && strings.HasSuffix(name, ".ledger") {
				opens[name]++
			}
			off += unix.SizeofInotifyEvent + int(ev.Len)
		}
	}
}

// One check, and one generate, read each file of the tree's ledger at most
// once: the seal's check of the ledger, the plan and the new seal share
// that read. A generate opens the ledger file of the site it rewrites once
// more, to check it is still as planned before writing the journal.
func TestLedgerReadOnce(t *testing.T) {
	const sites = 4
	in, out := jobFleet(t, sites)
	var ahead time.Duration
	ctx := context.WithValue(context.Background(), ClockKey{}, func() time.Time { return time.Now().Add(ahead) })
	generate := func() *GenerateResult {
		t.Helper()
		res, err := Generate(ctx, GenerateOptions{Input: in, Output: out})
		if err != nil || !res.Report.OK() || !res.Applied {
			t.Fatalf("generate: %v (applied %v)", err, res != nil && res.Applied)
		}
		return res
	}
	checkOK := func(ok bool) *CheckResult {
		t.Helper()
		res, err := Check(ctx, CheckOptions{Input: in, Output: out})
		if err != nil || res.OK() != ok {
			t.Fatalf("check: %v (ok %v, want %v)", err, err == nil && res.OK(), ok)
		}
		return res
	}
	check := func() *CheckResult {
		t.Helper()
		return checkOK(true)
	}
	once := func(what string, opens map[string]int, again map[string]bool) {
		t.Helper()
		if len(opens) == 0 {
			t.Fatalf("%s: no ledger file was opened", what)
		}
		for name, n := range opens {
			want := 1
			if again[name] {
				want = 2
			}
			if n > want {
				t.Errorf("%s: %s opened %d times, want at most %d", what, name, n, want)
			}
		}
	}
	// The user's own files, beside the rendered ones: the layout and the
	// view of the disk ask the ledger whether fleetgen wrote them.
	for _, rel := range []string{"README.md", "overlays/" + benchfleet.SiteName(1) + "/NOTES.md"} {
		p := filepath.Join(out, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("the user's\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	generate()
	ahead += 3 * time.Second
	check() // seals the tree
	w := watchLedger(t, out)

	// A check of the sealed tree looks at no ledger file.
	check()
	if opens := w.take(); len(opens) > 0 {
		t.Errorf("sealed check: ledger files opened: %v", opens)
	}

	// One site edited, generated, then checked (the seal carried over to
	// the generate's index says which ledger file changed).
	inv, err := os.ReadFile(in.Inventories[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(in.Inventories[0], benchfleet.EditSite(inv, 1, 1), 0o644); err != nil {
		t.Fatal(err)
	}
	ahead += 3 * time.Second
	generate()
	edited := benchfleet.SiteName(1) + ".ledger"
	once("generate", w.take(), map[string]bool{edited: true})
	ahead += 3 * time.Second
	check()
	once("check after generate", w.take(), nil)
	check()
	if opens := w.take(); len(opens) > 0 {
		t.Errorf("sealed check after generate: ledger files opened: %v", opens)
	}

	// A ledger edited since the seal is seen: an entry removed by hand
	// leaves a stale ledger, which the check reports.
	other := filepath.Join(out, filepath.FromSlash(fstree.LedgerPath), benchfleet.SiteName(2)+".ledger")
	data, err := os.ReadFile(other)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	if err := os.WriteFile(other, []byte(lines[0]+strings.Join(lines[2:], "")), 0o644); err != nil {
		t.Fatal(err)
	}
	w.take() // the edit's own opens
	ahead += 3 * time.Second
	if res := checkOK(false); !res.StaleLedger || len(res.Drift) > 0 {
		t.Fatalf("check of an edited ledger: stale ledger %v, drift %v", res.StaleLedger, res.Drift)
	}
	once("check of an edited ledger", w.take(), nil)
	generate()
	ahead += 3 * time.Second
	check()
	check()
	if opens := w.take(); len(opens) == 0 {
		t.Error("the checks after the ledger was rewritten read no ledger file")
	}
}
