package tree

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLockInProcess(t *testing.T) {
	root := filepath.Join(t.TempDir(), "out")
	unlock, err := Lock(root)
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	data, _ := readFile(t, root, lockFile)
	if !strings.Contains(data, fmt.Sprintf("pid %d\n", os.Getpid())) || !strings.Contains(data, "host "+host+"\n") || !strings.Contains(data, "started ") {
		t.Fatalf("lock file = %q", data)
	}

	// flock belongs to the open file description: a second Lock in the
	// same process is refused like any other.
	start := time.Now()
	_, err = Lock(root)
	var le *LockedError
	if !errors.As(err, &le) {
		t.Fatalf("second Lock: err = %v, want *LockedError", err)
	}
	if time.Since(start) > time.Second {
		t.Errorf("second Lock took %v; it must not wait", time.Since(start))
	}
	if le.PID != os.Getpid() || le.Host != host || time.Since(le.Started) > time.Minute {
		t.Errorf("LockedError = %+v", le)
	}
	if msg := err.Error(); !strings.Contains(msg, "locked") || !strings.Contains(msg, fmt.Sprint(os.Getpid())) || !strings.Contains(msg, host) {
		t.Errorf("message %q does not name the holder", msg)
	}

	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	if err := unlock(); err != nil {
		t.Fatalf("second unlock: %v", err)
	}
	unlock2, err := Lock(root)
	if err != nil {
		t.Fatalf("Lock after unlock: %v", err)
	}
	unlock2()
}

func TestLockStaleInfoDoesNotBlock(t *testing.T) {
	root := filepath.Join(t.TempDir(), "out")
	writeFile(t, root, lockFile, "pid 999999\nhost elsewhere\nstarted 2001-01-01T00:00:00Z\n")
	unlock, err := Lock(root)
	if err != nil {
		t.Fatalf("stale lock file blocked: %v", err)
	}
	defer unlock()
	data, _ := readFile(t, root, lockFile)
	if !strings.Contains(data, fmt.Sprintf("pid %d\n", os.Getpid())) {
		t.Fatalf("lock file not rewritten: %q", data)
	}
}

func TestLockRefusesBadRoots(t *testing.T) {
	if _, err := Lock("/"); err == nil {
		t.Fatal("Lock(/) succeeded")
	}
	root := filepath.Join(t.TempDir(), "out")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(t.TempDir(), filepath.Join(root, stateDir)); err != nil {
		t.Fatal(err)
	}
	if _, err := Lock(root); err == nil || !strings.Contains(err.Error(), "symlink") {
		t.Fatalf("Lock through a symlinked %s: err = %v", stateDir, err)
	}
}

// TestHelperLock is not a test: TestLockHeldByOtherProcess runs the test
// binary again with helperEnv=lock to hold the lock until it is killed.
func TestHelperLock(t *testing.T) {
	if os.Getenv(helperEnv) != "lock" {
		t.Skip("helper process for TestLockHeldByOtherProcess")
	}
	if _, err := Lock(os.Getenv(helperEnv + "_ROOT")); err != nil {
		fmt.Println("error:", err)
		os.Exit(3)
	}
	fmt.Println("locked")
	time.Sleep(time.Minute)
	os.Exit(0)
}

func TestLockHeldByOtherProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	root := filepath.Join(t.TempDir(), "out")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperLock$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"=lock", helperEnv+"_ROOT="+root)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(out)
	for sc.Scan() && sc.Text() != "locked" {
		if strings.HasPrefix(sc.Text(), "error:") {
			t.Fatal(sc.Text())
		}
	}

	start := time.Now()
	_, err = Lock(root)
	var le *LockedError
	if !errors.As(err, &le) {
		t.Fatalf("Lock while the child holds it: err = %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Lock took %v; it must fail fast", d)
	}
	host, _ := os.Hostname()
	if le.PID != cmd.Process.Pid || le.Host != host {
		t.Errorf("holder = pid %d host %q, want pid %d host %q", le.PID, le.Host, cmd.Process.Pid, host)
	}

	// SIGKILL: the holder never unlocks, the kernel does.
	cmd.Process.Kill()
	cmd.Wait()
	unlock, err := Lock(root)
	if err != nil {
		t.Fatalf("Lock after the holder died: %v", err)
	}
	defer unlock()
	data, _ := readFile(t, root, lockFile)
	if !strings.Contains(data, fmt.Sprintf("pid %d\n", os.Getpid())) {
		t.Fatalf("lock file = %q, want our pid", data)
	}
}

// failingLockFile fails the step named by fail.
type failingLockFile struct {
	fail string
	data []byte
}

func (f *failingLockFile) Truncate(size int64) error {
	if f.fail == "truncate" {
		return errors.New("truncate failed")
	}
	f.data = f.data[:size]
	return nil
}

func (f *failingLockFile) WriteAt(b []byte, off int64) (int, error) {
	switch f.fail {
	case "write":
		return 0, errors.New("no space left on device")
	case "short":
		b = b[:len(b)/2]
	}
	f.data = append(f.data[:off], b...)
	return len(b), nil
}

func TestWriteLockInfoReportsFailures(t *testing.T) {
	for _, fail := range []string{"", "truncate", "write", "short"} {
		f := &failingLockFile{fail: fail, data: []byte("pid 1\nhost old\n")}
		err := writeLockInfo(f, "pid 42\nhost h\n")
		if fail == "" {
			if err != nil || string(f.data) != "pid 42\nhost h\n" {
				t.Errorf("no failure: err %v, data %q", err, f.data)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s failing: writeLockInfo returned nil", fail)
		}
	}
}
