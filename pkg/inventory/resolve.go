package inventory

import (
	"errors"
	"slices"
)

// ResolveOptions tune Resolve.
type ResolveOptions struct {
	// Components are the component names the template set provides; a
	// site, group or defaults naming another component is an error naming
	// file:line:col. nil means: do not check.
	Components []string
	// Policies are the known policy ids; a waiver naming another policy is
	// an error naming file:line:col. nil means: do not check.
	Policies []string
	// Tree, when set, is where the tree is written in its git repository:
	// it fills in gitops.path when the inventory leaves it unset and must
	// agree with it when set (see TreePlace). nil means the tree is not
	// written (gitops.path defaults to ".").
	Tree *TreePlace
}

// Resolve checks the inventory and merges every site's layers: defaults,
// then each of its groups in the order listed, then the site itself.
// Problems are returned together as *ErrorList.
func (inv *Inventory) Resolve(opts ResolveOptions) (*Fleet, error) {
	if inv == nil {
		return nil, errors.New("resolving inventory: nil Inventory")
	}
	ps := &problems{file: inv.File, order: inv.src.fileOrder()}
	c := checker{inv: inv, src: inv.src, ps: ps, policies: opts.Policies, tree: opts.Tree}
	fleet := c.run(opts.Components)
	if err := ps.err(); err != nil {
		return nil, err
	}
	return fleet, nil
}

// layerRef is one layer taking part in a site's merge.
type layerRef struct {
	name string // "defaults", "group/<name>", "site"
	l    *Layer
	m    *entryMeta
}

// merge merges the layers of sites[i]. ok is false when a layer could not
// be decoded completely, so that missing values are not reported twice.
func (c *checker) merge(i int, groupIndex map[string]int) (site Site, ok bool) {
	spec := &c.inv.Sites[i]
	m := c.src.site(i)
	ok = !m.broken && !c.src.defaultsMeta().broken

	layers := []layerRef{{"defaults", &c.inv.Defaults, c.src.defaultsMeta()}}
	for _, g := range spec.Groups {
		j, found := groupIndex[g]
		if !found {
			ok = false // reported as an unknown group
			continue
		}
		gm := c.src.group(j)
		if gm.broken {
			ok = false
		}
		layers = append(layers, layerRef{"group/" + g, &c.inv.Groups[j].Layer, gm})
	}
	layers = append(layers, layerRef{"site", &spec.Layer, m})

	// Maps sized for every layer's entries: merging 10,000 sites is
	// dominated by map growth otherwise. (Origins, the largest, is left
	// to grow: an estimate that is too high doubles it for every site.)
	nConfig, nImages, nLabels := 0, 0, 0
	for _, layer := range layers {
		l := layer.l
		nConfig, nImages, nLabels = nConfig+len(l.Config), nImages+len(l.Images), nLabels+len(l.Labels)
	}
	s := Site{
		Name:       spec.Name,
		Groups:     append(make([]string, 0, len(spec.Groups)), spec.Groups...),
		Config:     make(map[string]string, nConfig),
		Images:     make(map[string]string, nImages),
		Components: []string{},
		Labels:     make(map[string]string, nLabels),
		Origins:    map[string]Origin{},
	}
	origin := func(layer layerRef, path string) Origin {
		p := layer.m.at(path)
		file := c.inv.File
		if p.file != "" {
			file = p.file
		}
		return Origin{Layer: layer.name, File: file, Line: p.line, Column: p.col}
	}
	s.Origins["name"] = origin(layers[len(layers)-1], "name")
	for j := range s.Groups {
		s.Origins[index("groups", j)] = origin(layers[len(layers)-1], index("groups", j))
	}

	inComponents := map[string]bool{}
	for _, layer := range layers {
		l := layer.l
		scalar := func(dst *string, path, value string) {
			if value != "" {
				*dst = value
				s.Origins[path] = origin(layer, path)
			}
		}
		scalar(&s.Type, "type", l.Type)
		scalar(&s.Region, "region", l.Region)
		scalar(&s.Arch, "arch", l.Arch)
		scalar(&s.Capacity.CPU, "capacity.cpu", l.Capacity.CPU)
		scalar(&s.Capacity.Memory, "capacity.memory", l.Capacity.Memory)
		mergeWiring(&s, l, scalar, func(path string) { s.Origins[path] = origin(layer, path) })
		mergeK3s(&s, l, scalar, func(path, from string) { s.Origins[path] = origin(layer, from) })
		mergeCharts(&s, l, func(path string) { s.Origins[path] = origin(layer, path) })
		mergeZeroTrust(&s, l, scalar, func(path, from string) { s.Origins[path] = origin(layer, from) })
		scalar(&s.Capacity.Reserve.CPU, "capacity.reserve.cpu", l.Capacity.Reserve.CPU)
		scalar(&s.Capacity.Reserve.Memory, "capacity.reserve.memory", l.Capacity.Reserve.Memory)
		if l.RequireDigests != nil {
			s.RequireDigests = *l.RequireDigests
			s.Origins["requireDigests"] = origin(layer, "requireDigests")
		}
		for j, w := range l.Waivers {
			k := slices.IndexFunc(s.Waivers, func(x Waiver) bool { return x.Policy == w.Policy })
			if k < 0 {
				k = len(s.Waivers)
				s.Waivers = append(s.Waivers, w)
			}
			s.Waivers[k] = w
			s.Origins[index("waivers", k)] = origin(layer, index("waivers", j)+".policy")
		}
		for _, mp := range []struct {
			name string
			src  map[string]string
			dst  map[string]string
		}{
			{"config", l.Config, s.Config},
			{"images", l.Images, s.Images},
			{"labels", l.Labels, s.Labels},
		} {
			for _, k := range sortedKeys(mp.src) {
				mp.dst[k] = mp.src[k]
				s.Origins[mp.name+"."+k] = origin(layer, mp.name+"."+k)
			}
		}
		for j, comp := range l.Components {
			if inComponents[comp] {
				continue
			}
			inComponents[comp] = true
			s.Origins[index("components", len(s.Components))] = origin(layer, index("components", j))
			s.Components = append(s.Components, comp)
		}
	}
	finishWiring(&s)
	finishK3s(&s)
	finishCharts(&s)
	return s, ok
}
