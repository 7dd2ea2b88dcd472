package charts

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
)

func load(t *testing.T) *Chart {
	t.Helper()
	c, err := Load("testdata/edge-agent")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRender(t *testing.T) {
	c := load(t)
	if c.Name() != "edge-agent" || c.Version() != "0.3.1" {
		t.Fatalf("chart %s %s", c.Name(), c.Version())
	}
	rel, err := c.Render(context.Background(), "agent", "edge-agent", map[string]any{"replicas": float64(3), "siteID": "007", "extra": "x"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range rel.Files {
		names = append(names, f.Template)
	}
	// NOTES.txt, the partial and the test hook are left out.
	want := []string{"edge-agent/templates/configmap.yaml", "edge-agent/templates/deployment.yaml"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("templates %q, want %q", names, want)
	}
	if n := len(rel.Files[0].Objects); n != 2 {
		t.Errorf("configmap.yaml has %d objects, want 2", n)
	}
	dep := rel.Files[1].Objects[0]
	spec := dep["spec"].(map[string]any)
	if spec["replicas"] != float64(3) {
		t.Errorf("replicas %#v", spec["replicas"])
	}
	ctr := spec["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
	args := ctr["args"].([]any)
	if args[1] != "--site=007" || args[2] != "--kube="+KubeVersion {
		t.Errorf("args %q", args)
	}
	if _, ok := ctr["env"]; ok {
		t.Error("lookup found an object: it must return nothing, as helm template")
	}
	// The same input renders the same output.
	again, err := c.Render(context.Background(), "agent", "edge-agent", map[string]any{"replicas": float64(3), "siteID": "007", "extra": "x"})
	if err != nil || !reflect.DeepEqual(rel, again) {
		t.Errorf("second render differs (%v)", err)
	}
}

func TestRenderSchema(t *testing.T) {
	c := load(t)
	_, err := c.Render(context.Background(), "agent", "ns", map[string]any{"replicas": "three", "logLevel": "loud", "image": map[string]any{"tag": float64(1)}})
	var se SchemaErrors
	if !errors.As(err, &se) {
		t.Fatalf("got %v, want SchemaErrors", err)
	}
	var got []string
	for _, e := range se {
		got = append(got, strings.Join(e.Path, "/"))
	}
	want := []string{"image/tag", "logLevel", "replicas"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("paths %q, want %q (%v)", got, want, err)
	}
}

func TestRenderRefusesRandomness(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("testdata/edge-agent")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "templates", "secret.yaml"), []byte("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {p: {{ randAlphaNum 8 }}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Render(context.Background(), "agent", "ns", nil)
	if err == nil || !strings.Contains(err.Error(), "randAlphaNum is not allowed") {
		t.Errorf("got %v", err)
	}
}

func TestLoadPackaged(t *testing.T) {
	c := load(t)
	tgz, err := chartutil.Save(c.c, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	p, err := Load(tgz)
	if err != nil {
		t.Fatal(err)
	}
	if p.Version() != "0.3.1" || p.Digest == "" {
		t.Errorf("packaged chart %s digest %s, directory %s", p.Version(), p.Digest, c.Digest)
	}
	if _, err := Load("testdata/missing"); err == nil {
		t.Error("a missing chart loads")
	}
}
