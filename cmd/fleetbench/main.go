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
// each followed by generate, the base edit again on fewer cores (-cores);
// verify --no-cache split into shards (-shards)), then times `kubectl
// kustomize` and the standalone `kustomize build` once per overlay when they
// are on the PATH (or given by -kubectl, -kustomize), and prints tables of
// wall times, peak RSS and overlays built, with the load average and the
// ratios to the per-overlay tools, all measured in the same run:
//
//	make build && go run ./cmd/fleetbench -sites 1000
//
// -sites takes a comma-separated list of sizes, and -cold-sites sizes at
// which only the cold generate, check and verify --no-cache run (for peak
// RSS where the rest takes too long). With more than one size it runs them
// one after the other, prints each size's tables as soon as it is
// measured, and ends with a table that has a column per size, so the
// growth with the fleet reads across a row:
//
//	go run ./cmd/fleetbench -sites 1000,10000 -cold-sites 100000
//
// -cold-only runs only the cold steps at the -sites sizes too.
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/fleetgen/fleetgen/pkg/benchfleet"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	fl := flag.NewFlagSet("fleetbench", flag.ContinueOnError)
	var cfg Config
	sites := fl.String("sites", "", "run the benchmark on a fleet of this many sites (a comma-separated list runs each size and prints them side by side)")
	coldSites := fl.String("cold-sites", "", "comma-separated fleet sizes to run only the cold steps at, after the -sites sizes (for peak RSS at large sizes)")
	fl.StringVar(&cfg.Bin, "bin", "bin/fleetgen", "the fleetgen binary to run")
	fl.StringVar(&cfg.Kubectl, "kubectl", "kubectl", "the kubectl binary; empty skips the kubectl comparison")
	fl.IntVar(&cfg.KubectlSample, "kubectl-sample", 200, "above 1,000 sites, time kubectl on this many overlays and scale")
	fl.StringVar(&cfg.Dir, "dir", "", "work in this directory and keep it (default a temporary directory, removed)")
	fl.StringVar(&cfg.Kustomize, "kustomize", "kustomize", "the standalone kustomize CLI; empty skips that comparison")
	fl.BoolVar(&cfg.SkipBase, "skip-base", false, "skip the base edits (each a rebuild of every overlay)")
	cores := fl.String("cores", "1,2", "comma-separated GOMAXPROCS values to run the base edit again with, besides every core")
	shards := fl.String("shards", "1,2,4", "comma-separated shard counts N for verify --shard I/N; empty skips")
	fl.BoolVar(&cfg.ColdOnly, "cold-only", false, "only generate cold, then check and verify --no-cache (for peak RSS at large sizes)")
	fl.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: fleetbench SITES > inventory.yaml\n       fleetbench -sites N [flags]")
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		return 2
	}
	full, err := ints(*sites)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fleetbench: -sites:", err)
		return 2
	}
	cold, err := ints(*coldSites)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fleetbench: -cold-sites:", err)
		return 2
	}
	if len(full)+len(cold) == 0 {
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
	if fl.NArg() != 0 {
		fl.Usage()
		return 2
	}
	if cfg.Cores, err = ints(*cores); err != nil {
		fmt.Fprintln(os.Stderr, "fleetbench: -cores:", err)
		return 2
	}
	if cfg.Shards, err = ints(*shards); err != nil {
		fmt.Fprintln(os.Stderr, "fleetbench: -shards:", err)
		return 2
	}
	cfg.Log = os.Stderr
	printed := 0
	rs, err := Run(cfg, full, cold, func(r *Result) {
		if printed > 0 {
			fmt.Println()
		}
		printed++
		r.WriteTable(os.Stdout)
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "fleetbench:", err)
		return 1
	}
	if len(rs) > 1 {
		fmt.Println()
		WriteSideBySide(os.Stdout, rs)
	}
	return 0
}

// ints parses a comma-separated list of positive integers.
func ints(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive number", f)
		}
		out = append(out, n)
	}
	return out, nil
}
