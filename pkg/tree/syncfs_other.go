//go:build !linux

package tree

// syncAll makes the data of the temporary files durable, one fsync each.
func (a *applier) syncAll(tmps []string) error { return fsyncEach(a.r, tmps) }
