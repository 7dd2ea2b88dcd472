package policy

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/fleetgen/fleetgen/pkg/secretlike"
)

// checkNoSecrets forbids v1 Secrets that carry data in the tree, unless the
// object is SOPS-encrypted (it has a top-level sops block).
func checkNoSecrets(e *env) []Finding {
	var out []Finding
	for _, o := range e.objs {
		if str(o, "kind") != "Secret" || str(o, "apiVersion") != "v1" {
			continue
		}
		if sops, _ := o["sops"].(map[string]any); len(sops) > 0 {
			continue
		}
		for _, field := range []string{"data", "stringData"} {
			if n := len(mapAt(o, field)); n > 0 {
				out = append(out, Finding{Object: objectID(o), Field: field,
					Message: fmt.Sprintf("%d key(s) in plain text in the fleet tree (base64 is not encryption): use a SealedSecret, an ExternalSecret or a SOPS-encrypted file", n)})
			}
		}
	}
	return out
}

// secretLooking reports the word that makes key look like a secret, or "".
// The inventory loader uses the same matcher (package secretlike), so a key
// it accepts is never flagged here and the other way round.
func secretLooking(key string) string { return secretlike.Key(key) }

// valueMatcher returns a function that says what secret material a value
// holds, or "". It never returns the value itself.
func valueMatcher() func(string) string { return secretlike.Value }

// isSiteConfig reports whether a ConfigMap name is name or name-<hash> as
// kustomize's generator writes it.
func isSiteConfig(cm, name string) bool {
	if name == "" {
		return false
	}
	if cm == name {
		return true
	}
	suffix, ok := strings.CutPrefix(cm, name+"-")
	if !ok || len(suffix) != 10 {
		return false
	}
	for _, r := range suffix {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// checkConfigSecrets looks through every ConfigMap for secret-looking keys
// and for values holding private keys or access keys.
func checkConfigSecrets(e *env) []Finding {
	var out []Finding
	secretValue := valueMatcher()
	for _, o := range e.objs {
		if str(o, "kind") != "ConfigMap" || str(o, "apiVersion") != "v1" {
			continue
		}
		id := objectID(o)
		hint := ""
		if isSiteConfig(str(o, "metadata", "name"), e.facts.ConfigMapName) {
			hint = fmt.Sprintf(" (it comes from the inventory's config for site %s)", e.facts.Site)
		}
		for _, field := range []string{"data", "binaryData"} {
			m := mapAt(o, field)
			for _, k := range sortedKeys(m) {
				path := field + "[" + k + "]"
				if w := secretLooking(k); w != "" {
					out = append(out, Finding{Object: id, Field: path,
						Message: fmt.Sprintf("key %q looks like a secret (contains %s): keep secrets out of ConfigMaps%s", k, strings.ToLower(w), hint)})
				}
				s, _ := m[k].(string)
				if field == "binaryData" {
					b, err := base64.StdEncoding.DecodeString(s)
					if err != nil {
						continue
					}
					s = string(b)
				}
				if what := secretValue(s); what != "" {
					out = append(out, Finding{Object: id, Field: path,
						Message: fmt.Sprintf("value of %q holds %s: keep secrets out of ConfigMaps%s", k, what, hint)})
				}
			}
		}
	}
	return out
}
