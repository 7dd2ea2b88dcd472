package gitops_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
	"text/template"

	"github.com/Masterminds/sprig/v3"
	"go.yaml.in/yaml/v3"

	"github.com/fleetgen/fleetgen/pkg/pipeline"
	"github.com/fleetgen/fleetgen/pkg/render"
	"github.com/fleetgen/fleetgen/templates"
)

// application is what Argo CD's ApplicationSet controller makes of the
// generated ApplicationSet for one parameter file: the fields the tests
// look at.
type application struct {
	Name    string
	Labels  map[string]string
	Project string
	Path    string
	Dest    destination
	Retry   map[string]any
	Auto    map[string]any
}

type destination struct{ Name, Server, Namespace string }

// appProject is the part of a generated AppProject the tests look at.
type appProject struct {
	Name         string
	Destinations []destination
	Windows      []map[string]any
	SourceRepos  []string
}

// generateApplications runs the generated ApplicationSet the way Argo CD's
// git files generator and goTemplate rendering do: one parameter set per
// file matching the generator's path (the file's JSON keys plus path.*),
// every string of spec.template executed as a Go template with sprig and
// the set's goTemplateOptions, then templatePatch executed and merged.
func generateApplications(t *testing.T, tree *render.Tree) []application {
	t.Helper()
	f, ok := tree.Lookup("argocd/applicationset.yaml")
	if !ok {
		t.Fatal("no argocd/applicationset.yaml")
	}
	set := docs(t, f.Data)[0]
	if get(set, "spec", "goTemplate") != true {
		t.Fatal("goTemplate is not on")
	}
	var opts []string
	for _, o := range get(set, "spec", "goTemplateOptions").([]any) {
		opts = append(opts, o.(string))
	}
	if !slices.Contains(opts, "missingkey=error") {
		t.Errorf("goTemplateOptions = %v, want missingkey=error", opts)
	}
	glob, _ := get(set, "spec", "generators", 0, "git", "files", 0, "path").(string)
	if glob == "" {
		t.Fatal("no git files generator")
	}
	exec := func(name, text string, params map[string]any) string {
		tpl, err := template.New(name).Funcs(sprig.TxtFuncMap()).Option(opts...).Parse(text)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var b bytes.Buffer
		if err := tpl.Execute(&b, params); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return b.String()
	}
	var walk func(v any, params map[string]any) any
	walk = func(v any, params map[string]any) any {
		switch v := v.(type) {
		case string:
			return exec("template", v, params)
		case map[string]any:
			out := map[string]any{}
			for k, x := range v {
				out[exec("key", k, params)] = walk(x, params)
			}
			return out
		case []any:
			var out []any
			for _, x := range v {
				out = append(out, walk(x, params))
			}
			return out
		}
		return v
	}
	var apps []application
	for _, file := range tree.Files {
		if ok, _ := path.Match(glob, file.Path); !ok {
			continue
		}
		params := map[string]any{}
		if err := json.Unmarshal(file.Data, &params); err != nil {
			t.Fatalf("%s: %v", file.Path, err)
		}
		dir := path.Dir(file.Path)
		params["path"] = map[string]any{
			"path": dir, "basename": path.Base(dir), "filename": path.Base(file.Path),
			"basenameNormalized": path.Base(dir), "filenameNormalized": path.Base(file.Path),
			"segments": strings.Split(dir, "/"),
		}
		app := walk(get(set, "spec", "template"), params).(map[string]any)
		var patch map[string]any
		if err := yaml.Unmarshal([]byte(exec("templatePatch", get(set, "spec", "templatePatch").(string), params)), &patch); err != nil {
			t.Fatalf("%s: templatePatch: %v", file.Path, err)
		}
		a := application{
			Name:    get(app, "metadata", "name").(string),
			Labels:  map[string]string{},
			Project: get(app, "spec", "project").(string),
			Path:    get(app, "spec", "source", "path").(string),
			Retry:   get(patch, "spec", "syncPolicy", "retry").(map[string]any),
			Auto:    get(app, "spec", "syncPolicy", "automated").(map[string]any),
		}
		for k, v := range get(app, "metadata", "labels").(map[string]any) {
			a.Labels[k] = v.(string)
		}
		a.Dest.Name, _ = get(app, "spec", "destination", "name").(string)
		a.Dest.Server, _ = get(app, "spec", "destination", "server").(string)
		a.Dest.Namespace, _ = get(app, "spec", "destination", "namespace").(string)
		apps = append(apps, a)
	}
	sort.Slice(apps, func(i, j int) bool { return apps[i].Name < apps[j].Name })
	return apps
}

func projects(t *testing.T, tree *render.Tree) map[string]appProject {
	t.Helper()
	f, ok := tree.Lookup("argocd/appproject.yaml")
	if !ok {
		t.Fatal("no argocd/appproject.yaml")
	}
	out := map[string]appProject{}
	for _, d := range docs(t, f.Data) {
		if d == nil {
			continue
		}
		p := appProject{Name: get(d, "metadata", "name").(string)}
		for _, x := range get(d, "spec", "destinations").([]any) {
			var dst destination
			dst.Name, _ = get(x, "name").(string)
			dst.Server, _ = get(x, "server").(string)
			dst.Namespace, _ = get(x, "namespace").(string)
			p.Destinations = append(p.Destinations, dst)
		}
		if ws, ok := get(d, "spec", "syncWindows").([]any); ok {
			for _, w := range ws {
				p.Windows = append(p.Windows, w.(map[string]any))
			}
		}
		for _, r := range get(d, "spec", "sourceRepos").([]any) {
			p.SourceRepos = append(p.SourceRepos, r.(string))
		}
		out[p.Name] = p
	}
	return out
}

// globMatch is the subset of github.com/gobwas/glob (compiled without
// separators, as Argo CD compiles destination and sync-window patterns)
// that the generated projects use: '*' matches any run of characters, '?'
// any one character, everything else itself. A pattern with other glob
// syntax fails the test rather than being matched wrongly.
func globMatch(t *testing.T, pattern, s string) bool {
	t.Helper()
	if strings.ContainsAny(pattern, `[]{}\`) {
		t.Fatalf("pattern %q uses glob syntax this test does not implement", pattern)
	}
	if pattern == "" {
		return s == ""
	}
	switch pattern[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if globMatch(t, pattern[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && globMatch(t, pattern[1:], s[1:])
	}
	return s != "" && s[0] == pattern[0] && globMatch(t, pattern[1:], s[1:])
}

// permitted is Argo CD's AppProject destination check
// (AppProject.isDestinationMatched in pkg/apis/application/v1alpha1,
// v3.5.1): a destination is permitted when some entry's name glob matches
// the cluster's name or its server glob matches the cluster's server, and
// its namespace glob matches the namespace; an entry starting with "!"
// denies. The generated projects use no deny entries; the test refuses
// them rather than half-implement them.
func permitted(t *testing.T, p appProject, cluster destination, namespace string) bool {
	t.Helper()
	any := false
	for _, d := range p.Destinations {
		for _, pat := range []string{d.Name, d.Server, d.Namespace} {
			if strings.HasPrefix(pat, "!") {
				t.Fatalf("project %s: deny pattern %q", p.Name, pat)
			}
		}
		name := cluster.Name != "" && (d.Name == "*" || globMatch(t, d.Name, cluster.Name))
		server := cluster.Server != "" && (d.Server == "*" || globMatch(t, d.Server, cluster.Server))
		ns := d.Namespace == "*" || globMatch(t, d.Namespace, namespace)
		if (name || server) && ns {
			any = true
		}
	}
	return any
}

// windowsOf returns the sync windows of project p that apply to an
// Application named app (Argo CD's SyncWindows.Matches, applications
// only, which is all the generated windows use).
func windowsOf(t *testing.T, p appProject, app string) []string {
	var out []string
	for _, w := range p.Windows {
		if w["clusters"] != nil || w["namespaces"] != nil {
			t.Fatalf("project %s: window selects by clusters or namespaces: %v", p.Name, w)
		}
		for _, a := range w["applications"].([]any) {
			if globMatch(t, a.(string), app) {
				out = append(out, fmt.Sprintf("%s %s %s %s", w["kind"], w["schedule"], w["duration"], w["timeZone"]))
				break
			}
		}
	}
	return out
}

// TestArgoApplications generates the Applications of the waves fixture
// from the ApplicationSet and the sites' parameter files, as Argo CD
// would, and checks each against the inventory: name, labels, overlay,
// cluster, retry profile, automated sync, and that its project lets it
// deploy to its own cluster and namespace and syncs it only in its window.
func TestArgoApplications(t *testing.T) {
	data, _ := os.ReadFile("testdata/argocd-waves/inventory.yaml")
	_, tree := renderFixture(t, "argocd-waves", data)
	if _, ok := tree.Lookup("clusters/canary/fleet-sync.yaml"); ok {
		t.Error("Flux wiring written for engine argocd")
	}
	apps := generateApplications(t, tree)
	projs := projects(t, tree)
	type want struct {
		name, wave, network string
		limit               int
		window              string
	}
	wants := []want{
		{"canary", "0", "online", 5, "allow 0 * * * * 30m America/Chicago"},
		{"laggard", "10", "airgapped", 10, "allow 0 3 * * * 1h UTC"},
		{"store-a", "2", "online", 5, "allow 0 3 * * * 1h UTC"},
		{"store-b", "2", "intermittent", 20, "allow 0 3 * * * 1h UTC"},
	}
	if len(apps) != len(wants) {
		t.Fatalf("%d Applications, want %d: %v", len(apps), len(wants), apps)
	}
	for i, w := range wants {
		a := apps[i]
		t.Run(w.name, func(t *testing.T) {
			if a.Name != w.name || a.Labels["fleetgen.dev/site"] != w.name || a.Labels["fleetgen.dev/wave"] != w.wave || a.Labels["fleetgen.dev/network"] != w.network {
				t.Errorf("name/labels = %s %v, want %s wave %s network %s", a.Name, a.Labels, w.name, w.wave, w.network)
			}
			if a.Path != "overlays/"+w.name {
				t.Errorf("source path = %s", a.Path)
			}
			if a.Dest != (destination{Name: "waves--" + w.name, Namespace: "edge-app"}) {
				t.Errorf("destination = %+v", a.Dest)
			}
			if a.Retry["limit"] != w.limit {
				t.Errorf("retry = %v, want limit %d (%s profile)", a.Retry, w.limit, w.network)
			}
			if a.Auto["prune"] != true || a.Auto["selfHeal"] != true {
				t.Errorf("automated = %v, want prune and selfHeal", a.Auto)
			}
			p, ok := projs[a.Project]
			if !ok {
				t.Fatalf("project %q is not generated", a.Project)
			}
			if !permitted(t, p, a.Dest, a.Dest.Namespace) {
				t.Errorf("project %s does not permit %+v", p.Name, a.Dest)
			}
			if got := windowsOf(t, p, a.Name); !slices.Equal(got, []string{w.window}) {
				t.Errorf("windows = %v, want only %q", got, w.window)
			}
		})
	}

	f, _ := tree.Lookup("argocd/applicationset.yaml")
	var steps []string
	for _, s := range get(docs(t, f.Data)[0], "spec", "strategy", "rollingSync", "steps").([]any) {
		if get(s, "matchExpressions", 0, "key") != "fleetgen.dev/wave" || get(s, "matchExpressions", 0, "operator") != "In" {
			t.Errorf("step %v", s)
		}
		steps = append(steps, get(s, "matchExpressions", 0, "values", 0).(string))
	}
	if want := []string{"0", "2", "10"}; !slices.Equal(steps, want) {
		t.Errorf("steps = %v, want %v (one per wave present, numeric order)", steps, want)
	}
}

// TestArgoProjectsConfineTheFleet checks least privilege: whatever
// parameter file a site has, no project of the fleet lets an Application
// deploy to a cluster that is not registered as one of the fleet's, or to
// a namespace other than the fleet's.
func TestArgoProjectsConfineTheFleet(t *testing.T) {
	data, _ := os.ReadFile("testdata/argocd-waves/inventory.yaml")
	_, tree := renderFixture(t, "argocd-waves", data)
	projs := projects(t, tree)
	if len(projs) != 2 {
		t.Fatalf("%d projects, want one per distinct window (2)", len(projs))
	}
	for _, tc := range []struct {
		cluster   destination
		namespace string
		want      bool
	}{
		{destination{Name: "waves--canary", Server: "https://10.0.0.1:6443"}, "edge-app", true},
		{destination{Name: "waves--a-site-added-later", Server: "https://10.0.0.9:6443"}, "edge-app", true},
		{destination{Name: "waves--canary", Server: "https://10.0.0.1:6443"}, "kube-system", false},
		{destination{Name: "waves--canary", Server: "https://10.0.0.1:6443"}, "edge-app-2", false},
		{destination{Name: "waves--canary", Server: "https://10.0.0.1:6443"}, "", false},
		{destination{Name: "canary", Server: "https://10.0.0.1:6443"}, "edge-app", false},
		{destination{Name: "in-cluster", Server: "https://kubernetes.default.svc"}, "edge-app", false},
		{destination{Name: "waves-eu--canary", Server: "https://10.0.1.1:6443"}, "edge-app", false},
		{destination{Name: "other--waves--canary", Server: "https://10.0.1.2:6443"}, "edge-app", false},
		{destination{Name: "wave--canary", Server: "https://10.0.1.3:6443"}, "edge-app", false},
		{destination{Server: "https://waves--canary"}, "edge-app", false},
	} {
		for _, p := range projs {
			if got := permitted(t, p, tc.cluster, tc.namespace); got != tc.want {
				t.Errorf("project %s: cluster %+v namespace %q permitted = %v, want %v", p.Name, tc.cluster, tc.namespace, got, tc.want)
			}
			if !slices.Equal(p.SourceRepos, []string{"https://git.example.com/edge/fleet.git"}) {
				t.Errorf("project %s: sourceRepos = %v", p.Name, p.SourceRepos)
			}
		}
	}
}

// TestBrokenArgoTemplateFailsGenerate renders the waves fixture with a copy
// of the default template set whose ApplicationSet and AppProject
// templates each carry one field Argo CD's CRDs do not have: rendering
// (which generate, check and verify run) fails, naming the file and the
// field.
func TestBrokenArgoTemplateFailsGenerate(t *testing.T) {
	set := fstest.MapFS{}
	err := fs.WalkDir(templates.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(templates.FS(), p)
		set[p] = &fstest.MapFile{Data: data}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	edit := func(p, old, new string) {
		f, ok := set[p]
		if !ok || !bytes.Contains(f.Data, []byte(old)) {
			t.Fatalf("%s: no %q in the default set", p, old)
		}
		f.Data = bytes.Replace(f.Data, []byte(old), []byte(new), 1)
	}
	edit("argocd/applicationset.yaml.tmpl", "          selfHeal: true\n", "          selfHeal: true\n          selfheal: true\n")
	edit("argocd/appproject.yaml.tmpl", "  sourceRepos:\n", "  sourceRepo: []\n  sourceRepos:\n")
	data, _ := os.ReadFile("testdata/argocd-waves/inventory.yaml")
	_, err = pipeline.Run(context.Background(), pipeline.Options{Inventory: "inventory.yaml", InventoryData: data, Templates: set})
	if err == nil {
		t.Fatal("rendering with unknown fields succeeded")
	}
	for _, want := range []string{
		`argocd/applicationset.yaml (document 1): ApplicationSet argoproj.io/v1alpha1 argocd/waves: spec.template.spec.syncPolicy.automated.selfheal: unknown field`,
		`argocd/appproject.yaml (document 1): AppProject argoproj.io/v1alpha1 argocd/waves-mw-563ddaf717: spec.sourceRepo: unknown field`,
		`argocd/appproject.yaml (document 2): AppProject argoproj.io/v1alpha1 argocd/waves-mw-c43f6d546c: spec.sourceRepo: unknown field`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not contain %q:\n%v", want, err)
		}
	}
}
