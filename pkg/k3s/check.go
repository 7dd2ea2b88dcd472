package k3s

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/fleetgen/fleetgen/pkg/gitops"
	"github.com/fleetgen/fleetgen/pkg/inventory"
	"github.com/fleetgen/fleetgen/pkg/policy"
	"github.com/fleetgen/fleetgen/pkg/schema"
	"github.com/fleetgen/fleetgen/pkg/suggest"
)

// ManifestsDir is the bundle directory of first-boot manifests, copied to
// K3s's auto-deploy directory /var/lib/rancher/k3s/server/manifests/.
const ManifestsDir = "manifests"

// fluxValidator validates first-boot manifests against the Flux API types
// the wiring is checked with; built once, read-only afterwards.
var fluxValidator = sync.OnceValue(func() *schema.Validator { return schema.NewWith(gitops.Types()) })

// PolicyID names the findings of Check in reports.
const PolicyID = "k3s-bootstrap"

// Files of a site's bootstrap bundle (bootstrap/<site>/).
const (
	BundleDir      = "bootstrap"
	BundleFile     = "fleetgen-k3s.yaml"
	ServerConfig   = "config.yaml"
	JoinConfig     = "server-join.yaml"
	AgentConfig    = "agent.yaml"
	RegistriesFile = "registries.yaml"
)

// BundleAPIVersion and BundleKind identify a bundle description file.
const (
	BundleAPIVersion = "fleetgen.dev/v1alpha1"
	BundleKind       = "K3sBundle"
)

// Bundle is the content of a bundle's fleetgen-k3s.yaml: what the bundle
// was generated for, so that `fleetgen verify` can check it without the
// inventory.
type Bundle struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Site       string `yaml:"site"`
	Version    string `yaml:"version"`
	Servers    int    `yaml:"servers"`
	Agents     int    `yaml:"agents"`
	// Datastore is the decision: sqlite, etcd or external.
	Datastore string `yaml:"datastore"`
}

// Check verifies a site's bootstrap bundle. files holds the bundle's
// files by name relative to bootstrap/<site>/; objs are the site's built
// overlay objects; facts are the site's policy facts (for the reserve and
// the architecture). Each finding names the file and the key.
func Check(site string, files map[string][]byte, objs []policy.Object, facts policy.Facts) []policy.Finding {
	c := &checker{site: site}
	desc, ok := c.bundle(files[BundleFile])
	if !ok {
		return c.out
	}
	if desc.Version != "" && inventory.K3sMinor(desc.Version) != inventory.K3sMinor(FlagTableVersion) {
		c.add(BundleFile, "version", "K3s %s: the flag table is of %s, so the config keys cannot be checked for this release; pin a %s release", desc.Version, FlagTableVersion, inventory.K3sMinor(FlagTableVersion))
	}

	type node struct {
		file string
		role Role
		cfg  map[string]any
	}
	var nodes []node
	want := []struct {
		file    string
		role    Role
		present bool
		why     string
	}{
		{ServerConfig, Server, true, "every bundle has the first server's config"},
		{JoinConfig, Server, desc.Servers > 1, fmt.Sprintf("servers is %d", desc.Servers)},
		{AgentConfig, Agent, desc.Agents > 0, fmt.Sprintf("agents is %d", desc.Agents)},
	}
	for _, w := range want {
		data, has := files[w.file]
		switch {
		case has && !w.present:
			c.add(w.file, "", "is in the bundle but should not be (%s)", w.why)
		case !has && w.present:
			c.add(w.file, "", "is missing from the bundle (%s)", w.why)
		}
		if !has {
			continue
		}
		cfg, ok := c.config(w.file, w.role, data)
		if ok {
			nodes = append(nodes, node{w.file, w.role, cfg})
		}
	}

	cpu, mem, err := policy.Reserve(facts)
	reserve := ""
	if err == nil {
		reserve = KubeReservedArg(cpu, mem)
	}
	for _, n := range nodes {
		c.datastore(n.file, n.cfg, desc)
		c.node(n.file, n.cfg, reserve)
	}

	c.manifests(files)

	// Node labels against the built overlay's node selectors.
	labelsOf := func(cfg map[string]any) map[string]string {
		l := map[string]string{"kubernetes.io/os": "linux"}
		if facts.Arch != "" {
			l["kubernetes.io/arch"] = facts.Arch
		}
		for _, s := range stringList(cfg["node-label"]) {
			k, v, _ := strings.Cut(s, "=")
			l[k] = v
		}
		return l
	}
	disabled := map[string]bool{}
	if len(nodes) > 0 {
		for _, d := range stringList(nodes[0].cfg["disable"]) {
			for _, x := range strings.Split(d, ",") {
				disabled[strings.TrimSpace(x)] = true
			}
		}
	}
	for _, o := range objs {
		id := objectID(o)
		switch kind, _ := o["kind"].(string); kind {
		case "Ingress", "IngressRoute", "IngressRouteTCP", "IngressRouteUDP", "Middleware":
			if disabled["traefik"] {
				c.add(ServerConfig, "disable", "traefik is disabled but %s needs an ingress controller", id)
			}
		case "HorizontalPodAutoscaler":
			if disabled["metrics-server"] {
				c.add(ServerConfig, "disable", "metrics-server is disabled but %s needs resource metrics", id)
			}
		case "Service":
			if t, _ := policy.Get(o, "spec", "type").(string); t == "LoadBalancer" && disabled["servicelb"] {
				c.add(ServerConfig, "disable", "servicelb is disabled but %s is of type LoadBalancer", id)
			}
		}
		spec := PodSpec(o)
		if spec == nil || len(nodes) == 0 {
			continue
		}
		terms := Selects(spec)
		if len(terms) == 0 {
			continue
		}
		fits := false
		for _, n := range nodes {
			l := labelsOf(n.cfg)
			for _, t := range terms {
				if Satisfied(t, l) {
					fits = true
				}
			}
		}
		if !fits {
			var missing []string
			l := labelsOf(nodes[0].cfg)
			for _, r := range terms[0] {
				if !Satisfied([]Requirement{r}, l) {
					missing = append(missing, fmt.Sprintf("%s %s %s (%s)", r.Key, r.Op, strings.Join(r.Values, ","), r.Field))
				}
			}
			c.add(ServerConfig, "node-label", "no node of the bundle has the labels %s selects: %s; a pod would stay Pending", id, strings.Join(missing, "; "))
		}
	}
	return c.out
}

type checker struct {
	site string
	out  []policy.Finding
}

func (c *checker) add(file, key, format string, args ...any) {
	c.out = append(c.out, policy.Finding{Policy: PolicyID, Object: "Bootstrap/" + c.site + "/" + file, Field: key, Message: fmt.Sprintf(format, args...)})
}

// manifests validates every object of the first-boot manifests
// (manifests/*.yaml) against the Flux API types, and checks that a Flux
// Kustomization there applies the site's own wiring directory.
func (c *checker) manifests(files map[string][]byte) {
	var names []string
	for n := range files {
		if strings.HasPrefix(n, ManifestsDir+"/") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	v := fluxValidator()
	for _, n := range names {
		dec := yaml.NewDecoder(bytes.NewReader(files[n]))
		for i := 0; ; i++ {
			var obj map[string]any
			err := dec.Decode(&obj)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				c.add(n, "", "is not YAML: %v", err)
				break
			}
			if obj == nil {
				continue
			}
			id := objectID(obj)
			r := v.Validate(obj)
			if r.Skipped {
				continue // not a Flux kind: K3s applies it as it is
			}
			for _, fe := range r.Errors {
				c.add(n, fe.Path, "%s: %s", id, fe.Msg)
			}
			if kind, _ := obj["kind"].(string); kind == "Kustomization" {
				p, _ := policy.Get(obj, "spec", "path").(string)
				if want := "clusters/" + c.site; !strings.HasSuffix(strings.TrimSuffix(p, "/"), want) {
					c.add(n, "spec.path", "%s applies %q, not the site's wiring directory %s/", id, p, want)
				}
			}
		}
	}
}

// bundle decodes fleetgen-k3s.yaml.
func (c *checker) bundle(data []byte) (Bundle, bool) {
	var b Bundle
	if data == nil {
		c.add(BundleFile, "", "is missing: the bundle cannot be checked without it")
		return b, false
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&b); err != nil {
		c.add(BundleFile, "", "cannot be read: %v", err)
		return b, false
	}
	if b.APIVersion != BundleAPIVersion || b.Kind != BundleKind {
		c.add(BundleFile, "kind", "apiVersion %q kind %q: want %s %s", b.APIVersion, b.Kind, BundleAPIVersion, BundleKind)
		return b, false
	}
	if b.Site != c.site {
		c.add(BundleFile, "site", "is %q, but the bundle is the site %q's", b.Site, c.site)
	}
	if _, why := inventory.K3sDatastore(b.Datastore, b.Servers); why != "" {
		c.add(BundleFile, "datastore", "%s", why)
	}
	if b.Agents < 0 || b.Servers < 1 {
		c.add(BundleFile, "servers", "servers %d and agents %d: need at least one server and no negative count", b.Servers, b.Agents)
	}
	return b, true
}

// config decodes a K3s config file and checks every key against the flag
// table of role, with the type of its value.
func (c *checker) config(file string, role Role, data []byte) (map[string]any, bool) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			c.add(file, "", "is empty")
		} else {
			c.add(file, "", "is not YAML: %v", err)
		}
		return nil, false
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		c.add(file, "", "must be a mapping of K3s flags to values")
		return nil, false
	}
	cfg := map[string]any{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		key := k.Value
		// K3s reads "key+" as "append to the value of key".
		name := strings.TrimSuffix(key, "+")
		kind, ok := Flag(role, name)
		if !ok {
			msg := fmt.Sprintf("line %d: unknown K3s %s flag %q in K3s %s", k.Line, role, key, FlagTableVersion)
			if s := closest(name, Flags(role)); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			if _, server := Flag(Server, name); server && role == Agent {
				msg = fmt.Sprintf("line %d: %q is a server flag; an agent's config cannot set it", k.Line, key)
			}
			if _, agent := Flag(Agent, name); agent && role == Server {
				msg = fmt.Sprintf("line %d: %q is an agent-only flag; a server's config cannot set it", k.Line, key)
			}
			c.add(file, key, "%s", msg)
			continue
		}
		if msg := typeOf(kind, v); msg != "" {
			c.add(file, key, "line %d: %s flag: %s", v.Line, kind, msg)
			continue
		}
		var val any
		if err := v.Decode(&val); err == nil {
			cfg[name] = val
		}
	}
	return cfg, true
}

// typeOf checks that v is a value of kind as K3s's config loader takes it.
func typeOf(kind Kind, v *yaml.Node) string {
	scalar := func(tag string) bool { return v.Kind == yaml.ScalarNode && v.ShortTag() == tag }
	switch kind {
	case Bool:
		if !scalar("!!bool") {
			return "want true or false, got " + describe(v)
		}
	case Int:
		if !scalar("!!int") {
			return "want a whole number, got " + describe(v)
		}
	case String:
		if !scalar("!!str") {
			return "want a string (quote numbers such as \"0600\"), got " + describe(v)
		}
	case Duration:
		if !scalar("!!str") {
			return "want a duration such as \"5m\", got " + describe(v)
		}
		if _, err := time.ParseDuration(v.Value); err != nil {
			return fmt.Sprintf("want a duration such as \"5m\", got %q", v.Value)
		}
	case StringSlice:
		if scalar("!!str") {
			return ""
		}
		if v.Kind != yaml.SequenceNode {
			return "want a list of strings, got " + describe(v)
		}
		for _, item := range v.Content {
			if item.Kind != yaml.ScalarNode || item.ShortTag() != "!!str" {
				return "want a list of strings, an item is " + describe(item)
			}
		}
	}
	return ""
}

func describe(v *yaml.Node) string {
	switch v.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%s %q", strings.TrimPrefix(v.ShortTag(), "!!"), v.Value)
	}
	return "an unexpected YAML node"
}

// datastore checks a server's or agent's datastore keys against the
// bundle's decision.
func (c *checker) datastore(file string, cfg map[string]any, b Bundle) {
	if _, ok := cfg["datastore-endpoint"]; ok {
		c.add(file, "datastore-endpoint", "the datastore endpoint carries credentials and must not be in Git: K3s reads it from a drop-in under %s on the device", inventory.K3sConfigDropInDir)
	}
	for _, k := range []string{"token", "agent-token"} {
		if _, ok := cfg[k]; ok {
			c.add(file, k, "a K3s token must never be in Git: use token-file")
		}
	}
	init, _ := cfg["cluster-init"].(bool)
	server, _ := cfg["server"].(string)
	switch file {
	case ServerConfig:
		switch {
		case b.Datastore == inventory.DatastoreEtcd && !init:
			c.add(file, "cluster-init", "the first server of an embedded etcd cluster needs cluster-init: true")
		case b.Datastore != inventory.DatastoreEtcd && init:
			c.add(file, "cluster-init", "cluster-init starts embedded etcd, but the datastore is %s", b.Datastore)
		}
		if server != "" {
			c.add(file, "server", "the first server joins no one")
		}
	case JoinConfig, AgentConfig:
		if server == "" {
			c.add(file, "server", "a joining node needs server: the first server's URL")
		}
		if init {
			c.add(file, "cluster-init", "only the first server initialises the cluster")
		}
		if file == JoinConfig && b.Datastore == inventory.DatastoreSQLite {
			c.add(file, "", "SQLite has one server: there is no server to join")
		}
	}
}

// node checks what every node's config needs: the token file, and the
// kubelet reserve equal to the capacity policy's.
func (c *checker) node(file string, cfg map[string]any, reserve string) {
	if tf, _ := cfg["token-file"].(string); tf == "" {
		c.add(file, "token-file", "is required: nodes read the cluster token from a file on the device")
	}
	args := stringList(cfg["kubelet-arg"])
	var got []string
	for _, a := range args {
		if strings.HasPrefix(a, "kube-reserved=") || strings.HasPrefix(a, "system-reserved=") {
			got = append(got, a)
		}
	}
	switch {
	case reserve == "":
		// the facts' reserve is invalid; the capacity policy reports it
	case len(got) == 0:
		c.add(file, "kubelet-arg", "has no kube-reserved: the kubelet must keep back the capacity policy's reserve (%s)", strings.TrimPrefix(reserve, "kube-reserved="))
	case len(got) > 1 || !equalReserve(got[0], reserve):
		c.add(file, "kubelet-arg", "%s differs from the capacity policy's reserve %s: one source of truth, regenerate the bundle", strings.Join(got, " "), strings.TrimPrefix(reserve, "kube-reserved="))
	}
}

// equalReserve compares "kube-reserved=cpu=X,memory=Y" arguments by
// quantity, in any order of the pairs.
func equalReserve(got, want string) bool {
	parse := func(s string) map[string]string {
		_, v, _ := strings.Cut(s, "=")
		m := map[string]string{}
		for _, kv := range strings.Split(v, ",") {
			k, q, _ := strings.Cut(kv, "=")
			m[k] = canonicalQuantity(q)
		}
		return m
	}
	g, w := parse(got), parse(want)
	if !strings.HasPrefix(got, "kube-reserved=") {
		return false
	}
	return len(g) == len(w) && g["cpu"] == w["cpu"] && g["memory"] == w["memory"]
}

// stringList reads a K3s list value: a list, or one comma-separated
// string.
func stringList(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, i := range x {
			if s, ok := i.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func objectID(o policy.Object) string {
	kind, _ := o["kind"].(string)
	ns, _ := policy.Get(o, "metadata", "namespace").(string)
	name, _ := policy.Get(o, "metadata", "name").(string)
	if ns == "" {
		return kind + "/" + name
	}
	return kind + "/" + ns + "/" + name
}

// closest returns the candidate nearest to s by edit distance (at most
// half of s's length), or "" when none is close.
func closest(s string, candidates []string) string {
	slices.Sort(candidates)
	return suggest.Closest(s, candidates, func(string) int { return len(s) / 2 })
}
