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
	// GitOps is the top-level gitops block as written (see gitops.go).
	GitOps GitOps

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
	// Waivers turn the findings of a policy into passes (see
	// docs/policies.md); merged by policy id.
	Waivers []Waiver `json:"waivers,omitempty"`
	// RequireDigests switches on the image-digest policy; nil means not
	// set in this layer.
	RequireDigests *bool `json:"requireDigests,omitempty"`
	// Rollout and delivery fields (see gitops.go); nil or "" means not set.
	Wave              *int              `json:"wave,omitempty"`
	MaintenanceWindow MaintenanceWindow `json:"maintenanceWindow,omitzero"`
	Network           string            `json:"network,omitempty"`
	AgeRecipient      string            `json:"ageRecipient,omitempty"`
	ImageRegistry     string            `json:"imageRegistry,omitempty"`
	// K3s is the k3s block (see k3s.go); nil when the layer has none.
	K3s *K3s `json:"k3s,omitempty"`
	// Charts are Helm releases by release name (see charts.go).
	Charts map[string]ChartSpec `json:"charts,omitempty"`
	// MTLS and Experimental are the zero-trust fields (see zerotrust.go).
	MTLS         MTLS           `json:"mtls,omitzero"`
	Experimental []Experimental `json:"experimental,omitempty"`
}

// Capacity is what a site's device offers to workloads, as Kubernetes
// quantities ("2", "500m", "2Gi").
type Capacity struct {
	CPU    string `json:"cpu,omitempty"`
	Memory string `json:"memory,omitempty"`
	// Reserve is what K3s itself needs on the device, kept back from the
	// capacity by the capacity policy; "" means the policy's default.
	Reserve Reserve `json:"reserve,omitzero"`
}

// Reserve is cpu and memory kept back for K3s, as Kubernetes quantities.
type Reserve struct {
	CPU    string `json:"cpu,omitempty"`
	Memory string `json:"memory,omitempty"`
}

// Waiver names a policy whose findings count as passes for the sites the
// layer applies to, and why.
type Waiver struct {
	Policy string `json:"policy"`
	Reason string `json:"reason"`
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
	// GitOps is the gitops block with defaults filled in.
	GitOps GitOps
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
	// Waivers are the merged waivers: the ordered union by policy id of
	// every layer's, in order of first appearance, the last layer's reason
	// winning.
	Waivers []Waiver `json:"waivers,omitempty"`
	// RequireDigests is true when the site requires images pinned by
	// digest (the last layer that sets it wins; false when none does).
	RequireDigests bool `json:"requireDigests,omitempty"`
	// Wave is the rollout wave, 0 (first) when no layer sets it.
	Wave int `json:"wave"`
	// MaintenanceWindow is the merged window; its Schedule is "" when the
	// site has none. TimeZone is "UTC" when a window sets none.
	MaintenanceWindow MaintenanceWindow `json:"maintenanceWindow"`
	// Network is "online" when no layer sets it.
	Network       string `json:"network"`
	AgeRecipient  string `json:"ageRecipient"`
	ImageRegistry string `json:"imageRegistry"`
	// K3s is the merged k3s block, nil when no layer sets one (the site
	// then gets no K3s bootstrap bundle).
	K3s *SiteK3s `json:"k3s,omitempty"`
	// Charts are the merged Helm releases by release name; nil when no
	// layer sets one. Origins keys: "charts.R.version",
	// "charts.R.values.KEY.SUBKEY", "charts.R.values.LIST[0]".
	Charts map[string]SiteChart `json:"charts,omitempty"`
	// MTLS is the merged mtls block; Experimental the merged
	// acknowledgements of experimental components (see zerotrust.go).
	MTLS         MTLS           `json:"mtls,omitzero"`
	Experimental []Experimental `json:"experimental,omitempty"`

	// Origins records, per merged value, which layer set it and where. Keys
	// are field paths: "type", "capacity.cpu", "config.LOG_LEVEL",
	// "images.app", "components[0]", "labels.tier",
	// "capacity.reserve.memory", "requireDigests", "waivers[0]" (the
	// position of the winning waiver's policy id); also "name" and
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
