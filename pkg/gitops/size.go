package gitops

import (
	"bytes"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/fleetgen/fleetgen/pkg/policy"
)

// sopsConfig is the SOPS configuration at the tree root.
const sopsConfig = ".sops.yaml"

// CheckSizes enforces the size bounds on a whole rendered tree, fleet-level
// files included (which are not built as overlays, so the object-size
// policy of pkg/policy never sees them): every file at most
// policy.MaxFileBytes (policy file-size) and every object of every YAML
// file at most policy.MaxObjectBytes as JSON (policy object-size). A file
// whose content is nil is known by hash from an earlier check and is
// skipped. The repository-root .sops.yaml is exempt (it holds one creation
// rule per site with an age key, the documented exception of
// docs/gitops.md). Errors start with the policy id and name the file (and the
// document and object); they are sorted.
func CheckSizes(files map[string][]byte) []error {
	var errs []error
	for p, data := range files {
		if data == nil || SizeExempt(p) {
			continue
		}
		if msg := policy.FileTooBig(len(data)); msg != "" {
			errs = append(errs, fmt.Errorf("%s: %s: %s", policy.FileSize, p, msg))
		}
		errs = append(errs, ObjectSizes(p, data)...)
	}
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	return errs
}

// SizeExempt reports whether the file at p (slash-separated, relative to
// the tree root) is exempt from the size bounds: the root .sops.yaml.
func SizeExempt(p string) bool { return p == sopsConfig }

// ObjectSizes checks every object of the file at p against
// policy.MaxObjectBytes as JSON (policy object-size); files not named
// .yaml or .yml, and YAML that does not decode, give no error.
func ObjectSizes(p string, data []byte) []error {
	if ext := path.Ext(p); ext != ".yaml" && ext != ".yml" {
		return nil
	}
	// JSON is at most a few times longer than the YAML it comes from
	// (quotes, braces, "null" for empty values, \u003c for '<'), so a file
	// under an eighth of the bound without aliases ('*') cannot hold an
	// object over it and is not decoded.
	if len(data) <= policy.MaxObjectBytes/8 && !bytes.ContainsRune(data, '*') {
		return nil
	}
	docs, err := policy.DecodeObjects(data)
	if err != nil {
		// Not ours to report: the wiring check and the overlay builds
		// report broken YAML with more context.
		return nil
	}
	var errs []error
	for i, d := range docs {
		n, err := policy.ObjectJSONSize(d)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %s (document %d): cannot be encoded as JSON: %w", policy.ObjectSize, p, i+1, err))
			continue
		}
		if msg := policy.ObjectTooBig(n); msg != "" {
			o := object{file: p, doc: i + 1, obj: d}
			errs = append(errs, fmt.Errorf("%s: %s: %s: %s", policy.ObjectSize, o.where(), strings.TrimSpace(o.describe()), msg))
		}
	}
	return errs
}
