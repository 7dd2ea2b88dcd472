package inventory

// APIVersion and Kind identify a fleetgen inventory document.
const (
	APIVersion = "fleetgen.dev/v1alpha1"
	Kind       = "Inventory"
)

// Allowed values of the enumerated site fields.
var (
	Arches    = []string{"amd64", "arm64"}
	SiteTypes = []string{"factory", "store"}
)

// Inventory is a decoded, field-validated inventory document, before layers
// are merged. Positions of every value are kept so that later checks
// (unknown components, duplicate names) can still name file:line:column.
type Inventory struct {
	// File is the name used in messages: the path given, or "<stdin>".
	File     string
	Fleet    string
	Defaults Layer
	Groups   []Group
	Sites    []SiteSpec

	// src records where each value was written; nil for an inventory
	// built in code. Positions refer to the order of Groups and Sites as
	// loaded.
	src *sourceMap
}

// Layer holds the fields that defaults, groups and sites share. The empty
// string and a nil map or slice mean "not set in this layer".
type Layer struct {
	Type       string            `json:"type,omitempty"`
	Region     string            `json:"region,omitempty"`
	Arch       string            `json:"arch,omitempty"`
	Capacity   Capacity          `json:"capacity,omitempty"`
	Config     map[string]string `json:"config,omitempty"`
	Images     map[string]string `json:"images,omitempty"`
	Components []string          `json:"components,omitempty"`
	Labels     map[string]string `json:"labels,omitempty"`
}

// Capacity is what a site's device offers to workloads, as Kubernetes
// quantities ("2", "500m", "2Gi").
type Capacity struct {
	CPU    string `json:"cpu,omitempty"`
	Memory string `json:"memory,omitempty"`
}

// Group is a named layer that sites opt into, in order.
type Group struct {
	Name string `json:"name"`
	Layer
}

// SiteSpec is one entry of the inventory's sites list as written.
type SiteSpec struct {
	Name   string   `json:"name"`
	Groups []string `json:"groups,omitempty"`
	Layer
}

// Fleet is the resolved inventory: every site with its layers merged.
type Fleet struct {
	Name   string
	Source string
	// Sites are sorted by name.
	Sites []Site
}

// Site is one site after merging defaults, its groups in order, and its own
// fields. It is the data per-site templates see as .Site.
type Site struct {
	Name       string            `json:"name"`
	Type       string            `json:"type"`
	Region     string            `json:"region"`
	Arch       string            `json:"arch"`
	Groups     []string          `json:"groups"`
	Capacity   Capacity          `json:"capacity"`
	Config     map[string]string `json:"config"`
	Images     map[string]string `json:"images"`
	Components []string          `json:"components"`
	Labels     map[string]string `json:"labels"`

	// Origins records, per merged value, which layer set it and where. Keys
	// are field paths: "type", "capacity.cpu", "config.LOG_LEVEL",
	// "images.app", "components[0]", "labels.tier"; also "name" and
	// "groups[0]", which always come from the site. A value no layer set
	// has no entry. Positions are those of the value as written.
	Origins map[string]Origin `json:"-"`
}

// Origin says where a merged value was written.
type Origin struct {
	// Layer is "defaults", "group/<name>" or "site".
	Layer  string
	File   string
	Line   int
	Column int
}
