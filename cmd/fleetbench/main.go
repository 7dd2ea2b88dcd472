// Command fleetbench benchmarks fleetgen on a synthetic fleet (pkg/benchfleet).
//
// With a number of sites alone it writes that inventory to standard output:
//
//	go run ./cmd/fleetbench 10000 > inventory.yaml
//
// With -sites it runs the whole benchmark: it writes the inventory and a copy
// of the embedded template set into a temporary directory, runs the built
// fleetgen binary as child processes (generate cold; check right after it,
// 2 s later (which seals the tree) and again (sealed); an edit of one site
// followed by generate and check; an edit of a component and of the base,
// each followed by generate), times `kubectl kustomize` once per overlay when
// kubectl is on the PATH, and prints one table of wall times, peak RSS and
// overlays built:
//
//	make build && go run ./cmd/fleetbench -sites 1000
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"

	"github.com/fleetgen/fleetgen/pkg/benchfleet"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	fl := flag.NewFlagSet("fleetbench", flag.ContinueOnError)
	var cfg Config
	fl.IntVar(&cfg.Sites, "sites", 0, "run the benchmark on a fleet of this many sites")
	fl.StringVar(&cfg.Bin, "bin", "bin/fleetgen", "the fleetgen binary to run")
	fl.StringVar(&cfg.Kubectl, "kubectl", "kubectl", "the kubectl binary; empty skips the kubectl comparison")
	fl.IntVar(&cfg.KubectlSample, "kubectl-sample", 200, "above 1,000 sites, time kubectl on this many overlays and scale")
	fl.StringVar(&cfg.Dir, "dir", "", "work in this directory and keep it (default a temporary directory, removed)")
	fl.BoolVar(&cfg.SkipBase, "skip-base", false, "skip the base edit (a rebuild of every overlay)")
	fl.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: fleetbench SITES > inventory.yaml\n       fleetbench -sites N [flags]")
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if cfg.Sites == 0 {
		if fl.NArg() != 1 {
			fl.Usage()
			return 2
		}
		n, err := strconv.Atoi(fl.Arg(0))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "fleetbench: %q is not a number of sites\n", fl.Arg(0))
			return 2
		}
		if err := benchfleet.Inventory(os.Stdout, n); err != nil {
			fmt.Fprintln(os.Stderr, "fleetbench:", err)
			return 1
		}
		return 0
	}
	if cfg.Sites < 1 || fl.NArg() != 0 {
		fl.Usage()
		return 2
	}
	cfg.Log = os.Stderr
	res, err := Bench(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fleetbench:", err)
		return 1
	}
	res.WriteTable(os.Stdout)
	return 0
}
