//go:build !linux

package tree

import (
	"io/fs"
	"os"
)

// rootLstat is only offered on Linux; elsewhere the inspector looks paths
// up through the os.Root.
func rootLstat(*os.Root) (func(rel string) (fs.FileInfo, error), func()) {
	return nil, func() {}
}
