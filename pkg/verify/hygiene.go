package verify

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxAliasExpansion is how many YAML nodes alias expansion may add to a
// file (or to a YAML document held in a string, such as an inline patch).
// kustomize expands aliases without a limit, so a few hundred bytes can
// cost seconds and gigabytes.
const MaxAliasExpansion = 100_000

// ErrRemote is wrapped by errors for references to remote resources, bases,
// components or files. Builds never touch the network.
var ErrRemote = errors.New("remote references are not allowed")

// ErrAliasBomb is wrapped by errors for YAML whose aliases expand beyond
// MaxAliasExpansion nodes.
var ErrAliasBomb = errors.New("YAML alias expansion exceeds the limit")

// kustomizationNames are the file names kustomize accepts for a
// kustomization, as in konfig.RecognizedKustomizationFileNames.
var kustomizationNames = []string{"kustomization.yaml", "kustomization.yml", "Kustomization"}

func isKustomizationFile(name string) bool {
	b := path.Base(name)
	for _, k := range kustomizationNames {
		if b == k {
			return true
		}
	}
	return false
}

// checkContent checks a file kustomize is about to read: YAML alias
// expansion within budget, and no remote references in the fields
// kustomize loads paths from. name is used in messages only.
func checkContent(name string, data []byte) error {
	yamlName := isKustomizationFile(name) || strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")
	if !yamlName && !bytes.ContainsAny(data, "*") {
		// Not YAML by name, and no alias can occur: nothing to check.
		return nil
	}
	docs, perr := parseDocs(data)
	if perr != nil {
		// Not YAML (or broken YAML): kustomize reports it if it parses
		// the file at all. Generator files may legitimately hold any text.
		return nil
	}
	var errs []error
	for _, doc := range docs {
		if err := checkAliases(doc); err != nil {
			return fmt.Errorf("file %s: %w", name, err)
		}
		// Strings holding YAML (inline patches) are parsed by kustomize
		// later; check their aliases now.
		if err := checkEmbeddedAliases(doc); err != nil {
			return fmt.Errorf("file %s: %w", name, err)
		}
		if isKustomizationFile(name) {
			errs = append(errs, remoteInKustomization(doc)...)
		} else {
			errs = append(errs, remoteInPluginConfig(doc)...)
		}
	}
	if len(errs) > 0 {
		for i, e := range errs {
			errs[i] = fmt.Errorf("file %s: %w", name, e)
		}
		return errors.Join(errs...)
	}
	return nil
}

// parseDocs parses every document of data into nodes. yaml.v3 keeps
// aliases as references while building nodes, so parsing is linear.
func parseDocs(data []byte) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		docs = append(docs, &n)
	}
}

// checkAliases counts the nodes of n with every alias expanded and fails
// when expansion adds more than MaxAliasExpansion nodes. Counts are
// memoised per node, so the walk is linear in the parsed size; an alias
// that refers to its own ancestor is an error too.
func checkAliases(doc *yaml.Node) error {
	literal := 0
	walk(doc, func(*yaml.Node) bool { literal++; return true })
	limit := literal + MaxAliasExpansion

	const inProgress = -1
	memo := map[*yaml.Node]int{}
	var count func(n *yaml.Node) (int, error)
	count = func(n *yaml.Node) (int, error) {
		if n == nil {
			return 0, nil
		}
		if n.Kind == yaml.AliasNode {
			c, err := count(n.Alias)
			return c + 1, err
		}
		if c, ok := memo[n]; ok {
			if c == inProgress {
				return 0, fmt.Errorf("%w: anchor &%s at line %d contains an alias to itself", ErrAliasBomb, n.Anchor, n.Line)
			}
			return c, nil
		}
		memo[n] = inProgress
		total := 1
		for _, c := range n.Content {
			k, err := count(c)
			if err != nil {
				return 0, err
			}
			total += k
			if total > limit {
				return 0, fmt.Errorf("%w: aliases near line %d expand to more than %d extra nodes", ErrAliasBomb, c.Line, MaxAliasExpansion)
			}
		}
		memo[n] = total
		return total, nil
	}
	_, err := count(doc)
	return err
}

// checkEmbeddedAliases applies checkAliases to string scalars that may be
// YAML documents themselves (they contain both an anchor and an alias
// marker), such as inline patches in a kustomization.
func checkEmbeddedAliases(n *yaml.Node) error {
	var err error
	walk(n, func(s *yaml.Node) bool {
		if s.Kind != yaml.ScalarNode || !strings.Contains(s.Value, "&") || !strings.Contains(s.Value, "*") {
			return true
		}
		docs, perr := parseDocs([]byte(s.Value))
		if perr != nil {
			return true
		}
		for _, d := range docs {
			if e := checkAliases(d); e != nil {
				err = fmt.Errorf("string at line %d: %w", s.Line, e)
				return false
			}
		}
		return true
	})
	return err
}

// walk visits n and its descendants (not following aliases) until visit
// returns false.
func walk(n *yaml.Node, visit func(*yaml.Node) bool) bool {
	if n == nil || !visit(n) {
		return false
	}
	for _, c := range n.Content {
		if !walk(c, visit) {
			return false
		}
	}
	return true
}

// get returns the value of key in mapping m, or nil.
func get(m *yaml.Node, key string) *yaml.Node {
	if m == nil {
		return nil
	}
	if m.Kind == yaml.DocumentNode && len(m.Content) == 1 {
		m = m.Content[0]
	}
	if m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Kind == yaml.ScalarNode && m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// pathRef is one string kustomize treats as a path, with its location.
type pathRef struct {
	field string
	node  *yaml.Node
}

func collectStrings(field string, n *yaml.Node, out *[]pathRef) {
	if n == nil {
		return
	}
	switch n.Kind {
	case yaml.ScalarNode:
		*out = append(*out, pathRef{field, n})
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if c.Kind == yaml.ScalarNode {
				*out = append(*out, pathRef{fmt.Sprintf("%s[%d]", field, i), c})
			}
		}
	}
}

func collectItemField(list, key string, n *yaml.Node, out *[]pathRef) {
	if n == nil || n.Kind != yaml.SequenceNode {
		return
	}
	for i, item := range n.Content {
		collectStrings(fmt.Sprintf("%s[%d].%s", list, i, key), get(item, key), out)
	}
}

// generatorFiles collects the file references of a configMapGenerator or
// secretGenerator entry (or a ConfigMapGenerator/SecretGenerator config).
func generatorFiles(prefix string, item *yaml.Node, out *[]pathRef) {
	collectStrings(prefix+"files", get(item, "files"), out)
	collectStrings(prefix+"envs", get(item, "envs"), out)
	collectStrings(prefix+"env", get(item, "env"), out)
}

// remoteInKustomization checks the fields of a kustomization that
// kustomize resolves as files, directories or git repositories.
func remoteInKustomization(doc *yaml.Node) []error {
	var refs []pathRef
	for _, f := range []string{"resources", "bases", "components", "crds", "configurations",
		"generators", "transformers", "validators", "patchesStrategicMerge"} {
		collectStrings(f, get(doc, f), &refs)
	}
	for _, l := range []string{"patches", "patchesJson6902", "replacements"} {
		collectItemField(l, "path", get(doc, l), &refs)
	}
	for _, l := range []string{"configMapGenerator", "secretGenerator"} {
		if g := get(doc, l); g != nil && g.Kind == yaml.SequenceNode {
			for i, item := range g.Content {
				generatorFiles(fmt.Sprintf("%s[%d].", l, i), item, &refs)
			}
		}
	}
	collectStrings("openapi.path", get(get(doc, "openapi"), "path"), &refs)
	return remoteErrors(refs)
}

// remoteInPluginConfig checks a builtin generator or transformer
// configuration (a file listed under generators: or transformers:), whose
// path fields kustomize loads too. Other objects are left alone: their
// fields are data.
func remoteInPluginConfig(doc *yaml.Node) []error {
	kind := get(doc, "kind")
	if kind == nil || kind.Kind != yaml.ScalarNode {
		return nil
	}
	k := kind.Value
	if !strings.HasSuffix(k, "Transformer") && !strings.HasSuffix(k, "Generator") && !strings.HasSuffix(k, "Validator") {
		return nil
	}
	var refs []pathRef
	collectStrings("path", get(doc, "path"), &refs)
	collectStrings("paths", get(doc, "paths"), &refs)
	collectItemField("replacements", "path", get(doc, "replacements"), &refs)
	generatorFiles("", doc, &refs)
	return remoteErrors(refs)
}

func remoteErrors(refs []pathRef) []error {
	var errs []error
	for _, r := range refs {
		v := r.node.Value
		if strings.HasSuffix(r.field, "files") || strings.Contains(r.field, "files[") {
			// files entries may be "key=path".
			if _, p, ok := strings.Cut(v, "="); ok {
				v = p
			}
		}
		if IsRemoteRef(v) {
			errs = append(errs, fmt.Errorf("line %d: %s %q: %w (the tree must be self-contained)", r.node.Line, r.field, r.node.Value, ErrRemote))
		}
	}
	return errs
}

var scpUser = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]*@`)

// IsRemoteRef reports whether kustomize would treat ref as a remote
// resource: an URL (kustomize fetches http and https files, and clones
// http, https, ssh and file URLs with git), a "git::" reference, an
// scp-like "user@host:path", or a "github.com/org/repo" shorthand. It errs
// on the side of remote: such a string is never a sensible local path.
func IsRemoteRef(ref string) bool {
	s := strings.TrimSpace(ref)
	if first, _, _ := strings.Cut(s, "\n"); strings.Contains(first, "://") {
		return true
	}
	lower := strings.ToLower(s)
	if strings.HasPrefix(lower, "git::") {
		return true
	}
	if scpUser.MatchString(s) {
		return true
	}
	return strings.HasPrefix(lower, "github.com/") || strings.HasPrefix(lower, "github.com:")
}
