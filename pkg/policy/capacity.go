package policy

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
)

// podRequests is what one pod of a template asks the scheduler for.
type podRequests struct {
	milliCPU, memory int64
}

// checkCapacity sums the requests of every workload, adds the reserve and
// compares with the site's capacity. A container without a request (and
// without a limit the API server would copy into it) is a finding of its
// own: the scheduler cannot plan for it.
func checkCapacity(e *env) []Finding {
	var out []Finding
	type share struct {
		id               string
		milliCPU, memory int64
	}
	var shares []share
	var totalCPU, totalMemory int64
	for _, p := range e.pods {
		req, fs := p.requests()
		out = append(out, fs...)
		cpu, mem := mulSat(req.milliCPU, p.copies), mulSat(req.memory, p.copies)
		totalCPU, totalMemory = addSat(totalCPU, cpu), addSat(totalMemory, mem)
		shares = append(shares, share{p.id, cpu, mem})
	}
	for _, f := range e.services {
		totalCPU, totalMemory = addSat(totalCPU, f.milliCPU), addSat(totalMemory, f.memory)
		shares = append(shares, share{f.name, f.milliCPU, f.memory})
	}
	site := siteObjectKind + "/" + e.facts.Site
	largest := func(val func(share) int64, format func(int64) string) string {
		s := slices.Clone(shares)
		slices.SortStableFunc(s, func(a, b share) int { return cmp.Or(cmp.Compare(val(b), val(a)), cmp.Compare(a.id, b.id)) })
		var parts []string
		for _, x := range s {
			if len(parts) == 3 || val(x) == 0 {
				break
			}
			parts = append(parts, x.id+" "+format(val(x)))
		}
		if len(parts) == 0 {
			return ""
		}
		return " (largest: " + strings.Join(parts, ", ") + ")"
	}
	if e.capCPU != nil {
		reserve := e.reserveCPU.MilliValue()
		if addSat(totalCPU, reserve) > e.capCPU.MilliValue() {
			out = append(out, Finding{Object: site, Field: "cpu", Message: fmt.Sprintf("requests cpu %s + reserve %s exceed capacity %s%s",
				formatCPU(totalCPU), e.reserveCPU.String(), e.capCPU.String(), largest(func(s share) int64 { return s.milliCPU }, formatCPU))})
		}
	}
	if e.capMemory != nil {
		reserve := e.reserveMemory.Value()
		if addSat(totalMemory, reserve) > e.capMemory.Value() {
			out = append(out, Finding{Object: site, Field: "memory", Message: fmt.Sprintf("requests memory %s + reserve %s exceed capacity %s%s",
				formatMemory(totalMemory), e.reserveMemory.String(), e.capMemory.String(), largest(func(s share) int64 { return s.memory }, formatMemory))})
		}
	}
	return out
}

// Footprint of cert-manager (controller, webhook and cainjector, one
// replica each), which a site whose overlay has cert-manager.io objects
// (component mtls) runs besides the overlay's own pods. The figures are
// what docs/components.md states and the capacity policy charges.
const (
	CertManagerCPU    = "30m"
	CertManagerMemory = "160Mi"
)

// footprint is what a service the site runs for its objects needs.
type footprint struct {
	name             string
	milliCPU, memory int64
}

// servicesFor returns the services the objects need on the site beside
// their own pods: cert-manager for cert-manager.io objects.
func servicesFor(objs []Object) []footprint {
	for _, o := range objs {
		if apiGroup(str(o, "apiVersion")) == "cert-manager.io" {
			cpu, mem := resource.MustParse(CertManagerCPU), resource.MustParse(CertManagerMemory)
			return []footprint{{"cert-manager (for " + objectID(o) + ")", cpu.MilliValue(), mem.Value()}}
		}
	}
	return nil
}

// requests computes what one pod of the template requests, the way the
// scheduler does: the larger of the app containers (plus sidecars) and the
// largest init container (plus the sidecars started before it), plus the
// pod overhead: spec.overhead, or the overhead of the RuntimeClass it
// names when that is among the site's objects (as admission sets it). It reports containers whose requests are missing or
// invalid.
func (p podTemplate) requests() (podRequests, []Finding) {
	var out []Finding
	var app, sidecars, initMax podRequests
	for _, c := range p.containers() {
		if c.list == "ephemeralContainers" {
			continue // they have no resources and are not scheduled
		}
		r, fs := containerRequests(p.id, c)
		out = append(out, fs...)
		switch {
		case c.list == "containers":
			app = app.add(r)
		case c.sidecar():
			sidecars = sidecars.add(r)
			initMax = initMax.max(sidecars)
		default:
			initMax = initMax.max(sidecars.add(r))
		}
	}
	pod := app.add(sidecars).max(initMax)
	overhead := mapAt(p.spec, "overhead")
	if overhead == nil {
		overhead = p.runtimeOverhead
	}
	for name, v := range overhead {
		q, err := quantity(v)
		if err != nil {
			continue // the API server rejects it; schema checks report it
		}
		switch name {
		case "cpu":
			pod.milliCPU = addSat(pod.milliCPU, q.MilliValue())
		case "memory":
			pod.memory = addSat(pod.memory, q.Value())
		}
	}
	return pod, out
}

// containerRequests reads a container's cpu and memory requests. A missing
// request falls back to the limit, as the API server defaults it.
func containerRequests(id string, c container) (podRequests, []Finding) {
	var r podRequests
	var out []Finding
	var missing []string
	for _, name := range []string{"cpu", "memory"} {
		field := c.path + ".resources.requests." + name
		v := Get(c.m, "resources", "requests", name)
		if v == nil {
			field = c.path + ".resources.limits." + name
			v = Get(c.m, "resources", "limits", name)
		}
		if v == nil {
			missing = append(missing, name)
			continue
		}
		q, err := quantity(v)
		if err == nil && q.Sign() < 0 {
			err = fmt.Errorf("%s must not be negative", q.String())
		}
		if err != nil {
			out = append(out, Finding{Object: id, Field: field, Message: fmt.Sprintf("%s: %v", c.label(), err)})
			continue
		}
		if name == "cpu" {
			r.milliCPU = q.MilliValue()
		} else {
			r.memory = q.Value()
		}
	}
	if len(missing) > 0 {
		out = append(out, Finding{Object: id, Field: c.path + ".resources.requests",
			Message: fmt.Sprintf("%s has no %s request: the scheduler cannot plan for it", c.label(), strings.Join(missing, " or "))})
	}
	return r, out
}

func (a podRequests) add(b podRequests) podRequests {
	return podRequests{addSat(a.milliCPU, b.milliCPU), addSat(a.memory, b.memory)}
}

func (a podRequests) max(b podRequests) podRequests {
	return podRequests{max(a.milliCPU, b.milliCPU), max(a.memory, b.memory)}
}

func formatCPU(milli int64) string {
	return resource.NewMilliQuantity(milli, resource.DecimalSI).String()
}

func formatMemory(bytes int64) string {
	return resource.NewQuantity(bytes, resource.BinarySI).String()
}

// addSat and mulSat saturate at math.MaxInt64 instead of overflowing; the
// operands are never negative.
func addSat(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

func mulSat(a, b int64) int64 {
	if a == 0 || b == 0 {
		return 0
	}
	if a > math.MaxInt64/b {
		return math.MaxInt64
	}
	return a * b
}
