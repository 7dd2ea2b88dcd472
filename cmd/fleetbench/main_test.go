package main

import (
	"bytes"
	"os"
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
	res, err := Bench(Config{Sites: 12, Bin: os.Args[0], Env: []string{asFleetgen + "=1"}, Dir: t.TempDir(), Kubectl: ""})
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
	var out bytes.Buffer
	res.WriteTable(&out)
	for _, want := range []string{"fleet of 12 sites", GenerateCold, GenerateBase, kubectlStepName, "skipped"} {
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
