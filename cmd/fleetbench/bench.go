package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fleetgen/fleetgen/pkg/benchfleet"
	"github.com/fleetgen/fleetgen/pkg/gitops"
	"github.com/fleetgen/fleetgen/pkg/index"
	"github.com/fleetgen/fleetgen/pkg/verify"
	"github.com/fleetgen/fleetgen/templates"
)

// Config says what to benchmark.
type Config struct {
	Sites int
	// Bin is the fleetgen binary; Env is added to its environment.
	Bin string
	Env []string
	// Kubectl is the kubectl binary, "" to skip the comparison. Above
	// 1,000 sites it runs on KubectlSample overlays and the time is scaled.
	Kubectl       string
	KubectlSample int
	// Kustomize is the standalone kustomize CLI, "" to skip the
	// comparison; it runs on the same overlays as kubectl (KubectlSample).
	Kustomize string
	// Dir, when set, is the work directory, kept afterwards.
	Dir string
	// SkipBase skips the base edits.
	SkipBase bool
	// Cores lists the GOMAXPROCS values the base edit is run again with
	// (one edit each, after the one on every core); values of 0 or of at
	// least this process's GOMAXPROCS are skipped.
	Cores []int
	// Shards lists the shard counts N of the sharded verify: `verify
	// --shard I/N --no-cache` for every I, one after the other.
	Shards []int
	// ColdOnly runs only the cold generate, then check and verify
	// --no-cache, for peak RSS at a size too large for the other steps.
	ColdOnly bool
	// Log receives one line per step as it finishes; nil discards.
	Log io.Writer
}

// Step is one measured run.
type Step struct {
	Name    string
	Wall    time.Duration
	PeakRSS int64 // bytes, 0 when unknown
	// Built is the number of overlays built (new verification cache
	// entries), -1 when not counted.
	Built int
	Note  string
}

// Result is the outcome of a benchmark.
type Result struct {
	Sites int
	Steps []Step
	// Kubectl is the estimated time of `kubectl kustomize` once per
	// overlay over the whole fleet (0 when skipped); KubectlRuns is how
	// many overlays it actually ran on.
	Kubectl     time.Duration
	KubectlRuns int
	KubectlNote string
	// Kustomize is the same for the standalone kustomize CLI.
	Kustomize     time.Duration
	KustomizeRuns int
	KustomizeNote string
	// Shards holds one line per shard count of the sharded verify.
	Shards []ShardRun
	// Load is the load average (1, 5, 15 min) at the start and at the
	// end of the run, "" when unknown.
	LoadStart, LoadEnd string
}

// ShardRun is a sharded verify: N runs of `verify --shard I/N`, one after
// the other on this machine, as N CI jobs would run them side by side.
type ShardRun struct {
	N int
	// Longest is the wall time of the slowest shard (the wall time of N
	// jobs run in parallel on machines like this one), Total the sum.
	Longest, Total time.Duration
	PeakRSS        int64 // the largest of the shards
}

// Step returns the step called name.
func (r *Result) Step(name string) (Step, bool) {
	for _, s := range r.Steps {
		if s.Name == name {
			return s, true
		}
	}
	return Step{}, false
}

// Step names.
const (
	GenerateCold    = "generate, cold (empty tree, empty cache)"
	CheckWarm       = "check, right after generate"
	CheckSealing    = "check, 2 s later (seals the tree)"
	CheckSealed     = "check again (sealed)"
	GenerateSite    = "generate after editing one site"
	CheckSite       = "check right after that generate"
	GenerateComp    = "generate after editing a component (gpu)"
	GenerateBase    = "generate after editing the base"
	VerifyCold      = "verify --no-cache"
	kubectlStepName = "kubectl kustomize, once per overlay"
	kustomizeName   = "kustomize build (standalone CLI), once per overlay"
)

// baseOnCores names the base edit run with GOMAXPROCS=n.
func baseOnCores(n int) string {
	if n == 1 {
		return GenerateBase + ", 1 core"
	}
	return fmt.Sprintf("%s, %d cores", GenerateBase, n)
}

// Bench runs the benchmark.
func Bench(cfg Config) (*Result, error) {
	dir := cfg.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "fleetbench-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	bin, err := filepath.Abs(cfg.Bin)
	if err != nil {
		return nil, err
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	b := &bench{cfg: cfg, bin: bin, dir: dir,
		inv: filepath.Join(dir, "inventory.yaml"), tmpl: filepath.Join(dir, "templates"),
		out: filepath.Join(dir, "fleet"), cache: filepath.Join(dir, "cache"),
		res: &Result{Sites: cfg.Sites}}
	for _, p := range []string{b.out, b.cache, b.tmpl} {
		if err := os.RemoveAll(p); err != nil {
			return nil, err
		}
	}
	var inv bytes.Buffer
	if err := benchfleet.Inventory(&inv, cfg.Sites); err != nil {
		return nil, err
	}
	data := inv.Bytes()
	place, err := gitops.FindRepo(b.out)
	if err != nil {
		return nil, err
	}
	if !place.InRepo() {
		// Outside a git work tree the fleet is taken as the root of its
		// repository; inside one, fleetgen derives gitops.path.
		data = bytes.Replace(data, []byte("\n  engine: flux\n"), []byte("\n  engine: flux\n  path: .\n"), 1)
	}
	if err := os.WriteFile(b.inv, data, 0o644); err != nil {
		return nil, err
	}
	if err := os.CopyFS(b.tmpl, templates.FS()); err != nil {
		return nil, err
	}

	b.res.LoadStart = loadAvg()
	defer func() { b.res.LoadEnd = loadAvg() }()
	if err := b.fleetgen(GenerateCold, "generate"); err != nil {
		return nil, err
	}
	if cfg.ColdOnly {
		if err := b.fleetgen(CheckWarm, "check"); err != nil {
			return nil, err
		}
		if err := b.run(VerifyCold, nil, "verify", "-q", "--no-cache", b.out); err != nil {
			return nil, err
		}
		return b.res, nil
	}
	if err := b.fleetgen(CheckWarm, "check"); err != nil {
		return nil, err
	}
	// A check seals the tree only once every file it looked at is older
	// than the stat cache's racy window (2 s).
	time.Sleep(2100 * time.Millisecond)
	if err := b.fleetgen(CheckSealing, "check"); err != nil {
		return nil, err
	}
	if err := b.fleetgen(CheckSealed, "check"); err != nil {
		return nil, err
	}
	edited := benchfleet.EditSite(data, cfg.Sites/2, 1)
	if err := os.WriteFile(b.inv, edited, 0o644); err != nil {
		return nil, err
	}
	if err := b.fleetgen(GenerateSite, "generate"); err != nil {
		return nil, err
	}
	if err := b.fleetgen(CheckSite, "check"); err != nil {
		return nil, err
	}
	if err := appendFile(filepath.Join(b.tmpl, "components/gpu/deployment-gpu.yaml"), "# edited by fleetbench\n"); err != nil {
		return nil, err
	}
	if err := b.fleetgen(GenerateComp, "generate"); err != nil {
		return nil, err
	}
	b.res.Steps[len(b.res.Steps)-1].Note = fmt.Sprintf("%s sites use it", verify.Thousands(gpuSites(cfg.Sites)))
	if !cfg.SkipBase {
		if err := b.editBase(GenerateBase, nil); err != nil {
			return nil, err
		}
		b.res.Steps[len(b.res.Steps)-1].Note = fmt.Sprintf("all %d cores", runtime.GOMAXPROCS(0))
		for _, n := range cfg.Cores {
			// The edit on every core stands for GOMAXPROCS and above.
			if n > 0 && n < runtime.GOMAXPROCS(0) {
				if err := b.editBase(baseOnCores(n), []string{"GOMAXPROCS=" + strconv.Itoa(n)}); err != nil {
					return nil, err
				}
			}
		}
	}
	for _, n := range cfg.Shards {
		if err := b.shards(n); err != nil {
			return nil, err
		}
	}
	picks := b.picks()
	var err2 error
	b.res.Kubectl, b.res.KubectlRuns, b.res.KubectlNote, err2 = b.perOverlay(kubectlStepName, b.cfg.Kubectl, []string{"kustomize"}, picks)
	if err2 != nil {
		return nil, err2
	}
	b.res.Kustomize, b.res.KustomizeRuns, b.res.KustomizeNote, err2 = b.perOverlay(kustomizeName, b.cfg.Kustomize, []string{"build"}, picks)
	if err2 != nil {
		return nil, err2
	}
	return b.res, nil
}

// editBase appends a line to the base's Deployment (a new one each time,
// so every overlay is built again) and runs generate with env added.
func (b *bench) editBase(name string, env []string) error {
	b.edits++
	if err := appendFile(filepath.Join(b.tmpl, "base/deployment.yaml"), fmt.Sprintf("# edit %d by fleetbench\n", b.edits)); err != nil {
		return err
	}
	return b.run(name, env, "generate", "-q", "-i", b.inv, "--templates", b.tmpl, "-o", b.out)
}

// shards runs verify --shard I/N --no-cache for I = 1..N.
func (b *bench) shards(n int) error {
	r := ShardRun{N: n}
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("verify --no-cache --shard %d/%d", i, n)
		if err := b.run(name, nil, "verify", "-q", "--no-cache", "--shard", fmt.Sprintf("%d/%d", i, n), b.out); err != nil {
			return err
		}
		s := b.res.Steps[len(b.res.Steps)-1]
		b.res.Steps = b.res.Steps[:len(b.res.Steps)-1] // reported as a ShardRun
		r.Total += s.Wall
		r.Longest = max(r.Longest, s.Wall)
		r.PeakRSS = max(r.PeakRSS, s.PeakRSS)
	}
	b.res.Shards = append(b.res.Shards, r)
	return nil
}

// gpuSites is how many of benchfleet's first n sites are in the gpu group.
func gpuSites(n int) int {
	c := 0
	for i := 0; i < n; i++ {
		if i%10 == 3 {
			c++
		}
	}
	return c
}

type bench struct {
	cfg                   Config
	bin, dir              string
	inv, tmpl, out, cache string
	res                   *Result
	edits                 int // base edits so far
}

func (b *bench) fleetgen(name, verb string) error {
	return b.run(name, nil, verb, "-q", "-i", b.inv, "--templates", b.tmpl, "-o", b.out)
}

// run runs fleetgen with args (and env added to its environment) and
// records the step.
func (b *bench) run(name string, env []string, args ...string) error {
	before, err := entries(b.cache)
	if err != nil {
		return err
	}
	verb := args[0]
	cmd := exec.Command(b.bin, args...)
	cmd.Env = append(append(append(os.Environ(), "FLEETGEN_CACHE_DIR="+b.cache), b.cfg.Env...), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err = cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return fmt.Errorf("%s: fleetgen %s: %w\n%s", name, verb, err, tail(out.String()))
	}
	after, err := entries(b.cache)
	if err != nil {
		return err
	}
	built := 0
	idx := index.Keys(b.out) // the tree's index, stat cache and seal are not overlays
	for p, t := range after {
		if slices.Contains(idx, filepath.Base(p)) {
			continue
		}
		if old, ok := before[p]; !ok || !old.Equal(t) {
			built++
		}
	}
	s := Step{Name: name, Wall: wall, PeakRSS: peakRSS(cmd.ProcessState), Built: built}
	b.res.Steps = append(b.res.Steps, s)
	fmt.Fprintf(b.cfg.Log, "%s: %s\n", name, wall.Round(time.Millisecond))
	return nil
}

// picks are the sites whose overlays the per-overlay tools run on: every
// site up to 1,000 sites, else KubectlSample sites spread over the fleet.
func (b *bench) picks() []int {
	n := b.cfg.Sites
	picks := make([]int, 0, min(n, 1000))
	if n <= 1000 || b.cfg.KubectlSample <= 0 || b.cfg.KubectlSample >= n {
		for i := 0; i < n; i++ {
			picks = append(picks, i)
		}
		return picks
	}
	for k := 0; k < b.cfg.KubectlSample; k++ {
		picks = append(picks, k*n/b.cfg.KubectlSample)
	}
	return picks
}

// perOverlay times `tool args... OVERLAY` once per picked overlay of the
// generated tree, one process after another, and scales the time to the
// whole fleet.
func (b *bench) perOverlay(name, tool string, args []string, picks []int) (time.Duration, int, string, error) {
	if tool == "" {
		return 0, 0, "skipped", nil
	}
	path, err := exec.LookPath(tool)
	if err != nil {
		return 0, 0, "skipped: " + tool + " not found", nil
	}
	start := time.Now()
	for _, i := range picks {
		overlay := filepath.Join(b.out, "overlays", benchfleet.SiteName(i))
		cmd := exec.Command(path, append(slices.Clone(args), overlay)...)
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = io.Discard, &stderr
		if err := cmd.Run(); err != nil {
			return 0, 0, "", fmt.Errorf("%s %s %s: %w\n%s", tool, strings.Join(args, " "), overlay, err, tail(stderr.String()))
		}
	}
	took := time.Since(start)
	n := b.cfg.Sites
	note := ""
	if len(picks) < n {
		note = fmt.Sprintf("%s overlays timed, scaled to %s", verify.Thousands(len(picks)), verify.Thousands(n))
	}
	total := took * time.Duration(n) / time.Duration(len(picks))
	fmt.Fprintf(b.cfg.Log, "%s: %s\n", name, total.Round(time.Millisecond))
	return total, len(picks), note, nil
}

// loadAvg is the load average from /proc/loadavg, "" when unknown.
func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// entries lists the cache's entries with their modification times. An overlay that is built and passes gets its entry written (a new
// file, or a rename over the old one), so the entries that are new or
// changed across a run are the overlays it built.
func entries(dir string) (map[string]time.Time, error) {
	m := map[string]time.Time{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.Type().IsRegular() || strings.Contains(d.Name(), ".tmp-") {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		m[p] = fi.ModTime()
		return nil
	})
	return m, err
}

func appendFile(name, text string) error {
	f, err := os.OpenFile(name, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(text)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func tail(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return strings.Join(lines, "\n")
}

// WriteTable prints the result as Markdown tables and the ratios.
func (r *Result) WriteTable(w io.Writer) {
	fmt.Fprintf(w, "fleet of %s sites, %d CPUs", verify.Thousands(r.Sites), runtime.NumCPU())
	if r.LoadStart != "" {
		fmt.Fprintf(w, ", load average %s at the start, %s at the end", r.LoadStart, r.LoadEnd)
	}
	fmt.Fprint(w, "\n\n")
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	fmt.Fprintln(tw, "| run\t| wall\t| per overlay\t| peak RSS\t| overlays built\t| note\t|")
	fmt.Fprintln(tw, "| ---\t| ---\t| ---\t| ---\t| ---\t| ---\t|")
	for _, s := range r.Steps {
		built, per := "—", "—"
		if s.Built >= 0 {
			built = verify.Thousands(s.Built)
		}
		if s.Built > 0 {
			per = millis(s.Wall / time.Duration(s.Built))
		}
		fmt.Fprintf(tw, "| %s\t| %s\t| %s\t| %s\t| %s\t| %s\t|\n", s.Name, seconds(s.Wall), per, mib(s.PeakRSS), built, s.Note)
	}
	for _, t := range []struct {
		name, note string
		took       time.Duration
	}{{kubectlStepName, r.KubectlNote, r.Kubectl}, {kustomizeName, r.KustomizeNote, r.Kustomize}} {
		if t.took > 0 {
			fmt.Fprintf(tw, "| %s\t| %s\t| %s\t| —\t| %s\t| %s\t|\n", t.name, seconds(t.took), millis(t.took/time.Duration(r.Sites)), verify.Thousands(r.Sites), t.note)
		} else if t.note != "" {
			fmt.Fprintf(tw, "| %s\t| —\t| —\t| —\t| —\t| %s\t|\n", t.name, t.note)
		}
	}
	tw.Flush()
	if len(r.Shards) > 0 {
		fmt.Fprint(w, "\nverify --no-cache split into N shards, run one after the other (the slowest shard is the wall time of N parallel CI jobs):\n\n")
		tw = tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
		fmt.Fprintln(tw, "| N\t| slowest shard\t| all shards\t| speed-up\t| peak RSS\t|")
		fmt.Fprintln(tw, "| ---\t| ---\t| ---\t| ---\t| ---\t|")
		for _, s := range r.Shards {
			fmt.Fprintf(tw, "| %d\t| %s\t| %s\t| %.2f×\t| %s\t|\n", s.N, seconds(s.Longest), seconds(s.Total), float64(r.Shards[0].Longest)/float64(s.Longest), mib(s.PeakRSS))
		}
		tw.Flush()
	}
	var lines []string
	for _, q := range r.ratios() {
		lines = append(lines, fmt.Sprintf("%s: %.1f× faster", q.name, q.times))
	}
	if len(lines) > 0 {
		fmt.Fprintf(w, "\n%s\n", strings.Join(lines, "\n"))
	}
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func millis(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

func mib(b int64) string {
	if b <= 0 {
		return "—"
	}
	return fmt.Sprintf("%d MiB", b>>20)
}
