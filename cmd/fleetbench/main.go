// Command fleetbench writes a synthetic inventory of N sites (pkg/benchfleet)
// to standard output, for benchmarking fleetgen on large fleets:
//
//	go run ./cmd/fleetbench 10000 > inventory.yaml
package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"

	"github.com/fleetgen/fleetgen/pkg/benchfleet"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: fleetbench SITES > inventory.yaml")
		os.Exit(2)
	}
	n, err := strconv.Atoi(os.Args[1])
	if err != nil || n < 1 {
		fmt.Fprintf(os.Stderr, "fleetbench: %q is not a number of sites\n", os.Args[1])
		os.Exit(2)
	}
	w := bufio.NewWriter(os.Stdout)
	if err := benchfleet.Inventory(w, n); err == nil {
		err = w.Flush()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fleetbench:", err)
		os.Exit(1)
	}
}
