// Package pipeline runs fleetgen's jobs: Generate, Check, Diff, Verify and
// Build, one entry point each. A job loads the inventory, resolves it
// against the template set, renders the tree in memory, builds every site's
// overlay with the kustomize API and, for Generate, plans and writes the
// tree; it owns the tree's lock, the verification cache, the tree's index
// and the seal of a clean check, so that callers only map their flags to
// the job's options and print its result.
package pipeline
