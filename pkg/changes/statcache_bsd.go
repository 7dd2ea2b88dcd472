//go:build darwin || freebsd || netbsd

package changes

import (
	"io/fs"
	"syscall"
)

// statPlatform: this platform's stat data carries ctime, inode and device.
const statPlatform = statFull

// platformStat fills in the ctime, inode and device of fi; false if fi does
// not carry them.
func platformStat(fi fs.FileInfo, k *statKey) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || st == nil {
		return false
	}
	k.ctime = st.Ctimespec.Nano()
	k.ino = uint64(st.Ino)
	k.dev = uint64(st.Dev)
	return true
}
