package policy

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Object is one object of a built overlay, as go.yaml.in/yaml/v3 decodes
// it: nested map[string]any and []any holding strings, bools, ints and
// float64s.
type Object = map[string]any

// Default reserves for K3s itself (the server process with its embedded
// kubelet, containerd and datastore, the packaged add-ons and the operating
// system). docs/policies.md explains the numbers.
const (
	DefaultReserveCPU    = "500m"
	DefaultReserveMemory = "768Mi"
)

// Facts are what the policies know about the site besides its objects.
type Facts struct {
	// Site is the site's name, used in messages.
	Site string
	// Arch is the site's node architecture ("amd64", "arm64"). Empty means
	// unknown: arch-pinned then only checks that every pod template is
	// pinned to some architecture.
	Arch string
	// CPU and Memory are the site's capacity as Kubernetes quantities.
	// Empty means unknown: capacity then skips the sum for that resource
	// (it still reports containers without requests).
	CPU, Memory string
	// ReserveCPU and ReserveMemory are kept back for K3s itself. Empty
	// means DefaultReserveCPU and DefaultReserveMemory.
	ReserveCPU, ReserveMemory string
	// RequireDigests switches on the image-digest policy.
	RequireDigests bool
	// ConfigMapName is the name of the ConfigMap that carries the site's
	// inventory config ("site-config"); a kustomize hash suffix is
	// recognised. config-secrets checks every ConfigMap and names this one
	// specially in its messages.
	ConfigMapName string
}

// Waiver turns the findings of one policy into passes for a site.
type Waiver struct {
	// Policy is the id of the waived policy.
	Policy string
	// Reason says why; it is required and shown with every waived finding.
	Reason string
	// Source says where the waiver was written, for error messages, e.g.
	// "inventory.yaml:12:7 (site store-1)".
	Source string
}

// Finding is one violation of a policy by one object.
type Finding struct {
	// Policy is the id of the violated policy.
	Policy string
	// Object names the object: Kind/namespace/name, or Kind/name when it
	// has no namespace. Findings about the site as a whole (the capacity
	// sums) name Site/<site>.
	Object string
	// Field is the path of the offending field, such as
	// spec.template.spec.containers[0].securityContext.runAsNonRoot.
	Field string
	// Message says what is wrong.
	Message string
	// Waived is true when a waiver for the policy applies; callers count
	// waived findings as passes.
	Waived bool
	// WaiverReason and WaiverSource come from the waiver (several waivers
	// for one policy have their reasons and sources joined with "; ").
	WaiverReason string
	WaiverSource string
}

// String formats f on one line.
func (f Finding) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", f.Policy, f.Object)
	if f.Field != "" {
		fmt.Fprintf(&b, " %s", f.Field)
	}
	fmt.Fprintf(&b, ": %s", f.Message)
	if f.Waived {
		fmt.Fprintf(&b, " (waived: %s)", f.WaiverReason)
	}
	return b.String()
}

// Policy describes one policy.
type Policy struct {
	// ID names the policy in findings and waivers.
	ID string
	// Rationale says in one line why the policy exists.
	Rationale string
	// Default is true when the policy is on for every site. A policy that
	// is off by default is switched on by a fact (image-digest by
	// Facts.RequireDigests).
	Default bool
}

// Policy ids.
const (
	Capacity          = "capacity"
	Limits            = "limits"
	ArchPinned        = "arch-pinned"
	PodSecurity       = "pod-security"
	HostAccess        = "host-access"
	DefaultDeny       = "default-deny"
	NoSecrets         = "no-secrets"
	ConfigSecrets     = "config-secrets"
	ImagePinned       = "image-pinned"
	ImageDigest       = "image-digest"
	RBACClusterAdmin  = "rbac-cluster-admin"
	RBACWildcard      = "rbac-wildcard"
	RBACEscalation    = "rbac-escalation"
	ObjectSize        = "object-size"
	siteObjectKind    = "Site"
	archLabel         = "kubernetes.io/arch"
	rbacGroup         = "rbac.authorization.k8s.io"
	networkingGroupV1 = "networking.k8s.io/v1"
)

// check is the function behind a policy. It returns the findings with
// Policy left empty; Evaluate fills it in.
type check func(e *env) []Finding

type entry struct {
	Policy
	check check
	// on reports whether an off-by-default policy is switched on.
	on func(Facts) bool
}

// registry returns the policies with their checks, sorted by id. It builds
// a fresh slice on every call so no caller can change another's view.
func registry() []entry {
	return []entry{
		{Policy{ArchPinned, "the site's nodes run one CPU architecture; a pod scheduled for the wrong one never starts, or runs emulated", true}, checkArch, nil},
		{Policy{Capacity, "the site's workloads plus K3s itself must fit the device, or pods stay Pending at a site nobody can reach", true}, checkCapacity, nil},
		{Policy{ConfigSecrets, "ConfigMaps are readable by anything with read access to the namespace and sit in Git in plain text; keys and private keys belong in encrypted secrets", true}, checkConfigSecrets, nil},
		{Policy{DefaultDeny, "zero trust: each namespace the overlay creates starts with all ingress and egress denied, and traffic is allowed by explicit policies", true}, checkDefaultDeny, nil},
		{Policy{HostAccess, "a pod with host namespaces, host paths, host ports or privilege owns the device, and devices can be stolen or tampered with", true}, checkHostAccess, nil},
		{Policy{ImageDigest, "a digest names exactly one image; a tag can be moved in the registry after review (off unless the site requires digests)", false}, checkImageDigest, func(f Facts) bool { return f.RequireDigests }},
		{Policy{ImagePinned, "an untagged or :latest image changes under a site without a change in Git, and flaky links make pulls at odd times", true}, checkImagePinned, nil},
		{Policy{Limits, "on a small device a memory leak must OOM-kill its own container, not the node; memory limits are required, CPU limits optional", true}, checkLimits, nil},
		{Policy{NoSecrets, "a v1 Secret in the fleet tree is plain text in Git (base64 is not encryption); use SealedSecret, ExternalSecret or SOPS", true}, checkNoSecrets, nil},
		{Policy{ObjectSize, "an object over 256 KiB as JSON cannot be applied with client-side kubectl apply (last-applied annotation) and usually grows with the fleet", true}, checkObjectSize, nil},
		{Policy{PodSecurity, "Pod Security Standard restricted, plus edge hardening beyond it: read-only root filesystems and no automounted service account tokens", true}, checkPodSecurity, nil},
		{Policy{RBACClusterAdmin, "binding cluster-admin (or admin/edit cluster-wide) gives a workload the whole site", true}, checkClusterAdmin, nil},
		{Policy{RBACEscalation, "permission to write roles or bindings, or to escalate, bind or impersonate, lets a subject grant itself anything", true}, checkEscalation, nil},
		{Policy{RBACWildcard, "a wildcard grants every verb, resource or API group, including ones added later", true}, checkWildcard, nil},
	}
}

// Policies returns every policy, sorted by id. The slice is new on each
// call.
func Policies() []Policy {
	r := registry()
	out := make([]Policy, len(r))
	for i, e := range r {
		out[i] = e.Policy
	}
	return out
}

// enabled reports whether the policy runs for a site with facts f.
func (e entry) enabled(f Facts) bool {
	return e.Default || (e.on != nil && e.on(f))
}

// Evaluate runs every policy that is on for the site over objs, applies
// waivers and returns the findings sorted by policy, object, field and
// message. It returns an error, and no findings, when a waiver names an
// unknown policy or gives no reason, or when a site fact is not a valid
// quantity; all such problems are joined in one error.
func Evaluate(objs []Object, facts Facts, waivers []Waiver) ([]Finding, error) {
	reg := registry()
	var errs []error

	known := make(map[string]bool, len(reg))
	ids := make([]string, 0, len(reg))
	for _, e := range reg {
		known[e.ID] = true
		ids = append(ids, e.ID)
	}
	type waived struct{ reasons, sources []string }
	byPolicy := map[string]*waived{}
	for i, w := range waivers {
		where := w.Source
		if where == "" {
			where = fmt.Sprintf("waivers[%d]", i)
		}
		ok := true
		if !known[w.Policy] {
			errs = append(errs, fmt.Errorf("waiver at %s: unknown policy %q (known: %s)", where, w.Policy, strings.Join(ids, ", ")))
			ok = false
		}
		if strings.TrimSpace(w.Reason) == "" {
			errs = append(errs, fmt.Errorf("waiver at %s for policy %q: a reason is required", where, w.Policy))
			ok = false
		}
		if !ok {
			continue
		}
		wv := byPolicy[w.Policy]
		if wv == nil {
			wv = &waived{}
			byPolicy[w.Policy] = wv
		}
		if !slices.Contains(wv.reasons, w.Reason) {
			wv.reasons = append(wv.reasons, w.Reason)
		}
		if w.Source != "" && !slices.Contains(wv.sources, w.Source) {
			wv.sources = append(wv.sources, w.Source)
		}
	}

	ev, err := newEnv(objs, facts)
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	var out []Finding
	for _, e := range reg {
		if !e.enabled(facts) {
			continue
		}
		for _, f := range e.check(ev) {
			f.Policy = e.ID
			if wv := byPolicy[e.ID]; wv != nil {
				f.Waived = true
				f.WaiverReason = strings.Join(wv.reasons, "; ")
				f.WaiverSource = strings.Join(wv.sources, "; ")
			}
			out = append(out, f)
		}
	}
	slices.SortStableFunc(out, compareFindings)
	return out, nil
}

func compareFindings(a, b Finding) int {
	return cmp.Or(
		cmp.Compare(a.Policy, b.Policy),
		cmp.Compare(a.Object, b.Object),
		naturalCompare(a.Field, b.Field),
		cmp.Compare(a.Message, b.Message),
	)
}

// naturalCompare orders strings with runs of digits compared as numbers, so
// containers[2] sorts before containers[10].
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := digitPrefix(a), digitPrefix(b)
		if da != "" && db != "" {
			na, nb := strings.TrimLeft(da, "0"), strings.TrimLeft(db, "0")
			if c := cmp.Or(cmp.Compare(len(na), len(nb)), cmp.Compare(na, nb), cmp.Compare(len(da), len(db))); c != 0 {
				return c
			}
			a, b = a[len(da):], b[len(db):]
			continue
		}
		if a[0] != b[0] {
			return cmp.Compare(a[0], b[0])
		}
		a, b = a[1:], b[1:]
	}
	return cmp.Compare(len(a), len(b))
}

func digitPrefix(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}
