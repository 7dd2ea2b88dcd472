// Package suggest finds the likely intended word for a typo, for the
// "did you mean" hints of every fleetgen error message.
package suggest
