package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// hook is one hook of a .pre-commit-hooks.yaml or of a local repo in a
// .pre-commit-config.yaml.
type hook struct {
	ID            string   `yaml:"id"`
	Name          string   `yaml:"name"`
	Description   string   `yaml:"description,omitempty"`
	Entry         string   `yaml:"entry"`
	Args          []string `yaml:"args,omitempty"`
	Language      string   `yaml:"language"`
	PassFilenames bool     `yaml:"pass_filenames"`
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func readFile(t *testing.T, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(), filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// localRecipe is the .pre-commit-config.yaml fleetgen init writes.
const localRecipe = "pkg/cli/starter/pre-commit-config.yaml"

// TestDocumentedRecipes keeps the two documented hook forms true: the local
// recipe in docs/pre-commit.md is byte for byte the one init writes, it
// runs the installed fleetgen offline (repo local, language system), and
// the remote hooks of .pre-commit-hooks.yaml run the same command with the
// same default arguments.
func TestDocumentedRecipes(t *testing.T) {
	recipe := readFile(t, localRecipe)
	doc := string(readFile(t, "docs/pre-commit.md"))
	const marker = "<!-- fleetgen init writes exactly this block"
	i := strings.Index(doc, marker)
	if i < 0 {
		t.Fatalf("docs/pre-commit.md has no %q line before the local recipe", marker)
	}
	block := doc[i:]
	start := strings.Index(block, "```yaml\n")
	end := strings.Index(block[start+8:], "```\n")
	if start < 0 || end < 0 {
		t.Fatal("docs/pre-commit.md: no yaml block after the marker")
	}
	if got := block[start+8 : start+8+end]; got != string(recipe) {
		t.Errorf("docs/pre-commit.md shows another local recipe than %s:\n%s\nwant:\n%s", localRecipe, got, recipe)
	}
	if strings.Contains(doc, "rev: v0.1.0") {
		t.Error("docs/pre-commit.md names rev v0.1.0, a tag that does not exist")
	}

	var config struct {
		Repos []struct {
			Repo  string `yaml:"repo"`
			Rev   string `yaml:"rev"`
			Hooks []hook `yaml:"hooks"`
		} `yaml:"repos"`
	}
	if err := yaml.Unmarshal(recipe, &config); err != nil {
		t.Fatalf("%s: %v", localRecipe, err)
	}
	if len(config.Repos) != 1 || config.Repos[0].Repo != "local" || config.Repos[0].Rev != "" {
		t.Fatalf("%s: want one repo: local without rev, got %+v", localRecipe, config.Repos)
	}
	local := map[string]hook{}
	for _, h := range config.Repos[0].Hooks {
		if h.Language != "system" || h.PassFilenames {
			t.Errorf("local hook %s: language %q, pass_filenames %v; want system, false", h.ID, h.Language, h.PassFilenames)
		}
		local[h.ID] = h
	}
	if _, ok := local["fleetgen-check"]; !ok {
		t.Fatalf("%s has no fleetgen-check hook", localRecipe)
	}

	var remote []hook
	if err := yaml.Unmarshal(readFile(t, ".pre-commit-hooks.yaml"), &remote); err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, h := range remote {
		ids[h.ID] = true
		if h.Language != "golang" || h.PassFilenames {
			t.Errorf("remote hook %s: language %q, pass_filenames %v; want golang, false", h.ID, h.Language, h.PassFilenames)
		}
		if l, ok := local[h.ID]; ok && (l.Entry != h.Entry || strings.Join(l.Args, " ") != strings.Join(h.Args, " ")) {
			t.Errorf("hook %s: remote runs %q %v, the local recipe %q %v", h.ID, h.Entry, h.Args, l.Entry, l.Args)
		}
	}
	if !ids["fleetgen-check"] || !ids["fleetgen-verify"] {
		t.Errorf("remote hooks %v: want fleetgen-check and fleetgen-verify", ids)
	}
}

// TestPreCommitLocalRecipe runs the local recipe the way a user does: an
// installed fleetgen, `fleetgen init` in a new repository, `pre-commit
// install`, commits. Nothing is fetched or built by pre-commit (no network,
// an empty PRE_COMMIT_HOME). It skips when git or pre-commit is not
// installed.
func TestPreCommitLocalRecipe(t *testing.T) {
	for _, tool := range []string{"git", "pre-commit"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("SKIP: %s is not installed, so the pre-commit recipe is not exercised (install pre-commit to run this test)", tool)
		}
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "bin")
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "fleetgen"), "./cmd/fleetgen")
	build.Dir = repoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building fleetgen: %v\n%s", err, out)
	}

	repo := filepath.Join(tmp, "repo")
	env := append(os.Environ(),
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"HOME="+tmp,
		"PRE_COMMIT_HOME="+filepath.Join(tmp, "pre-commit-cache"),
		"FLEETGEN_CACHE_DIR="+filepath.Join(tmp, "fleetgen-cache"),
		"GIT_CONFIG_GLOBAL="+filepath.Join(tmp, "gitconfig"),
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=fleet", "GIT_AUTHOR_EMAIL=fleet@example.com",
		"GIT_COMMITTER_NAME=fleet", "GIT_COMMITTER_EMAIL=fleet@example.com",
	)
	run := func(name string, args ...string) (string, error) {
		t.Helper()
		if name == "fleetgen" {
			name = filepath.Join(bin, "fleetgen")
		}
		cmd := exec.Command(name, args...)
		cmd.Dir, cmd.Env = repo, env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	must := func(name string, args ...string) string {
		t.Helper()
		out, err := run(name, args...)
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return out
	}
	mustFail := func(what string, wants ...string) {
		t.Helper()
		out, err := run("git", "commit", "-q", "-m", what)
		if err == nil {
			t.Fatalf("commit of %s passed:\n%s", what, out)
		}
		for _, want := range wants {
			if !strings.Contains(out, want) {
				t.Errorf("blocked commit of %s does not say %q:\n%s", what, want, out)
			}
		}
	}
	path := func(p string) string { return filepath.Join(repo, filepath.FromSlash(p)) }
	edit := func(p, old, new string) {
		t.Helper()
		data, err := os.ReadFile(path(p))
		if err != nil {
			t.Fatal(err)
		}
		changed := strings.Replace(string(data), old, new, 1)
		if changed == string(data) {
			t.Fatalf("%s has no %q", p, old)
		}
		if err := os.WriteFile(path(p), []byte(changed), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	if err := os.MkdirAll(repo, 0o755); err != nil {
		t.Fatal(err)
	}
	must("git", "init", "-q", "-b", "main")
	must("fleetgen", "init")
	if got := readFile(t, localRecipe); !bytes.Equal(mustRead(t, path(".pre-commit-config.yaml")), got) {
		t.Fatal("fleetgen init did not write the local recipe as .pre-commit-config.yaml")
	}
	must("pre-commit", "install")
	must("fleetgen", "generate", "-i", "inventory.yaml", "-o", "fleet")
	must("git", "add", "-A")
	if out := must("git", "status", "--porcelain"); strings.Contains(out, ".fleetgen/lock") || !strings.Contains(out, "fleet/.fleetgen/ledger") {
		t.Errorf("init's .gitignore: want the ledger staged and the lock ignored:\n%s", out)
	}
	if out := must("git", "commit", "-q", "-m", "fleet"); !strings.Contains(out, "fleetgen check") || !strings.Contains(out, "Passed") {
		t.Errorf("first commit: the hook did not run:\n%s", out)
	}
	// pre-commit keeps each repository it clones (and each environment it
	// builds) in a repo* directory of its cache: the local recipe has none.
	entries, _ := os.ReadDir(filepath.Join(tmp, "pre-commit-cache"))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "repo") {
			t.Errorf("pre-commit fetched or built something for the local recipe: %s", e.Name())
		}
	}

	// A hand edit of a generated file is blocked, naming the site and
	// where the change belongs.
	edit("fleet/overlays/store-hamburg-002/patch-node.yaml", "arm64", "amd64")
	must("git", "add", "-A")
	mustFail("a hand-edited file", "fleetgen check", "Failed", "store-hamburg-002", "edited", "fleet/overlays/store-hamburg-002/local/", "--force")
	must("git", "reset", "-q", "--hard")

	// What the site's local/ Component adds is verified too: an extra
	// Deployment not pinned to the site's architecture is blocked.
	edit("fleet/overlays/store-hamburg-002/local/kustomization.yaml", "resources: []", "resources:\n  - extra.yaml")
	if err := os.WriteFile(path("fleet/overlays/store-hamburg-002/local/extra.yaml"), []byte(`apiVersion: apps/v1
kind: Deployment
metadata: {name: extra, namespace: edge-app}
spec:
  selector: {matchLabels: {app: extra}}
  template:
    metadata: {labels: {app: extra}}
    spec:
      containers:
        - name: extra
          image: registry.example.com/extra:1.0.0
`), 0o644); err != nil {
		t.Fatal(err)
	}
	must("git", "add", "-A")
	mustFail("an unpinned local Deployment", "fleetgen check", "Failed", "store-hamburg-002", "arch-pinned")
	must("git", "reset", "-q", "--hard")
	must("git", "clean", "-qfd")

	// An inventory change committed without regenerating is blocked.
	edit("inventory.yaml", "LOG_LEVEL: info", "LOG_LEVEL: debug")
	must("git", "add", "inventory.yaml")
	mustFail("a stale tree", "store-berlin-001", "run fleetgen generate and stage the tree (git add fleet)")

	// Regenerated but only the overlays staged: generate now answers "up
	// to date", and the hook says to stage the ledger.
	must("fleetgen", "generate", "-i", "inventory.yaml", "-o", "fleet")
	if out := must("fleetgen", "generate", "-i", "inventory.yaml", "-o", "fleet"); !strings.Contains(out, "up to date") {
		t.Fatalf("second generate: %s", out)
	}
	must("git", "add", "fleet/overlays", "fleet/base", "fleet/components")
	mustFail("a tree without its ledger", "git add fleet/.fleetgen")

	must("git", "add", "fleet/.fleetgen")
	must("git", "commit", "-q", "-m", "regenerated")
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
