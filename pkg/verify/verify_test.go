package verify

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// files maps paths below the tree root to their content.
type files map[string]string

// with returns a copy of f with the given files added or replaced; a value
// of "" removes the file.
func (f files) with(more files) files {
	out := files{}
	for k, v := range f {
		out[k] = v
	}
	for k, v := range more {
		if v == "" {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	return out
}

const root = "/fleet"

func memFS(t testing.TB, f files) filesys.FileSystem {
	t.Helper()
	fsys := filesys.MakeFsInMemory()
	for p, c := range f {
		if err := fsys.WriteFile(filepath.Join(root, p), []byte(c)); err != nil {
			t.Fatal(err)
		}
	}
	return fsys
}

func diskTree(t testing.TB, f files) string {
	t.Helper()
	dir := t.TempDir()
	for p, c := range f {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// literals renders a configMapGenerator literal list for cfg. Each value
// is wrapped in one extra pair of double quotes, which kustomize strips
// (kv.removeQuotes), so the value arrives exactly as given.
func literals(cfg map[string]string) []string {
	keys := make([]string, 0, len(cfg))
	for k := range cfg {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, k+`="`+cfg[k]+`"`)
	}
	return out
}

// overlayKustomization is a realistic site overlay: base, component,
// namespace, labels, image, generated site config, strategic-merge patch.
func overlayKustomization(site string, cfg map[string]string) string {
	k := map[string]any{
		"apiVersion": "kustomize.config.k8s.io/v1beta1",
		"kind":       "Kustomization",
		"namespace":  site,
		"resources":  []string{"../../base", "namespace.yaml"},
		"components": []string{"../../components/monitoring"},
		"labels": []map[string]any{{
			"pairs":            map[string]string{"fleet.example.com/site": site},
			"includeSelectors": false,
		}},
		"images": []map[string]string{{"name": "app", "newName": "registry.example.com/app", "newTag": "1.4.2"}},
		"configMapGenerator": []map[string]any{{
			"name":     "site-config",
			"literals": literals(cfg),
		}},
		"patches": []map[string]string{{"path": "replicas.yaml"}},
	}
	b, err := yaml.Marshal(k)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func baseFiles() files {
	return files{
		"base/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- deployment.yaml
- service.yaml
- serviceaccount.yaml
- role.yaml
- networkpolicy.yaml
`,
		"base/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  replicas: 1
  selector:
    matchLabels:
      app: app
  template:
    metadata:
      labels:
        app: app
    spec:
      serviceAccountName: app
      automountServiceAccountToken: false
      nodeSelector:
        kubernetes.io/arch: arm64
      securityContext:
        runAsNonRoot: true
        seccompProfile:
          type: RuntimeDefault
      containers:
      - name: app
        image: app:1.0.0
        envFrom:
        - configMapRef:
            name: site-config
        resources:
          requests: {cpu: 100m, memory: 64Mi}
          limits: {memory: 128Mi}
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities:
            drop: [ALL]
`,
		"base/networkpolicy.yaml": `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
`,
		"base/service.yaml": `apiVersion: v1
kind: Service
metadata:
  name: app
spec:
  selector:
    app: app
  ports:
  - port: 80
    targetPort: 8080
`,
		"base/serviceaccount.yaml": `apiVersion: v1
kind: ServiceAccount
metadata:
  name: app
`,
		"base/role.yaml": `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: app:reader
rules:
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["get"]
`,
		"components/monitoring/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
resources:
- servicemonitor.yaml
commonAnnotations:
  fleet.example.com/monitored: "true"
`,
		"components/monitoring/servicemonitor.yaml": `apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: app
spec:
  selector:
    matchLabels:
      app: app
  endpoints:
  - port: http
`,
	}
}

func siteFiles(site string, cfg map[string]string) files {
	d := "overlays/" + site + "/"
	return files{
		d + "kustomization.yaml": overlayKustomization(site, cfg),
		d + "namespace.yaml": `apiVersion: v1
kind: Namespace
metadata:
  name: ` + site + "\n",
		d + "replicas.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  replicas: 2
`,
	}
}

var goodConfig = map[string]string{"SITE": "store-1", "REGION": "eu-west"}

func goodTree() files { return baseFiles().with(siteFiles("store-1", goodConfig)) }

// kust replaces the store-1 overlay's kustomization.
func kust(body string) files {
	return files{"overlays/store-1/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n" + body}
}

// aliasBomb is a levels-deep, fan-out-8 billion-laughs document.
func aliasBomb(levels int) string {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x]\n")
	for i := 1; i <= levels; i++ {
		p := fmt.Sprintf("*a%d", i-1)
		fmt.Fprintf(&b, "a%d: &a%d [%s, %s, %s, %s, %s, %s, %s, %s]\n", i, i, p, p, p, p, p, p, p, p)
	}
	return b.String()
}

func TestRun(t *testing.T) {
	nasty := map[string]string{
		"NEWLINES":  "line one\nline two\n",
		"HASH":      "value # not a comment",
		"COLON":     "key: value",
		"QUOTES":    `say "hi" and 'bye'`,
		"STAR":      "*not-an-alias",
		"AMP":       "&not-an-anchor",
		"V_YES":     "yes",
		"V_NO":      "no",
		"V_TILDE":   "~",
		"V_NULL":    "null",
		"V_NUMBER":  "0123",
		"V_FLOAT":   "1e3",
		"SPACES":    "  padded  ",
		"TAB":       "a\tb",
		"EMPTY":     "",
		"DASH":      "- item",
		"BRACES":    "{a: b}",
		"UNICODE":   "Zürich – 東京",
		"BACKSLASH": `C:\path\n`,
		"LEADQUOTE": `"quoted"`,
	}
	tests := []struct {
		name    string
		files   files
		config  map[string]string
		wantErr []string // substrings; empty: success
		kind    error    // errors.Is target, optional
	}{
		{name: "good overlay", files: goodTree(), config: goodConfig},
		{name: "good overlay without config check", files: goodTree()},
		{
			name:    "missing base",
			files:   goodTree().with(files{"base/kustomization.yaml": ""}),
			wantErr: []string{`site "store-1" (overlays/store-1)`, "base"},
		},
		{
			name:    "YAML error in a patch",
			files:   goodTree().with(files{"overlays/store-1/replicas.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\n spec: [\n"}),
			wantErr: []string{`site "store-1"`, "replicas.yaml"},
		},
		{
			name:    "remote resource URL",
			files:   goodTree().with(kust("resources:\n- https://example.invalid/fleet/app.yaml\n")),
			wantErr: []string{`site "store-1"`, "overlays/store-1/kustomization.yaml", `resources[0] "https://example.invalid/fleet/app.yaml"`},
			kind:    ErrRemote,
		},
		{
			name:    "remote base github shorthand",
			files:   goodTree().with(kust("resources:\n- ../../base\n- github.com/example/fleet//base?ref=v1\n")),
			wantErr: []string{`resources[1] "github.com/example/fleet//base?ref=v1"`},
			kind:    ErrRemote,
		},
		{
			name:    "remote component over ssh",
			files:   goodTree().with(kust("components:\n- git@github.com:example/fleet.git//components/x\n")),
			wantErr: []string{`components[0]`},
			kind:    ErrRemote,
		},
		{
			name:    "remote patch file",
			files:   goodTree().with(kust("resources:\n- ../../base\npatches:\n- path: http://example.invalid/p.yaml\n")),
			wantErr: []string{`patches[0].path`},
			kind:    ErrRemote,
		},
		{
			name:    "remote generator file",
			files:   goodTree().with(kust("configMapGenerator:\n- name: x\n  files:\n  - conf=https://example.invalid/c\n")),
			wantErr: []string{`configMapGenerator[0].files[0]`},
			kind:    ErrRemote,
		},
		{
			name: "remote path in a transformer config",
			files: goodTree().with(kust("resources:\n- ../../base\ntransformers:\n- patcher.yaml\n")).with(files{
				"overlays/store-1/patcher.yaml": "apiVersion: builtin\nkind: PatchTransformer\nmetadata:\n  name: p\npath: https://example.invalid/p.yaml\ntarget:\n  kind: Deployment\n",
			}),
			wantErr: []string{"patcher.yaml", `path "https://example.invalid/p.yaml"`},
			kind:    ErrRemote,
		},
		{
			name:    "remote reference in a base",
			files:   goodTree().with(files{"base/kustomization.yaml": "resources:\n- deployment.yaml\n- https://example.invalid/x.yaml\n"}),
			wantErr: []string{`site "store-1"`, "base/kustomization.yaml"},
			kind:    ErrRemote,
		},
		{
			name:    "resource escaping the root",
			files:   goodTree().with(kust("resources:\n- ../../../../etc\n")),
			wantErr: []string{`site "store-1"`, `"/etc" is not in or below "/fleet"`},
			kind:    ErrOutsideRoot,
		},
		{
			name: "resource escaping the root into a sibling tree",
			files: goodTree().with(kust("resources:\n- ../../../other\n")).with(files{
				"../other/kustomization.yaml": "resources:\n- cm.yaml\n",
				"../other/cm.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\n",
			}),
			wantErr: []string{`"/other" is not in or below "/fleet"`},
			kind:    ErrOutsideRoot,
		},
		{
			name: "patch outside the kustomization root",
			files: goodTree().with(files{
				"overlays/store-1/kustomization.yaml": strings.Replace(overlayKustomization("store-1", goodConfig), "path: replicas.yaml", "path: ../../base/deployment.yaml", 1),
			}),
			wantErr: []string{"security; file"},
		},
		{
			name: "duplicate key inside a resource",
			files: goodTree().with(files{
				"overlays/store-1/extra.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata:\n  a: \"1\"\n  a: \"2\"\n",
			}).with(kust("resources:\n- extra.yaml\n")),
			wantErr: []string{`site "store-1"`, "extra"},
		},
		{
			name: "invalid object name",
			files: goodTree().with(files{
				"overlays/store-1/extra.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Not_Valid\n",
			}).with(kust("resources:\n- extra.yaml\n")),
			wantErr: []string{`ConfigMap/Not_Valid: metadata.name "Not_Valid"`, "RFC 1123"},
		},
		{
			name: "invalid service name",
			files: goodTree().with(files{
				"overlays/store-1/extra.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: 1abc\n",
			}).with(kust("namespace: x\nresources:\n- extra.yaml\n")),
			wantErr: []string{`Service/x/1abc: metadata.name`},
		},
		{
			name: "missing kind and name",
			files: goodTree().with(files{
				"overlays/store-1/extra.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels: {a: b}\n",
			}).with(kust("resources:\n- extra.yaml\n")),
			wantErr: []string{`site "store-1"`},
		},
		{
			name: "non-string ConfigMap data",
			files: goodTree().with(files{
				"overlays/store-1/extra.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata:\n  port: 8080\n  debug: true\n",
			}).with(kust("resources:\n- extra.yaml\n")),
			wantErr: []string{`ConfigMap/extra: data.port: value "8080" is not a string (YAML tag !!int)`, `data.debug: value "true" is not a string (YAML tag !!bool)`},
		},
		{
			name: "invalid ConfigMap key",
			files: goodTree().with(files{
				"overlays/store-1/extra.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata:\n  \"bad key\": x\n",
			}).with(kust("resources:\n- extra.yaml\n")),
			wantErr: []string{`ConfigMap/extra: data key "bad key"`},
		},
		{
			name:    "config key missing",
			files:   goodTree(),
			config:  map[string]string{"SITE": "store-1", "REGION": "eu-west", "TZ": "UTC"},
			wantErr: []string{`site "store-1" (overlays/store-1)`, `ConfigMap/store-1/site-config-`, `data.TZ`, `key missing (want "UTC")`},
			kind:    ErrRoundTrip,
		},
		{
			name:    "config key extra",
			files:   goodTree(),
			config:  map[string]string{"SITE": "store-1"},
			wantErr: []string{`data.REGION`, `key not in the site config (got "eu-west")`},
			kind:    ErrRoundTrip,
		},
		{
			name:    "config value changed",
			files:   goodTree(),
			config:  map[string]string{"SITE": "store-1", "REGION": "us-east"},
			wantErr: []string{`data.REGION`, `want "us-east", got "eu-west"`},
			kind:    ErrRoundTrip,
		},
		{
			name:   "nasty config values survive",
			files:  baseFiles().with(siteFiles("store-1", nasty)),
			config: nasty,
		},
		{
			name:    "config key YAML reads as a non-string",
			files:   baseFiles().with(siteFiles("store-1", map[string]string{"true": "x"})),
			wantErr: []string{`ConfigMap/store-1/site-config-`, "cannot be written as YAML", "data key that YAML reads as a non-string"},
		},
		{
			name:   "merge-key lookalike value",
			files:  baseFiles().with(siteFiles("store-1", map[string]string{"K": "<<"})),
			config: map[string]string{"K": "<<"},
		},
		{
			name:    "control character rejected by kustomize",
			files:   baseFiles().with(siteFiles("store-1", map[string]string{"K": "a\x7fb"})),
			wantErr: []string{"control characters are not allowed"},
		},
		{
			name:    "NEL in a value is caught",
			files:   baseFiles().with(siteFiles("store-1", map[string]string{"MOTD": "before\u0085after"})),
			config:  map[string]string{"MOTD": "before\u0085after"},
			wantErr: []string{`data.MOTD`, `want "before\u0085after", got`},
			kind:    ErrRoundTrip,
		},
		{
			name:    "alias bomb in a patch",
			files:   goodTree().with(files{"overlays/store-1/replicas.yaml": aliasBomb(7)}),
			wantErr: []string{`site "store-1"`, "file overlays/store-1/replicas.yaml", "alias expansion"},
			kind:    ErrAliasBomb,
		},
		{
			name: "alias bomb in an inline patch",
			files: goodTree().with(kust("resources:\n- ../../base\npatches:\n- patch: |\n" +
				indent(aliasBomb(7), "    ") + "  target:\n    kind: Deployment\n")),
			wantErr: []string{"file overlays/store-1/kustomization.yaml", "string at line"},
			kind:    ErrAliasBomb,
		},
		{
			name:    "oversized file",
			files:   goodTree().with(files{"overlays/store-1/replicas.yaml": "# " + strings.Repeat("x", MaxFileSize) + "\n"}),
			wantErr: []string{"file overlays/store-1/replicas.yaml", "exceeds the limit"},
		},
		{
			name:    "missing overlay directory",
			files:   baseFiles(),
			wantErr: []string{`site "store-1" (overlays/store-1)`, "does not exist"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fsys := memFS(t, tc.files)
			start := time.Now()
			rep, err := Run(context.Background(), []Target{{Site: "store-1", Dir: "overlays/store-1", Config: tc.config}}, Options{FS: fsys, Root: root})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
			if len(rep.Results) != 1 {
				t.Fatalf("got %d results", len(rep.Results))
			}
			res := rep.Results[0]
			if len(tc.wantErr) == 0 {
				if res.Err != nil {
					t.Fatalf("unexpected error: %v", res.Err)
				}
				if !rep.OK() || rep.Summary() != "1 site: 1 ok, 0 failed" {
					t.Errorf("report: OK %v, %q", rep.OK(), rep.Summary())
				}
				if len(res.Objects) == 0 {
					t.Error("no objects")
				}
				return
			}
			if res.Err == nil {
				t.Fatalf("no error; want %q", tc.wantErr)
			}
			msg := res.Err.Error()
			for _, w := range tc.wantErr {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q\ndoes not contain %q", msg, w)
				}
			}
			if !strings.HasPrefix(msg, `site "store-1" (overlays/store-1): `) {
				t.Errorf("error %q does not start with the site", msg)
			}
			var se *SiteError
			if !errors.As(res.Err, &se) || se.Site != "store-1" {
				t.Errorf("error is not a *SiteError for the site: %#v", res.Err)
			}
			if tc.kind != nil && !errors.Is(res.Err, tc.kind) {
				t.Errorf("error %q is not %v", msg, tc.kind)
			}
			if rep.OK() || rep.Summary() != "1 site: 0 ok, 1 failed" {
				t.Errorf("report: OK %v, %q", rep.OK(), rep.Summary())
			}
		})
	}
}

func indent(s, prefix string) string {
	lines := strings.SplitAfter(s, "\n")
	var b strings.Builder
	for _, l := range lines {
		if l != "" {
			b.WriteString(prefix + l)
		}
	}
	return b.String()
}

func TestRunSeveralSites(t *testing.T) {
	tree := baseFiles().with(siteFiles("store-1", goodConfig)).with(siteFiles("store-2", goodConfig)).with(siteFiles("store-3", goodConfig))
	tree["overlays/store-2/replicas.yaml"] = "not: [valid\n"
	fsys := memFS(t, tree)
	targets := []Target{
		{Site: "store-3", Dir: root + "/overlays/store-3", Config: goodConfig},
		{Site: "store-1", Dir: "overlays/store-1", Config: goodConfig},
		{Site: "store-2", Dir: "overlays/store-2", Config: goodConfig},
	}
	rep, err := Run(context.Background(), targets, Options{FS: fsys, Root: root})
	if err != nil {
		t.Fatal(err)
	}
	var sites []string
	for _, r := range rep.Results {
		sites = append(sites, r.Site+"="+r.Dir)
	}
	if got := strings.Join(sites, " "); got != "store-1=overlays/store-1 store-2=overlays/store-2 store-3=overlays/store-3" {
		t.Errorf("results %s", got)
	}
	if got := rep.Summary(); got != "3 sites: 2 ok, 1 failed" {
		t.Errorf("summary %q", got)
	}
	if f := rep.Failed(); len(f) != 1 || f[0].Site != "store-2" {
		t.Errorf("failed %v", f)
	}
}

// OnResult sees every result, with its accesses, before Progress counts it,
// and what it changes is what the report holds.
func TestRunOnResult(t *testing.T) {
	tree := baseFiles().with(siteFiles("store-1", goodConfig)).with(siteFiles("store-2", goodConfig))
	fsys := memFS(t, tree)
	targets := []Target{
		{Site: "store-1", Dir: "overlays/store-1", Config: goodConfig},
		{Site: "store-2", Dir: "overlays/store-2", Config: goodConfig},
	}
	var mu sync.Mutex
	seen := map[string]int{}
	done := 0
	rep, err := Run(context.Background(), targets, Options{
		FS: fsys, Root: root, Workers: 2, RecordAccesses: true,
		OnResult: func(r *Result) {
			mu.Lock()
			defer mu.Unlock()
			if len(r.Accesses) == 0 || r.Err != nil {
				t.Errorf("%s: %d accesses, err %v", r.Site, len(r.Accesses), r.Err)
			}
			seen[r.Site] = len(r.Accesses)
			r.Accesses = nil
		},
		Progress: func(n, _ int) {
			mu.Lock()
			defer mu.Unlock()
			if len(seen) < n {
				t.Errorf("progress %d before OnResult saw %d results", n, len(seen))
			}
			done = n
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 2 || done != 2 {
		t.Fatalf("OnResult saw %v, progress %d", seen, done)
	}
	for _, r := range rep.Results {
		if r.Accesses != nil {
			t.Errorf("%s: the report kept accesses OnResult dropped", r.Site)
		}
	}
}

func TestRunMisuse(t *testing.T) {
	fsys := memFS(t, goodTree())
	ctx := context.Background()
	for name, tc := range map[string]struct {
		targets []Target
		opts    Options
	}{
		"no fs":        {nil, Options{Root: root}},
		"no root":      {nil, Options{FS: fsys}},
		"missing root": {nil, Options{FS: fsys, Root: "/nope"}},
		"no site":      {[]Target{{Dir: "overlays/store-1"}}, Options{FS: fsys, Root: root}},
		"no dir":       {[]Target{{Site: "a"}}, Options{FS: fsys, Root: root}},
		"twice":        {[]Target{{Site: "a", Dir: "x"}, {Site: "a", Dir: "y"}}, Options{FS: fsys, Root: root}},
	} {
		if _, err := Run(ctx, tc.targets, tc.opts); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Run(cctx, []Target{{Site: "store-1", Dir: "overlays/store-1"}}, Options{FS: fsys, Root: root}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestOverlaysOnDisk(t *testing.T) {
	tree := baseFiles().with(siteFiles("store-2", goodConfig)).with(siteFiles("store-1", goodConfig)).with(files{
		"overlays/README.md":              "not a directory\n",
		"overlays/empty/.keep":            "x",
		"overlays/handmade/Kustomization": "resources:\n- ../../base\n",
	})
	dir := diskTree(t, tree)
	got, err := Overlays(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range got {
		names = append(names, g.Site+"="+g.Dir)
	}
	if s := strings.Join(names, " "); s != "handmade=overlays/handmade store-1=overlays/store-1 store-2=overlays/store-2" {
		t.Errorf("Overlays: %s", s)
	}
	rep, err := Run(context.Background(), got, Options{FS: filesys.MakeFsOnDisk(), Root: dir})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("%s\n%v", rep.Summary(), rep.Err())
	}
	if _, err := Overlays(filesys.MakeFsOnDisk(), t.TempDir()); err == nil {
		t.Error("tree without overlays: no error")
	}
}

func TestSymlinkOutsideRoot(t *testing.T) {
	outside := diskTree(t, files{
		"kustomization.yaml": "resources:\n- cm.yaml\n",
		"cm.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: secret-stuff\n",
		"passwd.yaml":        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: passwd\n",
	})
	dir := diskTree(t, goodTree().with(kust("resources:\n- linked\n- file.yaml\n")))
	if err := os.Symlink(outside, filepath.Join(dir, "overlays/store-1/linked")); err != nil {
		t.Skip("symlinks not supported:", err)
	}
	if err := os.Symlink(filepath.Join(outside, "passwd.yaml"), filepath.Join(dir, "overlays/store-1/file.yaml")); err != nil {
		t.Fatal(err)
	}
	rep, err := Run(context.Background(), []Target{{Site: "store-1", Dir: "overlays/store-1"}}, Options{FS: filesys.MakeFsOnDisk(), Root: dir})
	if err != nil {
		t.Fatal(err)
	}
	res := rep.Results[0]
	if res.Err == nil || !errors.Is(res.Err, ErrOutsideRoot) || !strings.Contains(res.Err.Error(), "resolves to") {
		t.Fatalf("want outside-root error, got %v", res.Err)
	}
}

func TestBuildWritesNothing(t *testing.T) {
	fsys := memFS(t, goodTree())
	var before []string
	_ = fsys.Walk("/", func(p string, _ os.FileInfo, _ error) error { before = append(before, p); return nil })
	if _, err := Build(fsys, root+"/overlays/store-1"); err != nil {
		t.Fatal(err)
	}
	var after []string
	_ = fsys.Walk("/", func(p string, _ os.FileInfo, _ error) error { after = append(after, p); return nil })
	if strings.Join(before, "\n") != strings.Join(after, "\n") {
		t.Errorf("file system changed:\n%v\n%v", before, after)
	}
}

func TestIsRemoteRef(t *testing.T) {
	for ref, want := range map[string]bool{
		"../../base":                             false,
		"deployment.yaml":                        false,
		"github.com/org/repo//dir?ref=v1":        true,
		"GitHub.com:org/repo":                    true,
		"https://example.com/x.yaml":             true,
		"HTTP://example.com/x.yaml":              true,
		"ssh://git@example.com/repo.git":         true,
		"file:///tmp/repo":                       true,
		"git::https://example.com/repo":          true,
		"git@gitlab.example.com:org/repo.git//x": true,
		"example.com/org/repo":                   false, // kustomize treats this as a local path too
		"dir/with@sign":                          false,
	} {
		if got := IsRemoteRef(ref); got != want {
			t.Errorf("IsRemoteRef(%q) = %v, want %v", ref, got, want)
		}
	}
}

func TestCheckAliases(t *testing.T) {
	start := time.Now()
	docs, err := parseDocs([]byte(aliasBomb(9)))
	if err != nil {
		t.Fatal(err)
	}
	if err := checkAliases(docs[0]); !errors.Is(err, ErrAliasBomb) {
		t.Errorf("bomb: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %v", d)
	}
	docs, _ = parseDocs([]byte("defaults: &d {a: 1, b: 2}\nx:\n  <<: *d\n  c: 3\ny: *d\n"))
	if err := checkAliases(docs[0]); err != nil {
		t.Errorf("modest aliases: %v", err)
	}
	docs, err = parseDocs([]byte("a: &a [1, *a]\n"))
	if err == nil {
		if err := checkAliases(docs[0]); !errors.Is(err, ErrAliasBomb) {
			t.Errorf("self reference: %v", err)
		}
	}
}
