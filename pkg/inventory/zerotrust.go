package inventory

import (
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/fleetgen/fleetgen/pkg/secretlike"
)

// Components of the template set whose inventory fields this package
// checks (docs/components.md).
const (
	// ComponentMTLS gives the application a per-site workload identity
	// issued on the site by cert-manager; it needs mtls.endpoint and
	// mtls.caSecret.
	ComponentMTLS = "mtls"
	// ComponentWasm runs the application as WebAssembly through the WASM
	// shim K3s detects on the node; it needs the acknowledgement
	// experimental: [{feature: wasm, reason: ...}].
	ComponentWasm = "wasm"
)

// ExperimentalFeatures are the features a layer may acknowledge in
// experimental: components the template set marks experimental, which a
// site gets only together with the acknowledgement.
var ExperimentalFeatures = []string{ComponentWasm}

// MTLS is the mtls block of a layer, and of a merged site: what the mtls
// component needs. "" means not set.
type MTLS struct {
	// Endpoint is the central service the application talks to with its
	// workload certificate: an https URL with an explicit port. The
	// application gets it as the config value MTLS_ENDPOINT, and its
	// NetworkPolicy opens egress to that port only.
	Endpoint string `json:"endpoint,omitempty"`
	// CASecret is the name of the Secret, in the application's namespace
	// on the site, holding the site's intermediate CA (tls.crt, tls.key),
	// which the user provides SOPS-encrypted under overlays/<site>/secrets/.
	// The key itself is never in the inventory.
	CASecret string `json:"caSecret,omitempty"`
}

// IsZero reports whether no field is set; it makes omitzero leave an
// unset block out of JSON.
func (m MTLS) IsZero() bool { return m == MTLS{} }

// Experimental acknowledges the risk of an experimental component: a site
// gets the component only when one of its layers lists it here, with a
// reason. Merged by feature, the last layer's reason winning.
type Experimental struct {
	Feature string `json:"feature"`
	Reason  string `json:"reason"`
}

var (
	mtlsFields         = []string{"endpoint", "caSecret"}
	experimentalFields = []string{"feature", "reason"}
)

// zeroTrustField decodes the mtls and experimental fields of a layer. It
// returns false when the key is not one of them.
func (d *decoder) zeroTrustField(l *Layer, e entry, field string) bool {
	k, v := e.key, e.val
	switch k.Value {
	case "mtls":
		d.cur.val["mtls"] = nodePos(v)
		ok, present := d.mapping(v, field, "a mapping with endpoint and caSecret")
		if !ok {
			d.cur.bad["mtls"] = true
		}
		if !ok || !present {
			return true
		}
		for _, e := range d.entries(v, field) {
			name := "mtls." + e.key.Value
			switch e.key.Value {
			case "endpoint", "caSecret":
				d.cur.val[name] = nodePos(e.val)
				s, ok := d.text(e.val, join(field, e.key.Value), "a string")
				if !ok {
					d.cur.bad[name] = true
				}
				if e.key.Value == "endpoint" {
					l.MTLS.Endpoint = s
				} else {
					l.MTLS.CASecret = s
				}
			default:
				d.unknownField(e.key, field, "mtls", mtlsFields)
			}
		}
	case "experimental":
		d.cur.val["experimental"] = nodePos(v)
		l.Experimental = d.experimental(v, field)
	default:
		return false
	}
	return true
}

// experimental decodes a list of {feature, reason} mappings, keeping the
// positions "experimental[i]", "experimental[i].feature" and
// "experimental[i].reason".
func (d *decoder) experimental(n *yaml.Node, field string) []Experimental {
	ps := d.pairs(n, field, "experimental", "acknowledgement", "{feature: ..., reason: ...}", experimentalFields)
	if ps == nil {
		return nil
	}
	out := make([]Experimental, len(ps))
	for i, p := range ps {
		out[i] = Experimental{Feature: p[0], Reason: p[1]}
	}
	return out
}

// zeroTrustLayer checks the mtls and experimental values of one layer.
func (c *checker) zeroTrustLayer(l *Layer, m *entryMeta, field, site string) {
	if e := l.MTLS.Endpoint; e != "" && !m.bad["mtls.endpoint"] {
		if msg := checkEndpoint(e); msg != "" {
			c.ps.add(m.at("mtls.endpoint"), site, field+".mtls.endpoint", "invalid value %s: %s", quote(redactURL(e)), msg)
		}
	}
	if s := l.MTLS.CASecret; s != "" && !m.bad["mtls.caSecret"] {
		if what := keyMaterial(s); what != "" {
			c.ps.add(m.at("mtls.caSecret"), site, field+".mtls.caSecret", "holds %s (value not shown): keys never go in the inventory; put the site's intermediate CA in a SOPS-encrypted Secret under overlays/<site>/secrets/ and give its name here (see docs/components.md)", what)
		} else if msg := dns1123Subdomain(s); msg != "" {
			c.ps.add(m.at("mtls.caSecret"), site, field+".mtls.caSecret", "invalid value %s: the name of a Secret %s", quote(s), msg)
		}
	}
	seen := map[string]int{}
	for i, x := range l.Experimental {
		path := index("experimental", i)
		if m.bad[path] {
			continue
		}
		f := field + "." + path
		switch {
		case x.Feature == "":
			c.ps.add(m.at(path), site, f+".feature", "is required: name the experimental component whose risk is accepted (%s)", strings.Join(ExperimentalFeatures, ", "))
		case !slices.Contains(ExperimentalFeatures, x.Feature):
			c.ps.add(m.at(path+".feature"), site, f+".feature", "unknown experimental feature %s%s; %s", quote(x.Feature), didYouMean(x.Feature, ExperimentalFeatures), listOf("experimental components", ExperimentalFeatures))
		default:
			if first, dup := seen[x.Feature]; dup {
				c.ps.add(m.at(path+".feature"), site, f+".feature", "feature %s is acknowledged twice in this layer (first as experimental[%d])", quote(x.Feature), first)
			} else {
				seen[x.Feature] = i
			}
		}
		if strings.TrimSpace(x.Reason) == "" {
			c.ps.add(m.at(path+".reason"), site, f+".reason", "is required: say why the risk of this experimental component is accepted")
		}
	}
}

// mergeZeroTrust merges one layer's mtls and experimental fields into s:
// the mtls fields each on their own, the last layer that sets one
// winning; acknowledgements by feature, the last layer's reason winning.
func mergeZeroTrust(s *Site, l *Layer, scalar func(dst *string, path, value string), mark func(path, from string)) {
	scalar(&s.MTLS.Endpoint, "mtls.endpoint", l.MTLS.Endpoint)
	scalar(&s.MTLS.CASecret, "mtls.caSecret", l.MTLS.CASecret)
	for j, x := range l.Experimental {
		if x.Feature == "" {
			continue
		}
		k := slices.IndexFunc(s.Experimental, func(y Experimental) bool { return y.Feature == x.Feature })
		if k < 0 {
			k = len(s.Experimental)
			s.Experimental = append(s.Experimental, x)
		}
		s.Experimental[k] = x
		mark(index("experimental", k)+".feature", index("experimental", j)+".feature")
		mark(index("experimental", k)+".reason", index("experimental", j)+".reason")
	}
}

// zeroTrustSite checks what a site's components need once its layers are
// merged: mtls needs its endpoint and CA Secret, and the endpoint may not
// also be set as config; an experimental component needs its
// acknowledgement.
func (c *checker) zeroTrustSite(i int, s *Site) {
	m := c.src.site(i)
	field := index("sites", i)
	comp := func(name string) (position, bool) {
		k := slices.Index(s.Components, name)
		if k < 0 {
			return position{}, false
		}
		return c.originPos(s, index("components", k), m.pos), true
	}
	if pos, on := comp(ComponentMTLS); on {
		for _, f := range []struct{ name, value, hint string }{
			{"endpoint", s.MTLS.Endpoint, "the central service's https URL with its port, such as \"https://ingest.example.com:8443\""},
			{"caSecret", s.MTLS.CASecret, "the name of the Secret holding the site's intermediate CA, SOPS-encrypted under overlays/<site>/secrets/"},
		} {
			if f.value == "" {
				c.ps.add(pos, s.Name, field+".mtls."+f.name, "is not set by the site, its groups or defaults: component mtls needs mtls.%s (%s)", f.name, f.hint)
			}
		}
		// With Argo CD, which cannot decrypt SOPS files, the CA Secret
		// comes from a mechanism that runs on the site (docs/gitops.md,
		// "Secrets with Argo CD").
		// Only a valid Secret name is quoted: never echo key material.
		validName := s.MTLS.CASecret != "" && keyMaterial(s.MTLS.CASecret) == "" && dns1123Subdomain(s.MTLS.CASecret) == ""
		if validName && s.AgeRecipient == "" && c.inv.GitOps.Engine != EngineArgoCD {
			c.ps.add(c.originPos(s, "mtls.caSecret", pos), s.Name, field+".ageRecipient",
				"is not set by the site, its groups or defaults: the CA Secret %s of component mtls is SOPS-encrypted to the site's own age key under overlays/%s/secrets/ (see docs/gitops.md, \"Per-site secrets\")", quote(s.MTLS.CASecret), s.Name)
		}
		if _, set := s.Config[MTLSEndpointKey]; set {
			c.ps.add(c.originPos(s, "config."+MTLSEndpointKey, m.pos), s.Name, field+".config."+MTLSEndpointKey,
				"is set by component mtls from mtls.endpoint: remove it from config (or set mtls.endpoint)")
		}
	}
	if pos, on := comp(ComponentWasm); on && s.Images[WasmImage] == "" {
		c.ps.add(pos, s.Name, field+".images."+WasmImage, "is not set by the site, its groups or defaults: component wasm runs the Spin application of images.%s (an OCI artifact of its own, not the container image of images.app)", WasmImage)
	}
	for _, feature := range ExperimentalFeatures {
		pos, on := comp(feature)
		if !on || slices.ContainsFunc(s.Experimental, func(x Experimental) bool { return x.Feature == feature }) {
			continue
		}
		c.ps.add(pos, s.Name, field+".experimental", "component %s is experimental and not on by accident: the site, one of its groups or defaults must accept the risk with experimental: [{feature: %s, reason: ...}] (see docs/components.md)", quote(feature), feature)
	}
}

// WasmImage is the image name of the Spin application component wasm runs
// instead of the container image "app".
const WasmImage = "app-wasm"

// MTLSEndpointKey is the config value, in the site's ConfigMap, through
// which the mtls component gives the application mtls.endpoint.
const MTLSEndpointKey = "MTLS_ENDPOINT"

// checkEndpoint accepts https://HOST:PORT with an optional path: the
// port must be explicit, since the NetworkPolicy opens exactly it.
func checkEndpoint(s string) string {
	const rule = "must be an https URL with an explicit port, such as \"https://ingest.example.com:8443\""
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.Opaque != "" {
		return rule
	}
	if u.User != nil {
		return "must not carry credentials: the application authenticates with its workload certificate"
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return rule + " (no query or fragment)"
	}
	switch why := checkHostPort(u); why {
	case "":
		return ""
	case "the port is required":
		return rule + " (the port is required: the NetworkPolicy opens egress to exactly that port)"
	default:
		return rule + " (" + why + ")"
	}
}

// Port returns the port of the endpoint, or 0 when it has none; the
// templates open egress to it.
func (m MTLS) Port() int {
	u, err := url.Parse(m.Endpoint)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(u.Port())
	return n
}

// HostIP returns the endpoint's host when it is an IP address, else "":
// egress can then be narrowed to that address as well as the port.
func (m MTLS) HostIP() string {
	u, err := url.Parse(m.Endpoint)
	if err != nil {
		return ""
	}
	if ip := net.ParseIP(u.Hostname()); ip != nil {
		return ip.String()
	}
	return ""
}

// base64Blob matches a long run of base64 (or base64url) text, as an
// encoded key or certificate would be; a Secret name is at most a
// lowercase DNS name.
var base64Blob = regexp.MustCompile(`^[A-Za-z0-9+/_-]{40,}={0,2}$`)

// keyMaterial reports what key material s holds instead of a Secret's
// name ("a PEM block", "a base64-encoded blob"), or "".
func keyMaterial(s string) string {
	switch {
	case secretlike.Value(s) != "":
		return secretlike.Value(s)
	case strings.Contains(s, "-----BEGIN") || strings.Contains(s, "-----END"):
		return "a PEM block"
	case strings.ContainsAny(s, "\r\n"):
		return "several lines"
	case base64Blob.MatchString(strings.TrimSpace(s)) && strings.ContainsAny(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ+/="):
		return "a base64-encoded blob"
	}
	return ""
}
