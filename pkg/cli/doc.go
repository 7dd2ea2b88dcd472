// Package cli holds fleetgen's cobra commands. Each command parses flags into
// an options struct, calls one pkg/pipeline job, prints its result and maps
// errors to exit codes (0 ok, 1 verification failed or drift, 2 bad input or
// usage); it writes only to the streams it is given.
package cli
