//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package tree

import (
	"fmt"
	"os"
	"runtime"
)

func tryLock(*os.File) (bool, error) {
	return false, fmt.Errorf("locking is not supported on %s", runtime.GOOS)
}
