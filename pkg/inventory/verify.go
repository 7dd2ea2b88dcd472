package inventory

import (
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Verify is the gitops.verify block: sites apply only changes signed by
// the fleet's keys. Which fields apply depends on the engine
// (docs/gitops.md, "Signed changes"):
//
//   - flux: every GitRepository verifies the signature of the commit it
//     checks out against the public keys in the Secret PublicKeysSecret
//     (required); airgapped sites' OCIRepository objects verify the
//     artifact's cosign signature against the key in CosignKeySecret
//     (required when the fleet has an airgapped site). KeyIDs are
//     optional: Flux trusts every key of the Secret, and the IDs are
//     recorded on the GitRepository for the people who fill the Secret.
//   - argocd: the AppProjects accept only commits signed by one of KeyIDs
//     (required), keys Argo CD holds in its own GnuPG keyring; Argo CD
//     reads no Secret for this, so the two secret names are bad input.
type Verify struct {
	// KeyIDs are the IDs of the trusted signing keys: 16 or 40
	// hexadecimal digits (long key ID or fingerprint), written in
	// uppercase in the wiring.
	KeyIDs []string `json:"keyIDs,omitempty"`
	// PublicKeysSecret is the Secret, in flux-system on each site, holding
	// the trusted public keys (Flux).
	PublicKeysSecret string `json:"publicKeysSecret,omitempty"`
	// CosignKeySecret is the Secret, in flux-system on each airgapped
	// site, holding the cosign public key of the OCI artifacts (Flux).
	CosignKeySecret string `json:"cosignKeySecret,omitempty"`
}

var verifyFields = []string{"keyIDs", "publicKeysSecret", "cosignKeySecret"}

// verify decodes gitops.verify into g.Verify.
func (d *decoder) verify(v *yaml.Node, g *GitOps) {
	const field = "gitops.verify"
	d.src.paths[field] = nodePos(v)
	ok, present := d.mapping(v, field, "a mapping with keyIDs, publicKeysSecret and cosignKeySecret")
	if !ok {
		d.src.bad[field] = true
		return
	}
	if !present || len(v.Content) == 0 {
		d.fail(v, field, "is empty: give keyIDs (Argo CD) or publicKeysSecret (Flux), or remove gitops.verify")
		d.src.bad[field] = true
		return
	}
	out := &Verify{}
	g.Verify = out
	for _, e := range d.entries(v, field) {
		f := field + "." + e.key.Value
		switch e.key.Value {
		case "publicKeysSecret", "cosignKeySecret":
			d.src.paths[f] = nodePos(e.val)
			s, ok := d.text(e.val, f, "a string (the name of a Secret)")
			if !ok {
				d.src.bad[f] = true
			}
			if e.key.Value == "publicKeysSecret" {
				out.PublicKeysSecret = s
			} else {
				out.CosignKeySecret = s
			}
		case "keyIDs":
			d.src.paths[f] = nodePos(e.val)
			ok, present := d.sequence(e.val, f, "a list of key IDs (16 or 40 hexadecimal digits)")
			if !ok {
				d.src.bad[f] = true
			}
			if !ok || !present {
				continue
			}
			out.KeyIDs = make([]string, 0, len(e.val.Content))
			for i, item := range e.val.Content {
				p := index(f, i)
				d.src.paths[p] = nodePos(item)
				s, ok := d.text(item, p, "a string")
				if !ok {
					d.src.bad[p] = true
				}
				out.KeyIDs = append(out.KeyIDs, s)
			}
		default:
			d.unknownField(e.key, field, "verify", verifyFields)
		}
	}
}

var keyIDRE = regexp.MustCompile(`^(?:[0-9A-Fa-f]{16}|[0-9A-Fa-f]{40})$`)

// checkKeyID accepts an OpenPGP long key ID (16 hexadecimal digits) or
// fingerprint (40). It returns why not, or "".
func checkKeyID(s string) string {
	if keyIDRE.MatchString(s) {
		return ""
	}
	hint := ""
	switch {
	case strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X"):
		hint = " without the 0x prefix"
	case strings.ContainsAny(s, " :"):
		hint = " without spaces or colons"
	case len(s) == 8:
		hint = "; short (8-digit) key IDs collide easily and are not accepted"
	}
	return "must be a key ID of 16 or 40 hexadecimal digits (as printed by gpg --list-keys --keyid-format long)" + hint
}

// checkVerify validates gitops.verify for the engine.
func (c *checker) checkVerify(engine string) {
	v := c.inv.GitOps.Verify
	if v == nil || c.src.isBad("gitops.verify") {
		return
	}
	at := func(f string) position { return c.src.at(f) }
	ok := func(f string) bool { return !c.src.isBad(f) }
	const field = "gitops.verify"
	switch engine {
	case EngineNone:
		c.ps.add(at(field), "", field, "is set but gitops.engine is %q: no wiring is generated, so nothing would check signatures; set gitops.engine to flux or argocd, or remove gitops.verify", engine)
		return
	case EngineArgoCD:
		if len(v.KeyIDs) == 0 && ok(field+".keyIDs") {
			c.ps.add(at(field), "", field+".keyIDs", "is required when gitops.engine is \"argocd\": the AppProjects accept only commits signed by these keys (import them with argocd gpg add)")
		}
		for _, f := range []struct{ name, value string }{{"publicKeysSecret", v.PublicKeysSecret}, {"cosignKeySecret", v.CosignKeySecret}} {
			if f.value != "" {
				c.ps.add(at(field+"."+f.name), "", field+"."+f.name, "cannot be applied by Argo CD: it verifies commits against the GnuPG keys in its own keyring (argocd gpg add), not a Secret, and pulls no OCI artifacts; remove it")
			}
		}
	case EngineFlux:
		if v.PublicKeysSecret == "" && ok(field+".publicKeysSecret") {
			c.ps.add(at(field), "", field+".publicKeysSecret", "is required when gitops.engine is \"flux\": the name of the Secret in flux-system holding the public keys commits are verified against")
		}
	}
	for _, f := range []struct{ name, value string }{{"publicKeysSecret", v.PublicKeysSecret}, {"cosignKeySecret", v.CosignKeySecret}} {
		if f.value == "" || !ok(field+"."+f.name) {
			continue
		}
		if msg := dns1123Subdomain(f.value); msg != "" {
			c.ps.add(at(field+"."+f.name), "", field+"."+f.name, "invalid value %s: a Secret name %s", quote(f.value), msg)
		}
	}
	seen := map[string]int{}
	for i, id := range v.KeyIDs {
		f := index(field+".keyIDs", i)
		if !ok(f) {
			continue
		}
		if msg := checkKeyID(id); msg != "" {
			c.ps.add(at(f), "", f, "invalid value %s: %s", quote(id), msg)
			continue
		}
		up := strings.ToUpper(id)
		if j, dup := seen[up]; dup {
			c.ps.add(at(f), "", f, "key %s is listed twice (first as keyIDs[%d])", quote(id), j)
			continue
		}
		seen[up] = i
	}
}

// verifyFleet checks what gitops.verify needs from the sites: with Flux,
// airgapped sites pull OCI artifacts, whose signatures need the cosign key.
func (c *checker) verifyFleet(f *Fleet) {
	v := c.inv.GitOps.Verify
	if v == nil || c.inv.GitOps.Engine != EngineFlux || v.CosignKeySecret != "" || c.src.isBad("gitops.verify") || c.src.isBad("gitops.verify.cosignKeySecret") {
		return
	}
	for i := range f.Sites {
		s := &f.Sites[i]
		if s.Network != NetworkAirgapped {
			continue
		}
		c.ps.add(c.src.at("gitops.verify"), s.Name, "gitops.verify.cosignKeySecret",
			"is required: site %q is airgapped and pulls the tree as an OCI artifact, whose cosign signature Flux verifies against the public key in this Secret", s.Name)
		return
	}
}

// dns1123Subdomain returns why s is not a DNS-1123 subdomain (the rule
// for Secret names), or "".
func dns1123Subdomain(s string) string {
	if len(s) > 253 {
		return "must be at most 253 characters"
	}
	if !dns1123SubdomainRE.MatchString(s) {
		return "must be a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', starting and ending with a letter or digit)"
	}
	return ""
}

var dns1123SubdomainRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
