package pipeline

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/fleetgen/fleetgen/pkg/inventory"
	"github.com/fleetgen/fleetgen/pkg/render"
	"github.com/fleetgen/fleetgen/templates"
)

var update = flag.Bool("update", false, "rewrite golden files")

// goldenDir holds the tree generated from the embedded sample inventory.
const goldenDir = "../../testdata/golden/sample-fleet"

func runSample(t *testing.T) *Result {
	t.Helper()
	res, err := Run(context.Background(), Options{Inventory: "sample-inventory.yaml", InventoryData: templates.SampleInventory()})
	if err != nil {
		t.Fatalf("Run(sample): %v", err)
	}
	if !res.Report.OK() {
		for _, r := range res.Report.Failed() {
			t.Errorf("site %s: %v", r.Site, r.Err)
		}
		t.Fatalf("sample fleet does not verify: %s", res.Report.Summary())
	}
	return res
}

// TestSampleGolden compares the tree generated from the sample inventory with
// testdata/golden/sample-fleet. Refresh with: go test ./pkg/pipeline -update
func TestSampleGolden(t *testing.T) {
	res := runSample(t)
	got := map[string][]byte{}
	for _, f := range res.Tree.Files {
		got[f.Path] = f.Data
	}
	checkGolden(t, goldenDir, got)
}

// TestDeterministic generates the sample fleet twice and expects identical trees.
func TestDeterministic(t *testing.T) {
	a, b := runSample(t), runSample(t)
	sameTree(t, a.Tree, b.Tree, "run 2")
	for i := range a.Report.Results {
		if !bytes.Equal(a.Report.Results[i].Objects, b.Report.Results[i].Objects) {
			t.Fatalf("built objects of %s differ between runs", a.Report.Results[i].Site)
		}
	}
}

// Releasing the sites' Origins once the targets are made changes neither
// the tree nor any verdict; the sites then carry none.
func TestDropOrigins(t *testing.T) {
	a := runSample(t)
	b, err := Run(context.Background(), Options{Inventory: "sample-inventory.yaml", InventoryData: templates.SampleInventory(), DropOrigins: true})
	if err != nil {
		t.Fatal(err)
	}
	sameTree(t, a.Tree, b.Tree, "with DropOrigins")
	if a.Report.Summary() != b.Report.Summary() || len(a.Report.Results) != len(b.Report.Results) {
		t.Fatalf("report %q, with DropOrigins %q", a.Report.Summary(), b.Report.Summary())
	}
	for i, ra := range a.Report.Results {
		rb := b.Report.Results[i]
		if ra.Site != rb.Site || (ra.Err == nil) != (rb.Err == nil) || len(ra.Findings) != len(rb.Findings) || !bytes.Equal(ra.Objects, rb.Objects) {
			t.Errorf("site %s: verdict differs with DropOrigins", ra.Site)
		}
	}
	for _, s := range append(b.Fleet.Sites, b.Selected.Sites...) {
		if s.Origins != nil {
			t.Fatalf("site %s keeps its Origins", s.Name)
		}
	}
	if len(a.Fleet.Sites) == 0 || a.Fleet.Sites[0].Origins == nil {
		t.Fatal("without DropOrigins the sites have no Origins: the test checks nothing")
	}
}

// sameTree fails the test unless trees a and b hold the same paths with
// the same content; what names b in the message.
func sameTree(t *testing.T, a, b *render.Tree, what string) {
	t.Helper()
	if len(a.Files) != len(b.Files) {
		t.Fatalf("%s: file count differs: %d vs %d", what, len(a.Files), len(b.Files))
	}
	for i := range a.Files {
		fa, fb := a.Files[i], b.Files[i]
		if fa.Path != fb.Path || !bytes.Equal(fa.Data, fb.Data) {
			t.Fatalf("%s: the tree differs at %s / %s", what, fa.Path, fb.Path)
		}
	}
}

// TestKubectlCrossCheck builds every generated overlay with `kubectl kustomize`
// (an independent kustomize) and expects the same objects fleetgen built.
func TestKubectlCrossCheck(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl not on PATH")
	}
	res := runSample(t)
	dir := t.TempDir()
	writeTree(t, dir, res.Tree)
	for _, r := range res.Report.Results {
		out, err := exec.Command(kubectl, "kustomize", filepath.Join(dir, "overlays", r.Site)).CombinedOutput()
		if err != nil {
			t.Errorf("kubectl kustomize overlays/%s: %v\n%s", r.Site, err, out)
			continue
		}
		want, got := objectSet(t, out), objectSet(t, r.Objects)
		if len(want) != len(got) {
			t.Errorf("site %s: kubectl built %d objects, fleetgen %d", r.Site, len(want), len(got))
		}
		for id, w := range want {
			if g, ok := got[id]; !ok {
				t.Errorf("site %s: %s built by kubectl, missing from fleetgen's build", r.Site, id)
			} else if g != w {
				t.Errorf("site %s: %s differs:\n--- fleetgen\n%s\n--- kubectl\n%s", r.Site, id, g, w)
			}
		}
	}
}

// objectSet keys each document of a multi-document YAML stream by
// apiVersion/kind/namespace/name and re-encodes it canonically.
func objectSet(t *testing.T, data []byte) map[string]string {
	t.Helper()
	set := map[string]string{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil {
			if err.Error() == "EOF" {
				break
			}
			t.Fatalf("decoding built objects: %v", err)
		}
		if obj == nil {
			continue
		}
		meta, _ := obj["metadata"].(map[string]any)
		id := strings.Join([]string{str(obj["apiVersion"]), str(obj["kind"]), str(meta["namespace"]), str(meta["name"])}, "/")
		canon, err := yaml.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		set[id] = string(canon)
	}
	return set
}

func str(v any) string { s, _ := v.(string); return s }

func writeTree(t *testing.T, dir string, tree *render.Tree) {
	t.Helper()
	for _, f := range tree.Files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBadInputIsTyped checks that bad inventories and templates come back as
// the typed errors the CLI maps to exit code 2.
func TestBadInputIsTyped(t *testing.T) {
	good := string(templates.SampleInventory())
	cases := []struct {
		name      string
		inventory string
		templates fs.FS
		want      any
	}{
		{name: "empty inventory", inventory: "", want: new(*inventory.ErrorList)},
		{name: "unknown field", inventory: strings.Replace(good, "fleet:", "fleeet:", 1), want: new(*inventory.ErrorList)},
		{name: "unknown component", inventory: good, templates: setWithout(t, "components/gpu"), want: new(*inventory.ErrorList)},
		{name: "broken template", inventory: good, templates: setWith(t, "overlays/{{ .Site.Name }}/broken.yaml.tmpl", "{{ .Site.Nope }}"), want: new(*render.Error)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Run(context.Background(), Options{Inventory: "inv.yaml", InventoryData: []byte(tc.inventory), Templates: tc.templates})
			if err == nil {
				t.Fatal("Run succeeded, want an error")
			}
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("error %T (%v) is not an *InputError", err, err)
			}
			if !errors.As(err, tc.want) {
				t.Fatalf("error %T (%v) is not %T", err, err, tc.want)
			}
		})
	}
}

// setWith is the default template set plus one file.
func setWith(t *testing.T, name, content string) fs.FS {
	t.Helper()
	dir := copySet(t, "")
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return os.DirFS(dir)
}

// setWithout is the default template set without the files under prefix.
func setWithout(t *testing.T, prefix string) fs.FS {
	t.Helper()
	return os.DirFS(copySet(t, prefix))
}

func copySet(t *testing.T, skipPrefix string) string {
	t.Helper()
	dir := t.TempDir()
	var names []string
	err := fs.WalkDir(templates.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if skipPrefix != "" && strings.HasPrefix(p, skipPrefix+"/") {
			return nil
		}
		names = append(names, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	for _, n := range names {
		data, err := fs.ReadFile(templates.FS(), n)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
