package pipeline

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetgen/fleetgen/pkg/charts"
	"github.com/fleetgen/fleetgen/pkg/gitops"
	"github.com/fleetgen/fleetgen/pkg/inventory"
)

// releaseGoldenDir holds the release-mode files of the tree generated from
// testdata/releases/inventory.yaml.
const releaseGoldenDir = "../../testdata/golden/release-fleet"

// runReleases generates the inventory text in a fresh directory holding
// the test chart (charts/edge-agent), with the tree at fleet/ (gitops.path
// fleet), so the chart is at charts/edge-agent from the repository's root.
func runReleases(t *testing.T, inventory string) (*Result, error) {
	t.Helper()
	dir := t.TempDir()
	err := filepath.WalkDir("testdata/releases/charts", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel("testdata/releases", p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	inv := filepath.Join(dir, "inventory.yaml")
	if err := os.WriteFile(inv, []byte(inventory), 0o644); err != nil {
		t.Fatal(err)
	}
	return Run(context.Background(), Options{Inventory: inv, Output: filepath.Join(dir, "fleet")})
}

func releaseInventory(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("testdata/releases/inventory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// isReleaseGolden reports whether a tree file is one the release golden
// test compares: each site's charts Component and release files, its Flux
// sync objects and its applier.
func isReleaseGolden(p string) bool {
	parts := strings.Split(p, "/")
	switch {
	case len(parts) == 4 && parts[0] == "overlays" && parts[2] == chartComponentDir:
		return true
	case len(parts) == 3 && parts[0] == gitops.ClustersDir && (parts[2] == "fleet-sync.yaml" || parts[2] == gitops.ApplierFile):
		return true
	}
	return false
}

// TestReleaseGolden generates testdata/releases/inventory.yaml (mode
// release with a local chart, a registry mirror, another namespace, an
// airgapped site, and mode rendered beside) and compares each site's
// chart and Flux files with testdata/golden/release-fleet. Refresh with:
// go test ./pkg/pipeline -run TestReleaseGolden -update
func TestReleaseGolden(t *testing.T) {
	res, err := runReleases(t, releaseInventory(t))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Report.OK() {
		for _, r := range res.Report.Failed() {
			t.Errorf("site %s: %v", r.Site, r.Err)
		}
		t.Fatalf("release fleet does not verify: %s", res.Report.Summary())
	}
	got := map[string][]byte{}
	for _, f := range res.Tree.Files {
		if strings.HasPrefix(f.Path, releaseCheckDir) {
			t.Errorf("%s: a verification-only file is in the tree to write", f.Path)
		}
		if isReleaseGolden(f.Path) {
			got[f.Path] = f.Data
		}
	}
	checkGolden(t, releaseGoldenDir, got)
}

// checkGolden compares files by path with the golden tree under dir, or
// with -update rewrites that tree from them.
func checkGolden(t *testing.T, dir string, got map[string][]byte) {
	t.Helper()
	if *update {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		for p, data := range got {
			dst := filepath.Join(dir, filepath.FromSlash(p))
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(dst, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	want := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		want[filepath.ToSlash(rel)] = data
		return err
	})
	if err != nil {
		t.Fatalf("reading the golden tree (run with -update to create it): %v", err)
	}
	for p, w := range want {
		switch g, ok := got[p]; {
		case !ok:
			t.Errorf("%s: in golden tree, not generated", p)
		case !bytes.Equal(g, w):
			t.Errorf("%s differs from golden (run with -update and review the diff):\n--- got\n%s\n--- want\n%s", p, g, w)
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("%s: generated, not in golden tree", p)
		}
	}
}

// TestReleaseVerifiesWhatTheClusterGets checks that a site's verification
// saw the chart's objects as helm-controller applies them (post-rendered
// for the site's architecture and mirror, with the release's labels), not
// as committed objects, and reports the site's overlay.
func TestReleaseVerifiesWhatTheClusterGets(t *testing.T) {
	res, err := runReleases(t, releaseInventory(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Report.Results {
		if r.Site != "store-b" {
			continue
		}
		if r.Dir != "overlays/store-b" {
			t.Errorf("store-b reported as %s, want overlays/store-b", r.Dir)
		}
		for _, want := range []string{
			"kind: HelmRelease",
			"name: edge-agent-settings",
			"image: mirror.local:5000/edge/agent:0.3.1",
			"kubernetes.io/arch: amd64",
			"helm.toolkit.fluxcd.io/name: edge-agent",
			"fleetgen.dev/site: store-b",
			"memory: 256Mi",
		} {
			if !bytes.Contains(r.Objects, []byte(want)) {
				t.Errorf("store-b's verified objects lack %q:\n%s", want, r.Objects)
			}
		}
		return
	}
	t.Fatal("no result for store-b")
}

// TestReleaseErrors: bad uses of mode release are bad input naming the
// file, line and site, and nothing is generated.
func TestReleaseErrors(t *testing.T) {
	base := releaseInventory(t)
	for _, tc := range []struct {
		name, old, new string
		want           []string
	}{
		{"argocd", "engine: flux", "engine: argocd",
			[]string{`inventory.yaml:20:13: site "plant": charts.edge-agent.mode: release "edge-agent": mode release writes a Flux HelmRelease, which needs gitops.engine flux (the fleet's engine is "argocd"): use mode rendered`}},
		{"no engine", "  engine: flux\n", "",
			[]string{`inventory.yaml:19:13: site "plant": charts.edge-agent.mode: release "edge-agent": mode release writes a Flux HelmRelease, which needs gitops.engine flux (the fleet's engine is "none")`}},
		{"chart outside the repository", "chart: charts/edge-agent", "chart: ../elsewhere/edge-agent",
			[]string{`inventory.yaml:18:14: site "plant": charts.edge-agent.chart: release "edge-agent": chart ../elsewhere/edge-agent is outside the fleet's repository`}},
		{"chart values against the schema", `siteID: "007"`, `siteID: 7`,
			[]string{`site "plant": charts.edge-agent.values.siteID: release "edge-agent": got number, want string`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(base, tc.old) {
				t.Fatalf("no %q in the fixture", tc.old)
			}
			_, err := runReleases(t, strings.Replace(base, tc.old, tc.new, 1))
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("got %v, want bad input", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
		})
	}
}

// TestBrokenHelmReleaseFailsGenerate gives the check generate runs on each
// release file (upstream Go types and the pinned CRDs) a generated
// HelmRelease with a misspelt field, one with a wrong type, and one that
// breaks a CEL rule of the CRD: each fails, naming the file, the object
// and the field.
func TestBrokenHelmReleaseFailsGenerate(t *testing.T) {
	res, err := runReleases(t, releaseInventory(t))
	if err != nil {
		t.Fatal(err)
	}
	p := path.Join("overlays", "store-a", chartComponentDir, "release-edge-agent.yaml")
	f, ok := res.Tree.Lookup(p)
	if !ok {
		t.Fatalf("no %s", p)
	}
	checker := gitops.NewChecker()
	if errs := checker.CheckObjects(p, f.Data); len(errs) > 0 {
		t.Fatalf("the generated file does not pass: %v", errs)
	}
	obj := p + " (document 1): HelmRelease helm.toolkit.fluxcd.io/v2 edge-app/edge-agent: "
	for _, tc := range []struct {
		name, old, new string
		want           []string
	}{
		{"unknown field", "    strategy:\n      name: RetryOnFailure\n", "    strategy:\n      name: RetryOnFailure\n      retryIntervall: 2m\n",
			[]string{obj + "spec.install.strategy.retryIntervall: unknown field", "(helm-controller v1.6.5 CRD)"}},
		{"wrong type", "  driftDetection:\n    mode: enabled\n", "  driftDetection:\n    mode: [enabled]\n",
			[]string{obj + "spec.driftDetection.mode"}},
		{"CEL rule", "  interval: 10m\n  postRenderers:", "  chartRef: {kind: OCIRepository, name: x}\n  interval: 10m\n  postRenderers:",
			[]string{obj + "spec: Invalid value: either chart or chartRef must be set (helm-controller v1.6.5 CRD)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !bytes.Contains(f.Data, []byte(tc.old)) {
				t.Fatalf("no %q in %s:\n%s", tc.old, p, f.Data)
			}
			errs := checker.CheckObjects(p, bytes.Replace(f.Data, []byte(tc.old), []byte(tc.new), 1))
			all := errors.Join(errs...)
			if all == nil {
				t.Fatal("the broken HelmRelease passed")
			}
			for _, w := range tc.want {
				if !strings.Contains(all.Error(), w) {
					t.Errorf("errors do not contain %q:\n%v", w, all)
				}
			}
		})
	}
}

// TestReleaseSources: where a HelmRelease takes its chart from, by kind of
// chart and network, one source per site and release; every file passes
// the strict check of the Flux types and CRDs.
func TestReleaseSources(t *testing.T) {
	c, err := charts.Load("testdata/releases/charts/edge-agent")
	if err != nil {
		t.Fatal(err)
	}
	rel, err := c.Render(context.Background(), "agent", "edge-app", map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	checker := gitops.NewChecker()
	verify := &inventory.Verify{CosignKeySecret: "fleet-cosign-pub"}
	for _, tc := range []struct {
		name, chart, repo, network string
		want                       []string
		not                        []string
	}{
		{"local", "charts/edge-agent", "", inventory.NetworkOnline,
			[]string{"chart: ./charts/edge-agent", "kind: GitRepository", "name: fleet", "namespace: flux-system"},
			[]string{"kind: OCIRepository", "kind: HelmRepository"}},
		{"http repository", "edge-agent", "https://charts.example.com/stable", inventory.NetworkOnline,
			[]string{"kind: HelmRepository", "url: https://charts.example.com/stable", "chart: edge-agent", "version: 0.3.1+build.1", "kind: HelmRepository\n        name: chart-agent"},
			[]string{"kind: OCIRepository", "GitRepository"}},
		{"oci", "oci://registry.example.com/charts/edge-agent", "", inventory.NetworkOnline,
			[]string{"chartRef:\n    kind: OCIRepository\n    name: chart-agent", "url: oci://registry.example.com/charts/edge-agent", "tag: 0.3.1_build.1", "mediaType: application/vnd.cncf.helm.chart.content.v1.tar+gzip"},
			[]string{"HelmRepository", "GitRepository", "cosign"}},
		{"oci, locked", "oci://registry.example.com/charts/edge-agent", "", inventory.NetworkOnline,
			[]string{"digest: sha256:" + strings.Repeat("ab", 32), "tag: 0.3.1_build.1"},
			nil},
		{"oci, airgapped", "oci://registry.example.com/charts/edge-agent", "", inventory.NetworkAirgapped,
			[]string{"url: oci://mirror.plant.local:5000/charts/edge-agent", "provider: cosign"},
			[]string{"url: oci://registry.example.com", "GitRepository"}},
		{"http repository, airgapped", "edge-agent", "https://charts.example.com/stable", inventory.NetworkAirgapped,
			[]string{"url: oci://mirror.plant.local:5000/charts/edge-agent", "kind: OCIRepository"},
			[]string{"charts.example.com", "HelmRepository"}},
		{"local, airgapped", "charts/edge-agent", "", inventory.NetworkAirgapped,
			[]string{"url: oci://mirror.plant.local:5000/charts/edge-agent", "kind: OCIRepository"},
			[]string{"GitRepository"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &inventory.Site{Name: "plant", Type: "store", Region: "eu", Arch: "arm64", Network: tc.network}
			if tc.network == inventory.NetworkAirgapped {
				s.ImageRegistry = "mirror.plant.local:5000"
			}
			sc := inventory.SiteChart{Chart: tc.chart, Repo: tc.repo, Version: "0.3.1+build.1", Mode: inventory.ChartModeRelease, Values: map[string]any{}}
			if tc.repo == "" && !strings.HasPrefix(tc.chart, "oci://") {
				sc.RepoPath = tc.chart
			}
			r := &chartRender{release: "agent", spec: sc, ns: "edge-app", rel: rel, chart: c}
			if strings.HasSuffix(tc.name, "locked") {
				r.digest = "sha256:" + strings.Repeat("ab", 32)
			}
			f, _, err := releaseFiles(s, r, "edge-app", verify)
			if err != nil {
				t.Fatal(err)
			}
			if errs := checker.CheckObjects(f.Path, f.Data); len(errs) > 0 {
				t.Fatalf("%s does not pass: %v\n%s", f.Path, errs, f.Data)
			}
			for _, w := range tc.want {
				if !bytes.Contains(f.Data, []byte(w)) {
					t.Errorf("no %q in:\n%s", w, f.Data)
				}
			}
			for _, n := range tc.not {
				if bytes.Contains(f.Data, []byte(n)) {
					t.Errorf("%q in:\n%s", n, f.Data)
				}
			}
		})
	}
}

// BenchmarkReleaseFile measures what mode release costs per site and
// release on top of the render: writing the HelmRelease file with its
// verification build and checking it against the Flux types and CRDs.
func BenchmarkReleaseFile(b *testing.B) {
	c, err := charts.Load("testdata/releases/charts/edge-agent")
	if err != nil {
		b.Fatal(err)
	}
	rel, err := c.Render(context.Background(), "agent", "edge-app", map[string]any{"replicas": 3.0})
	if err != nil {
		b.Fatal(err)
	}
	checker := gitops.NewChecker()
	s := &inventory.Site{Name: "store-1", Type: "store", Region: "eu", Arch: "arm64", Network: inventory.NetworkOnline, ImageRegistry: "mirror.local:5000"}
	r := &chartRender{release: "agent", ns: "edge-app", rel: rel, chart: c,
		spec: inventory.SiteChart{Chart: "charts/edge-agent", RepoPath: "charts/edge-agent", Version: "0.3.1", Mode: inventory.ChartModeRelease, Values: map[string]any{"replicas": 3.0}}}
	b.ReportAllocs()
	for b.Loop() {
		f, _, err := releaseFiles(s, r, "edge-app", nil)
		if err != nil {
			b.Fatal(err)
		}
		if errs := checker.CheckObjects(f.Path, f.Data); len(errs) > 0 {
			b.Fatal(errs)
		}
	}
}
