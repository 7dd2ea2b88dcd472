package pipeline

import (
	"context"

	"github.com/fleetgen/fleetgen/pkg/tree"
)

// CheckOptions say what Check renders and which tree it compares.
type CheckOptions struct {
	Input
	Tuning
	// Output is the tree to check.
	Output string
	// OnReport, when set, is called with the verification report as soon
	// as it is known, before the tree is planned; its error ends the job.
	OnReport func(*Report) error
}

// CheckResult is what Check found.
type CheckResult struct {
	Report *Report
	// Plan is what generate would do to the tree.
	Plan *Plan
	// Drift are the changes generate would make (with a shard other than
	// the first, only its sites' files).
	Drift []Change
	// StaleLedger is true when the files are as generate would write them
	// but the ledger does not record them (never for a shard other than
	// the first, which leaves the ledger to shard 1).
	StaleLedger bool
	// SelectionDigest, with a shard, identifies the sites selected before
	// sharding: the same in every shard of a run.
	SelectionDigest string

	output string
}

// OK reports whether the tree is in sync and every site passed.
func (r *CheckResult) OK() bool {
	return len(r.Drift) == 0 && !r.StaleLedger && r.Report.OK()
}

// WiringFindings says what is wrong with the drifted GitOps wiring files
// on disk, beyond their drift: a Flux path that does not resolve to the
// site's overlay from the repository's root, or an invalid object.
func (r *CheckResult) WiringFindings() ([]error, error) {
	paths := make([]string, 0, len(r.Drift))
	for _, c := range r.Drift {
		paths = append(paths, c.Path)
	}
	return CheckWiringPaths(r.output, paths)
}

// Check renders and verifies the tree as generate would and compares it
// with Output, writing nothing. A clean check (every site passes, the
// tree in sync with no notes, no shard) seals what it looked at, so that
// the next check with the same inputs takes its verdict when nothing it
// looked at changed. Bad input is an *InputError.
func Check(ctx context.Context, o CheckOptions) (*CheckResult, error) {
	if err := validRoot(o.Output); err != nil {
		return nil, err
	}
	defer o.tuneGC()()
	res, plan, err := runTree(ctx, o.Input, o.Tuning, o.Output, tree.PlanOptions{}, o.OnReport)
	if err != nil {
		return nil, err
	}
	defer res.SaveIndex()
	out := &CheckResult{Report: res.Report, SelectionDigest: res.SelectionDigest, output: o.Output}
	if plan, err = planned(o.Output, o.Selector, res, plan); err != nil {
		return out, err
	}
	out.Plan = plan
	drift := plan.Pending()
	staleLedger := len(drift) == 0 && !plan.InSync()
	if o.Shard.Count > 0 && !o.Shard.FleetWide() {
		// Fleet-level files and the ledger are shard 1's.
		kept := drift[:0:0]
		for _, c := range drift {
			if c.Site != "" {
				kept = append(kept, c)
			}
		}
		drift, staleLedger = kept, false
	}
	out.Drift, out.StaleLedger = drift, staleLedger
	sealClean(res, plan, o.Shard.Count > 0)
	return out, nil
}

// planned is plan, or when runTree left it to the job, the plan made now.
func planned(output, selector string, res *Result, plan *tree.Plan) (*tree.Plan, error) {
	if plan != nil {
		return plan, nil
	}
	return makePlan(output, selector, res, tree.PlanOptions{})
}

// sealClean seals a clean run (every verdict a pass, the plan in sync with
// no notes, not a shard): the next one with the same inputs can take its
// verdict if nothing it looked at changes.
func sealClean(res *Result, plan *tree.Plan, sharded bool) {
	if !sharded && plan.InSync() && len(plan.Notes) == 0 && res.Report.OK() {
		_ = res.Seal(plan)
	}
}
