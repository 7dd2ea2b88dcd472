package accept

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
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/fleetgen/fleetgen/pkg/benchfleet"
	"github.com/fleetgen/fleetgen/pkg/cli"
	"github.com/fleetgen/fleetgen/pkg/policy"
)

// sitesEnv sets the number of sites of the large fleet, for example
//
//	FLEETGEN_ACCEPT_SITES=10000 go test ./test/accept -timeout 3h
//
// (make accept). The small fleet always has smallSites sites.
const sitesEnv = "FLEETGEN_ACCEPT_SITES"

const (
	defaultSites = 50
	smallSites   = 12
)

func fleetSize(t *testing.T) int {
	t.Helper()
	s := os.Getenv(sitesEnv)
	if s == "" {
		return defaultSites
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < smallSites+2 {
		t.Fatalf("%s=%q: want a number of sites, at least %d", sitesEnv, s, smallSites+2)
	}
	return n
}

// TestFleetScale is the acceptance test of the per-site layout, for each
// GitOps engine: the size bounds on the written tree, the site-free files
// the same bytes for 12 and N sites, adding, removing and changing one
// site touching only that site's files, and two branches adding
// neighbouring sites merging without conflict, after which check passes.
func TestFleetScale(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not on PATH: the acceptance test diffs and merges generated trees with git; install git to run it")
	}
	n := fleetSize(t)
	t.Setenv("FLEETGEN_CACHE_DIR", filepath.Join(t.TempDir(), "cache"))
	for _, engine := range []string{"argocd", "flux"} {
		t.Run(engine, func(t *testing.T) { testEngine(t, engine, n) })
	}
}

func testEngine(t *testing.T, engine string, n int) {
	dir := t.TempDir()

	// The small fleet and the large one, each at fleet/ of its own
	// repository, so that their wiring paths are the same.
	small := newRepo(t, filepath.Join(dir, "small"), engine)
	small.writeInventory(t, inventory(t, engine, smallSites))
	small.generate(t)
	smallSiteNames := siteNames(smallSites)

	r := newRepo(t, filepath.Join(dir, "large"), engine)
	inv := inventory(t, engine, n)
	r.writeInventory(t, inv)
	start := time.Now()
	r.generate(t)
	t.Logf("%s: generate of %d sites, empty tree and cache: %s", engine, n, time.Since(start).Round(time.Millisecond))
	largeSiteNames := siteNames(n)

	t.Run("bounds", func(t *testing.T) {
		checkBounds(t, engine, r.tree())
	})
	t.Run("site-free files", func(t *testing.T) {
		sf := siteFree(t, small, smallSiteNames)
		lf := siteFree(t, r, largeSiteNames)
		if len(sf) == 0 {
			t.Fatal("no file of the tree names no site: the comparison would test nothing")
		}
		var diffs []string
		for _, p := range union(sf, lf) {
			a, aok := sf[p]
			b, bok := lf[p]
			switch {
			case !aok:
				diffs = append(diffs, fmt.Sprintf("%s: only in the %d-site fleet", p, n))
			case !bok:
				diffs = append(diffs, fmt.Sprintf("%s: only in the %d-site fleet", p, smallSites))
			case !bytes.Equal(a, b):
				diffs = append(diffs, fmt.Sprintf("%s: %d bytes at %d sites, %d bytes at %d sites", p, len(a), smallSites, len(b), n))
			}
		}
		if len(diffs) > 0 {
			t.Errorf("files that name no site differ between a %d-site and a %d-site fleet with the same waves and windows:\n%s", smallSites, n, strings.Join(diffs, "\n"))
		}
		t.Logf("%s: %d files name no site, the same bytes at %d and %d sites: %s", engine, len(sf), smallSites, n, strings.Join(union(sf, nil), ", "))
	})

	r.git(t, "add", "-A")
	r.git(t, "commit", "-q", "-m", "fleet of "+strconv.Itoa(n)+" sites")

	// One site's edits, each from the committed fleet. The sites are in
	// the middle of the fleet, so that their files sort between others'.
	mid := n / 2
	t.Run("change a site", func(t *testing.T) {
		r.writeInventory(t, benchfleet.EditSite(inv, mid, 1))
		r.generate(t)
		files := r.onlySite(t, engine, "changing", benchfleet.SiteName(mid))
		t.Logf("%s: changing one site of %d created, changed or deleted %d files: %s", engine, n, len(files), strings.Join(files, ", "))
		r.reset(t)
	})
	t.Run("remove a site", func(t *testing.T) {
		r.writeInventory(t, removeSite(t, inv, benchfleet.SiteName(mid)))
		r.generate(t)
		files := r.onlySite(t, engine, "removing", benchfleet.SiteName(mid))
		t.Logf("%s: removing one site of %d created, changed or deleted %d files: %s", engine, n, len(files), strings.Join(files, ", "))
		r.reset(t)
	})

	// Two branches each add a site with neighbouring names, sorting
	// between store-…mid and the next site. The inventory gets the one at
	// the start of its site list and the other at its end, so that the
	// hand-written file merges too; what is tested is the generated tree.
	siteA, siteB := benchfleet.SiteName(mid)+"a", benchfleet.SiteName(mid)+"b"
	t.Run("add a site", func(t *testing.T) {
		r.git(t, "checkout", "-q", "-b", "add-a")
		r.writeInventory(t, addSiteFirst(t, inv, siteA, n))
		r.generate(t)
		files := r.onlySite(t, engine, "adding", siteA)
		t.Logf("%s: adding one site to %d created or changed %d files: %s", engine, n, len(files), strings.Join(files, ", "))
		r.git(t, "add", "-A")
		r.git(t, "commit", "-q", "-m", "add "+siteA)

		r.git(t, "checkout", "-q", "master")
		r.writeInventory(t, addSiteLast(inv, siteB, n+1))
		r.generate(t)
		r.onlySite(t, engine, "adding", siteB)
		r.git(t, "checkout", "-q", "-b", "add-b")
		r.git(t, "add", "-A")
		r.git(t, "commit", "-q", "-m", "add "+siteB)
	})
	t.Run("merge", func(t *testing.T) {
		r.git(t, "checkout", "-q", "add-a")
		out, err := r.gitErr("merge", "--no-edit", "-q", "add-b")
		if err != nil {
			conflicts, _ := r.gitErr("diff", "--name-only", "--diff-filter=U")
			t.Fatalf("%s: git merge of two branches adding %s and %s: %v\n%s\nconflicting files:\n%s", engine, siteA, siteB, err, out, conflicts)
		}
		code, stdout, stderr := r.fleetgen("check")
		if code != cli.ExitOK {
			t.Fatalf("%s: fleetgen check on the merged tree: exit %d\n%s%s", engine, code, stdout, stderr)
		}
		t.Logf("%s: branches adding %s and %s merged without conflict; check passes on the merged tree", engine, siteA, siteB)
	})
}

// repo is a git repository holding inventory.yaml and the generated tree
// at fleet/.
type repo struct {
	root   string
	engine string
}

func newRepo(t testing.TB, root, engine string) *repo {
	t.Helper()
	r := &repo{root: root, engine: engine}
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	r.git(t, "init", "-q", "-b", "master")
	// No automatic gc or maintenance: git runs them detached after a
	// large commit or merge, and they would still be writing to .git
	// when the test removes its directory.
	r.git(t, "config", "gc.auto", "0")
	r.git(t, "config", "maintenance.auto", "false")
	return r
}

func (r *repo) tree() string      { return filepath.Join(r.root, "fleet") }
func (r *repo) inventory() string { return filepath.Join(r.root, "inventory.yaml") }

func (r *repo) writeInventory(t testing.TB, inv []byte) {
	t.Helper()
	if err := os.WriteFile(r.inventory(), withKeys(r.engine, inv), 0o644); err != nil {
		t.Fatal(err)
	}
}

// fleetgen runs the command in-process, as the binary would.
func (r *repo) fleetgen(args ...string) (code int, stdout, stderr string) {
	args = append(args, "-i", r.inventory(), "-o", r.tree(), "--quiet")
	var out, errOut bytes.Buffer
	code = cli.Run(context.Background(), cli.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, args)
	return code, out.String(), errOut.String()
}

func (r *repo) generate(t testing.TB) {
	t.Helper()
	if code, stdout, stderr := r.fleetgen("generate"); code != cli.ExitOK {
		t.Fatalf("generate in %s: exit %d\n%s%s", r.root, code, stdout, stderr)
	}
}

func (r *repo) gitErr(args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = r.root
	cmd.Env = append(os.Environ(),
		"GIT_AUTHOR_NAME=fleetgen", "GIT_AUTHOR_EMAIL=fleetgen@example.invalid",
		"GIT_COMMITTER_NAME=fleetgen", "GIT_COMMITTER_EMAIL=fleetgen@example.invalid",
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (r *repo) git(t testing.TB, args ...string) string {
	t.Helper()
	out, err := r.gitErr(args...)
	if err != nil {
		t.Fatalf("git %s in %s: %v\n%s", strings.Join(args, " "), r.root, err, out)
	}
	return out
}

// reset puts the work tree back to the last commit, leaving what git
// ignores (fleetgen's lock, index and caches) as it is.
func (r *repo) reset(t *testing.T) {
	t.Helper()
	r.git(t, "reset", "-q", "--hard")
	r.git(t, "clean", "-q", "-fd")
}

// changed lists the paths, relative to the tree, that differ from the
// last commit, new files included and ignored ones excluded.
func (r *repo) changed(t *testing.T) []string {
	t.Helper()
	out := r.git(t, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames")
	var paths []string
	for _, rec := range strings.Split(out, "\x00") {
		if len(rec) < 4 {
			continue
		}
		paths = append(paths, rec[3:])
	}
	slices.Sort(paths)
	return paths
}

// onlySite checks that every changed file is one of site's: a path with
// a directory named after the site (overlays/<site>/, clusters/<site>/,
// bootstrap/<site>/) or a file named after it (its ledger under
// .fleetgen/). It returns the changed files of the tree.
func (r *repo) onlySite(t *testing.T, engine, what, site string) []string {
	t.Helper()
	var tree, others []string
	for _, p := range r.changed(t) {
		rel, ok := strings.CutPrefix(p, "fleet/")
		if p == "inventory.yaml" {
			continue
		}
		if !ok || !namesSite(rel, map[string]bool{site: true}) {
			others = append(others, p)
			continue
		}
		tree = append(tree, rel)
	}
	if len(others) > 0 {
		t.Errorf("%s: %s site %s changed files that are not that site's:\n%s", engine, what, site, strings.Join(others, "\n"))
	}
	if len(tree) == 0 {
		t.Errorf("%s: %s site %s changed no file of the tree", engine, what, site)
	}
	return tree
}

// namesSite reports whether a path of the tree belongs to one of sites:
// one of its directories, or its file name up to the first dot, is a
// site's name.
func namesSite(rel string, sites map[string]bool) bool {
	parts := strings.Split(rel, "/")
	for i, part := range parts {
		if i == len(parts)-1 {
			part, _, _ = strings.Cut(part, ".")
		}
		if sites[part] {
			return true
		}
	}
	return false
}

func siteNames(n int) map[string]bool {
	m := make(map[string]bool, n)
	for i := range n {
		m[benchfleet.SiteName(i)] = true
	}
	return m
}

// siteFree returns the content of every file of the tree that git would
// commit (what .gitignore files exclude left out) and that names no site.
func siteFree(t *testing.T, r *repo, sites map[string]bool) map[string][]byte {
	t.Helper()
	out := r.git(t, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "fleet")
	files := map[string][]byte{}
	for _, p := range strings.Split(out, "\x00") {
		rel, ok := strings.CutPrefix(p, "fleet/")
		if !ok || namesSite(rel, sites) {
			continue
		}
		data, err := os.ReadFile(filepath.Join(r.root, filepath.FromSlash(p)))
		if err != nil {
			t.Fatal(err)
		}
		files[rel] = data
	}
	return files
}

func union(a, b map[string][]byte) []string {
	var keys []string
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// checkBounds walks the written tree: no file over policy.MaxFileBytes,
// and no YAML or JSON document over policy.MaxObjectBytes as JSON. It logs
// the largest of each.
func checkBounds(t *testing.T, engine, root string) {
	t.Helper()
	var bigFile, bigObj string
	var bigFileN, bigObjN, files, objs int
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			// fleetgen's tree-local state (lock, index, caches) is not
			// generated content; the ledger is.
			if rel == ".fleetgen" {
				return nil
			}
			if strings.HasPrefix(rel, ".fleetgen/") && rel != ".fleetgen/ledger.d" {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasPrefix(rel, ".fleetgen/") && !strings.HasPrefix(rel, ".fleetgen/ledger.d/") && rel != ".fleetgen/.gitignore" {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		if len(data) > bigFileN {
			bigFile, bigFileN = rel, len(data)
		}
		if msg := policy.FileTooBig(len(data)); msg != "" {
			t.Errorf("%s: %s: %s", engine, rel, msg)
		}
		switch filepath.Ext(rel) {
		case ".yaml", ".yml", ".json":
		default:
			return nil
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for doc := 1; ; doc++ {
			var v any
			if err := dec.Decode(&v); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				return fmt.Errorf("%s (document %d): %w", rel, doc, err)
			}
			if v == nil {
				continue
			}
			j, err := json.Marshal(v)
			if err != nil {
				return fmt.Errorf("%s (document %d): %w", rel, doc, err)
			}
			objs++
			if len(j) > bigObjN {
				bigObj, bigObjN = fmt.Sprintf("%s (document %d)", rel, doc), len(j)
			}
			if msg := policy.ObjectTooBig(len(j)); msg != "" {
				t.Errorf("%s: %s (document %d): %s", engine, rel, doc, msg)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 || objs == 0 {
		t.Fatalf("%s: no generated file or object under %s", engine, root)
	}
	t.Logf("%s: %d files, %d objects; largest file %s (%d bytes), largest object %s (%d bytes as JSON)", engine, files, objs, bigFile, bigFileN, bigObj, bigObjN)
}

// inventory is pkg/benchfleet's inventory of n sites with engine. Its
// waves and maintenance windows are the same at 12 sites as at any
// larger size; checkWavesAndWindows makes sure.
func inventory(t testing.TB, engine string, n int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := benchfleet.Inventory(&b, n); err != nil {
		t.Fatal(err)
	}
	inv := b.Bytes()
	const flux = "\n  engine: flux\n"
	if !bytes.Contains(inv, []byte(flux)) {
		t.Fatal("pkg/benchfleet's inventory no longer sets gitops.engine: flux")
	}
	gitops := "\n  engine: " + engine + "\n"
	if engine == "flux" {
		gitops += "  adminRecipients: [" + ageRecipient("fleet admin") + "]\n"
	}
	inv = bytes.Replace(inv, []byte(flux), []byte(gitops), 1)
	// Every site gets a K3s bootstrap bundle under bootstrap/<site>/.
	const defaults = "\ndefaults:\n"
	if !bytes.Contains(inv, []byte(defaults)) {
		t.Fatal("pkg/benchfleet's inventory has no defaults block")
	}
	inv = bytes.Replace(inv, []byte(defaults), []byte(defaults+"  k3s: {}\n"), 1)
	checkWavesAndWindows(t, inv)
	return inv
}

// checkWavesAndWindows fails unless inv has the waves and maintenance
// windows of the small fleet: wave 0 (every seventh site) and the default
// wave 1, the default window and the eu group's (every fourth site from
// the second), all of which 12 sites have.
func checkWavesAndWindows(t testing.TB, inv []byte) {
	t.Helper()
	var doc struct {
		Defaults struct {
			Wave int `yaml:"wave"`
		} `yaml:"defaults"`
		Groups []struct {
			Name              string `yaml:"name"`
			Wave              *int   `yaml:"wave"`
			MaintenanceWindow any    `yaml:"maintenanceWindow"`
		} `yaml:"groups"`
		Sites []struct {
			Name              string   `yaml:"name"`
			Groups            []string `yaml:"groups"`
			Wave              *int     `yaml:"wave"`
			MaintenanceWindow any      `yaml:"maintenanceWindow"`
		} `yaml:"sites"`
	}
	if err := yaml.Unmarshal(inv, &doc); err != nil {
		t.Fatal(err)
	}
	windowGroups := map[string]bool{}
	for _, g := range doc.Groups {
		if g.Wave != nil {
			t.Fatalf("pkg/benchfleet: group %s sets a wave; update the acceptance test's waves", g.Name)
		}
		if g.MaintenanceWindow != nil {
			windowGroups[g.Name] = true
		}
	}
	waves, windows := map[int]bool{}, map[string]bool{"default": true}
	for _, s := range doc.Sites {
		if s.MaintenanceWindow != nil {
			t.Fatalf("pkg/benchfleet: site %s sets its own maintenance window; update the acceptance test's windows", s.Name)
		}
		w := doc.Defaults.Wave
		if s.Wave != nil {
			w = *s.Wave
		}
		waves[w] = true
		for _, g := range s.Groups {
			if windowGroups[g] {
				windows[g] = true
			}
		}
	}
	if len(waves) != 2 || !waves[0] || !waves[1] || len(windows) != 2 || !windows["eu"] {
		t.Fatalf("pkg/benchfleet's inventory has waves %v and windows %v, not the two waves and two windows of the %d-site fleet", waves, windows, smallSites)
	}
}

// withKeys returns inv with, for engine flux, an ageRecipient of its own
// for every site, so that the tree has the per-site SOPS rules and the
// root .sops.yaml. Argo CD refuses sites with a key (docs/gitops.md).
func withKeys(engine string, inv []byte) []byte {
	if engine != "flux" {
		return inv
	}
	var b strings.Builder
	b.Grow(len(inv) + len(inv)/4)
	for line := range strings.Lines(string(inv)) {
		b.WriteString(line)
		if name, ok := strings.CutPrefix(line, "  - name: "); ok {
			b.WriteString("    ageRecipient: " + ageRecipient(strings.TrimSpace(name)) + "\n")
		}
	}
	return []byte(b.String())
}

// removeSite returns inv without site's entry.
func removeSite(t *testing.T, inv []byte, site string) []byte {
	t.Helper()
	s := string(inv)
	marker := "  - name: " + site + "\n"
	i := strings.Index(s, marker)
	if i < 0 {
		t.Fatalf("no site %s in the inventory", site)
	}
	j := strings.Index(s[i+len(marker):], "  - name: ")
	if j < 0 {
		return []byte(s[:i])
	}
	return []byte(s[:i] + s[i+len(marker)+j:])
}

func siteEntry(name string, id int) string {
	return fmt.Sprintf("  - name: %s\n    config:\n      STORE_ID: \"%d\"\n      LANE_COUNT: \"2\"\n", name, id)
}

// addSiteFirst returns inv with a site named name first in its site list.
func addSiteFirst(t *testing.T, inv []byte, name string, id int) []byte {
	t.Helper()
	s := string(inv)
	i := strings.Index(s, "\nsites:\n")
	if i < 0 {
		t.Fatal("no sites: list in the inventory")
	}
	i += len("\nsites:\n")
	return []byte(s[:i] + siteEntry(name, id) + s[i:])
}

// addSiteLast returns inv with a site named name last in its site list.
func addSiteLast(inv []byte, name string, id int) []byte {
	return append(slices.Clone(inv), siteEntry(name, id)...)
}
