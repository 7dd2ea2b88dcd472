package gitops_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"strings"
	"testing"

	"github.com/fleetgen/fleetgen/pkg/gitops"
)

func TestCheckWiring(t *testing.T) {
	fluxData, _ := os.ReadFile("testdata/flux-networks/inventory.yaml")
	fluxFleet, fluxTree := renderFixture(t, "flux", fluxData)
	argoData, _ := os.ReadFile("testdata/argocd-waves/inventory.yaml")
	argoFleet, argoTree := renderFixture(t, "argo", argoData)
	fluxSites := []string{}
	for _, s := range fluxFleet.Sites {
		fluxSites = append(fluxSites, s.Name)
	}
	argoSites := []string{}
	for _, s := range argoFleet.Sites {
		argoSites = append(argoSites, s.Name)
	}
	const fluxSync = "clusters/site-online/fleet-sync.yaml"
	const appset = "argocd/applicationset.yaml"
	const project = "argocd/appproject.yaml"
	const params = "overlays/store-a/argocd-site.json"

	for _, tc := range []struct {
		name  string
		flux  bool
		edit  func(files map[string][]byte)
		sites []string // nil: the fleet's sites
		place gitops.Place
		want  []string // substrings, one per expected error; nil: no error
	}{
		{name: "flux as rendered", flux: true},
		{name: "argocd as rendered"},
		{name: "no wiring at all", flux: true, edit: func(f map[string][]byte) {
			for p := range f {
				if strings.HasPrefix(p, "clusters/") {
					delete(f, p)
				}
			}
		}},
		{name: "flux: site without wiring", flux: true, edit: func(f map[string][]byte) { delete(f, fluxSync) },
			want: []string{`site "site-online": no Flux wiring`}},
		{name: "flux: wiring for a site not in the inventory", flux: true, sites: []string{"site-airgapped", "site-intermittent"},
			want: []string{`site "site-online": wiring for a site that is not in the inventory`}},
		{name: "flux: missing overlay", flux: true, edit: func(f map[string][]byte) { delete(f, "overlays/site-online/kustomization.yaml") },
			want: []string{`points at a missing overlay (no overlays/site-online/kustomization.yaml)`}},
		{name: "flux: path at another site's overlay", flux: true, edit: func(f map[string][]byte) {
			f[fluxSync] = []byte(strings.Replace(string(f[fluxSync]), `path: "./fleet/edge/overlays/site-online"`, `path: "./fleet/edge/overlays/site-airgapped"`, 1))
		}, want: []string{`clusters/site-online/fleet-sync.yaml (document 2): site "site-online": Kustomization spec.path "./fleet/edge/overlays/site-airgapped" points at the overlay of site "site-airgapped"`}},
		{name: "flux: two Kustomizations for one site", flux: true, edit: func(f map[string][]byte) {
			s := string(f[fluxSync])
			f["clusters/site-online/extra.yaml"] = []byte(s[strings.Index(s, "apiVersion: kustomize"):])
		}, want: []string{`site "site-online": 2 Flux wiring entries`}},
		{name: "flux: unknown field is caught by the upstream types", flux: true, edit: func(f map[string][]byte) {
			f[fluxSync] = []byte(strings.Replace(string(f[fluxSync]), "  prune: true", "  prune: true\n  prunne: true", 1))
		}, want: []string{`Kustomization kustomize.toolkit.fluxcd.io/v1 flux-system/fleet: spec.prunne: unknown field`}},
		{name: "flux: bad interval is caught", flux: true, edit: func(f map[string][]byte) {
			f[fluxSync] = []byte(strings.Replace(string(f[fluxSync]), "interval: 1m", "interval: soon", 1))
		}, want: []string{`GitRepository source.toolkit.fluxcd.io/v1 flux-system/fleet: spec.interval`}},
		{name: "argocd: unknown field is caught", edit: func(f map[string][]byte) {
			f[appset] = []byte(strings.Replace(string(f[appset]), "          selfHeal: true", "          selfHeal: true\n          selfheal: true", 1))
		}, want: []string{`ApplicationSet argoproj.io/v1alpha1 argocd/waves: spec.template.spec.syncPolicy.automated.selfheal: unknown field`}},
		{name: "argocd: unknown field in AppProject", edit: func(f map[string][]byte) {
			f[project] = []byte(strings.Replace(string(f[project]), "    - kind: allow\n", "    - kind: allow\n      timezone: UTC\n", 1))
		}, want: []string{`argocd/appproject.yaml (document 1): AppProject argoproj.io/v1alpha1 argocd/waves-mw-563ddaf717: spec.syncWindows[0].timezone: unknown field`}},
		{name: "argocd: wrong type in AppProject is caught by the CRD schema", edit: func(f map[string][]byte) {
			f[project] = []byte(strings.Replace(string(f[project]), "  sourceRepos:\n    - \"https://git.example.com/edge/fleet.git\"\n", "  sourceRepos: \"https://git.example.com/edge/fleet.git\"\n", 1))
		}, want: []string{`argocd/waves-mw-563ddaf717: spec.sourceRepos: Invalid value: "string": spec.sourceRepos in body must be of type array`}},
		{name: "argocd: wrong type in ApplicationSet is caught by the CRD schema", edit: func(f map[string][]byte) {
			f[appset] = []byte(strings.Replace(string(f[appset]), "goTemplate: true", "goTemplate: \"yes\"", 1))
		}, want: []string{`ApplicationSet argoproj.io/v1alpha1 argocd/waves: spec.goTemplate: Invalid value: "string": spec.goTemplate in body must be of type boolean`}},
		{name: "argocd: bad metadata name", edit: func(f map[string][]byte) {
			f[project] = []byte(strings.Replace(string(f[project]), `name: "waves-mw-563ddaf717"`, `name: "Waves_MW"`, 1))
		}, want: []string{`metadata.name: Invalid value: "Waves_MW"`, `overlays/canary/argocd-site.json: site "canary": project "waves-mw-563ddaf717" is not an AppProject`}},
		{name: "argocd: site without element", sites: []string{"canary", "extra", "laggard", "store-a", "store-b"},
			want: []string{`site "extra": no Argo CD wiring`}},
		{name: "argocd: site without parameter file", edit: func(f map[string][]byte) { delete(f, params) },
			want: []string{`site "store-a": no Argo CD wiring: expected one parameter file overlays/<site>/argocd-site.json`}},
		{name: "argocd: parameter file names another site", edit: func(f map[string][]byte) {
			f[params] = []byte(strings.Replace(string(f[params]), `"site": "store-a"`, `"site": "store-b"`, 1))
		}, want: []string{`overlays/store-a/argocd-site.json: site "store-a": site: is "store-b", but the file is in the directory of site "store-a"`, `site "store-a": no Argo CD wiring`}},
		{name: "argocd: parameter file with an unknown field", edit: func(f map[string][]byte) {
			f[params] = []byte(strings.Replace(string(f[params]), `"site":`, `"sit": "x", "site":`, 1))
		}, want: []string{`overlays/store-a/argocd-site.json: site "store-a": json: unknown field "sit"`, `site "store-a": no Argo CD wiring`}},
		{name: "argocd: parameter file with a bad wave and network", edit: func(f map[string][]byte) {
			s := strings.Replace(string(f[params]), `"wave": "2"`, `"wave": "-1"`, 1)
			f[params] = []byte(strings.Replace(s, `"network": "online"`, `"network": "satellite"`, 1))
		}, want: []string{`site "store-a": wave: "-1" is not a wave`, `site "store-a": network: "satellite" has no retry profile`, `site "store-a": no Argo CD wiring`}},
		{name: "argocd: parameter file names a project that does not exist", edit: func(f map[string][]byte) {
			f[params] = []byte(strings.Replace(string(f[params]), `"project": "waves-mw-c43f6d546c"`, `"project": "default"`, 1))
		}, want: []string{`overlays/store-a/argocd-site.json: site "store-a": project "default" is not an AppProject under argocd/`}},
		{name: "argocd: generator reads other files", edit: func(f map[string][]byte) {
			f[appset] = []byte(strings.Replace(string(f[appset]), `- path: "overlays/*/argocd-site.json"`, `- path: "sites/*.json"`, 1))
		}, want: []string{`spec.generators[0].git.files[0].path: "sites/*.json" does not read the sites' parameter files`,
			`overlays/canary/argocd-site.json: site "canary": parameter file that no ApplicationSet`,
			`overlays/laggard/argocd-site.json: site "laggard": parameter file that no ApplicationSet`,
			`overlays/store-a/argocd-site.json: site "store-a": parameter file that no ApplicationSet`,
			`overlays/store-b/argocd-site.json: site "store-b": parameter file that no ApplicationSet`,
			`site "canary": no Argo CD wiring`, `site "laggard": no Argo CD wiring`, `site "store-a": no Argo CD wiring`, `site "store-b": no Argo CD wiring`}},
		{name: "argocd: missing overlay", edit: func(f map[string][]byte) { delete(f, "overlays/laggard/kustomization.yaml") },
			want: []string{`site "laggard": parameter file beside a missing overlay`}},
		{name: "unknown kind under argocd/", edit: func(f map[string][]byte) {
			f["argocd/extra.yaml"] = []byte("apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: x}\n")
		}, want: []string{`argoproj.io/v1alpha1 Application is not a wiring kind fleetgen knows`}},
		{name: "flux: path from the repository root", flux: true, place: gitops.Place{Root: "/repo", Path: "fleet/edge"}},
		{name: "flux: path not from the repository root", flux: true, place: gitops.Place{Root: "/repo", Path: "deploy/fleet/edge"},
			want: []string{
				`clusters/site-airgapped/fleet-sync.yaml (document 2): site "site-airgapped": Kustomization spec.path "./fleet/edge/overlays/site-airgapped" does not resolve to the site's overlay from the root of the repository /repo: the tree is at "deploy/fleet/edge" in it, so the path must be "./deploy/fleet/edge/overlays/site-airgapped"`,
				`site "site-intermittent": Kustomization spec.path "./fleet/edge/overlays/site-intermittent" does not resolve`,
				`site "site-online": Kustomization spec.path "./fleet/edge/overlays/site-online" does not resolve`,
			}},
		{name: "flux-system from bootstrap is left alone", flux: true, edit: func(f map[string][]byte) {
			f["clusters/site-online/flux-system/gotk-components.yaml"] = []byte("apiVersion: v1\nkind: Namespace\nmetadata: {name: flux-system}\n")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := gitops.Files(argoTree)
			sites := argoSites
			if tc.flux {
				files, sites = gitops.Files(fluxTree), fluxSites
			}
			if tc.sites != nil {
				sites = tc.sites
			}
			if tc.edit != nil {
				tc.edit(files)
			}
			errs := check(gitops.NewChecker().WithPlace(tc.place), files, sites)
			if tc.place.Root != "" {
				// CheckPaths finds the same path problems without coverage.
				if got := gitops.NewChecker().WithPlace(tc.place).CheckPaths(files); fmt.Sprint(got) != fmt.Sprint(errs) {
					t.Errorf("CheckPaths:\n%v\nCheck:\n%v", got, errs)
				}
			}
			// The same check with every wiring file the edit left alone
			// known only by its summary from the clean tree gives the
			// same errors.
			clean, cleanSites := gitops.Files(argoTree), argoSites
			if tc.flux {
				clean, cleanSites = gitops.Files(fluxTree), fluxSites
			}
			cleanErrs, sums := gitops.NewChecker().CheckSummarized(clean, nil, cleanSites)
			if len(cleanErrs) > 0 || len(sums) == 0 {
				t.Fatalf("clean tree: %v, %d summaries", cleanErrs, len(sums))
			}
			partial, known := map[string][]byte{}, map[string]gitops.Summary{}
			for p, d := range files {
				partial[p] = d
				if sum, ok := sums[p]; ok && bytes.Equal(d, clean[p]) {
					partial[p], known[p] = nil, sum
				}
			}
			summarized, _ := gitops.NewChecker().WithPlace(tc.place).CheckSummarized(partial, known, sites)
			if fmt.Sprint(summarized) != fmt.Sprint(errs) {
				t.Errorf("with summaries:\n%v\nfrom content:\n%v", summarized, errs)
			}
			// Read one file at a time, as from a tree on disk whose sites
			// are its overlays, the same tree gives what Check gives.
			var overlaid, paths []string
			for p := range files {
				paths = append(paths, p)
				if dir, ok := strings.CutSuffix(p, "/kustomization.yaml"); ok && strings.Count(p, "/") == 2 && strings.HasPrefix(p, gitops.OverlaysDir+"/") {
					overlaid = append(overlaid, strings.TrimPrefix(dir, gitops.OverlaysDir+"/"))
				}
			}
			read := func(p string) ([]byte, error) { return files[p], nil }
			fromDisk, err := gitops.NewChecker().WithPlace(tc.place).CheckRead(paths, read, overlaid)
			if want := check(gitops.NewChecker().WithPlace(tc.place), files, overlaid); err != nil || fmt.Sprint(fromDisk) != fmt.Sprint(want) {
				t.Errorf("CheckRead: %v\n%v\nCheck:\n%v", err, fromDisk, want)
			}
			if len(errs) != len(tc.want) {
				t.Fatalf("got %d errors, want %d: %v", len(errs), len(tc.want), errs)
			}
			for _, w := range tc.want {
				found := false
				for _, e := range errs {
					found = found || strings.Contains(e.Error(), w)
				}
				if !found {
					t.Errorf("no error contains %q; got %v", w, errs)
				}
			}
		})
	}
}

// TestCheckRead: a file that no longer exists when its turn comes is
// skipped as if it had not been listed; any other read error is returned,
// naming the file, and no findings with it.
func TestCheckRead(t *testing.T) {
	data, _ := os.ReadFile("testdata/flux-networks/inventory.yaml")
	fleet, tree := renderFixture(t, "flux", data)
	var fluxSites []string
	for _, s := range fleet.Sites {
		fluxSites = append(fluxSites, s.Name)
	}
	files := gitops.Files(tree)
	var paths []string
	for p := range files {
		paths = append(paths, p)
	}
	sync := "clusters/site-online/fleet-sync.yaml"
	if files[sync] == nil {
		t.Fatalf("the Flux tree has no %s", sync)
	}
	gone := func(p string) ([]byte, error) {
		if p == sync {
			return nil, fs.ErrNotExist
		}
		return files[p], nil
	}
	errs, err := gitops.NewChecker().CheckRead(paths, gone, fluxSites)
	if err != nil || fmt.Sprint(errs) != fmt.Sprint(check(gitops.NewChecker(), without(files, sync), fluxSites)) || len(errs) == 0 {
		t.Errorf("a file gone since listed: %v, %v; want the findings of the tree without it", errs, err)
	}
	denied := func(p string) ([]byte, error) {
		if p == sync {
			return nil, fs.ErrPermission
		}
		return files[p], nil
	}
	errs, err = gitops.NewChecker().CheckRead(paths, denied, fluxSites)
	if !errors.Is(err, fs.ErrPermission) || !strings.Contains(fmt.Sprint(err), sync) || errs != nil {
		t.Errorf("an unreadable file: %v, %v; want an error naming %s", errs, err, sync)
	}
}

func without(files map[string][]byte, p string) map[string][]byte {
	out := maps.Clone(files)
	delete(out, p)
	return out
}

// check is CheckSummarized with every file's content: its findings.
func check(c *gitops.Checker, files map[string][]byte, sites []string) []error {
	errs, _ := c.CheckSummarized(files, nil, sites)
	return errs
}
