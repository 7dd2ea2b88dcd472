package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/fleetgen/fleetgen/pkg/charts"
	"github.com/fleetgen/fleetgen/pkg/inventory"
)

// ChartLockFile is the name of the chart lock file, next to the (first)
// inventory file; ChartsPulledDir is where pulled charts go, relative to
// it.
const (
	ChartLockFile   = charts.LockFileName
	ChartsPulledDir = charts.PulledDir
)

// PullOptions are the inputs of PullCharts.
type PullOptions struct {
	// Inventories are the inventory files ("-" for Stdin), in order.
	Inventories []string
	Stdin       io.Reader
	// Check only checks, offline, that the lock and the pulled charts
	// are what a pull would leave: a *PullStaleError when not.
	Check bool
	// PlainHTTP talks to OCI registries over plain HTTP.
	PlainHTTP bool
	// RegistryConfig is the OCI registries' credentials file; "" for
	// Helm's.
	RegistryConfig string
}

// PulledChart is one remote chart version and what PullCharts did about it.
type PulledChart struct {
	// Chart is the reference as the inventory gives it (the OCI URL, or
	// the chart's name and its repository).
	Chart, Version string
	// File is the pulled chart, relative to the lock file's directory.
	File   string
	SHA256 string
	// Status is present, pulled or removed.
	Status string
}

// PullReport is the outcome of PullCharts.
type PullReport struct {
	// Lock is the lock file's path.
	Lock   string
	Charts []PulledChart
	// Wrote tells whether anything was written or removed.
	Wrote bool
}

// PullStaleError is what PullCharts with Check found out of date: the
// fleet is not right (exit 1), nothing is bad input.
type PullStaleError struct{ Err error }

func (e *PullStaleError) Error() string { return e.Err.Error() }
func (e *PullStaleError) Unwrap() error { return e.Err }

// remoteUse is a remote chart version and the first site and release
// using it, for messages.
type remoteUse struct {
	want    charts.Want
	site    *inventory.Site
	release string
}

// remoteCharts lists the distinct remote chart versions of the fleet's
// releases (after merging), sorted by reference and version.
func remoteCharts(fleet *inventory.Fleet) ([]remoteUse, error) {
	seen := map[string]bool{}
	var uses []remoteUse
	for i := range fleet.Sites {
		s := &fleet.Sites[i]
		for _, release := range slices.Sorted(maps.Keys(s.Charts)) {
			sc := s.Charts[release]
			ref, err := charts.ParseRef(sc.Chart, sc.Repo)
			if err != nil {
				return nil, chartProblem(s, "charts."+release+".chart", "release %q: %v", release, err)
			}
			key := ref.String() + "\x00" + sc.Version
			if !ref.Remote() || seen[key] {
				continue
			}
			seen[key] = true
			uses = append(uses, remoteUse{want: charts.Want{Ref: ref, Version: sc.Version}, site: s, release: release})
		}
	}
	slices.SortFunc(uses, func(a, b remoteUse) int {
		return strings.Compare(a.want.Ref.String()+"\x00"+a.want.Version, b.want.Ref.String()+"\x00"+b.want.Version)
	})
	return uses, nil
}

// lockDir is the directory of the chart lock: that of the first inventory
// file, the current directory for standard input.
func lockDir(inputs []inventory.Input) string {
	if len(inputs) == 0 || inputs[0].Path == "" || inputs[0].Path == "-" {
		return "."
	}
	return filepath.Dir(inputs[0].Path)
}

// pullCommand is the command that pulls the charts of inputs.
func pullCommand(inputs []inventory.Input) string {
	var b strings.Builder
	b.WriteString("fleetgen charts pull")
	for _, in := range inputs {
		b.WriteString(" -i " + in.Path)
	}
	return b.String()
}

// PullCharts downloads every remote chart version the inventory's releases
// use (after merging defaults, groups and sites) into the fleet repository
// and records each in the lock file next to the inventory. Bad input (the
// inventory, the lock file, a chart version its registry or repository
// does not have) is an *InputError naming the site, the release and the
// inventory line; a download that fails is a plain error.
func PullCharts(ctx context.Context, opts PullOptions) (*PullReport, error) {
	inputs, err := inventory.ReadInputs(opts.Inventories, opts.Stdin)
	if err != nil {
		return nil, &InputError{Err: err}
	}
	_, fleet, err := inventory.ResolveInputs(inputs, inventory.ResolveOptions{})
	if err != nil {
		return nil, &InputError{Err: err}
	}
	uses, err := remoteCharts(fleet)
	if err != nil {
		return nil, &InputError{Err: err}
	}
	wants := make([]charts.Want, len(uses))
	for i, u := range uses {
		wants[i] = u.want
	}
	res, err := charts.Pull(ctx, lockDir(inputs), wants, charts.PullOptions{Check: opts.Check, PlainHTTP: opts.PlainHTTP, RegistryConfig: opts.RegistryConfig})
	if err != nil {
		return nil, pullError(err, uses)
	}
	report := &PullReport{Lock: res.Lock, Wrote: res.Wrote}
	for _, c := range res.Changes {
		ref, _ := c.Entry.Ref()
		report.Charts = append(report.Charts, PulledChart{Chart: ref.String(), Version: c.Entry.Version, File: c.Entry.File, SHA256: c.Entry.SHA256, Status: c.Status})
	}
	return report, nil
}

// pullError names, for each chart that could not be pulled, the site,
// release and inventory line that use it; a chart version that does not
// exist and a bad lock file are bad input.
func pullError(err error, uses []remoteUse) error {
	var stale *charts.StaleError
	if errors.As(err, &stale) {
		return &PullStaleError{Err: err}
	}
	var lp *charts.LockProblems
	if errors.As(err, &lp) {
		return &InputError{Err: err}
	}
	var errs []error
	bad := false
	for _, e := range unjoin(err) {
		var we *charts.WantError
		if !errors.As(e, &we) {
			errs = append(errs, e)
			continue
		}
		u := uses[we.Index]
		var nf *charts.NotFoundError
		if errors.As(we, &nf) {
			bad = true
		}
		errs = append(errs, chartProblem(u.site, "charts."+u.release+".version", "release %q: %v", u.release, we.Err))
	}
	joined := errors.Join(errs...)
	if bad {
		return &InputError{Err: joined}
	}
	return joined
}

// unjoin splits an errors.Join error into its errors.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// chartLock is the chart lock of a run, read on first use.
type chartLock struct {
	dir, name, command string
	once               sync.Once
	lock               *charts.Lock
	err                error
}

func newChartLock(inputs []inventory.Input) *chartLock {
	dir := lockDir(inputs)
	return &chartLock{dir: dir, name: filepath.Join(dir, ChartLockFile), command: pullCommand(inputs)}
}

func (l *chartLock) read() (*charts.Lock, error) {
	l.once.Do(func() {
		data, err := os.ReadFile(l.name)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			l.err = err
		default:
			l.lock, l.err = charts.ParseLock(l.name, data)
		}
	})
	return l.lock, l.err
}

// load loads the pulled chart of a remote chart version: it must be in
// the lock, and its file there with the locked SHA-256.
func (l *chartLock) load(ref charts.Ref, version string) (*charts.Chart, error) {
	lock, err := l.read()
	if err != nil {
		return nil, err
	}
	e, ok := lock.Find(ref, version)
	if !ok {
		return nil, fmt.Errorf("chart %s version %s is not pulled (not in %s); generation never downloads: run %s", ref, version, l.name, l.command)
	}
	c, err := charts.LoadPulled(l.dir, e, l.name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("chart %s version %s is not pulled: %w; run %s", ref, version, err, l.command)
	case err != nil:
		return nil, fmt.Errorf("%w; run %s to fetch it again", err, l.command)
	}
	return c, nil
}

// lockDigest fingerprints the chart lock of inputs and the pulled files it
// names, so that a re-pulled chart or an edited lock is seen by a run
// whose inventory is unchanged.
func lockDigest(inputs []inventory.Input) []string {
	l := newChartLock(inputs)
	data, err := os.ReadFile(l.name)
	if err != nil {
		return nil
	}
	parts := []string{l.name + "=" + charts.FileDigest(data)}
	lock, err := charts.ParseLock(l.name, data)
	if err != nil {
		return parts
	}
	for _, e := range lock.Entries {
		sum := "missing"
		if b, err := os.ReadFile(filepath.Join(l.dir, filepath.FromSlash(e.File))); err == nil {
			sum = charts.FileDigest(b)
		}
		parts = append(parts, fmt.Sprintf("%s=%s", e.File, sum))
	}
	return parts
}
