package main

import (
	"os"
	"syscall"
)

// peakRSS is the peak resident set size of a finished process in bytes, 0
// when unknown.
func peakRSS(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss * 1024 // KiB on Linux
	}
	return 0
}
