package pipeline

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/fleetgen/fleetgen/pkg/inventory"
	"github.com/fleetgen/fleetgen/pkg/selector"
	"github.com/fleetgen/fleetgen/pkg/verify"
)

// VerifyOptions say which tree on disk Verify builds, and which of its
// overlays.
type VerifyOptions struct {
	Tuning
	// Root is the tree's absolute path; Dir is the tree as the user named
	// it, for messages.
	Root, Dir string
	// Selector (-l) limits Verify to the overlays it selects.
	Selector string
	// Fleet, when set, is the inventory the selector is matched against,
	// so that it sees every site field.
	Fleet *inventory.Fleet
	// Shard, when set, limits Verify to one shard of the selected sites;
	// only the first runs the fleet-wide checks.
	Shard selector.Shard
}

// VerifyResult is what Verify found.
type VerifyResult struct {
	Report *Report
	// Wiring and Sizes are the findings of the fleet-wide checks: the
	// GitOps wiring, and the size bounds of files that are not built.
	Wiring, Sizes []error
	// Selection identifies the sites selected before sharding.
	Selection string
}

// OK reports whether every overlay passed and the fleet-wide checks found
// nothing.
func (r *VerifyResult) OK() bool {
	return r.Report.OK() && len(r.Wiring) == 0 && len(r.Sizes) == 0
}

// Verify builds every overlay of a tree on disk (generated or written by
// hand) with the kustomize API, checks what they build, and runs the
// fleet-wide checks. Bad input (no overlays, a malformed facts file, a
// selector matching none) is an *InputError.
func Verify(ctx context.Context, o VerifyOptions) (*VerifyResult, error) {
	defer o.tuneGC()()
	fsys := filesys.MakeFsOnDisk()
	targets, err := verify.Overlays(fsys, o.Root)
	if err != nil {
		return nil, &InputError{Err: err}
	}
	if len(targets) == 0 {
		return nil, &InputError{Err: fmt.Errorf("%s: no overlays found (expected %s/overlays/<site>/kustomization.yaml)", o.Dir, o.Dir)}
	}
	if targets, err = selectOverlays(fsys, o.Root, targets, o.Selector, o.Fleet); err != nil {
		return nil, err
	}
	targets, digest := shardTargets(targets, o.Shard)
	// The report needs each site's verdict only: neither its built
	// objects nor, once the cache has stored them, its build's accesses
	// are kept for every site until the run ends.
	vopts := verify.Options{FS: fsys, Root: o.Root, Workers: o.Workers, Progress: o.Progress,
		DropObjects: true, OnResult: func(r *verify.Result) { r.Accesses = nil }}
	vopts.Cache, vopts.CacheSalt = o.openCache()
	res := &VerifyResult{Report: &verify.Report{}, Selection: digest}
	if len(targets) > 0 {
		if res.Report, err = verify.Run(ctx, targets, vopts); err != nil {
			return nil, err
		}
	}
	// The fleet-wide checks run once across the shards: on shard 1.
	if o.Shard.FleetWide() {
		if res.Wiring, err = CheckTreeWiring(o.Root); err != nil {
			return nil, err
		}
		// The overlays' objects are bounded by the object-size policy;
		// files that are not built (argocd/, clusters/, any other) are
		// checked here.
		if res.Sizes, err = CheckSizesOnDisk(o.Root); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// Build builds the overlay of one site of the tree at root (an absolute
// path) and checks it as Verify does; the report's one result carries
// the built manifests in the kustomize CLI's order.
func Build(ctx context.Context, root, site string) (*Report, error) {
	fsys := filesys.MakeFsOnDisk()
	target, err := verify.OverlayTarget(fsys, root, site)
	if err != nil {
		return nil, &InputError{Err: err}
	}
	return verify.Run(ctx, []verify.Target{target}, verify.Options{FS: fsys, Root: root})
}

// shardTargets keeps the targets of shard s and returns the digest of the
// whole selection, which the shard's report records.
func shardTargets(targets []verify.Target, s selector.Shard) ([]verify.Target, string) {
	names := make([]string, len(targets))
	for i, t := range targets {
		names[i] = t.Site
	}
	digest := selector.Digest(names)
	if s.Whole() && s.Count == 0 {
		return targets, digest
	}
	out := make([]verify.Target, 0, len(targets)/max(s.Count, 1)+1)
	for _, t := range targets {
		if s.Has(t.Site) {
			out = append(out, t)
		}
	}
	return out, digest
}

// selectOverlays keeps the overlays of a tree on disk that text selects.
//
// With an inventory (fleet non-nil) a selector sees exactly what generate
// and sites see: the overlay of each selected site is kept. Without one, it
// sees each overlay's name (its directory), the labels its kustomization
// sets (site labels, plus type and region from the fleetgen.dev/ labels of
// a generated overlay), and the fields the site's facts file records (arch,
// and type, region, groups, wave and network in the facts of a current
// generate). A hand-written overlay, or one an older fleetgen generated,
// does not record group, wave or network: naming them then is bad input
// that names -i, rather than a selector that silently matches nothing. A
// key that is neither a site field nor a label is bad input, as in every
// command. Selecting none is bad input too: a gate must not pass by
// verifying nothing.
func selectOverlays(fsys filesys.FileSystem, root string, targets []verify.Target, text string, fleet *inventory.Fleet) ([]verify.Target, error) {
	sel, err := parseSelector(text)
	if err != nil || sel.Empty() {
		return targets, err
	}
	var out []verify.Target
	if fleet != nil {
		selected, err := selector.Select(fleet, sel)
		if err != nil {
			return nil, &InputError{Err: fmt.Errorf("-l: %w", err)}
		}
		names := map[string]bool{}
		for _, s := range selected.Sites {
			names[s.Name] = true
		}
		for _, t := range targets {
			if names[t.Site] {
				out = append(out, t)
			}
		}
		if len(out) == 0 {
			return nil, &InputError{Err: fmt.Errorf("-l %s: no overlay matches (%d of the inventory's sites selected, none has an overlay among the tree's %d)", text, len(selected.Sites), len(targets))}
		}
		return out, nil
	}
	attrs := make([]selector.Attributes, len(targets))
	labelKeys := map[string]bool{}
	var unrecorded []string // overlays whose facts file records no fields
	for i, t := range targets {
		dir := t.Dir
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(root, dir)
		}
		var data []byte
		for _, name := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
			if b, err := fsys.ReadFile(filepath.Join(dir, name)); err == nil {
				data = b
				break
			}
		}
		attrs[i] = selector.ForOverlay(t.Site, data)
		if t.Facts != nil && t.Facts.Arch != "" {
			attrs[i].Fields["arch"] = t.Facts.Arch
		}
		if !overlayFields(fsys, dir, &attrs[i]) {
			unrecorded = append(unrecorded, t.Site)
		}
		for k := range attrs[i].Labels {
			labelKeys[k] = true
		}
	}
	if len(unrecorded) > 0 {
		for _, k := range sel.Keys() {
			if slices.Contains(selector.Fields, k) && !slices.Contains(selector.OverlayFields, k) {
				return nil, &InputError{Err: fmt.Errorf("-l %s: %d overlay(s) (%s) do not record a site's %s in %s: they are hand-written, or were generated by an older fleetgen (generate again to record it); give the inventory with -i (e.g. -i inventory.yaml) to select by %s",
					text, len(unrecorded), strings.Join(firstN(unrecorded, 3), ", "), k, verify.SiteFactsFile, k)}
			}
		}
	}
	keys := make([]string, 0, len(labelKeys))
	for k := range labelKeys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if err := sel.CheckKeys(keys); err != nil {
		return nil, &InputError{Err: fmt.Errorf("-l: %w", err)}
	}
	for i, t := range targets {
		if sel.Matches(attrs[i]) {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil, &InputError{Err: fmt.Errorf("-l %s: no overlay matches (of %d)", text, len(targets))}
	}
	return out, nil
}

// overlayFields adds the site fields the overlay's facts file records
// (type, region, groups, wave, network) to a and reports whether it records
// them.
func overlayFields(fsys filesys.FileSystem, dir string, a *selector.Attributes) bool {
	name := filepath.Join(dir, verify.SiteFactsFile)
	data, err := fsys.ReadFile(name)
	if err != nil {
		return false
	}
	f, err := verify.ParseSiteFacts(name, data)
	if err != nil || f.Fields == nil {
		return false
	}
	for k, v := range map[string]string{"type": f.Fields.Type, "region": f.Fields.Region, "network": f.Fields.Network} {
		if v != "" {
			a.Fields[k] = v
		}
	}
	a.Fields["wave"] = strconv.Itoa(f.Fields.Wave)
	a.Groups = f.Fields.Groups
	return true
}

// firstN returns at most n items of list, with "..." after them when there
// are more.
func firstN(list []string, n int) []string {
	if len(list) <= n {
		return list
	}
	return append(append([]string(nil), list[:n]...), "...")
}
