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
	"slices"
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
	// Dir, when set, is the work directory, kept afterwards.
	Dir string
	// SkipBase skips the base edit.
	SkipBase bool
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
	kubectlStepName = "kubectl kustomize, once per overlay"
)

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

	if err := b.fleetgen(GenerateCold, "generate"); err != nil {
		return nil, err
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
		if err := appendFile(filepath.Join(b.tmpl, "base/deployment.yaml"), "# edited by fleetbench\n"); err != nil {
			return nil, err
		}
		if err := b.fleetgen(GenerateBase, "generate"); err != nil {
			return nil, err
		}
	}
	if err := b.kubectl(); err != nil {
		return nil, err
	}
	return b.res, nil
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
}

func (b *bench) fleetgen(name, verb string) error {
	before, err := entries(b.cache)
	if err != nil {
		return err
	}
	cmd := exec.Command(b.bin, verb, "-q", "-i", b.inv, "--templates", b.tmpl, "-o", b.out)
	cmd.Env = append(append(os.Environ(), "FLEETGEN_CACHE_DIR="+b.cache), b.cfg.Env...)
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

// kubectl times `kubectl kustomize` once per overlay of the generated tree.
func (b *bench) kubectl() error {
	if b.cfg.Kubectl == "" {
		b.res.KubectlNote = "skipped"
		return nil
	}
	kubectl, err := exec.LookPath(b.cfg.Kubectl)
	if err != nil {
		b.res.KubectlNote = "skipped: kubectl not found"
		return nil
	}
	n := b.cfg.Sites
	picks := make([]int, 0, n)
	if n <= 1000 || b.cfg.KubectlSample <= 0 || b.cfg.KubectlSample >= n {
		for i := 0; i < n; i++ {
			picks = append(picks, i)
		}
	} else {
		for k := 0; k < b.cfg.KubectlSample; k++ {
			picks = append(picks, k*n/b.cfg.KubectlSample)
		}
	}
	start := time.Now()
	for _, i := range picks {
		overlay := filepath.Join(b.out, "overlays", benchfleet.SiteName(i))
		cmd := exec.Command(kubectl, "kustomize", overlay)
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = io.Discard, &stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("kubectl kustomize %s: %w\n%s", overlay, err, tail(stderr.String()))
		}
	}
	took := time.Since(start)
	b.res.KubectlRuns = len(picks)
	b.res.Kubectl = took * time.Duration(n) / time.Duration(len(picks))
	if len(picks) < n {
		b.res.KubectlNote = fmt.Sprintf("%s overlays timed, scaled to %s", verify.Thousands(len(picks)), verify.Thousands(n))
	}
	fmt.Fprintf(b.cfg.Log, "%s: %s\n", kubectlStepName, b.res.Kubectl.Round(time.Millisecond))
	return nil
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

// WriteTable prints the result as a Markdown table.
func (r *Result) WriteTable(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	fmt.Fprintf(w, "fleet of %s sites\n\n", verify.Thousands(r.Sites))
	fmt.Fprintln(tw, "| run\t| wall\t| peak RSS\t| overlays built\t| note\t|")
	fmt.Fprintln(tw, "| ---\t| ---\t| ---\t| ---\t| ---\t|")
	for _, s := range r.Steps {
		built := "—"
		if s.Built >= 0 {
			built = verify.Thousands(s.Built)
		}
		fmt.Fprintf(tw, "| %s\t| %s\t| %s\t| %s\t| %s\t|\n", s.Name, seconds(s.Wall), mib(s.PeakRSS), built, s.Note)
	}
	if r.Kubectl > 0 {
		fmt.Fprintf(tw, "| %s\t| %s\t| —\t| %s\t| %s\t|\n", kubectlStepName, seconds(r.Kubectl), verify.Thousands(r.Sites), r.KubectlNote)
	} else {
		fmt.Fprintf(tw, "| %s\t| —\t| —\t| —\t| %s\t|\n", kubectlStepName, r.KubectlNote)
	}
	tw.Flush()
	if cold, ok := r.Step(GenerateCold); ok && r.Kubectl > 0 && cold.Wall > 0 {
		fmt.Fprintf(w, "\ncold generate vs kubectl kustomize: %.1f× faster (target 20×)\n", float64(r.Kubectl)/float64(cold.Wall))
	}
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func mib(b int64) string {
	if b <= 0 {
		return "—"
	}
	return fmt.Sprintf("%d MiB", b>>20)
}
