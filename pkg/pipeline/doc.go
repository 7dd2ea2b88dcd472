// Package pipeline runs fleetgen's one-way flow in memory: load the
// inventory, resolve it against the template set, render the tree, and build
// every site's overlay with the kustomize API. It writes nothing; callers
// decide what to do with the verified tree (write it, compare it with disk,
// print it).
package pipeline
