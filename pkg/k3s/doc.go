// Package k3s owns fleetgen's knowledge of K3s: the flag table of the
// pinned K3s release (which keys a K3s config file may hold, and with which
// type of value), the rules that turn a site's merged k3s block, capacity
// and template set into the values of its bootstrap bundle
// (inventory.K3sResolved: datastore, packaged components to disable, node
// labels, kubelet reserves, registry mirrors), and the verification of a
// rendered bundle against the flag table, the capacity policy's reserve
// and the site's built overlay.
//
// The bundle itself is rendered by the template set
// (bootstrap/<site>/...); this package computes the data it renders and
// checks the result. See docs/k3s.md.
package k3s
