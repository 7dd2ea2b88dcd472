package render

import (
	"sort"

	"github.com/fleetgen/fleetgen/pkg/inventory"
)

// Helpers only tests call: production code uses the functions they wrap.

// SiteLocal reports whether the set is site-local: no per-site template
// (path or content, nor any template it can call) can read Data.Sites, so
// a site's per-site files depend on that site alone (and on the set and the
// fleet data). When it is not, reason says where a template can read the
// fleet's sites, as "template:line:col: what it does".
func (e *Engine) SiteLocal() (ok bool, reason string) {
	return e.siteLocal, e.notLocal
}

// OriginBlind reports whether the set is site-local and no per-site
// template can observe a site's Origins (where each of its values was
// written in the inventory): render keys then leave Origins out, so that
// moving a site within the inventory, or adding lines above it, does not
// change its key. When it is not, reason says where a template can.
func (e *Engine) OriginBlind() (ok bool, reason string) {
	if !e.siteLocal {
		return false, "the set is not site-local"
	}
	return e.originBlind, e.withOrigins
}

// Render executes the template set for the fleet: fleet-level templates once
// with Site nil, per-site templates once per site. Every problem found is
// returned, joined; each is an *Error. It is RenderWith with no options.
func (e *Engine) Render(f *inventory.Fleet) (*Tree, error) {
	return e.RenderWith(f, RenderOptions{})
}

// RemovedFuncs returns the names of the sprig functions that are not
// available to templates, sorted.
func RemovedFuncs() []string {
	out := append([]string(nil), removedFuncs...)
	sort.Strings(out)
	return out
}
