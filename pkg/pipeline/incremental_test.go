package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/fleetgen/fleetgen/pkg/benchfleet"
	"github.com/fleetgen/fleetgen/pkg/cache"
	"github.com/fleetgen/fleetgen/pkg/index"
	"github.com/fleetgen/fleetgen/pkg/render"
	"github.com/fleetgen/fleetgen/pkg/selector"
	fstree "github.com/fleetgen/fleetgen/pkg/tree"
	"github.com/fleetgen/fleetgen/templates"
)

// incrementalFleet is an output tree generated from a small synthetic fleet
// with an incremental run, and what it takes to run again.
type incrementalFleet struct {
	t         *testing.T
	out       string
	inventory []byte
	templates string // a copy of the embedded set, to edit
	cache     *cache.Dir
	// ahead is how far the runs' clock (Options.Clock) is ahead of
	// time.Now: age moves it forward instead of sleeping.
	ahead time.Duration
}

// now is the runs' clock.
func (f *incrementalFleet) now() time.Time { return time.Now().Add(f.ahead) }

// age makes every file written so far look d older to the runs, as if d
// had passed: files younger than two seconds are neither trusted by the
// stat cache nor sealed.
func (f *incrementalFleet) age(d time.Duration) { f.ahead += d }

func newIncrementalFleet(t *testing.T, sites int) *incrementalFleet {
	t.Helper()
	return newIncrementalFleetWith(t, sites, nil)
}

// newIncrementalFleetWith is newIncrementalFleet with the inventory passed
// through edit first.
func newIncrementalFleetWith(t *testing.T, sites int, edit func([]byte) []byte) *incrementalFleet {
	t.Helper()
	var inv bytes.Buffer
	if err := benchfleet.Inventory(&inv, sites); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		data := edit(inv.Bytes())
		inv.Reset()
		inv.Write(data)
	}
	set := t.TempDir()
	if err := os.CopyFS(set, templates.FS()); err != nil {
		t.Fatal(err)
	}
	c, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// The tree is the root of its repository: its wiring names ./overlays/.
	repo := t.TempDir()
	if err := os.Mkdir(filepath.Join(repo, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	f := &incrementalFleet{t: t, out: repo, inventory: inv.Bytes(), templates: set, cache: c}
	res := f.run()
	if !res.Report.OK() {
		t.Fatalf("first run: %v", reportErr(res.Report))
	}
	f.write(res)
	return f
}

// run is an incremental run on the tree.
func (f *incrementalFleet) run() *Result {
	f.t.Helper()
	return f.runSeal(false)
}

// runSeal is an incremental run on the tree that uses seals when seal is
// set (Options.Seal), as the CLI's are.
func (f *incrementalFleet) runSeal(seal bool) *Result {
	f.t.Helper()
	res, err := Run(context.Background(), Options{
		Inventory: "inventory.yaml", InventoryData: f.inventory, Templates: os.DirFS(f.templates),
		Output: f.out, Incremental: true, Seal: seal, Cache: f.cache, CacheSalt: "salt", DropObjects: true,
		Clock: f.now,
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return res
}

// write applies the run's tree (rendering it when the run skipped the
// render) and saves the index, as generate does.
func (f *incrementalFleet) write(res *Result) {
	f.t.Helper()
	plan, err := fstree.MakePlan(f.out, res.Tree, fstree.PlanOptions{Stats: res.Stats})
	if err != nil {
		f.t.Fatal(err)
	}
	if res.Partial && !plan.InSync() {
		f.t.Fatal("a run that skipped the render has changes to write")
	}
	if err := fstree.Apply(context.Background(), plan); err != nil {
		f.t.Fatal(err)
	}
	if err := res.SaveIndex(); err != nil {
		f.t.Fatal(err)
	}
}

// built lists the sites a run verified rather than took from the index.
func built(res *Result) []string {
	reused := map[string]bool{}
	for _, s := range res.Reused {
		reused[s] = true
	}
	var out []string
	for _, r := range res.Report.Results {
		if !reused[r.Site] {
			out = append(out, r.Site)
		}
	}
	sort.Strings(out)
	return out
}

func editFile(t *testing.T, p string, edit func(string) string) {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(edit(string(data))), 0o644); err != nil {
		t.Fatal(err)
	}
}

// With unchanged inputs an incremental run skips the render and verifies
// nothing; any change to what a build reads makes the site verify again,
// so the index never hides a failure.
func TestIncrementalRuns(t *testing.T) {
	f := newIncrementalFleet(t, 12)
	eu := benchfleet.SiteName(1) // uses the eu-compliance component
	gpu := benchfleet.SiteName(3)

	res := f.run()
	if !res.Partial || !res.Report.OK() || len(res.Report.Results) != 12 || len(built(res)) != 0 {
		t.Fatalf("unchanged inputs: partial=%v ok=%v results=%d built=%v", res.Partial, res.Report.OK(), len(res.Report.Results), built(res))
	}
	f.write(res)

	// A user's file of one site breaks: only that site is built, and fails.
	local := filepath.Join(f.out, "overlays", eu, "local", "kustomization.yaml")
	orig, err := os.ReadFile(local)
	if err != nil {
		t.Fatal(err)
	}
	editFile(t, local, func(s string) string { return s + "\n: [broken\n" })
	res = f.run()
	if res.Partial || res.Report.OK() || strings.Join(built(res), ",") != eu {
		t.Fatalf("broken local component: partial=%v ok=%v built=%v", res.Partial, res.Report.OK(), built(res))
	}
	_ = res.SaveIndex()
	// Still failing on the next run: failures are never recorded.
	if res = f.run(); res.Report.OK() {
		t.Fatal("the failure was hidden on the second run")
	}
	if err := os.WriteFile(local, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	if res = f.run(); !res.Report.OK() || strings.Join(built(res), ",") != eu {
		t.Fatalf("repaired: ok=%v built=%v", res.Report.OK(), built(res))
	}
	f.write(res)

	// One site's config changes in the inventory: only it is built.
	f.inventory = bytes.Replace(f.inventory, []byte("STORE_ID: \"3\""), []byte("STORE_ID: \"3b\""), 1)
	res = f.run()
	if res.Partial || !res.Report.OK() || strings.Join(built(res), ",") != gpu {
		t.Fatalf("one site edited: partial=%v built=%v", res.Partial, built(res))
	}
	f.write(res)

	// A component changes: exactly the sites that use it are built.
	comp := filepath.Join(f.templates, "components", "gpu", "deployment-gpu.yaml")
	editFile(t, comp, func(s string) string { return s + "# edited\n" })
	res = f.run()
	var want []string
	for i := range 12 {
		if i%10 == 3 {
			want = append(want, benchfleet.SiteName(i))
		}
	}
	if got := built(res); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("component edited: built %v, want %v", got, want)
	}
	f.write(res)

	// A generated file edited by hand: verification is about the tree as
	// it will be written, so nothing is built, but the plan cannot be made
	// from hashes alone; rendered in full, it shows the conflict.
	patch := filepath.Join(f.out, "overlays", gpu, "patch-node.yaml")
	editFile(t, patch, func(s string) string { return s + "# edited by hand\n" })
	res = f.run()
	if !res.Partial || len(built(res)) != 0 {
		t.Fatalf("hand edit: partial=%v built=%v", res.Partial, built(res))
	}
	if _, err := fstree.MakePlan(f.out, res.Tree, fstree.PlanOptions{Stats: res.Stats}); !errors.Is(err, fstree.ErrNoContent) {
		t.Fatalf("plan of a partial tree with a conflict: %v, want ErrNoContent", err)
	}
	full, err := Run(context.Background(), Options{
		Inventory: "inventory.yaml", InventoryData: f.inventory, Templates: os.DirFS(f.templates),
		Output: f.out, Incremental: true, NoShortcut: true, Cache: f.cache, CacheSalt: "salt", DropObjects: true,
	})
	if err != nil || full.Partial || len(built(full)) != 0 {
		t.Fatalf("full run: %v partial=%v built=%v", err, full != nil && full.Partial, built(full))
	}
	plan, err := fstree.MakePlan(f.out, full.Tree, fstree.PlanOptions{Stats: full.Stats})
	if err != nil {
		t.Fatal(err)
	}
	if cs := plan.Conflicts(); len(cs) != 1 || cs[0].Path != "overlays/"+gpu+"/patch-node.yaml" {
		t.Fatalf("a hand edit of a generated file: conflicts %v", cs)
	}
}

// A damaged index is a miss: the run renders and verifies everything.
func TestIncrementalDamagedIndex(t *testing.T) {
	f := newIncrementalFleet(t, 4)
	n := 0
	err := filepath.WalkDir(f.cache.Path(), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n++
		return os.WriteFile(p, []byte("damaged"), 0o644)
	})
	if err != nil || n == 0 {
		t.Fatalf("damaging %d entries: %v", n, err)
	}
	res := f.run()
	if res.Partial || !res.Report.OK() || len(built(res)) != 4 {
		t.Fatalf("damaged index: partial=%v ok=%v built=%v", res.Partial, res.Report.OK(), built(res))
	}
}

// A site whose build reads another site's files is verified again when
// those files change: records follow what a build read, not directories.
func TestIncrementalCrossSite(t *testing.T) {
	// With Flux wiring a site may not read another site's overlay (its
	// source checks out only its own, see pipeline.checkSparse), so this
	// fleet is not wired.
	f := newIncrementalFleetWith(t, 4, func(inv []byte) []byte {
		return bytes.Replace(inv, []byte("engine: flux"), []byte("engine: none"), 1)
	})
	a, b := benchfleet.SiteName(0), benchfleet.SiteName(2)
	localA := filepath.Join(f.out, "overlays", a, "local", "kustomization.yaml")
	editFile(t, localA, func(string) string {
		return "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\ncomponents:\n  - ../../" + b + "/local\n"
	})
	res := f.run()
	if !res.Report.OK() || strings.Join(built(res), ",") != a {
		t.Fatalf("site %s now uses %s's component: ok=%v built=%v (%v)", a, b, res.Report.OK(), built(res), reportErr(res.Report))
	}
	f.write(res)
	if res = f.run(); !res.Partial || len(built(res)) != 0 {
		t.Fatalf("unchanged: partial=%v built=%v", res.Partial, built(res))
	}
	localB := filepath.Join(f.out, "overlays", b, "local", "kustomization.yaml")
	editFile(t, localB, func(s string) string { return s + "resources: [missing.yaml]\n" })
	res = f.run()
	failed := map[string]bool{}
	for _, r := range res.Report.Failed() {
		failed[r.Site] = true
	}
	if !failed[a] || !failed[b] || len(failed) != 2 {
		t.Fatalf("breaking %s's component: failed %v, want %s and %s", b, failed, a, b)
	}
}

// Only YAML files of the last run count as parsed: a text file with the
// same content as a new YAML file never vouches for it.
func TestIncrementalParsedOnlyYAML(t *testing.T) {
	h := func(s string) string { return render.File{Data: []byte(s)}.ContentHash() }
	b := index.NewBuilder("s", "i")
	b.AddFile(index.File{Path: "notes.txt", Hash: h("a: [")})
	b.AddFile(index.File{Path: "base/a.yaml", Hash: h("a: 1\n")})
	prev := b.Index(nil)
	inc := &incremental{last: func() *index.Index { return prev }}
	parsed := inc.parsed()
	if parsed(h("a: [")) {
		t.Error("the content of a text file counts as parsed YAML")
	}
	if !parsed(h("a: 1\n")) {
		t.Error("the content of a YAML file does not count as parsed")
	}
	if (*incremental)(nil).parsed() != nil {
		t.Error("a run without an index knows parsed content")
	}
}

// After a one-site edit of the inventory, only that site's templates run:
// the other sites' files come from the index by hash, and the tree is the
// one a full render makes.
func TestIncrementalRenderReuse(t *testing.T) {
	f := newIncrementalFleet(t, 12)
	gpu := benchfleet.SiteName(3)
	f.inventory = bytes.Replace(f.inventory, []byte("STORE_ID: \"3\""), []byte("STORE_ID: \"3b\""), 1)
	res := f.run()
	if res.Partial || !res.HashOnly || !res.Report.OK() || strings.Join(built(res), ",") != gpu {
		t.Fatalf("one site edited: partial=%v hashOnly=%v ok=%v built=%v", res.Partial, res.HashOnly, res.Report.OK(), built(res))
	}
	for _, file := range res.Tree.Files {
		if loaded := file.Data != nil; loaded != (file.Site == "" || file.Site == gpu) {
			t.Errorf("%s (site %q): content loaded=%v", file.Path, file.Site, loaded)
		}
	}
	full, err := Run(context.Background(), Options{
		Inventory: "inventory.yaml", InventoryData: f.inventory, Templates: os.DirFS(f.templates),
		Output: f.out, NoShortcut: true, DropObjects: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := treeSummary(res.Tree), treeSummary(full.Tree); got != want {
		t.Fatalf("tree with reused files differs from a full render:\n%s\nwant:\n%s", got, want)
	}
	f.write(res)
	if res = f.run(); !res.Partial || len(built(res)) != 0 {
		t.Fatalf("after writing: partial=%v built=%v", res.Partial, built(res))
	}
}

// A reused file a build reads must be what is on disk; when it is not
// (edited by hand), the run renders in full rather than report the
// difference as the site's failure, and the plan shows the conflict.
func TestIncrementalRenderReuseHandEdit(t *testing.T) {
	f := newIncrementalFleet(t, 4)
	a, b := benchfleet.SiteName(1), benchfleet.SiteName(2)
	// a is built again (its own component changed) and reads its
	// generated files, one of which was edited by hand; b's inventory
	// entry changes, so the render reuses a's files.
	editFile(t, filepath.Join(f.out, "overlays", a, "patch-node.yaml"), func(s string) string { return s + "# edited by hand\n" })
	editFile(t, filepath.Join(f.out, "overlays", a, "local", "kustomization.yaml"), func(s string) string { return s + "# a comment\n" })
	f.inventory = bytes.Replace(f.inventory, []byte("STORE_ID: \"2\""), []byte("STORE_ID: \"2b\""), 1)
	res := f.run()
	if !res.Report.OK() || res.HashOnly {
		t.Fatalf("ok=%v hashOnly=%v: %v", res.Report.OK(), res.HashOnly, reportErr(res.Report))
	}
	if got := strings.Join(built(res), ","); got != a+","+b {
		t.Fatalf("built %s, want %s,%s", got, a, b)
	}
	plan, err := fstree.MakePlan(f.out, res.Tree, fstree.PlanOptions{Stats: res.Stats})
	if err != nil {
		t.Fatal(err)
	}
	if cs := plan.Conflicts(); len(cs) != 1 || cs[0].Path != "overlays/"+a+"/patch-node.yaml" {
		t.Fatalf("conflicts %v", cs)
	}
}

// treeSummary lists a tree's files by path, site, seed and hash.
func treeSummary(t *render.Tree) string {
	var b strings.Builder
	for _, f := range t.Files {
		fmt.Fprintf(&b, "%s %s %v %s\n", f.Path, f.Site, f.Seed, f.ContentHash())
	}
	return b.String()
}

// A clean check seals what it looked at; the next check with the same
// inputs takes its verdict while nothing it looked at changes, and checks
// in full as soon as anything does.
func TestIncrementalSeal(t *testing.T) {
	f := newIncrementalFleet(t, 4)
	a := benchfleet.SiteName(1)
	check := func() (*Result, *fstree.Plan) {
		t.Helper()
		res := f.runSeal(true)
		if res.Sealed {
			return res, nil
		}
		popts := fstree.PlanOptions{Stats: res.Stats, Snapshot: res.Snapshot}
		if res.Scope != nil {
			popts.Only = func(site string) bool { return res.Scope[site] }
		}
		plan, err := fstree.MakePlan(f.out, res.PlanTree(), popts)
		if err != nil {
			t.Fatal(err)
		}
		if plan.InSync() && res.Report.OK() {
			if err := res.Seal(plan); err != nil {
				t.Fatal(err)
			}
		}
		if err := res.SaveIndex(); err != nil {
			t.Fatal(err)
		}
		return res, plan
	}
	// Files written less than 2 s ago are never sealed.
	if res, _ := check(); res.Sealed {
		t.Fatal("sealed before any clean check")
	}
	if res, _ := check(); res.Sealed {
		t.Fatal("a tree written just now was sealed")
	}
	f.age(2100 * time.Millisecond)
	if res, _ := check(); res.Sealed || !res.Partial {
		t.Fatalf("first clean check: sealed=%v partial=%v", res.Sealed, res.Partial)
	}
	res, _ := check()
	if !res.Sealed || !res.Report.OK() || len(res.Report.Results) != 4 {
		t.Fatalf("second clean check: sealed=%v ok=%v results=%d", res.Sealed, res.Report.OK(), len(res.Report.Results))
	}
	// A generated file rewritten with the same content: only its site is
	// checked and planned again.
	editFile(t, filepath.Join(f.out, "overlays", a, "patch-node.yaml"), func(s string) string { return s })
	res, plan := check()
	if res.Sealed || !res.Report.OK() || !plan.InSync() || fmt.Sprint(res.Scope) != fmt.Sprintf("map[%s:true]", a) {
		t.Fatalf("user file edited: sealed=%v ok=%v scope=%v", res.Sealed, res.Report.OK(), res.Scope)
	}

	// A generate after an inventory edit carries the seal over to its
	// index: the check after it plans only the site it wrote.
	b := benchfleet.SiteName(2)
	f.inventory = bytes.Replace(f.inventory, []byte("STORE_ID: \"2\""), []byte("STORE_ID: \"2b\""), 1)
	gen := f.run()
	gplan, err := fstree.MakePlan(f.out, gen.Tree, fstree.PlanOptions{Stats: gen.Stats})
	if err != nil {
		t.Fatal(err)
	}
	if err := fstree.Apply(context.Background(), gplan); err != nil {
		t.Fatal(err)
	}
	gen.Applied(gplan)
	if err := gen.SaveIndex(); err != nil {
		t.Fatal(err)
	}
	res, plan = check()
	if res.Sealed || !res.Report.OK() || !plan.InSync() || res.Scope == nil || !res.Scope[b] || len(res.Scope) > 2 {
		t.Fatalf("after generate: sealed=%v ok=%v scope=%v", res.Sealed, res.Report.OK(), res.Scope)
	}
	// A hand edit of a generated file of another site, after that seal,
	// is drift, found by the scoped plan.
	c := benchfleet.SiteName(3)
	patch := filepath.Join(f.out, "overlays", c, "patch-node.yaml")
	orig, err := os.ReadFile(patch)
	if err != nil {
		t.Fatal(err)
	}
	editFile(t, patch, func(s string) string { return s + "# mine\n" })
	if res = f.runSeal(true); res.Sealed || !res.Scope[c] {
		t.Fatalf("hand edit: sealed=%v scope=%v", res.Sealed, res.Scope)
	}
	_, err = fstree.MakePlan(f.out, res.Tree, fstree.PlanOptions{Stats: res.Stats, Snapshot: res.Snapshot,
		Only: func(site string) bool { return res.Scope[site] }})
	if !errors.Is(err, fstree.ErrNoContent) {
		t.Fatalf("scoped plan of a hand edit: %v, want ErrNoContent (render in full to show it)", err)
	}
	if err := os.WriteFile(patch, orig, 0o644); err != nil {
		t.Fatal(err)
	}

	// A user's file breaks a site: not sealed, and the failure is found.
	editFile(t, filepath.Join(f.out, "overlays", a, "local", "kustomization.yaml"), func(s string) string { return s + "resources: [missing.yaml]\n" })
	res, _ = check()
	if res.Sealed || res.Report.OK() {
		t.Fatalf("broken user file: sealed=%v ok=%v", res.Sealed, res.Report.OK())
	}
	// Another selection is never answered by the seal.
	sel, err := Run(context.Background(), Options{
		Inventory: "inventory.yaml", InventoryData: f.inventory, Templates: os.DirFS(f.templates), Selector: mustSelector(t, "name="+a),
		Output: f.out, Incremental: true, Seal: true, Cache: f.cache, CacheSalt: "salt", DropObjects: true,
		Clock: f.now,
	})
	if err != nil || sel.Sealed {
		t.Fatalf("selected run: %v sealed=%v", err, sel != nil && sel.Sealed)
	}
}

func mustSelector(t *testing.T, s string) selector.Selector {
	t.Helper()
	sel, err := selector.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return sel
}

func TestNearness(t *testing.T) {
	n := newNearness([]string{"overlays/a/local/kustomization.yaml", "base"})
	for p, want := range map[string]bool{
		"overlays/a/local/kustomization.yaml": true,  // the changed path
		"overlays/a/local":                    true,  // holds it
		"overlays":                            true,  // holds it
		"":                                    true,  // the root holds everything
		"base/deployment.yaml":                true,  // inside a changed directory
		"base":                                true,  // changed
		"overlays/a/local/kustomization.yml":  false, // a sibling
		"overlays/b":                          false,
		"components/gpu":                      false,
		"baseline.yaml":                       false, // a prefix, not a parent
	} {
		if got := n.related(p); got != want {
			t.Errorf("related(%q) = %v, want %v", p, got, want)
		}
	}
}

// A run that renders, after a clean check sealed the tree, checks again
// only the records the seal cannot vouch for and plans only the sites
// whose files can differ; its verdicts and its plan are those of a full
// run, whatever changed on disk or in the inventory since the seal.
func TestIncrementalSealDelta(t *testing.T) {
	f := newIncrementalFleet(t, 6)
	a, b, c := benchfleet.SiteName(1), benchfleet.SiteName(2), benchfleet.SiteName(3)
	run := func() *Result {
		t.Helper()
		return f.runSeal(true)
	}
	plan := func(res *Result) (*fstree.Plan, error) {
		popts := fstree.PlanOptions{Stats: res.Stats, Snapshot: res.Snapshot}
		if res.Scope != nil {
			popts.Only = func(site string) bool { return res.Scope[site] }
		}
		return fstree.MakePlan(f.out, res.PlanTree(), popts)
	}
	seal := func() {
		t.Helper()
		f.age(2100 * time.Millisecond)
		res := run()
		p, err := plan(res)
		if err != nil || !p.InSync() || !res.Report.OK() {
			t.Fatalf("check before sealing: %v in sync=%v ok=%v", err, p != nil && p.InSync(), res.Report.OK())
		}
		if err := res.Seal(p); err != nil {
			t.Fatal(err)
		}
		if err := res.SaveIndex(); err != nil {
			t.Fatal(err)
		}
		if res := run(); !res.Sealed {
			t.Fatal("not sealed")
		}
	}
	// generate runs as the CLI does, compares the verdicts and the plan with
	// those of a full run, and applies the plan when asked. The index is
	// saved either way.
	generate := func(apply bool) (*Result, *fstree.Plan) {
		t.Helper()
		res := run()
		res.StartSave() // as the CLI does: the index is stored while the tree is planned and written
		defer res.SaveIndex()
		full, err := Run(context.Background(), Options{
			Inventory: "inventory.yaml", InventoryData: f.inventory, Templates: os.DirFS(f.templates),
			Output: f.out, DropObjects: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := verdicts(res), verdicts(full); got != want {
			t.Fatalf("verdicts:\n%s\nwant (full run):\n%s", got, want)
		}
		p, err := plan(res)
		if errors.Is(err, fstree.ErrNoContent) {
			// The CLI renders in full to show or write a reused file.
			return res, nil
		}
		if err != nil {
			t.Fatal(err)
		}
		fullPlan, err := fstree.MakePlan(f.out, full.Tree, fstree.PlanOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := planSummary(p), planSummary(fullPlan); got != want {
			t.Fatalf("plan (scope %v):\n%s\nwant (full plan):\n%s", res.Scope, got, want)
		}
		if apply {
			if err := fstree.Apply(context.Background(), p); err != nil {
				t.Fatal(err)
			}
			res.Applied(p)
			if err := res.SaveIndex(); err != nil {
				t.Fatal(err)
			}
		}
		return res, p
	}
	scope := func(res *Result) string {
		var sites []string
		for s := range res.Scope {
			sites = append(sites, s)
		}
		sort.Strings(sites)
		return strings.Join(sites, ",")
	}
	seal()

	// One site edited: only it is built and planned.
	orig := f.inventory
	f.inventory = benchfleet.EditSite(orig, 2, 1)
	res, _ := generate(true)
	if got := strings.Join(built(res), ","); got != b || scope(res) != b {
		t.Fatalf("one site edited: built %s, scope %s; want %s", got, scope(res), b)
	}
	// The seal was carried over: the next edit is scoped too, and so is
	// the check after it.
	f.inventory = benchfleet.EditSite(orig, 2, 2)
	if res, _ := generate(true); scope(res) != b {
		t.Fatalf("second edit: scope %s, want %s", scope(res), b)
	}
	if res := run(); !res.Report.OK() || scope(res) != b {
		t.Fatalf("check after generate: ok=%v scope %s", res.Report.OK(), scope(res))
	}

	// A hand edit of another site's generated file is found while
	// another site is edited: its site is planned, and the conflict shown.
	patch := filepath.Join(f.out, "overlays", c, "patch-node.yaml")
	was, err := os.ReadFile(patch)
	if err != nil {
		t.Fatal(err)
	}
	editFile(t, patch, func(s string) string { return s + "# mine\n" })
	f.inventory = benchfleet.EditSite(orig, 2, 3)
	if res, p := generate(false); !res.Scope[c] || (p != nil && len(p.Conflicts()) != 1) {
		t.Fatalf("hand edit: scope %s", scope(res))
	}
	if err := os.WriteFile(patch, was, 0o644); err != nil {
		t.Fatal(err)
	}

	// A user's file that breaks another site's build is found.
	local := filepath.Join(f.out, "overlays", a, "local", "kustomization.yaml")
	if was, err = os.ReadFile(local); err != nil {
		t.Fatal(err)
	}
	editFile(t, local, func(s string) string { return s + "resources: [missing.yaml]\n" })
	// (A failure in a run with reused files is reported from a full
	// render, which plans every site.)
	if res, _ := generate(false); res.Report.OK() || (res.Scope != nil && !res.Scope[a]) {
		t.Fatalf("broken user file: ok=%v scope %s", res.Report.OK(), scope(res))
	}
	if err := os.WriteFile(local, was, 0o644); err != nil {
		t.Fatal(err)
	}

	f.inventory = orig
	generate(true)
	seal()

	// A site removed: its files are deleted, nothing else is planned.
	var inv bytes.Buffer
	if err := benchfleet.Inventory(&inv, 5); err != nil {
		t.Fatal(err)
	}
	six := f.inventory
	f.inventory = inv.Bytes()
	gone := benchfleet.SiteName(5)
	if res, p := generate(true); scope(res) != gone || len(p.Pending()) == 0 {
		t.Fatalf("site removed: scope %s", scope(res))
	}
	// And added back. (The seal covered other sites than the index has
	// now: it is not used until a check seals the tree again.)
	f.inventory = six
	if res, _ := generate(true); strings.Join(built(res), ",") != gone {
		t.Fatalf("site added: built %v", built(res))
	}
	// (A directory for the sites' K3s bundles, where none has one yet.)
	if err := os.Mkdir(filepath.Join(f.out, "bootstrap"), 0o755); err != nil {
		t.Fatal(err)
	}
	seal()

	// A user's file on a sealed tree, at a path outside the overlay that
	// holds a site's name, breaks that site's build: a K3s bundle in
	// bootstrap/<site>/, which the build checks. The sites share the unit
	// with the name left out; generate compares the verdicts with a full
	// run's.
	bundle := filepath.Join(f.out, "bootstrap", c)
	if err := os.MkdirAll(bundle, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bundle, "config.yaml"), []byte("not-a-k3s-flag: true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if res, _ := generate(false); res.Report.OK() {
		t.Fatalf("bundle in bootstrap/%s: ok, want the site failed", c)
	}
	if err := os.RemoveAll(bundle); err != nil {
		t.Fatal(err)
	}
	generate(true)
	seal()

	// A base template edited: every site is built again.
	editFile(t, filepath.Join(f.templates, "base", "deployment.yaml"), func(s string) string { return s + "# base edit\n" })
	if res, _ := generate(true); len(built(res)) != 6 {
		t.Fatalf("base edited: built %v", built(res))
	}
}

// verdicts lists a report's sites with their outcome.
func verdicts(res *Result) string {
	var b strings.Builder
	for _, r := range res.Report.Results {
		fmt.Fprintf(&b, "%s ok=%v findings=%d\n", r.Site, r.Err == nil, len(r.Findings))
	}
	return b.String()
}

// planSummary lists a plan's pending changes and the ledger it writes.
func planSummary(p *fstree.Plan) string {
	var b strings.Builder
	for _, c := range p.Pending() {
		fmt.Fprintf(&b, "%s %s\n", c.Action, c.Path)
	}
	d, err := p.LedgerDigest()
	fmt.Fprintf(&b, "ledger %s %v in sync %v\n", d, err, p.InSync())
	return b.String()
}
