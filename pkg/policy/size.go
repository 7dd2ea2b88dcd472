package policy

import (
	"encoding/json"
	"fmt"
)

// Size bounds of the fleet tree. docs/gitops.md and docs/policies.md
// explain them.
const (
	// MaxObjectBytes bounds one object, measured as its JSON encoding: what
	// client-side kubectl apply stores in the
	// kubectl.kubernetes.io/last-applied-configuration annotation, which
	// the API server limits (with every other annotation) to 256 KiB.
	MaxObjectBytes = 256 << 10
	// MaxFileBytes bounds one generated file, far below etcd's default
	// 1.5 MiB request limit and small enough to review and merge.
	MaxFileBytes = 1 << 20
)

// FileSize is the id of the bound on generated files. It is checked on
// the rendered tree (pkg/gitops), not on built overlays, and cannot be
// waived: a file over it is a template or inventory that scales with the
// fleet.
const FileSize = "file-size"

// ObjectJSONSize returns the size of o's JSON encoding, as kubectl stores
// it in the last-applied annotation.
func ObjectJSONSize(o any) (int, error) {
	b, err := json.Marshal(o)
	if err != nil {
		return 0, err
	}
	return len(b), nil
}

// ObjectTooBig returns the message of an object-size finding for an
// object of n bytes as JSON, or "" when it is within the bound.
func ObjectTooBig(n int) string {
	if n <= MaxObjectBytes {
		return ""
	}
	return fmt.Sprintf("%d bytes as JSON, over the %d-byte (256 KiB) bound: client-side kubectl apply cannot store it in the last-applied annotation, and an object this size usually holds one entry per site", n, MaxObjectBytes)
}

// FileTooBig returns the message of a file-size finding for a file of n
// bytes, or "" when it is within the bound.
func FileTooBig(n int) string {
	if n <= MaxFileBytes {
		return ""
	}
	return fmt.Sprintf("%d bytes, over the %d-byte (1 MiB) bound of a generated file", n, MaxFileBytes)
}

// checkObjectSize bounds every built object's JSON size.
func checkObjectSize(e *env) []Finding {
	var out []Finding
	for _, o := range e.objs {
		n, err := ObjectJSONSize(o)
		if err != nil {
			out = append(out, Finding{Object: objectID(o), Message: fmt.Sprintf("cannot be encoded as JSON: %v", err)})
			continue
		}
		if msg := ObjectTooBig(n); msg != "" {
			out = append(out, Finding{Object: objectID(o), Message: msg})
		}
	}
	return out
}
