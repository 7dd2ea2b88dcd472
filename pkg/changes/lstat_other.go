//go:build !linux

package changes

import "os"

// RootLstat is only offered on Linux; elsewhere the inspector looks paths
// up through the os.Root.
func RootLstat(*os.Root) (LstatFunc, func()) {
	return nil, func() {}
}
