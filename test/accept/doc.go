// Package accept holds the acceptance tests of the GitOps layout at fleet
// scale (docs/gitops.md, "Size and merges"): every generated file and
// object within the size bounds, the files that name no site the same
// bytes at any fleet size, one site's edit touching only that site's
// files, and two branches that add neighbouring sites merging cleanly in
// git. The fleet has FLEETGEN_ACCEPT_SITES sites (default 50); make accept
// runs it at 10,000.
package accept
