package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/fleetgen/fleetgen/pkg/cli"
)

// trickyValues are config values that YAML, templates or kustomize's
// literal syntax could change on their way to the cluster.
var trickyValues = []string{
	"line one\nline two", "trailing newline\n", "\n\nleading newlines", "\ttab first", "a\tb", "crlf\r\nend",
	"# not a comment", "a # b", "a #b", "key: value", "a: b: c", "ends with colon:",
	"'single'", `"double"`, "it's", `say "hi"`, `'`, `"`, `''`, `""`, `'mixed"`,
	"{{ .Site.Name }}", "{{", "}}", `{{ "x" }}`,
	"  leading", "trailing  ", " both ", " ",
	"*star", "&amp", "!bang", "!!str x", "%pct", "@at", "-dash", "- item", "-", "--", "---", "...",
	"yes", "no", "null", "~", "true", "False", "on", "off", "y", "n", "NULL",
	"1.10", "0x10", "0o17", "1e3", ".inf", "2001-12-14", "12:30:00", "",
	"[a, b]", "{a: b}", "|", ">", "? q", ",comma", "`tick`", "\\backslash", `\n literal`, "a=b", "=start", "==",
	"café 😀", "<tag>&amp;",
}

// fleetgen runs the CLI in process and returns its exit code and output.
func fleetgen(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := cli.Run(context.Background(), cli.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, args)
	return code, out.String(), errOut.String()
}

// TestConfigRoundTripEndToEnd writes every tricky value into an inventory,
// runs `fleetgen generate` and `fleetgen build`, and expects each value back,
// byte for byte, under its key of the built site-config ConfigMap; then the
// same through `kubectl kustomize` when kubectl is installed, and expects
// `fleetgen build` and `kubectl kustomize` to print the same objects.
func TestConfigRoundTripEndToEnd(t *testing.T) {
	dir := t.TempDir()
	want := map[string]string{}
	var inv strings.Builder
	inv.WriteString("apiVersion: fleetgen.dev/v1alpha1\nkind: Inventory\nfleet: acme\n" +
		"defaults:\n  type: store\n  region: eu-west\n  arch: arm64\n  images: {app: \"registry.example.com/app:1.0\"}\n" +
		"sites:\n  - name: store-1\n    config:\n")
	for i, v := range trickyValues {
		k := fmt.Sprintf("V%02d", i)
		want[k] = v
		q, err := json.Marshal(v) // a JSON string is a YAML double-quoted scalar
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&inv, "      %s: %s\n", k, q)
	}
	invPath := filepath.Join(dir, "inventory.yaml")
	writeFile(t, invPath, inv.String())
	fleet := filepath.Join(dir, "fleet")

	if code, _, stderr := fleetgen(t, "generate", "-i", invPath, "-o", fleet); code != 0 {
		t.Fatalf("generate exited %d:\n%s", code, stderr)
	}
	code, built, stderr := fleetgen(t, "build", fleet, "store-1")
	if code != 0 {
		t.Fatalf("build exited %d:\n%s", code, stderr)
	}
	checkConfigData(t, "fleetgen build", []byte(built), want)

	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Log("kubectl not on PATH: skipping the kubectl kustomize comparison")
		return
	}
	out, err := exec.Command(kubectl, "kustomize", filepath.Join(fleet, "overlays", "store-1")).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("kubectl kustomize: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	checkConfigData(t, "kubectl kustomize", out, want)
	a, b := objects(t, []byte(built)), objects(t, out)
	if strings.Join(sortedKeys(a), "\n") != strings.Join(sortedKeys(b), "\n") {
		t.Fatalf("fleetgen build objects:\n%s\nkubectl kustomize objects:\n%s", strings.Join(sortedKeys(a), "\n"), strings.Join(sortedKeys(b), "\n"))
	}
	for id, obj := range a {
		if obj != b[id] {
			t.Errorf("%s differs:\n--- fleetgen build\n%s\n--- kubectl kustomize\n%s", id, obj, b[id])
		}
	}
}

// TestBuildMatchesKubectlSample compares `fleetgen build` with `kubectl
// kustomize` for every site of the sample fleet, object by object.
func TestBuildMatchesKubectlSample(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl not on PATH")
	}
	repo := t.TempDir()
	if err := os.Mkdir(filepath.Join(repo, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	fleet := filepath.Join(repo, "fleet")
	if code, _, stderr := fleetgen(t, "generate", "--sample", "-o", fleet); code != 0 {
		t.Fatalf("generate exited %d:\n%s", code, stderr)
	}
	sites, err := filepath.Glob(filepath.Join(fleet, "overlays", "*"))
	if err != nil || len(sites) == 0 {
		t.Fatalf("no overlays: %v", err)
	}
	for _, s := range sites {
		site := filepath.Base(s)
		code, built, stderr := fleetgen(t, "build", fleet, site)
		if code != 0 {
			t.Fatalf("build %s exited %d:\n%s", site, code, stderr)
		}
		out, err := exec.Command(kubectl, "kustomize", s).Output()
		if err != nil {
			t.Fatalf("kubectl kustomize %s: %v", s, err)
		}
		a, b := objects(t, []byte(built)), objects(t, out)
		if len(a) != len(b) {
			t.Errorf("site %s: fleetgen build prints %d objects, kubectl kustomize %d", site, len(a), len(b))
		}
		for id, obj := range b {
			if a[id] != obj {
				t.Errorf("site %s: %s differs:\n--- fleetgen build\n%s\n--- kubectl kustomize\n%s", site, id, a[id], obj)
			}
		}
	}
}

// checkConfigData finds the site-config ConfigMap in a YAML stream and
// compares its data with want, key by key.
func checkConfigData(t *testing.T, who string, stream []byte, want map[string]string) {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(stream))
	found := false
	for {
		var obj struct {
			Kind     string
			Metadata struct{ Name string }
			Data     map[string]string
		}
		err := dec.Decode(&obj)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: parsing output: %v", who, err)
		}
		if obj.Kind != "ConfigMap" || !strings.HasPrefix(obj.Metadata.Name, "site-config-") {
			continue
		}
		found = true
		for k, w := range want {
			if g, ok := obj.Data[k]; !ok {
				t.Errorf("%s: key %s (%q) missing", who, k, w)
			} else if g != w {
				t.Errorf("%s: key %s: got %q, want %q", who, k, g, w)
			}
		}
		if len(obj.Data) != len(want) {
			t.Errorf("%s: %d keys, want %d", who, len(obj.Data), len(want))
		}
	}
	if !found {
		t.Fatalf("%s: no site-config ConfigMap in:\n%s", who, stream)
	}
}

// objects keys each document of a YAML stream by kind/namespace/name and
// re-encodes it canonically.
func objects(t *testing.T, stream []byte) map[string]string {
	t.Helper()
	set := map[string]string{}
	dec := yaml.NewDecoder(bytes.NewReader(stream))
	for {
		var obj map[string]any
		err := dec.Decode(&obj)
		if errors.Is(err, io.EOF) {
			return set
		}
		if err != nil {
			t.Fatalf("parsing objects: %v", err)
		}
		md, _ := obj["metadata"].(map[string]any)
		id := fmt.Sprintf("%v %v/%v/%v", obj["apiVersion"], obj["kind"], md["namespace"], md["name"])
		canon, err := json.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		set[id] = string(canon)
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
