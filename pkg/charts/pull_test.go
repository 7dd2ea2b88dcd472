package charts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"

	"github.com/fleetgen/fleetgen/pkg/charts/chartref"
)

// packageChart packages the chart directory src (its Chart.yaml version
// set to version when not "", a values.yaml line added when extra is not
// "") and returns the .tgz bytes.
func packageChart(t *testing.T, src, version, extra string) []byte {
	t.Helper()
	c, err := loader.LoadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	if version != "" {
		c.Metadata.Version = version
	}
	if extra != "" {
		for _, f := range c.Raw {
			if f.Name == "values.yaml" {
				f.Data = append(append([]byte{}, f.Data...), extra+"\n"...)
			}
		}
	}
	p, err := chartutil.Save(c, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return readFile(t, p)
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// chartServer is a test chart repository (index.yaml and packages under
// /stable/) and OCI registry (the distribution endpoints Helm's client
// pulls with, under /v2/), in one plain-HTTP server on the loopback.
type chartServer struct {
	*httptest.Server
	files    map[string][]byte // path -> content, for the chart repository
	requests atomic.Int64
}

func newChartServer(t *testing.T) *chartServer {
	t.Helper()
	cs := &chartServer{files: map[string][]byte{}}
	cs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cs.requests.Add(1)
		data, ok := cs.files[r.URL.Path]
		switch {
		case r.URL.Path == "/v2/":
			w.WriteHeader(http.StatusOK)
			return
		case !ok:
			http.NotFound(w, r)
			return
		}
		if strings.Contains(r.URL.Path, "/manifests/") {
			w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
			w.Header().Set("Docker-Content-Digest", "sha256:"+FileDigest(data))
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(data)))
		if r.Method != http.MethodHead {
			w.Write(data)
		}
	}))
	t.Cleanup(cs.Close)
	return cs
}

// addRepoChart serves chart data as NAME-VERSION.tgz in the repository
// /stable, listed in its index.yaml (with its digest unless digest is
// false).
func (cs *chartServer) addRepoChart(t *testing.T, name, version string, data []byte, digest bool) {
	t.Helper()
	file := fmt.Sprintf("%s-%s.tgz", name, version)
	cs.files["/stable/"+file] = data
	idx := "apiVersion: v1\nentries:\n"
	entries := map[string][]string{}
	for p := range cs.files {
		if strings.HasPrefix(p, "/stable/") && strings.HasSuffix(p, ".tgz") {
			base := strings.TrimSuffix(strings.TrimPrefix(p, "/stable/"), ".tgz")
			i := strings.LastIndex(base, "-")
			entries[base[:i]] = append(entries[base[:i]], base[i+1:])
		}
	}
	for n, vs := range entries {
		idx += "  " + n + ":\n"
		for _, v := range vs {
			idx += fmt.Sprintf("    - {apiVersion: v2, name: %s, version: %q, urls: [%s-%s.tgz]", n, v, n, v)
			if digest {
				idx += ", digest: " + FileDigest(cs.files["/stable/"+n+"-"+v+".tgz"])
			}
			idx += "}\n"
		}
	}
	cs.files["/stable/index.yaml"] = []byte(idx)
}

// addOCIChart serves chart data as repository charts/NAME, tag VERSION,
// the way helm push stores it, and returns the manifest's digest.
func (cs *chartServer) addOCIChart(t *testing.T, name, version string, data []byte) string {
	t.Helper()
	config := []byte(fmt.Sprintf(`{"apiVersion":"v2","name":%q,"version":%q}`, name, version))
	manifest, err := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"config":        map[string]any{"mediaType": "application/vnd.cncf.helm.config.v1+json", "digest": "sha256:" + FileDigest(config), "size": len(config)},
		"layers":        []any{map[string]any{"mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip", "digest": "sha256:" + FileDigest(data), "size": len(data)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	repo := "/v2/charts/" + name
	cs.files[repo+"/manifests/"+chartref.OCITag(version)] = manifest
	cs.files[repo+"/manifests/sha256:"+FileDigest(manifest)] = manifest
	cs.files[repo+"/blobs/sha256:"+FileDigest(config)] = config
	cs.files[repo+"/blobs/sha256:"+FileDigest(data)] = data
	return "sha256:" + FileDigest(manifest)
}

func (cs *chartServer) host() string { return strings.TrimPrefix(cs.URL, "http://") }

func mustRef(t *testing.T, chart, repo string) Ref {
	t.Helper()
	r, err := ParseRef(chart, repo)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func readLock(t *testing.T, dir string) *Lock {
	t.Helper()
	l, err := ParseLock(LockFileName, readFile(t, filepath.Join(dir, LockFileName)))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestPullHTTPRepository(t *testing.T) {
	cs := newChartServer(t)
	data := packageChart(t, "testdata/edge-agent", "", "")
	cs.addRepoChart(t, "edge-agent", "0.3.1", data, true)
	ref := mustRef(t, "edge-agent", cs.URL+"/stable/")
	dir := t.TempDir()
	ctx := context.Background()

	res, err := Pull(ctx, dir, []Want{{ref, "0.3.1"}}, PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	file := "charts/.pulled/http/" + strings.ReplaceAll(cs.host(), ":", "_") + "/stable/edge-agent-0.3.1.tgz"
	if len(res.Changes) != 1 || res.Changes[0].Status != StatusPulled || res.Changes[0].Entry.File != file || !res.Wrote {
		t.Fatalf("first pull: %+v", res)
	}
	lock := readLock(t, dir)
	want := LockEntry{Repo: cs.URL + "/stable", Chart: "edge-agent", Version: "0.3.1", File: file, SHA256: FileDigest(data), Line: 7}
	if len(lock.Entries) != 1 || lock.Entries[0] != want {
		t.Fatalf("lock entries %+v, want %+v", lock.Entries, want)
	}
	c, err := LoadPulled(dir, lock.Entries[0], LockFileName)
	if err != nil {
		t.Fatal(err)
	}
	if c.Name() != "edge-agent" || c.Version() != "0.3.1" {
		t.Fatalf("loaded %s %s", c.Name(), c.Version())
	}

	// A second pull finds everything in place: no request, nothing written.
	before := cs.requests.Load()
	lockBytes, _ := os.ReadFile(filepath.Join(dir, LockFileName))
	res, err = Pull(ctx, dir, []Want{{ref, "0.3.1"}}, PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Wrote || res.Changes[0].Status != StatusPresent || cs.requests.Load() != before {
		t.Fatalf("second pull wrote %v, status %s, %d requests", res.Wrote, res.Changes[0].Status, cs.requests.Load()-before)
	}
	if again, _ := os.ReadFile(filepath.Join(dir, LockFileName)); !bytes.Equal(again, lockBytes) {
		t.Fatal("the second pull changed the lock")
	}

	// A damaged file is refused at load and fetched again by pull.
	pulled := filepath.Join(dir, filepath.FromSlash(file))
	if err := os.WriteFile(pulled, []byte("tampered"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadPulled(dir, lock.Entries[0], LockFileName); err == nil || !strings.Contains(err.Error(), "the file changed since it was pulled") {
		t.Fatalf("tampered file loaded: %v", err)
	}
	if _, err := Pull(ctx, dir, []Want{{ref, "0.3.1"}}, PullOptions{Check: true}); !isStale(err) {
		t.Fatalf("check of a tampered file: %v", err)
	}
	if _, err := Pull(ctx, dir, []Want{{ref, "0.3.1"}}, PullOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(pulled); !bytes.Equal(got, data) {
		t.Fatal("pull did not restore the locked file")
	}

	// The repository now serves other bytes for the locked version.
	other := packageChart(t, "testdata/edge-agent", "", "# republished")
	cs.addRepoChart(t, "edge-agent", "0.3.1", other, true)
	os.Remove(pulled)
	_, err = Pull(ctx, dir, []Want{{ref, "0.3.1"}}, PullOptions{})
	if err == nil || !strings.Contains(err.Error(), "published again under the same version") {
		t.Fatalf("republished version: %v", err)
	}
	if _, err := os.Stat(pulled); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("a refused pull wrote the file")
	}

	// A version the repository does not have.
	_, err = Pull(ctx, dir, []Want{{ref, "9.9.9"}}, PullOptions{})
	var nf *NotFoundError
	if !errors.As(err, &nf) || !strings.Contains(err.Error(), "version 9.9.9 is not in chart repository") || !strings.Contains(err.Error(), "it has 0.3.1") {
		t.Fatalf("missing version: %v", err)
	}
	if got := readLock(t, dir); len(got.Entries) != 1 {
		t.Fatal("a failed pull changed the lock")
	}

	// Nothing wanted any more: the entry is dropped, its directory too.
	cs.addRepoChart(t, "edge-agent", "0.3.1", data, true)
	if _, err := Pull(ctx, dir, []Want{{ref, "0.3.1"}}, PullOptions{}); err != nil {
		t.Fatal(err)
	}
	res, err = Pull(ctx, dir, nil, PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Changes) != 1 || res.Changes[0].Status != StatusRemoved {
		t.Fatalf("changes %+v", res.Changes)
	}
	if _, err := os.Stat(filepath.Join(dir, "charts", ".pulled")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("pulled directory left behind: %v", err)
	}
	if got := readLock(t, dir); len(got.Entries) != 0 {
		t.Fatalf("lock entries %+v", got.Entries)
	}
}

func TestPullHTTPDigestMismatch(t *testing.T) {
	cs := newChartServer(t)
	data := packageChart(t, "testdata/edge-agent", "", "")
	cs.addRepoChart(t, "edge-agent", "0.3.1", data, true)
	cs.files["/stable/edge-agent-0.3.1.tgz"] = packageChart(t, "testdata/edge-agent", "", "# swapped")
	_, err := Pull(context.Background(), t.TempDir(), []Want{{mustRef(t, "edge-agent", cs.URL+"/stable"), "0.3.1"}}, PullOptions{})
	if err == nil || !strings.Contains(err.Error(), "the repository's index says") {
		t.Fatalf("digest mismatch: %v", err)
	}
}

func TestPullOCI(t *testing.T) {
	cs := newChartServer(t)
	data := packageChart(t, "testdata/edge-agent", "0.3.1+build.2", "")
	manifest := cs.addOCIChart(t, "edge-agent", "0.3.1+build.2", data)
	ref := mustRef(t, "oci://"+cs.host()+"/charts/edge-agent", "")
	dir := t.TempDir()
	res, err := Pull(context.Background(), dir, []Want{{ref, "0.3.1+build.2"}}, PullOptions{PlainHTTP: true, RegistryConfig: filepath.Join(t.TempDir(), "config.json")})
	if err != nil {
		t.Fatal(err)
	}
	e := res.Changes[0].Entry
	file := "charts/.pulled/oci/" + strings.ReplaceAll(cs.host(), ":", "_") + "/charts/edge-agent-0.3.1+build.2.tgz"
	if e.ManifestDigest != manifest || e.SHA256 != FileDigest(data) || e.File != file || e.Repo != "" || e.Chart != ref.URL {
		t.Fatalf("entry %+v", e)
	}
	lock := readLock(t, dir)
	if lock.Entries[0].ManifestDigest != manifest {
		t.Fatalf("lock %+v", lock.Entries)
	}
	if _, err := LoadPulled(dir, lock.Entries[0], LockFileName); err != nil {
		t.Fatal(err)
	}

	_, err = Pull(context.Background(), dir, []Want{{ref, "1.0.0"}}, PullOptions{PlainHTTP: true, RegistryConfig: filepath.Join(t.TempDir(), "config.json")})
	var nf *NotFoundError
	if !errors.As(err, &nf) || !strings.Contains(err.Error(), "version 1.0.0 (tag 1.0.0) is not in the registry") {
		t.Fatalf("missing tag: %v", err)
	}
}

func TestPullCheckWritesNothing(t *testing.T) {
	dir := t.TempDir()
	ref := mustRef(t, "oci://registry.invalid/charts/edge-agent", "")
	_, err := Pull(context.Background(), dir, []Want{{ref, "0.3.1"}}, PullOptions{Check: true})
	if !isStale(err) || !strings.Contains(err.Error(), "oci://registry.invalid/charts/edge-agent 0.3.1: not pulled") {
		t.Fatalf("check: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("check wrote %v", entries)
	}
	// No remote chart and no lock: nothing to do, no lock created.
	if _, err := Pull(context.Background(), dir, nil, PullOptions{}); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("a pull of nothing wrote %v", entries)
	}
}

func isStale(err error) bool {
	var s *StaleError
	return errors.As(err, &s)
}
