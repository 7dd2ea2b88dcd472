package pipeline

import (
	"fmt"
	"path"
	"strings"

	"github.com/fleetgen/fleetgen/pkg/inventory"
	"github.com/fleetgen/fleetgen/pkg/policy"
	"github.com/fleetgen/fleetgen/pkg/render"
	"github.com/fleetgen/fleetgen/pkg/verify"
)

// policyIDs lists the ids of every policy, which waivers in the inventory
// may name.
func policyIDs() []string {
	var ids []string
	for _, p := range policy.Policies() {
		ids = append(ids, p.ID)
	}
	return ids
}

// SiteFacts returns what the policies know about a resolved site and its
// waivers, each waiver's Source naming where the inventory sets it.
func SiteFacts(s inventory.Site) (policy.Facts, []policy.Waiver) {
	facts := policy.Facts{
		Site:           s.Name,
		Arch:           s.Arch,
		CPU:            s.Capacity.CPU,
		Memory:         s.Capacity.Memory,
		ReserveCPU:     s.Capacity.Reserve.CPU,
		ReserveMemory:  s.Capacity.Reserve.Memory,
		RequireDigests: s.RequireDigests,
		ConfigMapName:  ConfigMapName,
	}
	var ws []policy.Waiver
	for i, w := range s.Waivers {
		src := ""
		if o, ok := s.Origins[fmt.Sprintf("waivers[%d]", i)]; ok {
			src = originString(o)
		}
		ws = append(ws, policy.Waiver{Policy: w.Policy, Reason: w.Reason, Source: src})
	}
	return facts, ws
}

// originString reads "inventory.yaml:12:7 (group/legacy)".
func originString(o inventory.Origin) string {
	var b strings.Builder
	b.WriteString(o.File)
	if o.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", o.Line, o.Column)
	}
	fmt.Fprintf(&b, " (%s)", o.Layer)
	return b.String()
}

// siteFactsFile is the facts file of a site, as verify.Overlays reads it.
func siteFactsFile(s inventory.Site) ([]byte, error) {
	f := verify.SiteFacts{
		Site:           s.Name,
		Arch:           s.Arch,
		Capacity:       verify.Resources{CPU: s.Capacity.CPU, Memory: s.Capacity.Memory},
		Reserve:        verify.Resources{CPU: s.Capacity.Reserve.CPU, Memory: s.Capacity.Reserve.Memory},
		RequireDigests: s.RequireDigests,
		ConfigMapName:  ConfigMapName,
		Fields: &verify.SiteFields{
			Type:    s.Type,
			Region:  s.Region,
			Groups:  s.Groups,
			Wave:    s.Wave,
			Network: s.Network,
		},
	}
	for i, w := range s.Waivers {
		f.Waivers = append(f.Waivers, verify.SiteWaiver{Policy: w.Policy, Reason: w.Reason, From: s.Origins[fmt.Sprintf("waivers[%d]", i)].Layer})
	}
	return f.Marshal()
}

// addSiteFacts adds overlays/<site>/fleetgen-site.yaml for every site to
// tree, so that `fleetgen verify` checks the written tree with the facts
// and waivers generate used. A template set that renders a file at that
// path is an error. The facts file of a site whose files rs reused is the
// last run's.
func addSiteFacts(fleet *inventory.Fleet, tree *render.Tree, rs *reuser) error {
	facts := make([]render.File, len(fleet.Sites))
	errs := make([]error, len(fleet.Sites))
	parallel(len(fleet.Sites), func(i int) {
		s := fleet.Sites[i]
		p := path.Join("overlays", s.Name, verify.SiteFactsFile)
		if _, ok := tree.Lookup(p); ok {
			errs[i] = fmt.Errorf("%s: the template set renders a file where fleetgen writes the site's facts; rename the template", p)
			return
		}
		if f, ok := rs.facts(s.Name); ok {
			facts[i] = f
			return
		}
		data, err := siteFactsFile(s)
		if err != nil {
			errs[i] = err
			return
		}
		facts[i] = render.File{Path: p, Data: data, Site: s.Name}
		facts[i].Hash = facts[i].ContentHash()
	})
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	tree.Files = append(tree.Files, facts...)
	tree.Sort()
	return nil
}
