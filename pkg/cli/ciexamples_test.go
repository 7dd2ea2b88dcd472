package cli

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestCIExamples parses the CI examples in docs/ci and checks that every
// fleetgen command line they run names an existing command with existing
// flags and valid values and arguments, as the command tree parses them.
func TestCIExamples(t *testing.T) {
	for _, tc := range []struct {
		file    string
		scripts func(t *testing.T, doc map[string]any) []string
		// must are command lines (prefixes, placeholders substituted)
		// the example must run.
		must []string
		// text must appear in the file.
		text []string
	}{
		{
			file:    "github-actions.yaml",
			scripts: githubScripts,
			must:    []string{"fleetgen verify fleet/ --shard 1/1", "fleetgen report merge", "fleetgen cache prune"},
			text:    []string{"actions/cache@", "actions/upload-artifact@", "actions/download-artifact@", "matrix:", "strategy.job-total", "FLEETGEN_CACHE_DIR"},
		},
		{
			file:    "gitlab-ci.yml",
			scripts: gitlabScripts,
			must:    []string{"fleetgen verify fleet/ --shard 1/1", "fleetgen report merge", "fleetgen cache prune"},
			text:    []string{"parallel:", "CI_NODE_INDEX", "CI_NODE_TOTAL", "cache:", "artifacts:", "FLEETGEN_CACHE_DIR"},
		},
	} {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("..", "..", "docs", "ci", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tc.text {
				if !strings.Contains(string(data), s) {
					t.Errorf("%s does not mention %s", tc.file, s)
				}
			}
			var doc map[string]any
			if err := yaml.Unmarshal(data, &doc); err != nil {
				t.Fatalf("%s: %v", tc.file, err)
			}
			var lines [][]string
			for _, script := range tc.scripts(t, doc) {
				lines = append(lines, fleetgenCommands(script)...)
			}
			if len(lines) == 0 {
				t.Fatalf("%s runs no fleetgen command", tc.file)
			}
			for _, words := range lines {
				if err := checkCommandLine(words[1:]); err != nil {
					t.Errorf("%s: %s: %v", tc.file, strings.Join(words, " "), err)
				}
			}
			for _, m := range tc.must {
				found := false
				for _, words := range lines {
					found = found || strings.HasPrefix(strings.Join(words, " "), m)
				}
				if !found {
					t.Errorf("%s never runs %s", tc.file, m)
				}
			}
		})
	}
}

// checkCommandLine parses args with a fresh command tree as fleetgen
// would, without running anything.
func checkCommandLine(args []string) error {
	root := NewRootCmd(IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard})
	cmd, rest, err := root.Find(args)
	if err != nil {
		return err
	}
	if cmd == root || !cmd.Runnable() {
		return errors.New("no such command")
	}
	if err := cmd.ParseFlags(rest); err != nil {
		return err
	}
	return cmd.ValidateArgs(cmd.Flags().Args())
}

var (
	githubExpr = regexp.MustCompile(`\$\{\{[^}]*\}\}`)
	shellVar   = regexp.MustCompile(`\$\{?[A-Za-z_][A-Za-z0-9_]*\}?`)
	separators = regexp.MustCompile(`&&|\|\||[;|()]|\$\(`)
)

// fleetgenCommands returns the fleetgen command lines of a shell script,
// as words, with CI placeholders and variables replaced by 1 (so that
// --shard ${{ matrix.shard }}/${{ strategy.job-total }} reads 1/1) and
// redirections dropped.
func fleetgenCommands(script string) [][]string {
	var out [][]string
	script = githubExpr.ReplaceAllString(script, "1")
	script = shellVar.ReplaceAllString(script, "1")
	for _, line := range strings.Split(script, "\n") {
		if i := strings.Index(line, "#"); i == 0 || (i > 0 && line[i-1] == ' ') {
			line = line[:i]
		}
		for _, part := range separators.Split(line, -1) {
			words := shellWords(part)
			for len(words) > 0 && strings.Contains(words[0], "=") {
				words = words[1:] // VAR=value prefix
			}
			if len(words) > 0 && words[0] == "fleetgen" {
				out = append(out, words)
			}
		}
	}
	return out
}

// shellWords splits a simple command into words (quotes removed), dropping
// redirections and their targets.
func shellWords(s string) []string {
	var words []string
	var cur strings.Builder
	in := false
	var quote rune
	flush := func() {
		if in {
			words = append(words, cur.String())
		}
		cur.Reset()
		in = false
	}
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			quote, in = r, true
		case r == ' ' || r == '\t':
			flush()
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	flush()
	var out []string
	for i := 0; i < len(words); i++ {
		w := words[i]
		if strings.HasPrefix(w, ">") || strings.HasPrefix(w, "<") || strings.HasPrefix(w, "2>") {
			if w == ">" || w == ">>" || w == "<" || w == "2>" {
				i++
			}
			continue
		}
		out = append(out, w)
	}
	return out
}

func githubScripts(t *testing.T, doc map[string]any) []string {
	jobs, _ := doc["jobs"].(map[string]any)
	if len(jobs) == 0 {
		t.Fatal("no jobs")
	}
	var out []string
	names := sortedKeys(jobs)
	for _, name := range names {
		job, _ := jobs[name].(map[string]any)
		steps, _ := job["steps"].([]any)
		if len(steps) == 0 {
			t.Errorf("job %s has no steps", name)
		}
		for _, s := range steps {
			step, _ := s.(map[string]any)
			if run, ok := step["run"].(string); ok {
				out = append(out, run)
			} else if _, ok := step["uses"].(string); !ok {
				t.Errorf("job %s: a step with neither run nor uses: %v", name, step)
			}
		}
	}
	return out
}

func gitlabScripts(t *testing.T, doc map[string]any) []string {
	var out []string
	for _, name := range sortedKeys(doc) {
		job, ok := doc[name].(map[string]any)
		if !ok || name == "variables" || name == "default" {
			continue
		}
		for _, key := range []string{"before_script", "script", "after_script"} {
			v, ok := job[key]
			if !ok {
				continue
			}
			list, ok := v.([]any)
			if !ok {
				t.Errorf("%s.%s: want a list of commands", name, key)
				continue
			}
			for _, l := range list {
				s, ok := l.(string)
				if !ok {
					t.Errorf("%s.%s: %v is not a string", name, key, l)
				}
				out = append(out, s)
			}
		}
	}
	return out
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TestFleetgenCommands checks the command-line extraction the CI test
// relies on, so that a command the examples run cannot go unchecked.
func TestFleetgenCommands(t *testing.T) {
	got := fleetgenCommands(`set +e
fleetgen verify fleet/ --shard ${{ matrix.shard }}/${{ strategy.job-total }} --format json > report-${{ matrix.shard }}.json
echo "dir=$(fleetgen cache dir)" >> "$GITHUB_OUTPUT"
X=1 fleetgen report merge 'a b.json' c.json && fleetgen cache size | tee out # fleetgen not-run
# fleetgen commented`)
	want := [][]string{
		{"fleetgen", "verify", "fleet/", "--shard", "1/1", "--format", "json"},
		{"fleetgen", "cache", "dir"},
		{"fleetgen", "report", "merge", "a b.json", "c.json"},
		{"fleetgen", "cache", "size"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for i := range want {
		if strings.Join(got[i], "\x00") != strings.Join(want[i], "\x00") {
			t.Errorf("command %d: %q, want %q", i, got[i], want[i])
		}
	}
	for _, bad := range [][]string{{"verify", "fleet/", "--shard", "0/4"}, {"verify", "fleet/", "--shards", "1/4"}, {"report", "combine", "a.json"}, {"nosuch"}, {"cache", "prune", "extra"}} {
		if checkCommandLine(bad) == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
	if err := checkCommandLine([]string{"cache", "prune", "--max-age", "168h", "--dry-run"}); err != nil {
		t.Errorf("a valid command line refused: %v", err)
	}
}
