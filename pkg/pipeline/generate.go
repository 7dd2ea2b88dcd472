package pipeline

import (
	"context"
	"fmt"
	"os"

	"github.com/fleetgen/fleetgen/pkg/tree"
)

// GenerateOptions say what Generate renders and where it writes it.
type GenerateOptions struct {
	Input
	Tuning
	// Output is the tree directory.
	Output string
	// Force overwrites (or deletes) generated files edited by hand.
	Force bool
	// DryRun plans and writes nothing.
	DryRun bool
	// OnReport, when set, is called with the verification report as soon
	// as it is known, before anything is planned or written; its error
	// ends the job.
	OnReport func(*Report) error
}

// GenerateResult is what Generate did.
type GenerateResult struct {
	// Report is the verification report; nothing is planned or written
	// unless it is OK.
	Report *Report
	// Plan is the change set (nil when a site failed). With conflicts,
	// nothing was written.
	Plan *Plan
	// Applied is true when the plan was written.
	Applied bool
	// Retired are the sites the plan removes (they left the inventory)
	// that leave files of the user's behind, with --plan too.
	Retired []RetiredSite
}

// Generate renders and verifies the tree and, when every site passes and
// no generated file was edited by hand (or Force), writes it to Output:
// under the tree's lock, through the journal, recording the ledger. An
// existing tree is locked before anything is rendered; a new one is
// created only once everything has verified. The index of the tree is
// saved whatever the outcome. Bad input is an *InputError.
func Generate(ctx context.Context, o GenerateOptions) (*GenerateResult, error) {
	if err := validRoot(o.Output); err != nil {
		return nil, err
	}
	defer o.tuneGC()()
	// Lock an existing tree before rendering, so a second run fails fast.
	// A tree that does not exist yet is locked (and so created) only once
	// everything has verified: bad input must not leave a directory behind.
	// Apply refuses a plan that went stale in between.
	locked := false
	if !o.DryRun && dirExists(o.Output) {
		unlock, err := tree.Lock(o.Output)
		if err != nil {
			return nil, err
		}
		defer unlock()
		locked = true
	}
	popts := tree.PlanOptions{Force: o.Force}
	res, plan, err := runTree(ctx, o.Input, o.Tuning, o.Output, popts, o.OnReport)
	if err != nil {
		return nil, err
	}
	// The index is saved whatever the outcome: it records only what
	// passed, and the stat data of what was read and written.
	defer res.SaveIndex()
	out := &GenerateResult{Report: res.Report}
	if !res.Report.OK() {
		return out, nil
	}
	if !o.DryRun && !locked {
		unlock, err := tree.Lock(o.Output)
		if err != nil {
			return out, err
		}
		defer unlock()
		// What the run read of the ledger was read before the lock: the
		// plan reads it again.
		res.forgetLedger()
	}
	if plan == nil {
		if plan, err = makePlan(o.Output, o.Selector, res, popts); err != nil {
			return out, err
		}
	}
	out.Plan = plan
	if o.DryRun {
		out.Retired = retiredSites(o.Output, plan)
		return out, nil
	}
	if len(plan.Conflicts()) > 0 {
		return out, nil
	}
	if err := tree.Apply(ctx, plan); err != nil {
		return out, fmt.Errorf("writing %s: %w", o.Output, err)
	}
	res.Applied(plan)
	out.Applied = true
	out.Retired = retiredSites(o.Output, plan)
	return out, nil
}

func dirExists(dir string) bool {
	st, err := os.Stat(dir)
	return err == nil && st.IsDir()
}
