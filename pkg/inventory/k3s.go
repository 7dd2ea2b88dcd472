package inventory

import (
	"fmt"
	"net"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Datastores a K3s cluster can keep its state in (the k3s.datastore field).
const (
	DatastoreAuto     = "auto"
	DatastoreSQLite   = "sqlite"
	DatastoreEtcd     = "etcd"
	DatastoreExternal = "external"
)

// K3s defaults of a site whose layers set a k3s block.
const (
	// K3sVersion is the K3s release fleetgen's K3s flag table describes
	// (pkg/k3s); a site that sets no version runs it.
	K3sVersion = "v1.33.5+k3s1"
	// DefaultK3sTokenFile is where the cluster token is on the device when
	// the inventory names no other path.
	DefaultK3sTokenFile = "/etc/rancher/k3s/token"
	// K3sConfigDropInDir is the directory K3s reads extra configuration
	// files from, after config.yaml.
	K3sConfigDropInDir = "/etc/rancher/k3s/config.yaml.d/"
)

// Allowed values of the k3s block.
var (
	Datastores = []string{DatastoreAuto, DatastoreEtcd, DatastoreExternal, DatastoreSQLite}
	// K3sPackagedComponents are the names K3s v1.33's --disable flag
	// accepts ("valid items" of the flag's help text in
	// pkg/cli/cmds/server.go, as the K3s CLI reference at
	// https://docs.k3s.io/cli/server prints it; see docs/k3s.md).
	K3sPackagedComponents = []string{"coredns", "local-storage", "metrics-server", "runtimes", "servicelb", "traefik"}
	// TaintEffects are the effects a node taint may have.
	TaintEffects = []string{"NoExecute", "NoSchedule", "PreferNoSchedule"}
)

// Bounds of the node counts of a site.
const (
	maxK3sServers = 99
	maxK3sAgents  = 1000
)

// K3s is the k3s block of a layer as written: how the site's K3s cluster
// is set up. nil or "" fields are not set in this layer.
type K3s struct {
	// Version is the K3s release, a tag such as v1.33.5+k3s1.
	Version string `json:"version,omitempty"`
	// Servers is the number of server nodes, 1 or more.
	Servers *int `json:"servers,omitempty"`
	// Agents is the number of agent nodes, 0 or more.
	Agents *int `json:"agents,omitempty"`
	// Disable lists packaged components to switch off on top of those
	// fleetgen switches off by capacity; merged as a union.
	Disable []string `json:"disable,omitempty"`
	// Datastore is auto, sqlite, etcd or external.
	Datastore string `json:"datastore,omitempty"`
	// JoinAddress is the URL of the first server (https://HOST:PORT) that
	// the other servers and the agents join.
	JoinAddress string `json:"joinAddress,omitempty"`
	// DatastoreEndpointFile is, for an external datastore, the K3s config
	// drop-in on the device (under /etc/rancher/k3s/config.yaml.d/) that
	// sets datastore-endpoint. The endpoint and its credentials are never
	// in the inventory.
	DatastoreEndpointFile string `json:"datastoreEndpointFile,omitempty"`
	// TokenFile is the path on the device of the file holding the cluster
	// token; /etc/rancher/k3s/token when not set.
	TokenFile string `json:"tokenFile,omitempty"`
	// NodeTaints are taints (KEY[=VALUE]:EFFECT) every node of the site
	// registers with; the last layer that sets the list wins.
	NodeTaints []string `json:"nodeTaints,omitempty"`
}

// SiteK3s is a site's merged k3s block; a site has one when any of its
// layers sets k3s. Values no layer sets hold their defaults.
type SiteK3s struct {
	Version               string   `json:"version"`
	Servers               int      `json:"servers"`
	Agents                int      `json:"agents"`
	Disable               []string `json:"disable"`
	Datastore             string   `json:"datastore"`
	JoinAddress           string   `json:"joinAddress,omitempty"`
	DatastoreEndpointFile string   `json:"datastoreEndpointFile,omitempty"`
	TokenFile             string   `json:"tokenFile"`
	NodeTaints            []string `json:"nodeTaints"`
	// Resolved is what fleetgen derives for the site's bootstrap bundle
	// (pkg/k3s fills it in); nil until then.
	Resolved *K3sResolved `json:"resolved,omitempty"`
}

// K3sResolved is the K3s configuration fleetgen derives for a site from
// its merged fields, its capacity and the template set: the data the
// bootstrap templates render. pkg/k3s computes it.
type K3sResolved struct {
	// Datastore is the decision: sqlite, etcd or external.
	Datastore string `json:"datastore"`
	// Disable is every packaged component switched off: the inventory's
	// list and those switched off by capacity, sorted.
	Disable []string `json:"disable"`
	// NodeLabels are KEY=VALUE labels every node registers with, sorted.
	NodeLabels []string `json:"nodeLabels"`
	// KubeletArgs are the kubelet arguments (NAME=VALUE), in order.
	KubeletArgs []string `json:"kubeletArgs"`
	// Mirrors are the registry mirrors of registries.yaml, by registry.
	Mirrors []K3sMirror `json:"mirrors,omitempty"`
	// Reasons say, by explain key ("k3s.resolved.disable[0]"), why a value
	// was derived.
	Reasons map[string]string `json:"-"`
}

// K3sMirror sends pulls of one registry to the site's imageRegistry.
type K3sMirror struct {
	// Registry is the registry as image names spell it ("docker.io").
	Registry string `json:"registry"`
	// Endpoint is the mirror's URL (https://HOST[:PORT]).
	Endpoint string `json:"endpoint"`
	// Rewrite, when set, maps a repository to its path on the mirror
	// (containerd's rewrite: regular expression to replacement).
	Rewrite map[string]string `json:"rewrite,omitempty"`
}

var k3sFields = []string{"version", "servers", "agents", "disable", "datastore", "joinAddress", "datastoreEndpointFile", "tokenFile", "nodeTaints"}

// k3sField decodes a layer's k3s block.
func (d *decoder) k3sField(l *Layer, v *yaml.Node, field string) {
	d.cur.val["k3s"] = nodePos(v)
	ok, present := d.mapping(v, field, "a mapping with version, servers, agents, disable, datastore and joinAddress")
	if !ok {
		d.cur.bad["k3s"] = true
		return
	}
	if !present {
		return // null: not set in this layer, like every other field
	}
	k := &K3s{}
	l.K3s = k
	for _, e := range d.entries(v, field) {
		name := "k3s." + e.key.Value
		f := join(field, e.key.Value)
		switch e.key.Value {
		case "version", "datastore", "joinAddress", "datastoreEndpointFile", "tokenFile":
			d.cur.val[name] = nodePos(e.val)
			s, ok := d.text(e.val, f, "a string")
			if !ok {
				d.cur.bad[name] = true
			}
			switch e.key.Value {
			case "version":
				k.Version = s
			case "datastore":
				k.Datastore = s
			case "joinAddress":
				k.JoinAddress = s
			case "datastoreEndpointFile":
				k.DatastoreEndpointFile = s
			case "tokenFile":
				k.TokenFile = s
			}
		case "servers", "agents":
			d.cur.val[name] = nodePos(e.val)
			lo, hi := 1, maxK3sServers
			if e.key.Value == "agents" {
				lo, hi = 0, maxK3sAgents
			}
			n, ok := d.count(e.val, f, lo, hi)
			if !ok {
				d.cur.bad[name] = true
				continue
			}
			if e.key.Value == "servers" {
				k.Servers = &n
			} else {
				k.Agents = &n
			}
		case "disable", "nodeTaints":
			d.cur.val[name] = nodePos(e.val)
			list := d.stringList(e.val, f, name, "a list of strings")
			if list == nil {
				list = []string{}
			}
			if e.key.Value == "disable" {
				k.Disable = list
			} else {
				k.NodeTaints = list
			}
		case "token", "agentToken", "agent-token":
			d.cur.val[name] = nodePos(e.val)
			d.fail(e.key, f, "a K3s token must never be in the inventory (it would be in Git in plain text): put it on the device and name the file with tokenFile (default %s)", DefaultK3sTokenFile)
		default:
			d.unknownField(e.key, field, "k3s", k3sFields)
		}
	}
}

// count decodes a whole number from lo to hi written in decimal.
func (d *decoder) count(n *yaml.Node, field string, lo, hi int) (int, bool) {
	s, ok := d.text(n, field, "a whole number")
	if !ok {
		return 0, false
	}
	v, err := strconv.Atoi(s)
	if err != nil || strings.HasPrefix(s, "+") || (len(s) > 1 && s[0] == '0') || v < lo || v > hi {
		d.fail(n, field, "invalid value %s: must be a whole number from %d to %d written in decimal", quote(s), lo, hi)
		return 0, false
	}
	return v, true
}

var k3sVersionRE = regexp.MustCompile(`^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\+k3s[1-9][0-9]*$`)

// CheckK3sVersion returns why s is not a K3s release tag, or "".
func CheckK3sVersion(s string) string {
	if !k3sVersionRE.MatchString(s) {
		return "must be a K3s release tag vMAJOR.MINOR.PATCH+k3sN, such as " + K3sVersion + " (release candidates and \"latest\" are not pinned releases)"
	}
	return ""
}

// K3sMinor returns "v1.33" for "v1.33.5+k3s1".
func K3sMinor(version string) string {
	parts := strings.SplitN(version, ".", 3)
	if len(parts) < 2 {
		return version
	}
	return parts[0] + "." + parts[1]
}

// k3sLayer checks the values of one layer's k3s block.
func (c *checker) k3sLayer(l *Layer, m *entryMeta, field, site string) {
	k := l.K3s
	if k == nil {
		return
	}
	ok := func(name string) bool { return !m.bad["k3s."+name] }
	f := field + ".k3s."
	if k.Version != "" && ok("version") {
		if msg := CheckK3sVersion(k.Version); msg != "" {
			c.ps.add(m.at("k3s.version"), site, f+"version", "invalid value %s: %s", quote(k.Version), msg)
		}
	}
	if k.Datastore != "" && ok("datastore") {
		c.oneOf(m.at("k3s.datastore"), site, f+"datastore", k.Datastore, Datastores)
	}
	if k.JoinAddress != "" && ok("joinAddress") {
		if msg := checkJoinAddress(k.JoinAddress); msg != "" {
			c.ps.add(m.at("k3s.joinAddress"), site, f+"joinAddress", "invalid value %s: %s", quote(redactURL(k.JoinAddress)), msg)
		}
	}
	if k.DatastoreEndpointFile != "" && ok("datastoreEndpointFile") {
		if msg := checkDropIn(k.DatastoreEndpointFile); msg != "" {
			c.ps.add(m.at("k3s.datastoreEndpointFile"), site, f+"datastoreEndpointFile", "invalid value %s: %s", quote(redactURL(k.DatastoreEndpointFile)), msg)
		}
	}
	if k.TokenFile != "" && ok("tokenFile") {
		if msg := checkDevicePath(k.TokenFile); msg != "" {
			c.ps.add(m.at("k3s.tokenFile"), site, f+"tokenFile", "invalid value %s: %s", quote(k.TokenFile), msg)
		}
	}
	seen := map[string]int{}
	for i, name := range k.Disable {
		p := index("k3s.disable", i)
		if m.bad[p] {
			continue
		}
		if !slices.Contains(K3sPackagedComponents, name) {
			c.ps.add(m.at(p), site, field+"."+p, "unknown K3s packaged component %s%s; K3s %s can disable: %s", quote(name), didYouMean(name, K3sPackagedComponents), K3sMinor(K3sVersion), strings.Join(K3sPackagedComponents, ", "))
			continue
		}
		if j, dup := seen[name]; dup {
			c.ps.add(m.at(p), site, field+"."+p, "component %s is listed twice (first as disable[%d])", quote(name), j)
			continue
		}
		seen[name] = i
	}
	for i, t := range k.NodeTaints {
		p := index("k3s.nodeTaints", i)
		if m.bad[p] {
			continue
		}
		if msg := CheckTaint(t); msg != "" {
			c.ps.add(m.at(p), site, field+"."+p, "invalid taint %s: %s", quote(t), msg)
		}
	}
}

// CheckTaint returns why s is not a taint as kubelet's --register-with-taints
// reads it (KEY[=VALUE]:EFFECT), or "".
func CheckTaint(s string) string {
	const form = "must be KEY[=VALUE]:EFFECT, such as \"dedicated=edge:NoSchedule\""
	kv, effect, found := strings.Cut(s, ":")
	if !found || strings.Contains(effect, ":") {
		return form
	}
	if !slices.Contains(TaintEffects, effect) {
		return fmt.Sprintf("effect %s must be one of %s", quote(effect), strings.Join(TaintEffects, ", "))
	}
	key, value, _ := strings.Cut(kv, "=")
	if errs := validation.IsQualifiedName(key); len(errs) > 0 {
		return fmt.Sprintf("key %s: %s", quote(key), strings.Join(errs, "; "))
	}
	if errs := validation.IsValidLabelValue(value); len(errs) > 0 {
		return fmt.Sprintf("value %s: %s", quote(value), strings.Join(errs, "; "))
	}
	return ""
}

// checkJoinAddress accepts https://HOST:PORT with an optional "/" path.
func checkJoinAddress(s string) string {
	const rule = "must be the first server's supervisor URL https://HOST:PORT, such as \"https://10.0.0.10:6443\""
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.Opaque != "" {
		return rule
	}
	if u.User != nil {
		return "must not carry credentials: K3s nodes join with the token file"
	}
	if u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return rule + " (no path, query or fragment)"
	}
	if why := checkHostPort(u); why != "" {
		return rule + " (" + why + ")"
	}
	return ""
}

// checkHostPort returns why a URL's host is not HOST:PORT with an IP
// address or DNS name and a port from 1 to 65535, or "".
func checkHostPort(u *url.URL) string {
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil || host == "" || port == "" {
		return "the port is required"
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "the port must be from 1 to 65535"
	}
	if net.ParseIP(strings.Trim(host, "[]")) == nil && len(validation.IsDNS1123Subdomain(strings.ToLower(host))) > 0 {
		return "the host must be an IP address or a DNS name"
	}
	return ""
}

// checkDevicePath accepts a clean absolute path on the device.
func checkDevicePath(s string) string {
	if !strings.HasPrefix(s, "/") || path.Clean(s) != s || s == "/" {
		return "must be a clean absolute path on the device, such as \"" + DefaultK3sTokenFile + "\""
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7F || r == ':' {
			return "must not contain spaces, ':' or control characters"
		}
	}
	return ""
}

// checkDropIn accepts a K3s config drop-in path: K3s reads
// /etc/rancher/k3s/config.yaml.d/*.yaml after config.yaml.
func checkDropIn(s string) string {
	if strings.Contains(s, "://") || strings.Contains(s, "@") {
		return "looks like a datastore endpoint: the endpoint and its credentials must never be in Git; name the file on the device that sets datastore-endpoint instead"
	}
	if msg := checkDevicePath(s); msg != "" {
		return msg
	}
	dir, file := path.Split(s)
	if dir != K3sConfigDropInDir || (!strings.HasSuffix(file, ".yaml") && !strings.HasSuffix(file, ".yml")) {
		return "must be a K3s config drop-in " + K3sConfigDropInDir + "NAME.yaml (K3s reads those after config.yaml), which the provisioning system writes with datastore-endpoint"
	}
	return ""
}

// mergeK3s merges one layer's k3s block into s: each field on its own, the
// last layer that sets it winning; disable lists are unioned in order of
// first appearance.
func mergeK3s(s *Site, l *Layer, scalar func(dst *string, path, value string), mark func(path, from string)) {
	k := l.K3s
	if k == nil {
		return
	}
	if s.K3s == nil {
		s.K3s = &SiteK3s{Disable: []string{}, NodeTaints: []string{}}
		mark("k3s", "k3s")
	}
	t := s.K3s
	scalar(&t.Version, "k3s.version", k.Version)
	scalar(&t.Datastore, "k3s.datastore", k.Datastore)
	scalar(&t.JoinAddress, "k3s.joinAddress", k.JoinAddress)
	scalar(&t.DatastoreEndpointFile, "k3s.datastoreEndpointFile", k.DatastoreEndpointFile)
	scalar(&t.TokenFile, "k3s.tokenFile", k.TokenFile)
	if k.Servers != nil {
		t.Servers = *k.Servers
		mark("k3s.servers", "k3s.servers")
	}
	if k.Agents != nil {
		t.Agents = *k.Agents
		mark("k3s.agents", "k3s.agents")
	}
	for j, name := range k.Disable {
		if name == "" || slices.Contains(t.Disable, name) {
			continue
		}
		mark(index("k3s.disable", len(t.Disable)), index("k3s.disable", j))
		t.Disable = append(t.Disable, name)
	}
	if k.NodeTaints != nil {
		t.NodeTaints = append([]string{}, k.NodeTaints...)
		for j := range k.NodeTaints {
			mark(index("k3s.nodeTaints", j), index("k3s.nodeTaints", j))
		}
	}
}

// finishK3s fills in the defaults of a merged k3s block.
func finishK3s(s *Site) {
	t := s.K3s
	if t == nil {
		return
	}
	if t.Version == "" {
		t.Version = K3sVersion
	}
	if t.Servers == 0 {
		t.Servers = 1
	}
	if t.Datastore == "" {
		t.Datastore = DatastoreAuto
	}
	if t.TokenFile == "" {
		t.TokenFile = DefaultK3sTokenFile
	}
}

// K3sDatastore decides the datastore of a cluster of servers nodes from
// the k3s.datastore setting. It returns the decision (sqlite, etcd or
// external), or "" and why the combination is refused.
func K3sDatastore(setting string, servers int) (string, string) {
	switch setting {
	case DatastoreSQLite:
		if servers != 1 {
			return "", fmt.Sprintf("datastore sqlite needs exactly one server, got %d: SQLite is a single-writer file on one node, other servers cannot share it; use etcd with an odd number of servers, or external", servers)
		}
		return DatastoreSQLite, ""
	case DatastoreEtcd:
		if servers%2 == 0 {
			return "", fmt.Sprintf("embedded etcd needs an odd number of servers, got %d: etcd's quorum is a majority (%d of %d), so %d servers survive %d failure(s), the same as %d, with one more member that can fail; use %d or %d servers, or datastore: external", servers, servers/2+1, servers, servers, (servers-1)/2, servers-1, servers-1, servers+1)
		}
		return DatastoreEtcd, ""
	case DatastoreExternal:
		return DatastoreExternal, ""
	case DatastoreAuto, "":
		switch {
		case servers == 1:
			return DatastoreSQLite, ""
		case servers%2 == 1:
			return DatastoreEtcd, ""
		case servers == 2:
			return "", "auto cannot choose a datastore for 2 servers: SQLite takes one server, and a 2-member etcd loses quorum when either server fails (no better than one server); add a third server (embedded etcd) or set datastore: external with datastoreEndpointFile"
		default:
			return "", fmt.Sprintf("auto cannot choose a datastore for %d servers: an even number of etcd members has no quorum advantage over %d; use %d or %d servers, or datastore: external", servers, servers-1, servers-1, servers+1)
		}
	}
	return "", fmt.Sprintf("unknown datastore %s", quote(setting))
}

// k3sSite checks a site's merged k3s block: the datastore rules and the
// join address.
func (c *checker) k3sSite(i int, s *Site) {
	t := s.K3s
	if t == nil {
		return
	}
	m := c.src.site(i)
	field := index("sites", i) + ".k3s."
	pos := func(keys ...string) position {
		for _, k := range keys {
			if _, ok := s.Origins[k]; ok {
				return c.originPos(s, k, m.pos)
			}
		}
		return c.originPos(s, "k3s", m.pos)
	}
	if !slices.Contains(Datastores, t.Datastore) {
		return // reported by k3sLayer
	}
	if _, why := K3sDatastore(t.Datastore, t.Servers); why != "" {
		c.ps.add(pos("k3s.servers", "k3s.datastore"), s.Name, field+"servers", "%s (servers from %s, datastore from %s)", why, c.from(s, "k3s.servers", "default 1"), c.from(s, "k3s.datastore", "default auto"))
	}
	if t.Datastore == DatastoreExternal && t.DatastoreEndpointFile == "" {
		c.ps.add(pos("k3s.datastore"), s.Name, field+"datastoreEndpointFile",
			"is required with datastore external: name the K3s config drop-in on the device that sets datastore-endpoint (%sNAME.yaml); the endpoint and its credentials never go in Git", K3sConfigDropInDir)
	}
	if t.Datastore != DatastoreExternal && t.DatastoreEndpointFile != "" {
		c.ps.add(pos("k3s.datastoreEndpointFile"), s.Name, field+"datastoreEndpointFile", "is only used with datastore external, the datastore is %s", quote(t.Datastore))
	}
	if t.JoinAddress == "" && (t.Servers > 1 || t.Agents > 0) {
		why := pos("k3s.servers", "k3s.agents")
		if t.Servers == 1 {
			why = pos("k3s.agents")
		}
		c.ps.add(why, s.Name, field+"joinAddress",
			"is required when a site has more than one server or any agent (servers %d, agents %d): the URL of the first server, https://HOST:6443, that the other nodes join", t.Servers, t.Agents)
	}
}

// from describes where a merged value was set, for messages.
func (c *checker) from(s *Site, key, def string) string {
	o, ok := s.Origins[key]
	if !ok {
		return def
	}
	if o.Line > 0 {
		return fmt.Sprintf("%s at %s:%d", o.Layer, o.File, o.Line)
	}
	return o.Layer
}
