// Package e2e holds end-to-end tests that run the fleetgen binary the way
// users do: from git's pre-commit hooks through pre-commit. The tests skip
// when git or pre-commit is not on PATH.
package e2e
