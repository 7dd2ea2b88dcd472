package charts

import "github.com/fleetgen/fleetgen/pkg/charts/chartref"

// Ref is a release's chart reference: a chart in the repository, in an OCI
// registry or in an HTTP(S) chart repository (package chartref).
type Ref = chartref.Ref

// ParseRef reads a release's merged chart and repo fields (repo is "" but
// for a chart in an HTTP(S) chart repository). It is chartref.Parse: the
// one parser of chart references, which the inventory's validation uses
// too.
func ParseRef(chart, repo string) (Ref, error) { return chartref.Parse(chart, repo) }
