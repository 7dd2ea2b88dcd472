package k3s

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/fleetgen/fleetgen/pkg/inventory"
	"github.com/fleetgen/fleetgen/pkg/policy"
)

// Capacity thresholds of the packaged components.
const (
	// SmallMemory is the memory below which a site is small: Traefik,
	// metrics-server and servicelb are switched off unless the site's
	// manifests need them.
	SmallMemory = "4Gi"
	// EvictionHard is the kubelet's hard eviction threshold every node
	// gets: the kubelet's own defaults, written out so that they are
	// reviewed with the reserve.
	EvictionHard = "memory.available<100Mi,nodefs.available<10%,imagefs.available<15%,nodefs.inodesFree<5%"
	// DockerHub is the registry of names without a registry host; K3s's
	// own images (rancher/mirrored-*) come from it.
	DockerHub = "docker.io"
)

// Complete computes every site's K3s bootstrap values (Site.K3s.Resolved)
// for sites that have a k3s block, from the needs found in the template
// set. Sites without one are left alone.
func Complete(f *inventory.Fleet, sc *Scan) error {
	for i := range f.Sites {
		s := &f.Sites[i]
		if s.K3s == nil {
			continue
		}
		r, err := Resolve(s, sc.Site(s.Components))
		if err != nil {
			return err
		}
		s.K3s.Resolved = r
	}
	return nil
}

// Resolve derives a site's K3s bootstrap values from its merged fields and
// the needs of its manifests.
func Resolve(s *inventory.Site, needs Needs) (*inventory.K3sResolved, error) {
	k := s.K3s
	if k == nil {
		return nil, fmt.Errorf("site %q has no k3s block", s.Name)
	}
	ds, why := inventory.K3sDatastore(k.Datastore, k.Servers)
	if why != "" {
		return nil, fmt.Errorf("site %q: k3s.servers: %s", s.Name, why)
	}
	r := &inventory.K3sResolved{Datastore: ds, Reasons: map[string]string{}}
	r.Reasons["k3s.resolved.datastore"] = datastoreReason(k.Datastore, k.Servers, ds)

	// Packaged components: the inventory's, then those a small device
	// cannot spare unless a manifest needs them.
	why1 := map[string]string{}
	for _, c := range k.Disable {
		why1[c] = "k3s.disable"
	}
	if small, mem := isSmall(s.Capacity.Memory); small {
		for _, c := range []struct {
			name   string
			needed bool
			need   string
		}{
			{"traefik", needs.Ingress, "Ingress or Traefik route"},
			{"metrics-server", needs.Autoscaler, "HorizontalPodAutoscaler"},
			{"servicelb", needs.LoadBalancer || needs.Ingress, "Service of type LoadBalancer and Traefik is off"},
		} {
			if _, done := why1[c.name]; done || c.needed {
				continue
			}
			why1[c.name] = fmt.Sprintf("capacity.memory %s < %s, and the site's manifests have no %s", mem, SmallMemory, c.need)
		}
	}
	r.Disable = sortedKeys(why1)
	for i, c := range r.Disable {
		r.Reasons[fmt.Sprintf("k3s.resolved.disable[%d]", i)] = why1[c]
	}

	labels := map[string]string{
		"fleetgen.dev/site":   s.Name,
		"fleetgen.dev/region": s.Region,
		"fleetgen.dev/type":   s.Type,
	}
	lwhy := map[string]string{}
	for key, v := range needs.Labels {
		if _, fixed := labels[key]; fixed {
			continue
		}
		labels[key] = v
		lwhy[key] = "a node selector of the site's manifests"
	}
	for i, key := range sortedKeys(labels) {
		r.NodeLabels = append(r.NodeLabels, key+"="+labels[key])
		w := lwhy[key]
		if w == "" {
			w = map[string]string{"fleetgen.dev/site": "the site's name", "fleetgen.dev/region": "the site's region", "fleetgen.dev/type": "the site's type"}[key]
		}
		r.Reasons[fmt.Sprintf("k3s.resolved.nodeLabels[%d]", i)] = w
	}

	cpu, mem, err := policy.Reserve(capacityFacts(s))
	if err != nil {
		return nil, err
	}
	r.KubeletArgs = []string{KubeReservedArg(cpu, mem), "eviction-hard=" + EvictionHard}
	r.Reasons["k3s.resolved.kubeletArgs[0]"] = "the capacity policy's reserve for K3s (capacity.reserve, default " + policy.DefaultReserveCPU + " and " + policy.DefaultReserveMemory + ")"
	r.Reasons["k3s.resolved.kubeletArgs[1]"] = "the kubelet's default hard eviction thresholds, written out"

	if s.ImageRegistry != "" {
		r.Mirrors = Mirrors(s)
		for i := range r.Mirrors {
			r.Reasons[fmt.Sprintf("k3s.resolved.mirrors[%d].registry", i)] = "a registry of the site's images, or of K3s's own (docker.io)"
			r.Reasons[fmt.Sprintf("k3s.resolved.mirrors[%d].endpoint", i)] = "imageRegistry " + s.ImageRegistry
			for pattern := range r.Mirrors[i].Rewrite {
				r.Reasons[fmt.Sprintf("k3s.resolved.mirrors[%d].rewrite.%s", i, pattern)] = "the path of imageRegistry " + s.ImageRegistry
			}
		}
	}
	return r, nil
}

// capacityFacts returns the capacity facts of a site as the capacity
// policy gets them.
func capacityFacts(s *inventory.Site) policy.Facts {
	return policy.Facts{Site: s.Name, CPU: s.Capacity.CPU, Memory: s.Capacity.Memory,
		ReserveCPU: s.Capacity.Reserve.CPU, ReserveMemory: s.Capacity.Reserve.Memory}
}

// KubeReservedArg is the kubelet argument that reserves cpu and memory for
// K3s: "kube-reserved=cpu=500m,memory=768Mi".
func KubeReservedArg(cpu, memory resource.Quantity) string {
	return fmt.Sprintf("kube-reserved=cpu=%s,memory=%s", cpu.String(), memory.String())
}

// isSmall reports whether a site's memory is below SmallMemory; unknown
// memory is not small.
func isSmall(memory string) (bool, string) {
	if memory == "" {
		return false, ""
	}
	q, err := resource.ParseQuantity(memory)
	if err != nil {
		return false, memory
	}
	return q.Cmp(resource.MustParse(SmallMemory)) < 0, memory
}

func datastoreReason(setting string, servers int, ds string) string {
	if setting != inventory.DatastoreAuto {
		return "k3s.datastore " + setting
	}
	if ds == inventory.DatastoreSQLite {
		return "auto with 1 server: SQLite"
	}
	return fmt.Sprintf("auto with %d servers (odd): embedded etcd", servers)
}

// Mirrors returns the registry mirrors of a site with an imageRegistry:
// one for every registry its images come from, and Docker Hub for K3s's
// own images, each sent to the imageRegistry the way
// inventory.MirrorImage names images on it.
func Mirrors(s *inventory.Site) []inventory.K3sMirror {
	host, prefix, _ := strings.Cut(s.ImageRegistry, "/")
	registries := map[string]bool{DockerHub: true}
	for _, ref := range s.Images {
		registries[RegistryOf(ref)] = true
	}
	var out []inventory.K3sMirror
	for _, reg := range sortedKeys(registries) {
		m := inventory.K3sMirror{Registry: reg, Endpoint: "https://" + host}
		if prefix != "" {
			m.Rewrite = map[string]string{"^(.*)$": prefix + "/$1"}
		}
		out = append(out, m)
	}
	return out
}

// RegistryOf returns the registry of an image reference: its first path
// component when that is a host (has '.' or ':', or is localhost), else
// Docker Hub.
func RegistryOf(ref string) string {
	first, _, hasSlash := strings.Cut(ref, "/")
	if hasSlash && (strings.ContainsAny(first, ".:") || first == "localhost") {
		return first
	}
	return DockerHub
}

// canonicalQuantity returns q in canonical form, or q when it does not
// parse.
func canonicalQuantity(q string) string {
	p, err := resource.ParseQuantity(q)
	if err != nil {
		return q
	}
	return p.String()
}
