package secretlike

import (
	"regexp"
	"strings"
)

// keyWords are the words that make a key look like a secret, compared after
// upper-casing and removing '-', '_' and '.' (so API_KEY, api-key and apiKey
// all read APIKEY).
var keyWords = [...]string{"PASSWORD", "PASSWD", "SECRET", "TOKEN", "APIKEY", "PRIVATEKEY", "CREDENTIAL"}

// referenceSuffixes mark keys that name where a secret is rather than hold
// it (DB_PASSWORD_FILE, tokenPath, secretName, ...).
var referenceSuffixes = [...]string{"FILE", "PATH", "NAME", "REF", "DIR"}

var (
	pemPrivateKey = regexp.MustCompile(`-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----`)
	awsAccessKey  = regexp.MustCompile(`\b(AKIA|ASIA)[A-Z0-9]{16}\b`)
)

// separators are dropped before a key is matched. A Replacer is safe for
// concurrent use and costly to build, so there is one.
var separators = strings.NewReplacer("-", "", "_", "", ".", "")

// Key reports the word that makes key look like a secret ("PASSWORD",
// "TOKEN", ...), or "" when it does not. Keys ending in FILE, PATH, NAME,
// REF or DIR name where a secret is kept and do not count.
func Key(key string) string {
	norm := strings.ToUpper(separators.Replace(key))
	for _, s := range referenceSuffixes {
		if strings.HasSuffix(norm, s) {
			return ""
		}
	}
	for _, w := range keyWords {
		if strings.Contains(norm, w) {
			return w
		}
	}
	return ""
}

// Value reports what secret material v holds ("a PEM private key", "an AWS
// access key id"), or "". It never returns any part of v.
func Value(v string) string {
	switch {
	case pemPrivateKey.MatchString(v):
		return "a PEM private key"
	case awsAccessKey.MatchString(v):
		return "an AWS access key id"
	}
	return ""
}
