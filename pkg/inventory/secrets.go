package inventory

import (
	"strings"

	"github.com/fleetgen/fleetgen/pkg/secretlike"
)

// secretConfig rejects a config entry that looks like a secret: its key
// names one (PASSWORD, TOKEN, SECRET, APIKEY, PRIVATE_KEY, CREDENTIAL, ...)
// or its value holds key material (a PEM private key, an access key id).
// Config lands in a ConfigMap and in Git in plain text. The value is never
// quoted in the message. The matcher is package secretlike's, the same as
// the config-secrets policy's.
func (c *checker) secretConfig(m *entryMeta, path, site, field, layerName, key, value string) {
	const where = "config is written to Git and a ConfigMap in plain text; keep secrets out of the inventory and put them, SOPS-encrypted, under overlays/<site>/secrets/ (see docs/gitops.md)"
	if w := secretlike.Key(key); w != "" {
		c.ps.add(m.keyAt(path), site, field, "key %s in %s looks like a secret (contains %s): %s", quote(key), layerName, strings.ToLower(w), where)
		return
	}
	if what := secretlike.Value(value); what != "" {
		c.ps.add(m.at(path), site, field, "the value of %s in %s holds %s (value not shown): %s", quote(key), layerName, what, where)
	}
}
