package pipeline

import (
	"context"

	"github.com/fleetgen/fleetgen/pkg/tree"
)

// DiffOptions say what Diff renders and which tree it compares.
type DiffOptions struct {
	Input
	Tuning
	// Output is the tree to compare with.
	Output string
}

// DiffResult is what the next generate would change.
type DiffResult struct {
	// Report is the verification report; generate refuses to write a
	// tree when it is not OK.
	Report *Report
	// Plan is what generate would do to the tree, with the content of
	// every changed file.
	Plan *Plan
}

// Diff renders and verifies the tree as generate would, through the same
// cache and index as Check, and plans it against Output, writing nothing.
// A clean diff (every site passes, the tree in sync with no notes) seals
// what it looked at, as a clean check does. Bad input is an *InputError.
func Diff(ctx context.Context, o DiffOptions) (*DiffResult, error) {
	if err := validRoot(o.Output); err != nil {
		return nil, err
	}
	defer o.tuneGC()()
	res, plan, err := runTree(ctx, o.Input, o.Tuning, o.Output, tree.PlanOptions{}, nil)
	if err != nil {
		return nil, err
	}
	defer res.SaveIndex()
	out := &DiffResult{Report: res.Report}
	if plan, err = planned(o.Output, o.Selector, res, plan); err != nil {
		return out, err
	}
	out.Plan = plan
	sealClean(res, plan, false)
	return out, nil
}
