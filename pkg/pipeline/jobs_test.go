package pipeline

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/fleetgen/fleetgen/pkg/benchfleet"
)

// jobFleet writes a synthetic inventory of n sites and makes an empty git
// work tree for the fleet tree, with the cache directory of the jobs in a
// temporary directory. It returns the input and the tree's directory.
func jobFleet(t *testing.T, n int) (Input, string) {
	t.Helper()
	t.Setenv(CacheDirEnv, t.TempDir())
	var inv bytes.Buffer
	if err := benchfleet.Inventory(&inv, n); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "inventory.yaml")
	if err := os.WriteFile(file, inv.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	repo := filepath.Join(dir, "repo")
	if err := os.MkdirAll(filepath.Join(repo, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	return Input{Inventories: []string{file}}, repo
}

// remaining runs job with a progress callback and returns, for each call,
// how many selected sites were still to verify: a run that verified no
// site (it took every verdict from the index) has none above zero.
func remaining(t *testing.T, tuning Tuning, job func(Tuning) error) []int {
	t.Helper()
	var left []int
	tuning.Progress = func(done, total int) { left = append(left, total-done) }
	if err := job(tuning); err != nil {
		t.Fatal(err)
	}
	return left
}

func anyAbove0(ns []int) bool {
	for _, n := range ns {
		if n > 0 {
			return true
		}
	}
	return false
}

// diff goes through the same cache and index as check: after a generate,
// a diff of the unchanged tree builds no overlay, and neither does the
// diff after it; --no-cache builds them all, with the same plan.
func TestDiffUsesTheCache(t *testing.T) {
	in, out := jobFleet(t, 4)
	ctx := context.Background()
	var plans []*Plan
	diff := func(tuning Tuning) error {
		res, err := Diff(ctx, DiffOptions{Input: in, Tuning: tuning, Output: out})
		if err == nil {
			if !res.Report.OK() {
				t.Fatalf("diff: %v", reportErr(res.Report))
			}
			plans = append(plans, res.Plan)
		}
		return err
	}
	generated := remaining(t, Tuning{}, func(tuning Tuning) error {
		_, err := Generate(ctx, GenerateOptions{Input: in, Tuning: tuning, Output: out})
		return err
	})
	if !anyAbove0(generated) {
		t.Fatalf("the first generate verified no site: progress %v", generated)
	}
	for i := range 2 {
		if left := remaining(t, Tuning{}, diff); anyAbove0(left) {
			t.Fatalf("diff %d of an unchanged tree verified sites: progress %v", i+1, left)
		}
	}
	if left := remaining(t, Tuning{NoCache: true}, diff); !anyAbove0(left) {
		t.Fatalf("diff --no-cache verified no site: progress %v", left)
	}
	for i, p := range plans {
		if !p.InSync() {
			t.Errorf("diff %d: not in sync: %v", i+1, p.Pending())
		}
	}
}
