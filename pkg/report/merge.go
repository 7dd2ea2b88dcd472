package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Input is a report read from a file, for Merge.
type Input struct {
	// Name is where the report came from (a file name), for errors.
	Name   string
	Report Report
}

// Decode reads a JSON report strictly: unknown fields, another kind or
// another apiVersion are errors naming name.
func Decode(name string, data []byte) (Input, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var r Report
	if err := dec.Decode(&r); err != nil {
		return Input{}, fmt.Errorf("%s: not a fleetgen JSON report: %w", name, err)
	}
	if r.APIVersion != APIVersion || r.Kind != Kind {
		return Input{}, fmt.Errorf("%s: apiVersion %q kind %q: want %s %s", name, r.APIVersion, r.Kind, APIVersion, Kind)
	}
	return Input{Name: name, Report: r}, nil
}

// Merged is the result of Merge.
type Merged struct {
	// Report is the report of the whole run: the sites of every shard,
	// sorted by name, and their summary, without Shard.
	Report Report
	// FleetProblems counts what the fleet-wide checks found.
	FleetProblems int
}

// OK reports whether the whole run passed: every site and the fleet-wide
// checks.
func (m Merged) OK() bool { return m.Report.OK() && m.FleetProblems == 0 }

// Merge combines the reports of the N shards of one run (each with Shard
// set, the same Count and Fleet, the indexes 1..N once each, no site in
// two) into the report an unsharded run gives. Any other mix is an error
// naming the files.
func Merge(in []Input) (Merged, error) {
	if len(in) == 0 {
		return Merged{}, errors.New("no reports to merge")
	}
	var errs []error
	first := in[0]
	for _, r := range in {
		if r.Report.Shard == nil {
			errs = append(errs, fmt.Errorf("%s: not the report of a shard (no shard field: run verify or check with --shard I/N)", r.Name))
		}
	}
	if len(errs) > 0 {
		return Merged{}, errors.Join(errs...)
	}
	count, fleet := first.Report.Shard.Count, first.Report.Shard.Fleet
	byIndex := map[int][]string{}
	for _, r := range in {
		s := r.Report.Shard
		if s.Count != count {
			errs = append(errs, fmt.Errorf("%s: shard %d/%d, but %s is shard %d/%d: reports of different shard counts", r.Name, s.Index, s.Count, first.Name, first.Report.Shard.Index, count))
			continue
		}
		if s.Fleet != fleet {
			errs = append(errs, fmt.Errorf("%s: fleet %s, but %s has fleet %s: reports of different fleets (or site selections)", r.Name, s.Fleet, first.Name, fleet))
			continue
		}
		if s.Index < 1 || s.Index > s.Count {
			errs = append(errs, fmt.Errorf("%s: shard %d/%d out of range", r.Name, s.Index, s.Count))
			continue
		}
		byIndex[s.Index] = append(byIndex[s.Index], r.Name)
	}
	if len(errs) > 0 {
		return Merged{}, errors.Join(errs...)
	}
	if count < 1 {
		return Merged{}, fmt.Errorf("%s: shard count %d: must be at least 1", first.Name, count)
	}
	var missing []string
	// Only the first few missing shards are named: a count far above the
	// number of reports must not make a long list.
	for i := 1; i <= count && len(missing) < 10; i++ {
		switch names := byIndex[i]; {
		case len(names) == 0:
			missing = append(missing, fmt.Sprintf("%d/%d", i, count))
		case len(names) > 1:
			errs = append(errs, fmt.Errorf("shard %d/%d given more than once: %s", i, count, strings.Join(names, ", ")))
		}
	}
	if len(missing) > 0 || len(byIndex) < count {
		errs = append(errs, fmt.Errorf("missing shard %s (have %d of %d reports)", strings.Join(missing, ", "), len(in), count))
	}
	if len(errs) > 0 {
		return Merged{}, errors.Join(errs...)
	}
	out := Merged{Report: Report{APIVersion: APIVersion, Kind: Kind, Sites: []Site{}}}
	owner := map[string]string{}
	checks := 0
	for _, r := range in {
		for _, s := range r.Report.Sites {
			if prev, ok := owner[s.Name]; ok {
				errs = append(errs, fmt.Errorf("site %s is in both %s and %s: overlapping shards", s.Name, prev, r.Name))
				continue
			}
			owner[s.Name] = r.Name
			out.Report.Sites = append(out.Report.Sites, s)
		}
		add(&out.Report.Summary, r.Report.Summary)
		if r.Report.Shard.FleetChecks {
			checks++
		}
		out.FleetProblems += r.Report.Shard.FleetProblems
	}
	if checks != 1 {
		errs = append(errs, fmt.Errorf("%d of the %d reports ran the fleet-wide checks, want exactly 1", checks, count))
	}
	if len(errs) > 0 {
		return Merged{}, errors.Join(errs...)
	}
	sort.SliceStable(out.Report.Sites, func(i, j int) bool { return out.Report.Sites[i].Name < out.Report.Sites[j].Name })
	return out, nil
}

func add(to *Summary, s Summary) {
	to.Sites += s.Sites
	to.OK += s.OK
	to.Failed += s.Failed
	to.Errors += s.Errors
	to.SchemaErrors += s.SchemaErrors
	to.PolicyFindings += s.PolicyFindings
	to.Waived += s.Waived
	to.Skipped += s.Skipped
}
