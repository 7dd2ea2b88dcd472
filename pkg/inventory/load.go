package inventory

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// Limits on hostile input. See the package documentation.
const (
	// maxFileSize is the largest inventory read, in bytes (64 MiB).
	maxFileSize = 64 << 20
	// maxDepth is the deepest nesting of YAML mappings and lists accepted.
	maxDepth = 64
)

// stdinName is the name of standard input in messages.
const stdinName = "<stdin>"

// Load reads and validates an inventory from r; name is used in messages.
// Validation problems are returned as *ErrorList; failures to read r are
// returned as other errors.
func Load(name string, r io.Reader) (*Inventory, error) {
	return load(name, r, maxFileSize, ResolveOptions{})
}

func load(name string, r io.Reader, limit int64, opts ResolveOptions) (*Inventory, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading inventory %s: %w", name, err)
	}
	if int64(len(data)) > limit {
		return nil, tooLarge(name, limit)
	}
	inv, _, err := parse(name, data, opts)
	return inv, err
}

func tooLarge(name string, limit int64) error {
	size := strconv.FormatInt(limit, 10) + " bytes"
	if limit%(1<<20) == 0 {
		size = strconv.FormatInt(limit>>20, 10) + " MiB"
	}
	return &ErrorList{Problems: []Problem{{
		File: name,
		Msg:  fmt.Sprintf("inventory is larger than %s; refusing to read it", size),
	}}}
}

// parse decodes and validates one inventory document, and returns it with
// its sites merged.
func parse(name string, data []byte, opts ResolveOptions) (*Inventory, *Fleet, error) {
	ps := &problems{file: name}
	inv := decodeDocument(ps, name, data)
	if inv == nil {
		return nil, nil, ps.err()
	}
	c := checker{inv: inv, src: inv.src, ps: ps, policies: opts.Policies, tree: opts.Tree}
	fleet := c.run(opts.Components)
	if err := ps.err(); err != nil {
		return nil, nil, err
	}
	return inv, fleet, nil
}

// decodeDocument parses and decodes one YAML inventory document without
// checking its values, adding problems of shape to ps. It returns nil when
// the document could not be decoded at all.
func decodeDocument(ps *problems, name string, data []byte) *Inventory {
	root := parseYAML(ps, data)
	if root == nil {
		return nil
	}
	checkTree(ps, root)
	src := &sourceMap{paths: map[string]position{}, bad: map[string]bool{}}
	src.defaults = newEntryMeta(position{})
	d := &decoder{ps: ps, src: src}
	inv := d.document(root)
	if inv == nil {
		return nil
	}
	inv.File = name
	inv.src = src
	return inv
}

// parseYAML parses data as exactly one YAML document whose top level is a
// mapping, and returns that mapping, or nil after reporting why not.
func parseYAML(ps *problems, data []byte) (root *yaml.Node) {
	defer func() {
		// The YAML parser reports errors by panicking internally; should
		// any input make it panic in a way it does not recover itself,
		// report invalid input instead of crashing.
		if r := recover(); r != nil {
			ps.add(position{}, "", "", "invalid YAML: the parser failed: %v", r)
			root = nil
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			ps.add(position{}, "", "", "empty inventory: no YAML document found (the file is empty or holds only comments)")
		} else {
			addYAMLError(ps, data, err)
		}
		return nil
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		addYAMLError(ps, data, err)
		return nil
	default:
		ps.add(nodePos(&next), "", "", "more than one YAML document: an inventory is a single document (remove the \"---\" separator)")
		return nil
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		ps.add(nodePos(&doc), "", "", "invalid YAML: expected one document")
		return nil
	}
	top := doc.Content[0]
	switch {
	case isNull(top) && top.Value == "" && top.Style&yaml.TaggedStyle == 0:
		ps.add(nodePos(top), "", "", "empty inventory: the document has no content")
		return nil
	case top.Kind != yaml.MappingNode:
		ps.add(nodePos(top), "", "", "the top level must be a mapping with apiVersion, kind, fleet and sites, got %s", describe(top))
		return nil
	}
	return top
}

// checkTree walks the whole node tree once, before decoding, and reports
// nesting deeper than maxDepth, anchors and aliases (each kind once, at its
// first occurrence, with a count). Aliases are never followed, so a
// document built to expand exponentially (a "billion laughs") costs no
// more than its size.
func checkTree(ps *problems, root *yaml.Node) {
	type item struct {
		n     *yaml.Node
		depth int
	}
	var firstAnchor, firstAlias *yaml.Node
	anchors, aliases := 0, 0
	tooDeep := false
	stack := []item{{root, 1}}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n := it.n
		if n.Anchor != "" {
			if anchors == 0 {
				firstAnchor = n
			}
			anchors++
		}
		if n.Kind == yaml.AliasNode {
			if aliases == 0 {
				firstAlias = n
			}
			aliases++
			continue
		}
		if n.Kind != yaml.MappingNode && n.Kind != yaml.SequenceNode {
			continue
		}
		if it.depth > maxDepth {
			if !tooDeep {
				ps.add(nodePos(n), "", "", "nesting is deeper than %d levels of mappings and lists", maxDepth)
				tooDeep = true
			}
			continue
		}
		for i := len(n.Content) - 1; i >= 0; i-- {
			stack = append(stack, item{n.Content[i], it.depth + 1})
		}
	}
	const hint = "write values out, or share them through defaults and groups"
	if firstAnchor != nil {
		ps.add(nodePos(firstAnchor), "", "", "YAML anchors are not supported (found &%s%s): %s", firstAnchor.Anchor, more(anchors), hint)
	}
	if firstAlias != nil {
		ps.add(nodePos(firstAlias), "", "", "YAML aliases are not supported (found *%s%s): %s", firstAlias.Value, more(aliases), hint)
	}
}

// more renders how many further occurrences there are, if any.
func more(n int) string {
	if n <= 1 {
		return ""
	}
	return fmt.Sprintf(" and %d more", n-1)
}
