package main

import (
	"bytes"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/fleetgen/fleetgen/pkg/cli"
)

// asFleetgen makes this test binary run as fleetgen, so the harness can run
// it as a child process without building bin/fleetgen.
const asFleetgen = "FLEETBENCH_TEST_AS_FLEETGEN"

func TestMain(m *testing.M) {
	if os.Getenv(asFleetgen) == "1" {
		os.Exit(cli.Main())
	}
	os.Exit(m.Run())
}

// TestBench runs the whole benchmark on a tiny fleet: every step succeeds,
// each edit rebuilds exactly the overlays that depend on it, and the table
// names every step.
func TestBench(t *testing.T) {
	res, err := Bench(Config{Sites: 12, Bin: os.Args[0], Env: []string{asFleetgen + "=1"}, Dir: t.TempDir(),
		Cores: []int{1}, Shards: []int{1, 2}})
	if err != nil {
		t.Fatal(err)
	}
	built := map[string]int{
		GenerateCold: 12,
		CheckWarm:    0,
		CheckSealing: 0,
		CheckSealed:  0,
		GenerateSite: 1,
		CheckSite:    0,
		GenerateComp: gpuSites(12),
		GenerateBase: 12,
	}
	if runtime.GOMAXPROCS(0) > 1 {
		built[baseOnCores(1)] = 12
	}
	for name, want := range built {
		s, ok := res.Step(name)
		if !ok {
			t.Errorf("no step %q", name)
			continue
		}
		if s.Built != want {
			t.Errorf("%s: built %d overlays, want %d", name, s.Built, want)
		}
	}
	if len(res.Shards) != 2 || res.Shards[0].N != 1 || res.Shards[1].N != 2 || res.Shards[1].Longest <= 0 {
		t.Errorf("shards: %+v, want N=1 and N=2, each timed", res.Shards)
	}
	var out bytes.Buffer
	res.WriteTable(&out)
	for _, want := range []string{"fleet of 12 sites", GenerateCold, GenerateBase, kubectlStepName, kustomizeName, "skipped", "| 2 "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
}

func TestRunUsage(t *testing.T) {
	for _, args := range [][]string{{}, {"x"}, {"0"}, {"-sites", "3", "extra"}} {
		if code := run(args); code != 2 {
			t.Errorf("run(%q) = %d, want 2", args, code)
		}
	}
}

// TestColdOnly runs the steps of the large-fleet measurement: generate,
// check and verify, each timed.
func TestColdOnly(t *testing.T) {
	res, err := Bench(Config{Sites: 5, Bin: os.Args[0], Env: []string{asFleetgen + "=1"}, Dir: t.TempDir(), ColdOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range res.Steps {
		names = append(names, s.Name)
	}
	if want := []string{GenerateCold, CheckWarm, VerifyCold}; !slices.Equal(names, want) {
		t.Errorf("steps %q, want %q", names, want)
	}
}

func TestInts(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []int
		ok   bool
	}{{"", nil, true}, {"1,2, 4", []int{1, 2, 4}, true}, {"0", nil, false}, {"x", nil, false}} {
		got, err := ints(c.in)
		if (err == nil) != c.ok || !slices.Equal(got, c.want) {
			t.Errorf("ints(%q) = %v, %v", c.in, got, err)
		}
	}
}
