package tree

import "golang.org/x/sys/unix"

// syncAll makes the data of the temporary files durable: one syncfs(2) of
// the file system holding the root instead of an fsync per file.
func (a *applier) syncAll(tmps []string) error {
	f, err := a.r.Open(".")
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.Syncfs(int(f.Fd())); err != nil {
		return fsyncEach(a.r, tmps)
	}
	return nil
}
