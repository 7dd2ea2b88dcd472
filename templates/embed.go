package templates

import (
	"embed"
	"io/fs"
)

//go:embed all:fleet
var fleet embed.FS

//go:embed sample-inventory.yaml
var sampleInventory []byte

// FS returns the default template set: the fleet/ directory, whose root
// holds base/, components/ and overlays/.
func FS() fs.FS {
	sub, err := fs.Sub(fleet, "fleet")
	if err != nil {
		// fs.Sub fails only for an invalid directory name, and "fleet" is valid.
		panic(err)
	}
	return sub
}

// SampleInventory returns a copy of the sample inventory that goes with the
// default template set.
func SampleInventory() []byte {
	return append([]byte(nil), sampleInventory...)
}
