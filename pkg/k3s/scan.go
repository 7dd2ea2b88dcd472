package k3s

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/fleetgen/fleetgen/pkg/policy"
)

// Needs are what the manifests of one directory of the template set ask
// of the nodes and of K3s's packaged components.
type Needs struct {
	// Labels are the node labels the directory's pod templates select
	// (nodeSelector, and required node affinity In with one value), by
	// key; labels the kubelet sets itself are left out.
	Labels map[string]string
	// Ingress is true when it has an Ingress or a Traefik route, which
	// need Traefik.
	Ingress bool
	// Autoscaler is true when it has a HorizontalPodAutoscaler, which
	// needs metrics-server.
	Autoscaler bool
	// LoadBalancer is true when it has a Service of type LoadBalancer,
	// which needs servicelb.
	LoadBalancer bool
}

// Scan holds the Needs of the base and of every component of a template
// set.
type Scan struct {
	dirs map[string]*Needs
}

// kubeletLabels are the node labels the kubelet sets itself; node-label
// cannot (and need not) set them.
var kubeletLabels = []string{"kubernetes.io/arch", "kubernetes.io/os", "kubernetes.io/hostname", "beta.kubernetes.io/arch", "beta.kubernetes.io/os"}

// ScanTemplates reads the YAML files of base/ and components/<name>/ of a
// template set (files copied verbatim; templates, ending in .tmpl, are not
// read) and records what each directory needs. The overlay's own node
// selectors are checked on the built overlay by Check instead.
func ScanTemplates(fsys fs.FS) (*Scan, error) {
	sc := &Scan{dirs: map[string]*Needs{}}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !(strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			return nil
		}
		dir := ""
		switch parts := strings.Split(p, "/"); {
		case parts[0] == "base":
			dir = "base"
		case parts[0] == "components" && len(parts) > 2:
			dir = "components/" + parts[1]
		default:
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		n := sc.dirs[dir]
		if n == nil {
			n = &Needs{Labels: map[string]string{}}
			sc.dirs[dir] = n
		}
		if err := n.add(data); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scanning the template set for K3s needs: %w", err)
	}
	return sc, nil
}

// add records the needs of every document of data.
func (n *Needs) add(data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var obj map[string]any
		err := dec.Decode(&obj)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		n.object(obj)
	}
}

func (n *Needs) object(obj map[string]any) {
	kind, _ := obj["kind"].(string)
	switch kind {
	case "Ingress", "IngressRoute", "IngressRouteTCP", "IngressRouteUDP", "Middleware":
		n.Ingress = true
	case "HorizontalPodAutoscaler":
		n.Autoscaler = true
	case "Service":
		if t, _ := policy.Get(obj, "spec", "type").(string); t == "LoadBalancer" {
			n.LoadBalancer = true
		}
	}
	if spec := PodSpec(obj); spec != nil {
		for _, term := range Selects(spec) {
			for _, r := range term {
				if r.Op == "In" && len(r.Values) == 1 && !slices.Contains(kubeletLabels, r.Key) {
					n.Labels[r.Key] = r.Values[0]
				}
			}
		}
	}
}

// Site returns the needs of the base and the named components together.
func (sc *Scan) Site(components []string) Needs {
	out := Needs{Labels: map[string]string{}}
	if sc == nil {
		return out
	}
	for _, d := range append([]string{"base"}, prefixed(components)...) {
		n := sc.dirs[d]
		if n == nil {
			continue
		}
		for k, v := range n.Labels {
			out.Labels[k] = v
		}
		out.Ingress = out.Ingress || n.Ingress
		out.Autoscaler = out.Autoscaler || n.Autoscaler
		out.LoadBalancer = out.LoadBalancer || n.LoadBalancer
	}
	return out
}

func prefixed(components []string) []string {
	out := make([]string, len(components))
	for i, c := range components {
		out[i] = "components/" + c
	}
	return out
}

// Requirement is one node label requirement of a pod.
type Requirement struct {
	Key    string
	Op     string // In, NotIn, Exists, DoesNotExist, Gt, Lt
	Values []string
	// Field names where it was written.
	Field string
}

// PodSpec returns the pod spec of a workload object, or nil.
func PodSpec(obj map[string]any) map[string]any {
	kind, _ := obj["kind"].(string)
	var spec any
	switch kind {
	case "Pod":
		spec = obj["spec"]
	case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job":
		spec = policy.Get(obj, "spec", "template", "spec")
	case "CronJob":
		spec = policy.Get(obj, "spec", "jobTemplate", "spec", "template", "spec")
	}
	m, _ := spec.(map[string]any)
	return m
}

// Selects returns the node requirements of a pod spec as alternatives: the
// pod fits a node that meets every requirement of any one term. The
// nodeSelector is added to every term.
func Selects(spec map[string]any) [][]Requirement {
	var base []Requirement
	if sel, ok := spec["nodeSelector"].(map[string]any); ok {
		keys := make([]string, 0, len(sel))
		for k := range sel {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			base = append(base, Requirement{Key: k, Op: "In", Values: []string{fmt.Sprint(sel[k])}, Field: "nodeSelector." + k})
		}
	}
	terms, _ := policy.Get(spec, "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms").([]any)
	if len(terms) == 0 {
		if base == nil {
			return nil
		}
		return [][]Requirement{base}
	}
	var out [][]Requirement
	for i, t := range terms {
		term := slices.Clone(base)
		exprs, _ := policy.Get(t, "matchExpressions").([]any)
		for j, e := range exprs {
			key, _ := policy.Get(e, "key").(string)
			op, _ := policy.Get(e, "operator").(string)
			var values []string
			vs, _ := policy.Get(e, "values").([]any)
			for _, v := range vs {
				values = append(values, fmt.Sprint(v))
			}
			term = append(term, Requirement{Key: key, Op: op, Values: values,
				Field: fmt.Sprintf("affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[%d].matchExpressions[%d]", i, j)})
		}
		out = append(out, term)
	}
	return out
}

// Satisfied reports whether a node with labels meets every requirement.
func Satisfied(term []Requirement, labels map[string]string) bool {
	for _, r := range term {
		v, has := labels[r.Key]
		switch r.Op {
		case "In":
			if !has || !slices.Contains(r.Values, v) {
				return false
			}
		case "NotIn":
			if has && slices.Contains(r.Values, v) {
				return false
			}
		case "Exists":
			if !has {
				return false
			}
		case "DoesNotExist":
			if has {
				return false
			}
		default: // Gt, Lt: numeric labels fleetgen does not set
			if !has {
				return false
			}
		}
	}
	return true
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
