package inventory

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// LoadFiles reads the inventory from several files and merges them in
// order: the first file is a YAML inventory with apiVersion, kind and fleet
// (and optionally defaults, groups and sites); each later file adds groups
// and sites. A later YAML file carries apiVersion and kind too, and may
// hold only groups and sites. A file whose name ends in .csv holds sites,
// one a row, under a header row (see the package documentation). "-" reads
// stdin, at most once.
//
// The merged inventory is validated as one: a site or group defined in two
// files is a duplicate, and every problem names its own file, line and
// column.
func LoadFiles(paths []string, stdin io.Reader) (*Inventory, error) {
	return LoadFilesWith(paths, stdin, ResolveOptions{})
}

// LoadFilesWith is LoadFiles that also checks what Resolve checks against
// opts (the template set's components, the known policies), so that every
// problem of the inventory is reported in one go.
func LoadFilesWith(paths []string, stdin io.Reader, opts ResolveOptions) (*Inventory, error) {
	inputs, err := ReadInputs(paths, stdin)
	if err != nil {
		return nil, err
	}
	return LoadInputsWith(inputs, opts)
}

// Input is one inventory file as read, before it is decoded.
type Input struct {
	Path string // as given; "-" is standard input
	Name string // the name used in messages
	Data []byte
}

// ReadInputs reads the inventory files of LoadFiles without decoding them,
// each within the size limit; "-" reads stdin (os.Stdin when nil), at most
// once. Callers that need the exact bytes (to fingerprint them) read with
// ReadInputs and decode with LoadInputsWith. A first file that is CSV is
// refused before anything is read.
func ReadInputs(paths []string, stdin io.Reader) ([]Input, error) {
	if len(paths) == 0 {
		return nil, errors.New("reading inventory: no inventory file given")
	}
	if isCSV(paths[0]) {
		return nil, csvFirst(paths[0])
	}
	if stdin == nil {
		stdin = os.Stdin
	}
	stdinUsed := false
	inputs := make([]Input, len(paths))
	for i, p := range paths {
		if p == "-" {
			if stdinUsed {
				return nil, errors.New("reading inventory: standard input (-) given more than once")
			}
			stdinUsed = true
		}
		name, data, err := readInput(p, stdin)
		if err != nil {
			return nil, err
		}
		inputs[i] = Input{Path: p, Name: name, Data: data}
	}
	return inputs, nil
}

// LoadInputsWith decodes, merges and validates inventory files read by
// ReadInputs, as LoadFilesWith does.
func LoadInputsWith(inputs []Input, opts ResolveOptions) (*Inventory, error) {
	inv, _, err := ResolveInputs(inputs, opts)
	return inv, err
}

// ResolveInputs is LoadInputsWith followed by Resolve with the same
// options: it checks the inventory and merges its sites' layers once, and
// returns both the inventory and the merged fleet.
func ResolveInputs(inputs []Input, opts ResolveOptions) (*Inventory, *Fleet, error) {
	if len(inputs) == 0 {
		return nil, nil, errors.New("reading inventory: no inventory file given")
	}
	if isCSV(inputs[0].Path) {
		return nil, nil, csvFirst(inputs[0].Path)
	}
	if len(inputs) == 1 {
		return parse(inputs[0].Name, inputs[0].Data, opts)
	}
	paths := make([]string, len(inputs))
	names := make([]string, len(inputs))
	datas := make([][]byte, len(inputs))
	for i, in := range inputs {
		paths[i], names[i], datas[i] = in.Path, in.Name, in.Data
	}

	ps := &problems{file: names[0], order: map[string]int{}}
	for i, n := range names {
		if _, ok := ps.order[n]; !ok {
			ps.order[n] = i
		}
	}
	inv := decodeDocument(ps, names[0], datas[0])
	if inv == nil {
		return nil, nil, ps.err()
	}
	src := inv.src
	src.files = names
	src.defaults.setFile(names[0])
	for i := range src.groups {
		src.groups[i].setFile(names[0])
	}
	for i := range src.sites {
		src.sites[i].setFile(names[0])
	}

	for i := 1; i < len(names); i++ {
		sub := &problems{file: names[i]}
		var part *Inventory
		if isCSV(paths[i]) {
			part = decodeCSV(sub, names[i], datas[i], len(inv.Sites))
		} else {
			part = decodeDocument(sub, names[i], datas[i])
			if part != nil {
				for _, field := range []string{"fleet", "defaults", "gitops"} {
					if p, ok := part.src.paths[field]; ok {
						sub.add(p, "", field, "only the first inventory file (%s) may set %s; later files add groups and sites", names[0], field)
					}
				}
			}
		}
		ps.absorb(sub)
		if part == nil {
			continue
		}
		for j := range part.src.groups {
			part.src.groups[j].setFile(names[i])
		}
		for j := range part.src.sites {
			part.src.sites[j].setFile(names[i])
		}
		inv.Groups = append(inv.Groups, part.Groups...)
		src.groups = append(src.groups, part.src.groups...)
		inv.Sites = append(inv.Sites, part.Sites...)
		src.sites = append(src.sites, part.src.sites...)
		src.groupNameUnreadable = src.groupNameUnreadable || part.src.groupNameUnreadable
	}
	if len(inv.Sites) > 0 {
		delete(src.bad, "sites")
	}

	c := checker{inv: inv, src: src, ps: ps, policies: opts.Policies, tree: opts.Tree}
	fleet := c.run(opts.Components)
	if err := ps.err(); err != nil {
		return nil, nil, err
	}
	return inv, fleet, nil
}

func csvFirst(path string) error {
	return &ErrorList{Problems: []Problem{{
		File: path,
		Msg:  "the first inventory file must be YAML with apiVersion, kind and fleet; CSV files can only add sites (give them after it)",
	}}}
}

// isCSV reports whether path names a CSV file (by its extension).
func isCSV(path string) bool {
	return strings.EqualFold(filepath.Ext(path), ".csv")
}

// readInput reads one inventory file (or stdin for "-") within the size
// limit, returning the name to use in messages.
func readInput(path string, stdin io.Reader) (string, []byte, error) {
	if path == "-" {
		data, err := readLimited(stdinName, stdin, maxFileSize)
		return stdinName, data, err
	}
	f, err := os.Open(path)
	if err != nil {
		return "", nil, fmt.Errorf("reading inventory: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", nil, fmt.Errorf("reading inventory: %w", err)
	}
	if fi.IsDir() {
		return "", nil, fmt.Errorf("reading inventory %s: is a directory", path)
	}
	if fi.Mode().IsRegular() && fi.Size() > maxFileSize {
		return "", nil, tooLarge(path, maxFileSize)
	}
	data, err := readLimited(path, f, maxFileSize)
	return path, data, err
}

func readLimited(name string, r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading inventory %s: %w", name, err)
	}
	if int64(len(data)) > limit {
		return nil, tooLarge(name, limit)
	}
	return data, nil
}

// setFile records that every position of the layer is in file.
func (e *entryMeta) setFile(file string) {
	e.pos.file = file
	for k, p := range e.val {
		p.file = file
		e.val[k] = p
	}
	for k, p := range e.key {
		p.file = file
		e.key[k] = p
	}
}
