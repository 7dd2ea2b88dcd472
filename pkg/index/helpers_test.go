package index

import "github.com/fleetgen/fleetgen/pkg/cache"

// Helpers only tests call: production code uses the functions they wrap.

// Load returns the index of the tree at root written by a program with
// this salt, or nil when there is none (or it is damaged, or another
// program's).
func Load(c *cache.Dir, root, salt string) *Index {
	return Open(c, root, salt).Decode()
}
