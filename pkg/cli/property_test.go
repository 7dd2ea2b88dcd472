package cli

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fleetgen/fleetgen/pkg/benchfleet"
	"github.com/fleetgen/fleetgen/pkg/pipeline"
	"github.com/fleetgen/fleetgen/templates"
)

// Environment variables for longer or other runs of
// TestIncrementalEqualsFull, for example
//
//	FLEETGEN_PROPERTY_STEPS=400 FLEETGEN_PROPERTY_SEED=7 go test ./pkg/cli -run TestIncrementalEqualsFull
const (
	propertyStepsEnv = "FLEETGEN_PROPERTY_STEPS"
	propertySeedEnv  = "FLEETGEN_PROPERTY_SEED"
)

// propertyWorld is the state TestIncrementalEqualsFull edits: an
// inventory made by pkg/benchfleet, a copy of the default template set,
// and an output tree that the incremental runs write.
type propertyWorld struct {
	t    *testing.T
	rng  *rand.Rand
	dir  string
	inv  string // inventory file
	set  string // template set directory
	out  string // the incremental runs' output directory
	orig map[string][]byte

	sites  int         // sites 0 … sites-1
	revs   map[int]int // site → label revision (benchfleet.EditSite)
	broken bool        // the inventory has an invalid site
	// goodTemplates holds the content of each template broken on purpose
	// (by absolute path) before it was broken.
	goodTemplates map[string][]byte
	rev           int // counter making every edit distinct

	// ahead is how far the incremental runs' clock is ahead of time.Now:
	// moving it forward ages every file written so far, so that the stat
	// cache trusts them and a clean check seals them, without sleeping.
	ahead time.Duration
}

// TestIncrementalEqualsFull is the property the incremental engine (index,
// stat cache, seals, render reuse) must keep: after any sequence of
// inventory edits, template edits and hand edits of the tree, a command
// run incrementally gives the same exit code, the same output and the
// same tree as the same command run with --no-cache on a copy of the tree
// as it was before the command. The sequence is random but seeded, so a
// failure names the seed and the step that reproduce it.
func TestIncrementalEqualsFull(t *testing.T) {
	steps, seed := 30, uint64(1)
	if testing.Short() {
		steps = 8
	}
	if s := os.Getenv(propertyStepsEnv); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a positive number", propertyStepsEnv, s)
		}
		steps = n
	}
	if s := os.Getenv(propertySeedEnv); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: want a number", propertySeedEnv, s)
		}
		seed = n
	}
	w := newPropertyWorld(t, seed)
	t.Logf("seed %d, %d steps (%s, %s)", seed, steps, propertySeedEnv, propertyStepsEnv)
	var log []string
	codes := map[int]int{}
	for step := 0; step < steps; step++ {
		edits := w.edit()
		args := w.command()
		log = append(log, fmt.Sprintf("step %d: %s; fleetgen %s", step, strings.Join(edits, ", "), strings.Join(args, " ")))
		code, msg := w.compare(args)
		log[len(log)-1] += fmt.Sprintf(" → exit %d", code)
		codes[code]++
		if msg != "" {
			t.Fatalf("seed %d: incremental and full runs differ at step %d\n%s\n\n%s", seed, step, strings.Join(log, "\n"), msg)
		}
	}
	t.Logf("exit codes %v\n%s", codes, strings.Join(log, "\n"))
	// The sequence must have reached every outcome, or it tested little.
	for _, code := range []int{ExitOK, ExitFailed, ExitBadInput} {
		if codes[code] == 0 && steps >= 20 {
			t.Errorf("no step exited %d: choose another seed or more steps", code)
		}
	}
}

func newPropertyWorld(t *testing.T, seed uint64) *propertyWorld {
	dir := t.TempDir()
	w := &propertyWorld{
		t: t, rng: rand.New(rand.NewPCG(seed, 20)), dir: dir,
		inv: filepath.Join(dir, "inventory.yaml"), set: filepath.Join(dir, "templates"),
		out: filepath.Join(dir, "inc", "fleet"), orig: map[string][]byte{},
		sites: 6, revs: map[int]int{}, goodTemplates: map[string][]byte{},
	}
	t.Setenv(cacheDirEnv, filepath.Join(dir, "cache"))
	// Both trees sit at fleet/ of a repository of their own (the full
	// run's is made by compare), so their wiring is the same.
	inRepo(t, filepath.Join(dir, "inc"))
	if err := os.CopyFS(w.set, templates.FS()); err != nil {
		t.Fatal(err)
	}
	w.writeInventory()
	if code, _, stderr := w.run(w.incremental(), "generate", "-o", w.out); code != 0 {
		t.Fatalf("first generate: exit %d\n%s", code, stderr)
	}
	return w
}

func (w *propertyWorld) writeInventory() {
	var b bytes.Buffer
	if err := benchfleet.Inventory(&b, w.sites); err != nil {
		w.t.Fatal(err)
	}
	inv := b.Bytes()
	for i, rev := range w.revs {
		if i < w.sites {
			inv = benchfleet.EditSite(inv, i, rev)
		}
	}
	if w.broken {
		inv = append(inv, "  - name: Not_A_Valid_Name\n"...)
	}
	if err := os.WriteFile(w.inv, inv, 0o644); err != nil {
		w.t.Fatal(err)
	}
}

// templates the edits touch: the base (every site), a component (its
// sites), a per-site overlay template and a fleet-level GitOps template.
var propertyTemplates = []string{
	"base/deployment.yaml",
	"components/gpu/kustomization.yaml",
	"overlays/{{ .Site.Name }}/patch-node.yaml.tmpl",
	"clusters/{{ .Site.Name }}/fleet-sync.yaml.tmpl",
}

// edit makes one to three random edits and says what they were. Broken
// inputs (an invalid site, a template that fails) are mended again soon,
// so that most steps run on inputs that render.
func (w *propertyWorld) edit() []string {
	var did []string
	if w.broken && w.rng.IntN(2) == 0 {
		w.broken = false
		w.writeInventory()
		did = append(did, "mend the inventory")
	}
	if len(w.goodTemplates) > 0 && w.rng.IntN(2) == 0 {
		for p, data := range w.goodTemplates {
			if err := os.WriteFile(p, data, 0o644); err != nil {
				w.t.Fatal(err)
			}
		}
		w.goodTemplates = map[string][]byte{}
		did = append(did, "mend the templates")
	}
	for n := 1 + w.rng.IntN(3); n > 0; n-- {
		w.rev++
		switch k := w.rng.IntN(16); k {
		case 0, 1, 2:
			i := w.rng.IntN(w.sites)
			w.revs[i] = w.rev
			w.writeInventory()
			did = append(did, fmt.Sprintf("label site %d", i))
		case 3:
			w.sites++
			w.writeInventory()
			did = append(did, "add a site")
		case 4:
			if w.sites > 2 {
				w.sites--
				w.writeInventory()
				did = append(did, "remove a site")
			}
		case 5:
			w.broken = true
			w.writeInventory()
			did = append(did, "break the inventory")
		case 6, 7:
			p := propertyTemplates[w.rng.IntN(len(propertyTemplates))]
			w.appendTo(filepath.Join(w.set, filepath.FromSlash(p)), fmt.Sprintf("# template rev %d\n", w.rev))
			did = append(did, "edit template "+p)
		case 8:
			p := filepath.Join(w.set, filepath.FromSlash(propertyTemplates[w.rng.IntN(len(propertyTemplates))]))
			if _, ok := w.goodTemplates[p]; !ok {
				data, err := os.ReadFile(p)
				if err != nil {
					w.t.Fatal(err)
				}
				w.goodTemplates[p] = data
			}
			w.appendTo(p, "{{ .NoSuchField }}\n")
			did = append(did, "break template "+p[len(w.set)+1:])
		case 9:
			if err := os.RemoveAll(w.set); err != nil {
				w.t.Fatal(err)
			}
			if err := os.CopyFS(w.set, templates.FS()); err != nil {
				w.t.Fatal(err)
			}
			w.goodTemplates = map[string][]byte{}
			did = append(did, "restore the default templates")
		case 10, 11:
			if p := w.pickGenerated(); p != "" {
				w.remember(p)
				w.appendTo(filepath.Join(w.out, p), fmt.Sprintf("# hand edit %d\n", w.rev))
				did = append(did, "hand edit "+p)
			}
		case 12:
			if p := w.pickGenerated(); p != "" {
				w.remember(p)
				if err := os.Remove(filepath.Join(w.out, p)); err != nil {
					w.t.Fatal(err)
				}
				did = append(did, "delete "+p)
			}
		case 13:
			site := benchfleet.SiteName(w.rng.IntN(w.sites))
			local := filepath.Join("overlays", site, "local", "kustomization.yaml")
			if _, err := os.Stat(filepath.Join(w.out, local)); err == nil {
				w.remember(local)
				w.appendTo(filepath.Join(w.out, local), "resources: [missing.yaml]\n")
				did = append(did, "break "+local)
			}
		case 14, 15:
			if len(w.orig) == 0 {
				break
			}
			for p, data := range w.orig {
				full := filepath.Join(w.out, p)
				if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
					w.t.Fatal(err)
				}
				if err := os.WriteFile(full, data, 0o644); err != nil {
					w.t.Fatal(err)
				}
			}
			w.orig = map[string][]byte{}
			did = append(did, "undo the hand edits")
		}
	}
	if w.rng.IntN(2) == 0 {
		w.ahead += 2100 * time.Millisecond
		did = append(did, "2.1 s pass")
	}
	return did
}

// command picks the command to run: mostly generate and check, sometimes
// with --force, a selector or the JSON report.
func (w *propertyWorld) command() []string {
	var args []string
	switch k := w.rng.IntN(10); {
	case k < 5:
		args = []string{"generate"}
	case k < 9:
		args = []string{"check"}
	default:
		args = []string{"generate", "--force"}
	}
	if w.rng.IntN(4) == 0 {
		args = append(args, "--format", "json")
	}
	if w.rng.IntN(6) == 0 {
		args = append(args, "-l", "name="+benchfleet.SiteName(w.rng.IntN(w.sites)))
	}
	return args
}

// remember keeps the content of the output file p (relative to the tree)
// before its first hand edit, for the undo edit.
func (w *propertyWorld) remember(p string) {
	if _, ok := w.orig[p]; ok {
		return
	}
	data, err := os.ReadFile(filepath.Join(w.out, p))
	if err != nil {
		w.t.Fatal(err)
	}
	w.orig[p] = data
}

// pickGenerated returns a random file fleetgen wrote under overlays/
// (outside local/), or "" when there is none.
func (w *propertyWorld) pickGenerated() string {
	var files []string
	root := filepath.Join(w.out, "overlays")
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && d.Name() == "local" {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(w.out, p)
			files = append(files, rel)
		}
		return nil
	})
	if len(files) == 0 {
		return ""
	}
	return files[w.rng.IntN(len(files))]
}

func (w *propertyWorld) appendTo(path, text string) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := f.WriteString(text); err != nil {
		w.t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		w.t.Fatal(err)
	}
}

// incremental is the context of the incremental runs: their clock.
func (w *propertyWorld) incremental() context.Context {
	ahead := w.ahead
	return context.WithValue(context.Background(), pipeline.ClockKey{}, func() time.Time { return time.Now().Add(ahead) })
}

// run runs fleetgen with the inventory and the template set.
func (w *propertyWorld) run(ctx context.Context, args ...string) (code int, stdout, stderr string) {
	args = append(args, "-i", w.inv, "--templates", w.set, "--quiet")
	var out, errOut bytes.Buffer
	code = Run(ctx, IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, args)
	return code, out.String(), errOut.String()
}

// compare runs args incrementally on the tree and with --no-cache on a
// copy of it; it returns the incremental run's exit code and describes
// every difference ("" for none).
func (w *propertyWorld) compare(args []string) (int, string) {
	full := filepath.Join(w.dir, "full", "fleet")
	if err := os.RemoveAll(filepath.Dir(full)); err != nil {
		w.t.Fatal(err)
	}
	copyTree(w.t, w.out, full)
	inRepo(w.t, filepath.Dir(full))

	icode, iout, ierr := w.run(w.incremental(), append(slices.Clone(args), "-o", w.out)...)
	fcode, fout, ferr := w.run(context.Background(), append(slices.Clone(args), "-o", full, "--no-cache")...)

	norm := func(s, root string) string { return strings.ReplaceAll(s, root, "OUT") }
	var diffs []string
	if icode != fcode {
		diffs = append(diffs, fmt.Sprintf("exit code: incremental %d, full %d", icode, fcode))
	}
	if a, b := norm(iout, w.out), norm(fout, full); a != b {
		diffs = append(diffs, fmt.Sprintf("stdout:\n--- incremental\n%s\n--- full\n%s", a, b))
	}
	if a, b := norm(ierr, w.out), norm(ferr, full); a != b {
		diffs = append(diffs, fmt.Sprintf("stderr:\n--- incremental\n%s\n--- full\n%s", a, b))
	}
	it, ft := readTree(w.t, w.out), readTree(w.t, full)
	for _, p := range sortedUnion(it, ft) {
		a, ina := it[p]
		b, inb := ft[p]
		switch {
		case !ina:
			diffs = append(diffs, "tree: only the full run has "+p)
		case !inb:
			diffs = append(diffs, "tree: only the incremental run has "+p)
		case a != b:
			diffs = append(diffs, fmt.Sprintf("tree: %s differs:\n--- incremental\n%s\n--- full\n%s", p, a, b))
		}
	}
	return icode, strings.Join(diffs, "\n")
}

// copyTree copies the directories and regular files under src to dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	if _, err := os.Stat(src); os.IsNotExist(err) {
		return
	}
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
}

// readTree maps every path under root to its content (directories to
// "dir"), leaving out the lock file, whose content names the process.
func readTree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	if _, err := os.Stat(root); os.IsNotExist(err) {
		return out
	}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		switch {
		case rel == ".fleetgen/lock":
		case d.IsDir():
			out[rel] = "dir"
		default:
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out[rel] = string(data)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sortedUnion(a, b map[string]string) []string {
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
