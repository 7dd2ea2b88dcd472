package tree

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// LockedError is returned by Lock when another process holds the lock.
// PID, Host and Started come from the lock file and are zero if the holder
// had not written them yet.
type LockedError struct {
	Root    string
	PID     int
	Host    string
	Started time.Time
}

func (e *LockedError) Error() string {
	if e.PID == 0 {
		return fmt.Sprintf("output directory %s is locked by another fleetgen process (%s)", e.Root, lockFile)
	}
	return fmt.Sprintf("output directory %s is locked by fleetgen pid %d on %s since %s (%s)",
		e.Root, e.PID, e.Host, e.Started.UTC().Format(time.RFC3339), lockFile)
}

// Lock takes the exclusive lock of root: flock(LOCK_EX|LOCK_NB) on
// <root>/.fleetgen/lock, creating root and .fleetgen if needed. It never
// waits: if another process (or another Lock in this process) holds it, Lock
// returns a *LockedError naming the holder. The holder's pid, host name and
// start time are written into the lock file. The kernel releases the lock
// when the holder exits, however it dies, so a stale lock file never blocks.
//
// unlock empties the lock file and releases the lock; calling it again is a
// no-op that returns the first call's result.
func Lock(root string) (unlock func() error, err error) {
	if err := ValidateRoot(root); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("creating output directory: %w", err)
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, fmt.Errorf("opening output directory: %w", err)
	}
	defer r.Close()
	if err := checkStateDir(r); err != nil {
		return nil, err
	}
	if err := r.Mkdir(stateDir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, err
	}
	if fi, err := r.Lstat(lockFile); err == nil && !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", lockFile)
	}
	f, err := r.OpenFile(lockFile, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening lock file: %w", err)
	}
	locked, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", lockFile, err)
	}
	if !locked {
		data, _ := io.ReadAll(io.NewSectionReader(f, 0, 4096))
		f.Close()
		le := parseLockInfo(data)
		le.Root = root
		return nil, le
	}
	host, _ := os.Hostname()
	if host == "" {
		host = "unknown"
	}
	info := fmt.Sprintf("pid %d\nhost %s\nstarted %s\n", os.Getpid(), host, time.Now().UTC().Format(time.RFC3339))
	if err := writeLockInfo(f, info); err != nil {
		f.Truncate(0) // a partial record must not name a holder
		f.Close()
		return nil, fmt.Errorf("writing lock file %s: %w", lockFile, err)
	}
	var once sync.Once
	var uerr error
	return func() error {
		once.Do(func() {
			f.Truncate(0)
			uerr = f.Close() // closing the descriptor releases the flock
		})
		return uerr
	}, nil
}

// lockInfoWriter is the part of *os.File writeLockInfo uses.
type lockInfoWriter interface {
	Truncate(size int64) error
	WriteAt(b []byte, off int64) (int, error)
}

// writeLockInfo replaces the content of the lock file with info.
func writeLockInfo(f lockInfoWriter, info string) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	n, err := f.WriteAt([]byte(info), 0)
	if err == nil && n != len(info) {
		err = io.ErrShortWrite
	}
	return err
}

// parseLockInfo reads "pid N", "host H" and "started T" lines; anything
// unreadable is left zero.
func parseLockInfo(data []byte) *LockedError {
	le := &LockedError{}
	for _, line := range strings.Split(string(data), "\n") {
		k, v, _ := strings.Cut(line, " ")
		switch k {
		case "pid":
			le.PID, _ = strconv.Atoi(v)
		case "host":
			le.Host = v
		case "started":
			le.Started, _ = time.Parse(time.RFC3339, v)
		}
	}
	return le
}
