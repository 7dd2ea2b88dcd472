package verify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// variedTree holds overlays that exercise different builtin transformers.
func variedTree() (files, []string) {
	tree := baseFiles()
	var sites []string
	for i := 1; i <= 6; i++ {
		site := fmt.Sprintf("store-%d", i)
		sites = append(sites, site)
		tree = tree.with(siteFiles(site, map[string]string{"SITE": site, "INDEX": fmt.Sprint(i), "MOTD": "welcome to\n" + site}))
	}
	// Variations: JSON 6902 patch, name prefix, replicas, secret generator,
	// replacements.
	tree["overlays/store-2/kustomization.yaml"] += "namePrefix: s2-\nreplicas:\n- name: app\n  count: 3\n"
	tree["overlays/store-3/kustomization.yaml"] += "patchesJson6902:\n- target: {group: apps, version: v1, kind: Deployment, name: app}\n  path: json.yaml\n"
	tree["overlays/store-3/json.yaml"] = "- op: add\n  path: /metadata/annotations/patched\n  value: json6902\n"
	tree["overlays/store-4/kustomization.yaml"] += "secretGenerator:\n- name: creds\n  literals:\n  - token=abc\n"
	tree["overlays/store-5/kustomization.yaml"] += "replacements:\n- source: {kind: ConfigMap, name: site-config, fieldPath: data.SITE}\n  targets:\n  - select: {kind: Deployment, name: app}\n    fieldPaths: [metadata.annotations.site]\n    options: {create: true}\n"
	tree["overlays/store-6/kustomization.yaml"] += "commonAnnotations:\n  note: \"six\"\n"
	return tree, sites
}

func TestNoNetworkForRemoteReferences(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		fmt.Fprint(w, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fetched\n")
	}))
	defer srv.Close()
	for _, k := range []string{
		"resources:\n- " + srv.URL + "/cm.yaml\n",
		"resources:\n- " + srv.URL + "/repo.git\n",
		"resources:\n- ../../base\npatches:\n- path: " + srv.URL + "/p.yaml\n",
		"openapi:\n  path: " + srv.URL + "/schema.json\nresources:\n- ../../base\n",
		"crds:\n- " + srv.URL + "/crd.json\n",
	} {
		fsys := memFS(t, goodTree().with(kust(k)))
		_, err := BuildWithin(fsys, root, "overlays/store-1")
		if !errors.Is(err, ErrRemote) {
			t.Errorf("%q: want ErrRemote, got %v", k, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("%d requests reached the server", n)
	}
}

func TestGenericRoundTripWithoutConfig(t *testing.T) {
	// Hand-written trees pass no Config; a value that changes on its way
	// out through YAML is still caught by comparing kustomize's data with
	// the output read back. (A configMapGenerator value is different:
	// kustomize itself round-trips generated objects through YAML, so only
	// Target.Config can catch a change there.)
	fsys := memFS(t, goodTree().with(kust("resources:\n- motd.yaml\n")).with(files{
		"overlays/store-1/motd.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: motd\ndata:\n  MOTD: \"a\\u0085b\"\n",
	}))
	rep, err := Run(context.Background(), []Target{{Site: "store-1", Dir: "overlays/store-1"}}, Options{FS: fsys, Root: root})
	if err != nil {
		t.Fatal(err)
	}
	err = rep.Results[0].Err
	if !errors.Is(err, ErrRoundTrip) || !strings.Contains(err.Error(), "ConfigMap/motd: data.MOTD") {
		t.Fatalf("want a round-trip error for data.MOTD, got %v", err)
	}
	t.Log(err)
}

// objectSet parses multi-document YAML into objects keyed by
// kind/namespace/name, each re-encoded canonically.
func objectSet(t *testing.T, out []byte) map[string]string {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(out))
	set := map[string]string{}
	for {
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil {
			if err.Error() == "EOF" {
				break
			}
			t.Fatal(err)
		}
		if obj == nil {
			continue
		}
		md, _ := obj["metadata"].(map[string]any)
		key := fmt.Sprintf("%v/%v/%v", obj["kind"], md["namespace"], md["name"])
		b, err := yaml.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		set[key] = string(b)
	}
	return set
}

// TestMatchesKubectlKustomize builds overlays with Build and with the
// kustomize embedded in kubectl and compares the objects.
func TestMatchesKubectlKustomize(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl not on PATH: cannot compare Build with kubectl kustomize")
	}
	tree, sites := variedTree()
	dir := diskTree(t, tree)
	for _, site := range sites {
		t.Run(site, func(t *testing.T) {
			overlay := filepath.Join(dir, "overlays", site)
			m, err := BuildWithin(filesys.MakeFsOnDisk(), dir, overlay)
			if err != nil {
				t.Fatal(err)
			}
			ours, err := m.AsYaml()
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(kubectl, "kustomize", overlay)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			theirs, err := cmd.Output()
			if err != nil {
				t.Fatalf("Build accepted overlays/%s, kubectl kustomize rejected it (%v): %s", site, err, stderr.String())
			}
			a, b := objectSet(t, ours), objectSet(t, theirs)
			if len(a) != len(b) {
				t.Errorf("object count: Build %d, kubectl %d", len(a), len(b))
			}
			for k, v := range a {
				if b[k] != v {
					t.Errorf("%s differs:\nBuild:\n%s\nkubectl:\n%s", k, v, b[k])
				}
			}
			for k := range b {
				if _, ok := a[k]; !ok {
					t.Errorf("%s only in kubectl's output", k)
				}
			}
		})
	}
}

// TestConcurrentBuilds builds different overlays from one in-memory file
// system concurrently and compares with sequential builds. Run with -race.
func TestConcurrentBuilds(t *testing.T) {
	tree, sites := variedTree()
	fsys := memFS(t, tree)
	want := map[string][]byte{}
	for _, s := range sites {
		m, err := BuildWithin(fsys, root, "overlays/"+s)
		if err != nil {
			t.Fatal(err)
		}
		out, err := m.AsYaml()
		if err != nil {
			t.Fatal(err)
		}
		want[s] = out
	}
	rounds := 3
	if testing.Short() {
		rounds = 1
	}
	var wg sync.WaitGroup
	errs := make(chan error, rounds*len(sites))
	for r := 0; r < rounds; r++ {
		for _, s := range sites {
			wg.Add(1)
			go func() {
				defer wg.Done()
				m, err := BuildWithin(fsys, root, "overlays/"+s)
				if err != nil {
					errs <- fmt.Errorf("%s: %w", s, err)
					return
				}
				out, err := m.AsYaml()
				if err != nil {
					errs <- fmt.Errorf("%s: %w", s, err)
					return
				}
				if !bytes.Equal(out, want[s]) {
					errs <- fmt.Errorf("%s: concurrent output differs from sequential", s)
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// FuzzConfigRoundTrip sends a value through a configMapGenerator literal,
// builds, and checks the round trip: either the check passes and the value
// arrived byte-identical, or an error is reported. Never a silent
// difference, never a panic.
func FuzzConfigRoundTrip(f *testing.F) {
	for _, v := range []string{
		"plain", "", "line one\nline two\n", "value # not a comment", "key: value",
		`say "hi" and 'bye'`, "*not-an-alias", "&anchor", "yes", "no", "~", "null",
		"0123", "1e3", "  padded  ", "a\tb", "- item", "{a: b}", "<<", "Zürich – 東京",
		"a\u0085b", "\u2028", "\ufeffx", "a\x7fb", "\r\n", `C:\path\n`, `"quoted"`, "'single'",
	} {
		f.Add(v)
	}
	tree := baseFiles()
	f.Fuzz(func(t *testing.T, v string) {
		cfg := map[string]string{"VALUE": v}
		fsys := memFS(t, tree.with(siteFiles("store-1", cfg)))
		rep, err := Run(context.Background(), []Target{{Site: "store-1", Dir: "overlays/store-1", Config: cfg}}, Options{FS: fsys, Root: root})
		if err != nil {
			t.Fatal(err)
		}
		res := rep.Results[0]
		if res.Err != nil {
			var se *SiteError
			if !errors.As(res.Err, &se) {
				t.Fatalf("error is not a SiteError: %v", res.Err)
			}
			return // reported
		}
		// The check passed: the value must be in the output, exactly.
		got, found := siteConfigValue(t, res.Objects, "VALUE")
		if !found || got != v {
			t.Fatalf("silent difference: want %q, got %q (found %v)", v, got, found)
		}
		if !utf8.ValidString(v) {
			t.Fatalf("invalid UTF-8 %q passed the check", v)
		}
	})
}

// siteConfigValue decodes the output independently of the package's own
// parsing and returns data[key] of the site-config ConfigMap.
func siteConfigValue(t *testing.T, out []byte, key string) (string, bool) {
	dec := yaml.NewDecoder(bytes.NewReader(out))
	for {
		var obj struct {
			Kind     string
			Metadata struct{ Name string }
			Data     map[string]string
		}
		if err := dec.Decode(&obj); err != nil {
			return "", false
		}
		if obj.Kind == "ConfigMap" && strings.HasPrefix(obj.Metadata.Name, "site-config-") {
			v, ok := obj.Data[key]
			return v, ok
		}
	}
}

func BenchmarkBuild(b *testing.B) {
	fsys := memFS(b, goodTree())
	dir := root + "/overlays/store-1"
	if _, err := Build(fsys, dir); err != nil { // the first build parses the OpenAPI schema
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Build(fsys, dir); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRun(b *testing.B) {
	fsys := memFS(b, goodTree())
	targets := []Target{{Site: "store-1", Dir: "overlays/store-1", Config: goodConfig}}
	opts := Options{FS: fsys, Root: root}
	b.ReportAllocs()
	for b.Loop() {
		rep, err := Run(context.Background(), targets, opts)
		if err != nil || !rep.OK() {
			b.Fatal(err, rep.Err())
		}
	}
}

// BenchmarkBuildUnguarded is krusty alone with the same options, to show
// what the guarded file system costs.
func BenchmarkBuildUnguarded(b *testing.B) {
	fsys := memFS(b, goodTree())
	dir := root + "/overlays/store-1"
	k := krusty.MakeKustomizer(KustomizeOptions())
	if _, err := k.Run(fsys, dir); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Run(fsys, dir); err != nil {
			b.Fatal(err)
		}
	}
}

// asYaml writes exactly what the CLI's m.AsYaml writes, and each resource's
// document as the resource writes it.
func TestAsYamlMatchesResMap(t *testing.T) {
	tree, sites := variedTree()
	fsys := memFS(t, tree)
	for _, site := range sites {
		m, err := BuildWithin(fsys, "/fleet", "/fleet/overlays/"+site)
		if err != nil {
			t.Fatalf("%s: %v", site, err)
		}
		want, err := m.AsYaml()
		if err != nil {
			t.Fatal(err)
		}
		got, docs, err := asYaml(m)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: asYaml differs from AsYaml:\n%s\n---- want\n%s", site, got, want)
		}
		for i, r := range m.Resources() {
			if d, _ := r.AsYAML(); !bytes.Equal(docs[i], d) {
				t.Errorf("%s: document %d differs from the resource's AsYAML", site, i)
			}
		}
	}
}
