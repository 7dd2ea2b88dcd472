package inventory

// sourceMap remembers where each value of a loaded inventory was written, so
// that checks running after decoding (Resolve) can still name file:line:col.
// An Inventory built in code has none; positions are then unknown.
type sourceMap struct {
	root  position
	paths map[string]position // "fleet", "sites", "groups", "defaults"
	bad   map[string]bool     // top-level fields whose value could not be decoded

	defaults entryMeta
	groups   []entryMeta
	sites    []entryMeta

	// groupNameUnreadable is set when some group's name could not be
	// decoded, so that references to it are not reported as unknown.
	groupNameUnreadable bool

	// files lists the files an inventory was merged from (LoadFiles), in
	// order; nil for a single file. Problems sort in this order.
	files []string
}

// fileOrder ranks the files of a merged inventory, or returns nil.
func (s *sourceMap) fileOrder() map[string]int {
	if s == nil || len(s.files) == 0 {
		return nil
	}
	order := make(map[string]int, len(s.files))
	for i, f := range s.files {
		if _, ok := order[f]; !ok {
			order[f] = i
		}
	}
	return order
}

// entryMeta is the bookkeeping for one layer: defaults, a group or a site.
type entryMeta struct {
	pos position // the mapping itself (the list item for groups and sites)
	// val holds value positions by raw path within the layer: "name",
	// "type", "capacity.cpu", "config.KEY", "components[0]", "groups[1]".
	val map[string]position
	// key holds key positions of map entries: "config.KEY", "labels.KEY",
	// "images.KEY".
	key map[string]position
	// bad marks paths whose value could not be decoded (already reported).
	bad map[string]bool
	// broken is set when anything in this layer could not be decoded, so
	// that checks on the merged result do not report follow-on problems.
	broken bool
}

func newEntryMeta(p position) entryMeta {
	return entryMeta{
		pos: p,
		val: map[string]position{},
		key: map[string]position{},
		bad: map[string]bool{},
	}
}

// at returns the value position of path, falling back to the layer itself.
func (e *entryMeta) at(path string) position {
	if p, ok := e.val[path]; ok {
		return p
	}
	return e.pos
}

// keyAt returns the key position of a map entry, falling back to its value.
func (e *entryMeta) keyAt(path string) position {
	if p, ok := e.key[path]; ok {
		return p
	}
	return e.at(path)
}

// group returns the bookkeeping of groups[i], or an empty one.
func (s *sourceMap) group(i int) *entryMeta {
	if s != nil && i < len(s.groups) {
		return &s.groups[i]
	}
	return &entryMeta{}
}

// site returns the bookkeeping of sites[i], or an empty one.
func (s *sourceMap) site(i int) *entryMeta {
	if s != nil && i < len(s.sites) {
		return &s.sites[i]
	}
	return &entryMeta{}
}

// defaultsMeta returns the bookkeeping of defaults, or an empty one.
func (s *sourceMap) defaultsMeta() *entryMeta {
	if s != nil {
		return &s.defaults
	}
	return &entryMeta{}
}

// at returns the position of a top-level field's value.
func (s *sourceMap) at(field string) position {
	if s == nil {
		return position{}
	}
	if p, ok := s.paths[field]; ok {
		return p
	}
	return s.root
}

// groupsUnreadable reports whether some group name could not be decoded.
func (s *sourceMap) groupsUnreadable() bool {
	return s != nil && s.groupNameUnreadable
}

func (s *sourceMap) isBad(field string) bool {
	return s != nil && s.bad[field]
}
