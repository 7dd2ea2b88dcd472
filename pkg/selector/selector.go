package selector

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"sigs.k8s.io/yaml"

	"github.com/fleetgen/fleetgen/pkg/inventory"
	"github.com/fleetgen/fleetgen/pkg/suggest"
)

// Fields are the site fields a selector can name besides labels, in the
// order the documentation lists them.
var Fields = []string{"name", "type", "region", "arch", "group", "wave", "network"}

// groupKey is the field that holds several values.
const groupKey = "group"

// Selector is a parsed label selector. The zero value and Everything match
// every site.
type Selector struct {
	sel  labels.Selector
	text string
}

// Everything matches every site.
func Everything() Selector { return Selector{} }

// Parse parses a selector in kubectl syntax. The empty string selects
// everything.
func Parse(s string) (Selector, error) {
	if s == "" {
		return Everything(), nil
	}
	sel, err := labels.Parse(s)
	if err != nil {
		return Selector{}, fmt.Errorf("invalid selector %q: %w", s, err)
	}
	return Selector{sel: sel, text: s}, nil
}

// Empty reports whether the selector selects everything.
func (s Selector) Empty() bool { return s.sel == nil || s.sel.Empty() }

// String returns the selector as given.
func (s Selector) String() string { return s.text }

// Attributes are what a selector is matched against.
type Attributes struct {
	// Fields holds single-valued site fields by key (name, type, ...);
	// a field with no value is absent.
	Fields map[string]string
	// Groups are the site's groups, matched by the key "group".
	Groups []string
	// Labels are the site's labels.
	Labels map[string]string
}

// ForSite returns the attributes of a resolved site.
func ForSite(s *inventory.Site) Attributes {
	f := map[string]string{
		"name":    s.Name,
		"type":    s.Type,
		"region":  s.Region,
		"arch":    s.Arch,
		"wave":    strconv.Itoa(s.Wave),
		"network": s.Network,
	}
	for k, v := range f {
		if v == "" {
			delete(f, k)
		}
	}
	return Attributes{Fields: f, Groups: s.Groups, Labels: s.Labels}
}

// Matches reports whether the attributes satisfy every requirement.
func (s Selector) Matches(a Attributes) bool {
	if s.Empty() {
		return true
	}
	reqs, _ := s.sel.Requirements()
	for _, r := range reqs {
		if !matches(r, a) {
			return false
		}
	}
	return true
}

func matches(r labels.Requirement, a Attributes) bool {
	key := r.Key()
	if key == groupKey {
		switch r.Operator() {
		case selection.NotEquals, selection.NotIn, selection.DoesNotExist:
			// None of the groups may match the negated requirement.
			for _, g := range a.Groups {
				if !r.Matches(labels.Set{groupKey: g}) {
					return false
				}
			}
			return true
		default:
			for _, g := range a.Groups {
				if r.Matches(labels.Set{groupKey: g}) {
					return true
				}
			}
			return false
		}
	}
	set := labels.Set{}
	if v, ok := a.Fields[key]; ok {
		set[key] = v
	} else if v, ok := a.Labels[key]; ok {
		set[key] = v
	}
	return r.Matches(set)
}

// Filter returns a copy of fleet holding only the sites sel selects, in
// the same order. An empty selector returns fleet itself.
func Filter(fleet *inventory.Fleet, sel Selector) *inventory.Fleet {
	if sel.Empty() || fleet == nil {
		return fleet
	}
	out := *fleet
	out.Sites = make([]inventory.Site, 0, len(fleet.Sites))
	for i := range fleet.Sites {
		if sel.Matches(ForSite(&fleet.Sites[i])) {
			out.Sites = append(out.Sites, fleet.Sites[i])
		}
	}
	return &out
}

// OverlayFields are the site fields every overlay on disk offers: name
// from its directory, type and region from its labels, arch from its facts
// file (which the caller adds). group, wave and network come from the
// fields a current generate records in the facts file, or the inventory.
var OverlayFields = []string{"name", "type", "region", "arch"}

// Fleet labels the default template set writes into each overlay.
const (
	typeLabel   = "fleetgen.dev/type"
	regionLabel = "fleetgen.dev/region"
)

// ForOverlay returns the attributes of an overlay on disk, for trees
// without an inventory: name is the overlay's directory name; labels are
// read from the kustomization's labels[].pairs and commonLabels, and the
// fleetgen.dev/type and fleetgen.dev/region labels a generated overlay
// carries give type and region. Other fields are unknown (absent). A
// kustomization that cannot be parsed gives the name only.
func ForOverlay(name string, kustomization []byte) Attributes {
	a := Attributes{Fields: map[string]string{"name": name}, Labels: map[string]string{}}
	var k struct {
		CommonLabels map[string]string `json:"commonLabels"`
		Labels       []struct {
			Pairs map[string]string `json:"pairs"`
		} `json:"labels"`
	}
	if err := yaml.Unmarshal(kustomization, &k); err != nil {
		return a
	}
	for key, v := range k.CommonLabels {
		a.Labels[key] = v
	}
	for _, l := range k.Labels {
		for key, v := range l.Pairs {
			a.Labels[key] = v
		}
	}
	if v := a.Labels[typeLabel]; v != "" {
		a.Fields["type"] = v
	}
	if v := a.Labels[regionLabel]; v != "" {
		a.Fields["region"] = v
	}
	return a
}

// Keys returns the keys the selector's requirements name, in order, each
// once.
func (s Selector) Keys() []string {
	if s.Empty() {
		return nil
	}
	reqs, _ := s.sel.Requirements()
	var keys []string
	seen := map[string]bool{}
	for _, r := range reqs {
		if k := r.Key(); !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	return keys
}

// UnknownKeyError is a selector key that is neither a site field nor the
// key of a label any site has: a typo, almost always, that would otherwise
// silently select nothing (or, negated, everything).
type UnknownKeyError struct {
	Selector string
	Key      string
	// Suggestion is the closest known key, or "".
	Suggestion string
}

func (e *UnknownKeyError) Error() string {
	hint := ""
	if e.Suggestion != "" {
		hint = fmt.Sprintf(" (did you mean %q?)", e.Suggestion)
	}
	return fmt.Sprintf("selector %q: unknown key %q%s; a key is a site field (%s) or the key of a label some site has",
		e.Selector, e.Key, hint, strings.Join(Fields, ", "))
}

// CheckKeys returns an *UnknownKeyError for the first key of s that is
// neither a site field nor one of labelKeys.
func (s Selector) CheckKeys(labelKeys []string) error {
	known := map[string]bool{}
	for _, k := range Fields {
		known[k] = true
	}
	for _, k := range labelKeys {
		known[k] = true
	}
	for _, k := range s.Keys() {
		if known[k] {
			continue
		}
		candidates := append(append([]string(nil), Fields...), labelKeys...)
		return &UnknownKeyError{Selector: s.text, Key: k, Suggestion: suggest.Closest(k, candidates, suggest.Limit(3))}
	}
	return nil
}

// LabelKeys returns the label keys of the fleet's sites, sorted, each once.
func LabelKeys(fleet *inventory.Fleet) []string {
	seen := map[string]bool{}
	var keys []string
	for i := range fleet.Sites {
		for k := range fleet.Sites[i].Labels {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	sort.Strings(keys)
	return keys
}

// Select checks that every key of sel is a site field or a label key of
// some site of fleet (see CheckKeys), then filters fleet as Filter does.
// Commands use it, so that a misspelt key is the same error everywhere.
func Select(fleet *inventory.Fleet, sel Selector) (*inventory.Fleet, error) {
	if sel.Empty() || fleet == nil {
		return fleet, nil
	}
	if err := sel.CheckKeys(LabelKeys(fleet)); err != nil {
		return nil, err
	}
	return Filter(fleet, sel), nil
}
