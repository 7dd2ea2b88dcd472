package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"

	"github.com/fleetgen/fleetgen/pkg/cache"
	"github.com/fleetgen/fleetgen/pkg/charts"
)

const ociChart = "oci://registry.example.com/charts/edge-agent"

// packagedChart is the test chart packaged, with extra appended to its
// values.yaml when not "".
func packagedChart(t *testing.T, extra string) []byte {
	t.Helper()
	src := filepath.Join(t.TempDir(), "edge-agent")
	if err := os.CopyFS(src, os.DirFS("../charts/testdata/edge-agent")); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(src, "values.yaml"), os.O_APPEND|os.O_WRONLY, 0)
	if err == nil {
		_, err = f.WriteString(extra + "\n")
		err = errors.Join(err, f.Close())
	}
	c, lerr := loader.LoadDir(src)
	if err = errors.Join(err, lerr); err != nil {
		t.Fatal(err)
	}
	p, err := chartutil.Save(c, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// lockChart writes data as the pulled file of the OCI chart at 0.3.1 and
// a lock naming it, as charts pull would.
func lockChart(t *testing.T, dir string, data []byte) string {
	t.Helper()
	ref, err := charts.ParseRef(ociChart, "")
	if err != nil {
		t.Fatal(err)
	}
	file := charts.PulledPath(ref, "0.3.1")
	p := filepath.Join(dir, filepath.FromSlash(file))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	lock := &charts.Lock{Entries: []charts.LockEntry{{Chart: ociChart, Version: "0.3.1", File: file, SHA256: charts.FileDigest(data)}}}
	if err := os.WriteFile(filepath.Join(dir, ChartLockFile), lock.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// remoteChartsFleet is the charts benchmark fleet with its chart taken
// from an OCI registry instead of the repository.
func remoteChartsFleet(t *testing.T, sites int) (string, []byte) {
	dir, inv := chartsFleet(t, sites, "0.3.1")
	if err := os.RemoveAll(filepath.Join(dir, "charts", "edge-agent")); err != nil {
		t.Fatal(err)
	}
	return dir, bytes.Replace(inv, []byte("chart: charts/edge-agent"), []byte(`chart: "`+ociChart+`"`), 1)
}

func runInput(t *testing.T, dir string, inv []byte) error {
	t.Helper()
	invPath := filepath.Join(dir, "inventory.yaml")
	if err := os.WriteFile(invPath, inv, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Run(context.Background(), Options{Inventories: []string{invPath}, Output: filepath.Join(dir, "fleet")})
	return err
}

// A remote chart renders from its pulled file only: not in the lock, a
// missing file and a file that differs from the lock are bad input naming
// the site, the release and the inventory line, with the command to run.
func TestRemoteChartFromLock(t *testing.T) {
	dir, inv := remoteChartsFleet(t, 3)
	line := 1 + bytes.Count(inv[:bytes.Index(inv, []byte(ociChart))], []byte("\n"))
	where := fmt.Sprintf("inventory.yaml:%d:", line)
	pullCmd := "run fleetgen charts pull -i " + filepath.Join(dir, "inventory.yaml")

	check := func(name string, want ...string) {
		t.Helper()
		err := runInput(t, dir, inv)
		var ie *InputError
		if !errors.As(err, &ie) {
			t.Fatalf("%s: error %v, want bad input", name, err)
		}
		for _, w := range append(want, where, `site "`, `release "edge-agent"`) {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not contain %q", name, err, w)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "fleet")); err == nil {
			t.Errorf("%s: the tree was written", name)
		}
	}
	check("no lock", "chart "+ociChart+" version 0.3.1 is not pulled (not in "+filepath.Join(dir, ChartLockFile)+")", pullCmd)

	data := packagedChart(t, "")
	pulled := lockChart(t, dir, data)
	if err := runInput(t, dir, inv); err != nil {
		t.Fatalf("with the chart pulled: %v", err)
	}

	if err := os.WriteFile(pulled, append(data, 0), 0o644); err != nil {
		t.Fatal(err)
	}
	check("tampered", "the file changed since it was pulled", ChartLockFile+":7 locks", "to fetch it again")

	if err := os.Remove(pulled); err != nil {
		t.Fatal(err)
	}
	check("missing file", "is not pulled", "no such file", pullCmd)

	if err := os.WriteFile(filepath.Join(dir, ChartLockFile), []byte("apiVersion: v1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	check("bad lock", ChartLockFile+":1:13: apiVersion must be fleetgen.dev/v1alpha1")
}

// A re-pulled chart (the lock and its file changed, the inventory not)
// re-renders what uses it, in an incremental run as in a cold one.
func TestIncrementalRePulledChart(t *testing.T) {
	dir, inv := remoteChartsFleet(t, 12)
	lockChart(t, dir, packagedChart(t, ""))
	c, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if n := generateCharts(t, dir, inv, c); n != 12 {
		t.Fatalf("cold run verified %d sites, want 12", n)
	}
	if n := generateCharts(t, dir, inv, c); n != 0 {
		t.Fatalf("an unchanged run verified %d sites, want 0", n)
	}
	rendered := func() string {
		var b strings.Builder
		matches, _ := filepath.Glob(filepath.Join(dir, "fleet", ChartsDir, "edge-agent-*", "templates", "configmap.yaml"))
		if len(matches) != 3 {
			t.Fatalf("%d renders, want 3", len(matches))
		}
		for _, m := range matches {
			data, _ := os.ReadFile(m)
			b.Write(data)
		}
		return b.String()
	}
	if strings.Contains(rendered(), "republished") {
		t.Fatal("the first chart renders the extra ConfigMap")
	}
	lockChart(t, dir, packagedChart(t, "extra: republished"))
	if n := generateCharts(t, dir, inv, c); n != 12 {
		t.Errorf("after a re-pull %d sites verified, want 12", n)
	}
	if got := rendered(); strings.Count(got, "extra: republished") != 3 {
		t.Errorf("the renders do not come from the re-pulled chart:\n%s", got)
	}
}

// PullCharts downloads what the merged inventory uses from an HTTP(S)
// chart repository, and generation then renders it; a version the
// repository does not have is bad input naming the site and line.
func TestPullChartsHTTP(t *testing.T) {
	repo := t.TempDir()
	data := packagedChart(t, "")
	if err := os.WriteFile(filepath.Join(repo, "edge-agent-0.3.1.tgz"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	index := "apiVersion: v1\nentries:\n  edge-agent:\n    - {apiVersion: v2, name: edge-agent, version: 0.3.1, urls: [edge-agent-0.3.1.tgz], digest: " + charts.FileDigest(data) + "}\n"
	if err := os.WriteFile(filepath.Join(repo, "index.yaml"), []byte(index), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(repo)))
	defer srv.Close()

	dir, inv := chartsFleet(t, 3, "0.3.1")
	if err := os.RemoveAll(filepath.Join(dir, "charts", "edge-agent")); err != nil {
		t.Fatal(err)
	}
	inv = bytes.Replace(inv, []byte("chart: charts/edge-agent"), []byte("repo: "+srv.URL+"\n      chart: edge-agent"), 1)
	invPath := filepath.Join(dir, "inventory.yaml")
	if err := os.WriteFile(invPath, inv, 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := PullCharts(context.Background(), PullOptions{Inventories: []string{invPath}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Charts) != 1 || rep.Charts[0].Status != charts.StatusPulled || rep.Charts[0].Chart != "edge-agent (repo "+srv.URL+")" || !rep.Wrote {
		t.Fatalf("report %+v", rep)
	}
	if _, err := PullCharts(context.Background(), PullOptions{Inventories: []string{invPath}, Check: true}); err != nil {
		t.Fatalf("check after pull: %v", err)
	}
	if err := runInput(t, dir, inv); err != nil {
		t.Fatalf("generate after pull: %v", err)
	}

	bumped := bytes.Replace(inv, []byte("version: 0.3.1"), []byte("version: 0.4.0"), 1)
	if err := os.WriteFile(invPath, bumped, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = PullCharts(context.Background(), PullOptions{Inventories: []string{invPath}, Check: true})
	var stale *PullStaleError
	if !errors.As(err, &stale) || !strings.Contains(err.Error(), "0.4.0: not pulled") || !strings.Contains(err.Error(), "no longer used") {
		t.Fatalf("check after a version bump: %v", err)
	}
	_, err = PullCharts(context.Background(), PullOptions{Inventories: []string{invPath}})
	var ie *InputError
	line := 1 + bytes.Count(bumped[:bytes.Index(bumped, []byte("version: 0.4.0"))], []byte("\n"))
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), fmt.Sprintf("inventory.yaml:%d:16: site ", line)) || !strings.Contains(err.Error(), "chart edge-agent version 0.4.0 is not in chart repository") {
		t.Fatalf("a version the repository lacks: %v", err)
	}
}
