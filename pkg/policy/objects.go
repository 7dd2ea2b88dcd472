package policy

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
)

// env is what every check sees: the objects, the facts, and what is derived
// from them once (parsed quantities, pod templates).
type env struct {
	objs  []Object
	facts Facts
	// capCPU and capMemory are nil when the capacity is unknown.
	capCPU, capMemory         *resource.Quantity
	reserveCPU, reserveMemory resource.Quantity
	pods                      []podTemplate
	// services are what the site runs for the objects besides their own
	// pods (cert-manager for cert-manager.io objects), charged by the
	// capacity policy.
	services []footprint
}

func newEnv(objs []Object, facts Facts) (*env, error) {
	e := &env{objs: objs, facts: facts}
	var err error
	parse := func(name, s, def string) *resource.Quantity {
		if s == "" {
			s = def
		}
		if s == "" {
			return nil
		}
		q, perr := resource.ParseQuantity(s)
		if perr != nil {
			if err == nil {
				err = fmt.Errorf("site %q: %s %q: not a Kubernetes quantity (like 500m, 2, 768Mi, 4Gi)", facts.Site, name, s)
			}
			return nil
		}
		if q.Sign() < 0 {
			if err == nil {
				err = fmt.Errorf("site %q: %s %q: must not be negative", facts.Site, name, s)
			}
			return nil
		}
		return &q
	}
	e.capCPU = parse("capacity cpu", facts.CPU, "")
	e.capMemory = parse("capacity memory", facts.Memory, "")
	if err != nil {
		return nil, err
	}
	if e.reserveCPU, e.reserveMemory, err = Reserve(facts); err != nil {
		return nil, err
	}
	overheads := map[string]map[string]any{}
	for _, o := range objs {
		if p, ok := podTemplateOf(o); ok {
			e.pods = append(e.pods, p)
		}
		if str(o, "apiVersion") == "node.k8s.io/v1" && str(o, "kind") == "RuntimeClass" {
			overheads[str(o, "metadata", "name")] = mapAt(o, "overhead", "podFixed")
		}
	}
	for i := range e.pods {
		e.pods[i].runtimeOverhead = overheads[str(e.pods[i].spec, "runtimeClassName")]
	}
	e.services = servicesFor(objs)
	return e, nil
}

// Reserve returns what the capacity policy keeps back for K3s itself at
// the site: facts.ReserveCPU and facts.ReserveMemory, or DefaultReserveCPU
// and DefaultReserveMemory when empty. The K3s bootstrap bundle's kubelet
// reservation is made from the same numbers.
func Reserve(facts Facts) (cpu, memory resource.Quantity, err error) {
	parse := func(name, s, def string) resource.Quantity {
		if s == "" {
			s = def
		}
		q, perr := resource.ParseQuantity(s)
		switch {
		case perr != nil && err == nil:
			err = fmt.Errorf("site %q: %s %q: not a Kubernetes quantity (like 500m, 2, 768Mi, 4Gi)", facts.Site, name, s)
		case perr == nil && q.Sign() < 0 && err == nil:
			err = fmt.Errorf("site %q: %s %q: must not be negative", facts.Site, name, s)
		}
		return q
	}
	cpu = parse("reserve cpu", facts.ReserveCPU, DefaultReserveCPU)
	memory = parse("reserve memory", facts.ReserveMemory, DefaultReserveMemory)
	return cpu, memory, err
}

// podTemplate is one pod spec found in an object.
type podTemplate struct {
	obj  Object
	id   string // the object's name for findings
	kind string
	// path is the field path of the pod spec, like spec.template.spec.
	path string
	spec map[string]any
	// copies is how many pods of this template the workload runs at once
	// (replicas, parallelism, 1 for a DaemonSet on a one-node site).
	copies int64
	// copiesField names the field copies came from, "" when implied.
	copiesField string
	// runtimeOverhead is the overhead.podFixed of the RuntimeClass the
	// pod names, when that RuntimeClass is among the objects: what the
	// RuntimeClass admission controller puts into spec.overhead.
	runtimeOverhead map[string]any
}

// podTemplateOf finds the pod spec of a workload object.
func podTemplateOf(o Object) (podTemplate, bool) {
	kind := str(o, "kind")
	group := apiGroup(str(o, "apiVersion"))
	p := podTemplate{obj: o, id: objectID(o), kind: kind, copies: 1}
	var spec any
	switch {
	case group == "" && kind == "Pod":
		p.path, spec = "spec", o["spec"]
	case group == "" && kind == "ReplicationController",
		group == "apps" && (kind == "Deployment" || kind == "StatefulSet" || kind == "ReplicaSet"):
		p.path, spec = "spec.template.spec", Get(o, "spec", "template", "spec")
		p.copies, p.copiesField = count(o, 1, "spec", "replicas"), "spec.replicas"
	case group == "apps" && kind == "DaemonSet":
		p.path, spec = "spec.template.spec", Get(o, "spec", "template", "spec")
	case group == "batch" && kind == "Job":
		p.path, spec = "spec.template.spec", Get(o, "spec", "template", "spec")
		p.copies, p.copiesField = jobCopies(mapAt(o, "spec")), "spec.parallelism"
	case group == "batch" && kind == "CronJob":
		p.path, spec = "spec.jobTemplate.spec.template.spec", Get(o, "spec", "jobTemplate", "spec", "template", "spec")
		p.copies, p.copiesField = jobCopies(mapAt(o, "spec", "jobTemplate", "spec")), "spec.jobTemplate.spec.parallelism"
	default:
		return p, false
	}
	m, _ := spec.(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	p.spec = m
	return p, true
}

// jobCopies is how many pods a Job runs at once: parallelism (default 1),
// but no more than completions when that is set.
func jobCopies(spec map[string]any) int64 {
	n := count(spec, 1, "parallelism")
	if c := count(spec, -1, "completions"); c >= 0 && c < n {
		n = c
	}
	return n
}

// container is one container of a pod spec.
type container struct {
	m    map[string]any
	path string // like spec.template.spec.containers[0]
	name string
	// list is "initContainers", "containers" or "ephemeralContainers".
	list string
}

// sidecar reports whether an init container is a sidecar (restartPolicy
// Always): it keeps running beside the app containers.
func (c container) sidecar() bool {
	return c.list == "initContainers" && str(c.m, "restartPolicy") == "Always"
}

// containers lists the containers of a pod spec: init containers first,
// then app containers, then ephemeral containers.
func (p podTemplate) containers() []container {
	var out []container
	for _, list := range []string{"initContainers", "containers", "ephemeralContainers"} {
		for i, c := range slice(p.spec, list) {
			m, _ := c.(map[string]any)
			if m == nil {
				continue
			}
			out = append(out, container{m: m, path: fmt.Sprintf("%s.%s[%d]", p.path, list, i), name: str(m, "name"), list: list})
		}
	}
	return out
}

func (c container) label() string {
	kind := map[string]string{"initContainers": "init container", "containers": "container", "ephemeralContainers": "ephemeral container"}[c.list]
	return fmt.Sprintf("%s %q", kind, c.name)
}

// objectID names an object as Kind/namespace/name, or Kind/name.
func objectID(o Object) string {
	kind, name, ns := str(o, "kind"), str(o, "metadata", "name"), str(o, "metadata", "namespace")
	if kind == "" {
		kind = "?"
	}
	if ns != "" {
		return kind + "/" + ns + "/" + name
	}
	return kind + "/" + name
}

// apiGroup returns the group of an apiVersion: "" for "v1", "apps" for
// "apps/v1".
func apiGroup(apiVersion string) string {
	g, _, ok := strings.Cut(apiVersion, "/")
	if !ok {
		return ""
	}
	return g
}

// Get walks nested maps (as decoded from YAML or JSON); it returns nil when a key is missing or a value on
// the way is not a map.
func Get(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func mapAt(v any, keys ...string) map[string]any {
	m, _ := Get(v, keys...).(map[string]any)
	return m
}

func slice(v any, keys ...string) []any {
	s, _ := Get(v, keys...).([]any)
	return s
}

func str(v any, keys ...string) string {
	s, _ := Get(v, keys...).(string)
	return s
}

// strs returns the string elements of a list.
func strs(v any, keys ...string) []string {
	var out []string
	for _, e := range slice(v, keys...) {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// boolAt returns a boolean field and whether it is set to a boolean.
func boolAt(v any, keys ...string) (value, set bool) {
	b, ok := Get(v, keys...).(bool)
	return b, ok
}

// count reads a non-negative integer field, def when it is missing or not
// an integer.
func count(v any, def int64, keys ...string) int64 {
	switch n := Get(v, keys...).(type) {
	case int:
		if n >= 0 {
			return int64(n)
		}
	case int64:
		if n >= 0 {
			return n
		}
	case uint64:
		if n <= math.MaxInt64 {
			return int64(n)
		}
	case float64:
		if n >= 0 && n == math.Trunc(n) && n <= math.MaxInt64 {
			return int64(n)
		}
	}
	return def
}

// quantity parses a resource quantity as YAML decodes it: a string, an int
// or a float64.
func quantity(v any) (resource.Quantity, error) {
	var s string
	switch n := v.(type) {
	case string:
		s = n
	case int:
		s = strconv.Itoa(n)
	case int64:
		s = strconv.FormatInt(n, 10)
	case uint64:
		s = strconv.FormatUint(n, 10)
	case float64:
		s = strconv.FormatFloat(n, 'f', -1, 64)
	default:
		return resource.Quantity{}, fmt.Errorf("%v is not a quantity", v)
	}
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return resource.Quantity{}, fmt.Errorf("%q is not a quantity", s)
	}
	return q, nil
}
