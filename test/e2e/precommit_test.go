package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

const inventory = `apiVersion: fleetgen.dev/v1alpha1
kind: Inventory
fleet: acme
defaults:
  type: store
  region: eu-west
  arch: arm64
  capacity: {cpu: "2", memory: 2Gi}
  images: {app: registry.example.com/app:1.0.0}
  config: {LOG_LEVEL: info}
sites:
  - name: store-berlin-001
  - name: store-paris-002
`

// hook is one entry of .pre-commit-hooks.yaml.
type hook struct {
	ID            string   `yaml:"id"`
	Name          string   `yaml:"name"`
	Description   string   `yaml:"description,omitempty"`
	Entry         string   `yaml:"entry"`
	Args          []string `yaml:"args,omitempty"`
	Language      string   `yaml:"language"`
	PassFilenames bool     `yaml:"pass_filenames"`
}

// localConfig turns the repository's .pre-commit-hooks.yaml into a
// .pre-commit-config.yaml with the same hooks as `repo: local`, language
// system, so that pre-commit runs the freshly built binary without
// fetching anything.
func localConfig(t *testing.T, repoRoot string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, ".pre-commit-hooks.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var hooks []hook
	if err := yaml.Unmarshal(data, &hooks); err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for i := range hooks {
		ids[hooks[i].ID] = true
		if hooks[i].Language != "golang" || hooks[i].PassFilenames {
			t.Errorf("hook %s: language %q, pass_filenames %v; want golang, false", hooks[i].ID, hooks[i].Language, hooks[i].PassFilenames)
		}
		hooks[i].Language = "system"
	}
	if !ids["fleetgen-check"] || !ids["fleetgen-verify"] {
		t.Fatalf("hooks %v: want fleetgen-check and fleetgen-verify", ids)
	}
	out, err := yaml.Marshal(map[string]any{"repos": []any{map[string]any{"repo": "local", "hooks": hooks}}})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestPreCommitHooks(t *testing.T) {
	for _, tool := range []string{"git", "pre-commit"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not on PATH", tool)
		}
	}
	_, file, _, _ := runtime.Caller(0)
	repoRoot := filepath.Join(filepath.Dir(file), "..", "..")

	tmp := t.TempDir()
	bin := filepath.Join(tmp, "bin")
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "fleetgen"), "./cmd/fleetgen")
	build.Dir = repoRoot
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building fleetgen: %v\n%s", err, out)
	}

	repo := filepath.Join(tmp, "repo")
	env := append(os.Environ(),
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"HOME="+tmp,
		"PRE_COMMIT_HOME="+filepath.Join(tmp, "pre-commit-cache"),
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
	write := func(p, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(repo, p), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(repo, 0o755); err != nil {
		t.Fatal(err)
	}
	must("git", "init", "-q", "-b", "main")
	write("inventory.yaml", inventory)
	write(".pre-commit-config.yaml", string(localConfig(t, repoRoot)))
	must("pre-commit", "install")
	must("fleetgen", "generate", "-i", "inventory.yaml", "-o", "fleet")
	must("git", "add", "-A")
	if out := must("git", "commit", "-q", "-m", "fleet"); !strings.Contains(out, "Passed") {
		t.Errorf("first commit: hooks did not run:\n%s", out)
	}

	// A hand edit that breaks an overlay is blocked, naming the site.
	patch := "fleet/overlays/store-paris-002/patch-node.yaml"
	data, err := os.ReadFile(filepath.Join(repo, patch))
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(data), "arm64", "amd64", 1)
	if broken == string(data) {
		t.Fatalf("%s does not pin arm64:\n%s", patch, data)
	}
	write(patch, broken)
	must("git", "add", "-A")
	out, err := run("git", "commit", "-q", "-m", "hand edit")
	if err == nil {
		t.Fatalf("commit of a broken overlay passed:\n%s", out)
	}
	for _, want := range []string{"fleetgen check", "fleetgen verify", "Failed", "store-paris-002", "arch-pinned"} {
		if !strings.Contains(out, want) {
			t.Errorf("blocked commit output does not mention %q:\n%s", want, out)
		}
	}
	must("git", "reset", "-q", "--hard")

	// An inventory change committed without regenerating is blocked.
	write("inventory.yaml", strings.Replace(inventory, "LOG_LEVEL: info", "LOG_LEVEL: debug", 1))
	must("git", "add", "-A")
	out, err = run("git", "commit", "-q", "-m", "stale tree")
	if err == nil {
		t.Fatalf("commit of a stale tree passed:\n%s", out)
	}
	if !strings.Contains(out, "store-berlin-001") || !strings.Contains(out, "fleetgen check") {
		t.Errorf("blocked commit output does not name the stale site:\n%s", out)
	}

	// Regenerating fixes it.
	must("fleetgen", "generate", "-i", "inventory.yaml", "-o", "fleet")
	must("git", "add", "-A")
	must("git", "commit", "-q", "-m", "regenerated")
}
