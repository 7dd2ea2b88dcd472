// Package arch holds the tests that keep the repository's architecture
// true: the import rules between fleetgen's packages (docs/architecture.md
// describes them; the rule table in imports_test.go is the source of
// truth) and the list of packages whose tests take -update (make golden).
package arch
