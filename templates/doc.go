// Package templates embeds fleetgen's default template set, the zero-trust
// edge blueprint for K3s sites, and a sample inventory that uses it.
package templates
