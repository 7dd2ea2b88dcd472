package main

import (
	"bytes"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

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
	for _, args := range [][]string{{}, {"x"}, {"0"}, {"-sites", "3", "extra"}, {"-sites", "0"}, {"-cold-sites", "x"}} {
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

// TestRunSizes runs the full steps at one size and the cold steps at
// another, each in its own directory, and prints them side by side.
func TestRunSizes(t *testing.T) {
	dir := t.TempDir()
	var seen []int
	rs, err := Run(Config{Bin: os.Args[0], Env: []string{asFleetgen + "=1"}, Dir: dir, SkipBase: true}, []int{4}, []int{6}, func(r *Result) { seen = append(seen, r.Sites) })
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(seen, []int{4, 6}) {
		t.Errorf("results handed on as measured: %v, want [4 6]", seen)
	}
	if len(rs) != 2 || rs[0].Sites != 4 || rs[1].Sites != 6 {
		t.Fatalf("results for %d sizes, want 4 then 6 sites", len(rs))
	}
	if _, ok := rs[0].Step(GenerateSite); !ok {
		t.Errorf("4 sites: no step %q in the full run", GenerateSite)
	}
	if _, ok := rs[1].Step(GenerateSite); ok {
		t.Errorf("6 sites: step %q ran in a cold-only run", GenerateSite)
	}
	for _, n := range []string{"4", "6"} {
		if _, err := os.Stat(dir + "/" + n + "/fleet/overlays"); err != nil {
			t.Errorf("size %s has no tree of its own: %v", n, err)
		}
	}
	var out bytes.Buffer
	WriteSideBySide(&out, rs)
	lines := strings.Split(out.String(), "\n")
	want := map[string][]string{
		"| run ":            {"| 4 sites", "| 6 sites"},
		"| " + GenerateCold: {"s, ", "s, "},
		"| " + GenerateSite: {"s, ", "| — "},
		"| " + VerifyCold:   {"| — ", "s, "},
	}
	for prefix, cells := range want {
		i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, prefix) })
		if i < 0 {
			t.Errorf("no row %q:\n%s", prefix, out.String())
			continue
		}
		rest := lines[i]
		for _, c := range cells {
			j := strings.Index(rest, c)
			if j < 0 {
				t.Errorf("row %q: lacks %q in order:\n%s", prefix, c, lines[i])
				break
			}
			rest = rest[j+len(c):]
		}
	}
}

// TestSideBySideRows checks the layout: a row per step in the order steps
// first ran, a cell per size, the tools, the shards and the ratios.
func TestSideBySideRows(t *testing.T) {
	rs := []*Result{
		{Sites: 1000, Steps: []Step{{Name: GenerateCold, Wall: 10 * time.Second, PeakRSS: 400 << 20}, {Name: GenerateBase, Wall: 5 * time.Second}, {Name: baseOnCores(1), Wall: 8 * time.Second}},
			Kustomize: 100 * time.Second, Shards: []ShardRun{{N: 2, Longest: 3 * time.Second, PeakRSS: 100 << 20}}},
		{Sites: 100000, Steps: []Step{{Name: GenerateCold, Wall: 1000 * time.Second, PeakRSS: 3 << 30}, {Name: VerifyCold, Wall: 500 * time.Second}}},
	}
	got := sideBySideRows(rs)
	want := []sideRow{
		{GenerateCold, []string{"10.00 s, 400 MiB", "1000.00 s, 3072 MiB"}},
		{GenerateBase, []string{"5.00 s", ""}},
		{baseOnCores(1), []string{"8.00 s", ""}},
		{VerifyCold, []string{"", "500.00 s"}},
		{kustomizeName, []string{"100.00 s (100.0 ms each)", ""}},
		{"verify --no-cache --shard I/2, slowest shard", []string{"3.00 s, 100 MiB", ""}},
		{GenerateCold + " vs kustomize once per overlay", []string{"10.0×", ""}},
		{GenerateBase + " vs kustomize once per overlay", []string{"20.0×", ""}},
		{baseOnCores(1) + " vs kustomize once per overlay", []string{"12.5×", ""}},
	}
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d: %q", len(got), len(want), got)
	}
	for i := range want {
		if got[i].name != want[i].name || !slices.Equal(got[i].cells, want[i].cells) {
			t.Errorf("row %d = %q %q, want %q %q", i, got[i].name, got[i].cells, want[i].name, want[i].cells)
		}
	}
}
