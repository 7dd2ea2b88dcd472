//go:build !(linux || openbsd || dragonfly || solaris || darwin || freebsd || netbsd)

package changes

import "io/fs"

// statPlatform: on this platform entries are matched on size, mtime and mode
// only.
const statPlatform = statBasic

// platformStat adds nothing: no ctime or inode is available portably.
func platformStat(fs.FileInfo, *statKey) bool { return true }
