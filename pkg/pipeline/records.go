package pipeline

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"

	"github.com/fleetgen/fleetgen/pkg/gitops"
	"github.com/fleetgen/fleetgen/pkg/index"
	"github.com/fleetgen/fleetgen/pkg/policy"
	"github.com/fleetgen/fleetgen/pkg/verify"
)

// The index (pkg/index) is a storage format that knows none of the checks'
// types: these convert between a verification result, a wiring summary or
// a build's accesses and the index's records.

// targetDigestOf a verification target is the digest of everything of it
// the checks read, besides the file system.
func targetDigestOf(t verify.Target) string {
	b, err := json.Marshal(struct {
		Site, Dir, ConfigMapName string
		Config                   map[string]string
		Facts                    *policy.Facts
		Waivers                  []policy.Waiver
	}{t.Site, t.Dir, t.ConfigMapName, t.Config, t.Facts, t.Waivers})
	if err != nil {
		return "!" + err.Error()
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// siteRecord is the index record of a result that passed, without its
// digests and units: the result's details encoded with gob (nil when
// there are none).
func siteRecord(r *verify.Result) (index.Site, error) {
	s := index.Site{Name: r.Site}
	var err error
	if s.Skipped, err = gobOf(len(r.Skipped) == 0, r.Skipped); err != nil {
		return index.Site{}, err
	}
	if s.Findings, err = gobOf(len(r.Findings) == 0, r.Findings); err != nil {
		return index.Site{}, err
	}
	return s, nil
}

func gobOf(empty bool, v any) ([]byte, error) {
	if empty {
		return nil, nil
	}
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// resultOf is the verification result a record stands for; ok is false
// when its details do not decode (the record is then not used).
func resultOf(s *index.Site) (r verify.Result, ok bool) {
	r = verify.Result{Site: s.Name, Dir: s.Dir}
	if len(s.Skipped) > 0 && gob.NewDecoder(bytes.NewReader(s.Skipped)).Decode(&r.Skipped) != nil {
		return verify.Result{}, false
	}
	if len(s.Findings) > 0 && gob.NewDecoder(bytes.NewReader(s.Findings)).Decode(&r.Findings) != nil {
		return verify.Result{}, false
	}
	return r, true
}

// wiringRefs is the index's form of a wiring summary.
func wiringRefs(sum gitops.Summary) []index.Ref {
	if len(sum.Refs) == 0 {
		return nil
	}
	refs := make([]index.Ref, len(sum.Refs))
	for i, r := range sum.Refs {
		refs[i] = index.Ref{Kind: byte(r.Kind), Doc: r.Doc, Path: r.Path, Gen: r.Gen, Elem: r.Elem, Site: r.Site, Account: r.Account}
	}
	return refs
}

// wiringSummary is the wiring summary an index's references stand for.
func wiringSummary(refs []index.Ref) gitops.Summary {
	if len(refs) == 0 {
		return gitops.Summary{}
	}
	sum := gitops.Summary{Refs: make([]gitops.Ref, len(refs))}
	for i, r := range refs {
		sum.Refs[i] = gitops.Ref{Kind: gitops.RefKind(r.Kind), Doc: r.Doc, Path: r.Path, Gen: r.Gen, Elem: r.Elem, Site: r.Site, Account: r.Account}
	}
	return sum
}

// accessesOf is the index's form of a build's accesses.
func accessesOf(accesses []verify.Access) []index.Access {
	out := make([]index.Access, len(accesses))
	for i, a := range accesses {
		out[i] = index.Access{Op: a.Op, Path: a.Path}
	}
	return out
}
