package charts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/getter"
	"helm.sh/helm/v4/pkg/registry"
	repo "helm.sh/helm/v4/pkg/repo/v1"
	"oras.land/oras-go/v2/errdef"
	"sigs.k8s.io/yaml"

	"github.com/fleetgen/fleetgen/pkg/charts/chartref"
)

// PullOptions say how Fetch and Pull reach registries and chart
// repositories.
type PullOptions struct {
	// PlainHTTP talks to OCI registries over plain HTTP instead of HTTPS
	// (a registry on the local network, or a test's).
	PlainHTTP bool
	// RegistryConfig is the credentials file for OCI registries; "" for
	// Helm's (helm registry login), which falls back to Docker's.
	RegistryConfig string
	// Timeout bounds each download; 0 for two minutes.
	Timeout time.Duration
	// Check only checks the lock and the pulled files, offline: Pull
	// reports what a pull would change as a *StaleError and writes
	// nothing.
	Check bool
}

// NotFoundError is a chart or version that its registry or repository
// does not have: the inventory names something that does not exist.
type NotFoundError struct{ Err error }

func (e *NotFoundError) Error() string { return e.Err.Error() }
func (e *NotFoundError) Unwrap() error { return e.Err }

// Fetch downloads one version of a remote chart: with Helm's registry
// client for oci://, through the repository's index.yaml for an HTTP(S)
// chart repository. It returns the packaged chart and, for OCI, the digest
// of the manifest it came with.
func Fetch(ctx context.Context, ref Ref, version string, opts PullOptions) (data []byte, manifest string, err error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = 2 * time.Minute
	}
	switch ref.Kind {
	case chartref.OCI:
		data, manifest, err = fetchOCI(ref, version, opts, timeout)
	case chartref.HTTP:
		data, err = fetchHTTP(ref, version, timeout)
	default:
		return nil, "", fmt.Errorf("chart %s is not remote", ref)
	}
	if err != nil {
		return nil, "", err
	}
	c, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		return nil, "", fmt.Errorf("%s %s: the download is not a chart: %w", ref, version, err)
	}
	if c.Name() != ref.Name || c.Metadata.Version != version {
		return nil, "", fmt.Errorf("%s %s: the download is chart %s %s", ref, version, c.Name(), c.Metadata.Version)
	}
	return data, manifest, nil
}

func fetchOCI(ref Ref, version string, opts PullOptions, timeout time.Duration) ([]byte, string, error) {
	copts := []registry.ClientOption{registry.ClientOptWriter(io.Discard), registry.ClientOptHTTPClient(&http.Client{Timeout: timeout, Transport: registry.NewTransport(false)})}
	if opts.PlainHTTP {
		copts = append(copts, registry.ClientOptPlainHTTP())
	}
	if opts.RegistryConfig != "" {
		copts = append(copts, registry.ClientOptCredentialsFile(opts.RegistryConfig))
	}
	client, err := registry.NewClient(copts...)
	if err != nil {
		return nil, "", fmt.Errorf("OCI registry client: %w", err)
	}
	res, err := client.Pull(ref.OCIReference(version))
	if errors.Is(err, errdef.ErrNotFound) {
		return nil, "", &NotFoundError{fmt.Errorf("%s: version %s (tag %s) is not in the registry: %w", ref, version, chartref.OCITag(version), err)}
	}
	if err != nil {
		return nil, "", fmt.Errorf("pulling %s version %s: %w", ref, version, err)
	}
	return res.Chart.Data, res.Manifest.Digest, nil
}

func fetchHTTP(ref Ref, version string, timeout time.Duration) ([]byte, error) {
	g, err := getter.NewHTTPGetter(getter.WithTimeout(timeout))
	if err != nil {
		return nil, err
	}
	indexURL, err := repo.ResolveReferenceURL(ref.URL, "index.yaml")
	if err != nil {
		return nil, err
	}
	buf, err := g.Get(indexURL)
	if err != nil {
		return nil, fmt.Errorf("reading the index of chart repository %s: %w", ref.URL, err)
	}
	var index repo.IndexFile
	if err := yaml.Unmarshal(buf.Bytes(), &index); err != nil {
		return nil, fmt.Errorf("%s: not a chart repository index: %w", indexURL, err)
	}
	versions, ok := index.Entries[ref.Name]
	if !ok {
		return nil, &NotFoundError{fmt.Errorf("chart %s is not in the index of chart repository %s", ref.Name, ref.URL)}
	}
	var cv *repo.ChartVersion
	var have []string
	for _, v := range versions {
		if v == nil || v.Metadata == nil {
			continue
		}
		if v.Version == version {
			cv = v
			break
		}
		have = append(have, v.Version)
	}
	if cv == nil {
		if len(have) > 5 {
			have = append(have[:5], "...")
		}
		return nil, &NotFoundError{fmt.Errorf("chart %s version %s is not in chart repository %s (it has %s)", ref.Name, version, ref.URL, strings.Join(have, ", "))}
	}
	if len(cv.URLs) == 0 {
		return nil, fmt.Errorf("chart %s version %s in %s has no download URL", ref.Name, version, indexURL)
	}
	chartURL, err := repo.ResolveReferenceURL(ref.URL, cv.URLs[0])
	if err != nil {
		return nil, err
	}
	buf, err = g.Get(chartURL)
	if err != nil {
		return nil, fmt.Errorf("downloading chart %s version %s: %w", ref.Name, version, err)
	}
	data := buf.Bytes()
	if cv.Digest != "" && strings.TrimPrefix(cv.Digest, "sha256:") != FileDigest(data) {
		return nil, fmt.Errorf("chart %s version %s from %s: the download has sha256 %s, the repository's index says %s", ref.Name, version, chartURL, FileDigest(data), cv.Digest)
	}
	return data, nil
}

// Want is a remote chart version the inventory uses.
type Want struct {
	Ref     Ref
	Version string
}

// WantError is a wanted chart version that could not be pulled; Index is
// its index in the wants given to Pull.
type WantError struct {
	Index int
	Err   error
}

func (e *WantError) Error() string { return e.Err.Error() }
func (e *WantError) Unwrap() error { return e.Err }

// Pull statuses, as PullChange.Status.
const (
	StatusPresent = "present" // the file is there and matches the lock
	StatusPulled  = "pulled"  // downloaded (and, when new, locked)
	StatusRemoved = "removed" // no longer used: dropped from the lock
)

// PullChange is what Pull did, or with Check would do, about one chart
// version.
type PullChange struct {
	Entry  LockEntry
	Status string
}

// PullResult is the outcome of Pull.
type PullResult struct {
	// Lock is the lock file's path.
	Lock string
	// Changes lists every wanted chart version and every lock entry
	// dropped, in the lock's order.
	Changes []PullChange
	// Wrote is whether the lock or a pulled file was written or removed.
	Wrote bool
}

// StaleError is what Pull with Check found out of date.
type StaleError struct {
	Lock     string
	Problems []string
}

func (e *StaleError) Error() string {
	return fmt.Sprintf("%s is not up to date with the inventory:\n  %s\nrun fleetgen charts pull", e.Lock, strings.Join(e.Problems, "\n  "))
}

// Pull makes the lock file in dir (LockFileName) and the pulled charts
// under dir/PulledDir hold exactly wants: a version whose file is there
// with the locked SHA-256 is not downloaded again; one whose file is
// missing or differs is downloaded and must match its lock entry (a
// registry serving other bytes for a locked version is an error); a new
// one is downloaded and locked; entries no longer wanted are dropped,
// their files removed when they still hold what was locked. Every
// download happens before anything is written, so a failed pull writes
// nothing; the lock is written last, and only when its bytes change.
func Pull(ctx context.Context, dir string, wants []Want, opts PullOptions) (*PullResult, error) {
	lockPath := filepath.Join(dir, LockFileName)
	lockName := lockPath
	lock := &Lock{Name: lockName}
	old, err := os.ReadFile(lockPath)
	switch {
	case err == nil:
		if lock, err = ParseLock(lockName, old); err != nil {
			return nil, err
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	res := &PullResult{Lock: lockPath}
	next := &Lock{Name: lockName}
	type download struct {
		entry LockEntry
		data  []byte
	}
	var downloads []download
	var stale []string
	var errs []error
	for i, w := range wants {
		e, locked := lock.Find(w.Ref, w.Version)
		if locked {
			if data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(e.File))); err == nil && FileDigest(data) == e.SHA256 {
				next.Entries = append(next.Entries, e)
				res.Changes = append(res.Changes, PullChange{Entry: e, Status: StatusPresent})
				continue
			}
		}
		if opts.Check {
			if locked {
				stale = append(stale, fmt.Sprintf("%s %s: %s is missing or differs from %s:%d", w.Ref, w.Version, e.File, lockName, e.Line))
			} else {
				stale = append(stale, fmt.Sprintf("%s %s: not pulled", w.Ref, w.Version))
			}
			continue
		}
		data, manifest, err := Fetch(ctx, w.Ref, w.Version, opts)
		if err != nil {
			errs = append(errs, &WantError{Index: i, Err: err})
			continue
		}
		sum := FileDigest(data)
		if locked && sum != e.SHA256 {
			errs = append(errs, &WantError{Index: i, Err: fmt.Errorf("%s %s: the download has sha256 %s, but %s:%d locks %s: the chart was published again under the same version; to accept it, delete that entry and pull again", w.Ref, w.Version, sum, lockName, e.Line, e.SHA256)})
			continue
		}
		if !locked {
			e = LockEntry{Chart: w.Ref.URL, Version: w.Version, File: PulledPath(w.Ref, w.Version), SHA256: sum, ManifestDigest: manifest}
			if w.Ref.Kind == chartref.HTTP {
				e.Repo, e.Chart = w.Ref.URL, w.Ref.Name
			}
		}
		downloads = append(downloads, download{e, data})
		next.Entries = append(next.Entries, e)
		res.Changes = append(res.Changes, PullChange{Entry: e, Status: StatusPulled})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	kept := map[string]bool{}
	for _, e := range next.Entries {
		kept[e.File] = true
	}
	var removed []LockEntry
	for _, e := range lock.Entries {
		if r, err := e.Ref(); err == nil && slices.ContainsFunc(wants, func(w Want) bool { return w.Ref == r && w.Version == e.Version }) {
			continue
		}
		removed = append(removed, e)
		res.Changes = append(res.Changes, PullChange{Entry: e, Status: StatusRemoved})
		stale = append(stale, fmt.Sprintf("%s:%d: %s %s is no longer used by the inventory", lockName, e.Line, describeEntry(e), e.Version))
	}
	data := next.Marshal()
	if opts.Check {
		if len(stale) == 0 && !bytes.Equal(data, old) {
			stale = append(stale, lockName+" is not as pull writes it")
		}
		if len(stale) > 0 {
			return res, &StaleError{Lock: lockName, Problems: stale}
		}
		return res, nil
	}
	for _, d := range downloads {
		if err := writeFileAtomic(filepath.Join(dir, filepath.FromSlash(d.entry.File)), d.data); err != nil {
			return res, err
		}
		res.Wrote = true
	}
	for _, e := range removed {
		p := filepath.Join(dir, filepath.FromSlash(e.File))
		if kept[e.File] {
			continue
		}
		if cur, err := os.ReadFile(p); err == nil && FileDigest(cur) == e.SHA256 {
			if err := os.Remove(p); err != nil {
				return res, err
			}
			removeEmptyDirs(filepath.Dir(p), filepath.Join(dir, filepath.FromSlash(PulledDir)))
			res.Wrote = true
		}
	}
	if !bytes.Equal(data, old) && (len(next.Entries) > 0 || old != nil) {
		if err := writeFileAtomic(lockPath, data); err != nil {
			return res, err
		}
		res.Wrote = true
	}
	return res, nil
}

// writeFileAtomic writes data to p through a temporary file in the same
// directory, made durable and renamed over p.
func writeFileAtomic(p string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(p), "."+filepath.Base(p)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, p)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", p, err)
	}
	return nil
}

// removeEmptyDirs removes dir and its parents while they are empty, up to
// and including stop.
func removeEmptyDirs(dir, stop string) {
	for {
		rel, err := filepath.Rel(stop, dir)
		if err != nil || strings.HasPrefix(rel, "..") {
			return
		}
		if os.Remove(dir) != nil || rel == "." {
			return
		}
		dir = filepath.Dir(dir)
	}
}
