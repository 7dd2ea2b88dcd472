// Package secretlike tells whether a configuration key or value looks like a
// secret. The inventory loader rejects such config at load time and the
// config-secrets policy flags them in built ConfigMaps; both call this
// package, so the two never disagree.
package secretlike
