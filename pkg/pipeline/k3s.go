package pipeline

import (
	"io/fs"

	"github.com/fleetgen/fleetgen/pkg/inventory"
	"github.com/fleetgen/fleetgen/pkg/k3s"
	"github.com/fleetgen/fleetgen/templates"
)

// CompleteK3s fills in the K3s bootstrap values (Site.K3s.Resolved) of
// every site with a k3s block, from the needs of the template set's base
// and components (set; nil means the default set). The bootstrap
// templates render them and explain shows them.
func CompleteK3s(fleet *inventory.Fleet, set fs.FS) error {
	if set == nil {
		set = templates.FS()
	}
	sc, err := k3s.ScanTemplates(set)
	if err != nil {
		return err
	}
	return k3s.Complete(fleet, sc)
}
