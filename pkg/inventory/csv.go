package inventory

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// A CSV inventory file holds sites, one a row, under a header row naming
// the columns. Columns are the site fields by their YAML names: scalar
// fields as themselves (name, type, region, arch, ...), fields of a nested
// mapping with a dot (capacity.cpu), one entry of a string map per column
// (config.LOG_LEVEL, labels.acme.example/zone, images.app), and lists
// (groups, components) as one cell with items separated by ';'. An empty
// cell leaves the field unset. Every row is decoded and checked exactly
// like a site written in YAML; positions are FILE:LINE:COLUMN with the
// column counted in fields (1 for the first column).

// csvListSep separates the items of a list cell.
const csvListSep = ";"

// csvKind is how a site field is written in CSV.
type csvKind int

const (
	csvScalar csvKind = iota // one cell
	csvList                  // one cell, items separated by ';'
	csvMap                   // one column per key: field.KEY
	csvStruct                // one column per sub-field: field.sub
	csvUnsupported
)

// csvField describes a site field (or a field of a nested mapping) for CSV.
type csvField struct {
	name   string
	kind   csvKind
	number bool // a scalar that YAML would read as a number
	fields []csvField
}

// csvSiteFields lists the fields a site may have, by reflection on
// SiteSpec, so that CSV follows the YAML fields as they evolve.
func csvSiteFields() []csvField {
	return csvFieldsOf(reflect.TypeOf(SiteSpec{}))
}

func csvFieldsOf(t reflect.Type) []csvField {
	var out []csvField
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			out = append(out, csvFieldsOf(f.Type)...)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		out = append(out, csvFieldOf(name, f.Type))
	}
	return out
}

func csvFieldOf(name string, t reflect.Type) csvField {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return csvField{name: name, kind: csvScalar}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return csvField{name: name, kind: csvScalar, number: true}
	case reflect.Bool:
		return csvField{name: name, kind: csvScalar, number: true}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.String {
			return csvField{name: name, kind: csvList}
		}
	case reflect.Map:
		if t.Key().Kind() == reflect.String && t.Elem().Kind() == reflect.String {
			return csvField{name: name, kind: csvMap}
		}
	case reflect.Struct:
		sub := csvFieldsOf(t)
		for _, s := range sub {
			if s.kind != csvScalar && s.kind != csvStruct {
				return csvField{name: name, kind: csvUnsupported}
			}
		}
		return csvField{name: name, kind: csvStruct, fields: sub}
	}
	return csvField{name: name, kind: csvUnsupported}
}

// csvColumn is one parsed header cell: the path of mapping keys it sets.
type csvColumn struct {
	path   []string // e.g. ["config", "LOG_LEVEL"], ["capacity", "cpu"], ["type"]
	list   bool
	number bool
}

// csvColumnNames lists the columns a header may name, for suggestions.
func csvColumnNames(fields []csvField) []string {
	var names []string
	for _, f := range fields {
		switch f.kind {
		case csvMap:
			names = append(names, f.name+".KEY")
		case csvStruct:
			for _, s := range csvColumnNames(f.fields) {
				names = append(names, f.name+"."+s)
			}
		case csvUnsupported:
		default:
			names = append(names, f.name)
		}
	}
	return names
}

// parseColumn turns a header cell into a column, or says why it is not one.
func parseColumn(h string, fields []csvField) (csvColumn, string) {
	col, msg := parseColumnIn(h, h, fields)
	return col, msg
}

// parseColumnIn parses rest, the part of header cell h below the fields
// listed.
func parseColumnIn(h, rest string, fields []csvField) (csvColumn, string) {
	head, sub, dotted := strings.Cut(rest, ".")
	prefix := strings.TrimSuffix(h, rest)
	for _, f := range fields {
		if f.name != head {
			continue
		}
		switch f.kind {
		case csvScalar, csvList:
			if dotted {
				return csvColumn{}, fmt.Sprintf("unknown column %q: %s is not a mapping; name the column %q", h, prefix+head, prefix+head)
			}
			return csvColumn{path: []string{head}, list: f.kind == csvList, number: f.number}, ""
		case csvMap:
			if !dotted || sub == "" {
				return csvColumn{}, fmt.Sprintf("column %q needs a key: one column per entry, named %s.KEY (for example %s.%s)", h, head, head, exampleKey(head))
			}
			return csvColumn{path: []string{head, sub}}, ""
		case csvStruct:
			names := csvColumnNames(f.fields)
			for i := range names {
				names[i] = prefix + head + "." + names[i]
			}
			if !dotted {
				return csvColumn{}, fmt.Sprintf("column %q is a mapping: give one column per field: %s", h, strings.Join(names, ", "))
			}
			col, msg := parseColumnIn(h, sub, f.fields)
			if msg != "" {
				return csvColumn{}, fmt.Sprintf("unknown column %q%s; %s has the columns %s", h, didYouMean(h, names), prefix+head, strings.Join(names, ", "))
			}
			col.path = append([]string{head}, col.path...)
			return col, ""
		default:
			return csvColumn{}, fmt.Sprintf("column %q cannot be given in a CSV file: set %s in a YAML inventory file", h, prefix+head)
		}
	}
	names := csvColumnNames(fields)
	for i := range names {
		names[i] = prefix + names[i]
	}
	return csvColumn{}, fmt.Sprintf("unknown column %q%s; allowed columns: %s", h, didYouMean(h, names), strings.Join(names, ", "))
}

func exampleKey(field string) string {
	switch field {
	case "config":
		return "LOG_LEVEL"
	case "images":
		return "app"
	case "labels":
		return "tier"
	}
	return "KEY"
}

// decodeCSV decodes a CSV file of sites. first is the index the file's
// first site will have in the merged inventory, for field paths in
// messages. It returns nil when the header is unusable.
func decodeCSV(ps *problems, name string, data []byte, first int) *Inventory {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.ReuseRecord = false

	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		ps.add(position{}, "", "", "empty CSV file: expected a header row naming the columns (name,type,region,...)")
		return nil
	}
	if err != nil {
		addCSVError(ps, err)
		return nil
	}
	fields := csvSiteFields()
	cols := make([]csvColumn, len(header))
	seen := map[string]int{}
	hasName := false
	ok := true
	for i, h := range header {
		pos := position{line: 1, col: i + 1}
		h = strings.TrimSpace(h)
		if h == "" {
			ps.add(pos, "", "", "empty column name in the header row")
			ok = false
			continue
		}
		if j, dup := seen[h]; dup {
			ps.add(pos, "", "", "column %q is given twice (first as column %d)", h, j+1)
			ok = false
			continue
		}
		seen[h] = i
		col, msg := parseColumn(h, fields)
		if msg != "" {
			ps.add(pos, "", "", "%s", msg)
			ok = false
			continue
		}
		if h == "name" {
			hasName = true
		}
		cols[i] = col
	}
	if ok && !hasName {
		ps.add(position{line: 1, col: 1}, "", "", "the header row has no name column: every site needs a name")
		ok = false
	}
	if !ok {
		return nil
	}

	src := &sourceMap{paths: map[string]position{}, bad: map[string]bool{}}
	d := &decoder{ps: ps, src: src}
	inv := &Inventory{File: name, src: src}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			addCSVError(ps, err)
			return nil
		}
		line, _ := r.FieldPos(0)
		if len(rec) != len(header) {
			ps.add(position{line: line, col: 1}, "", "", "row has %d fields, the header has %d", len(rec), len(header))
			continue
		}
		node := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: line, Column: 1}
		for i, cell := range rec {
			if cell == "" {
				continue
			}
			l, _ := r.FieldPos(i)
			addCSVCell(node, cols[i], cell, l, i+1)
		}
		inv.Sites = append(inv.Sites, d.siteSpec(node, index("sites", first+len(inv.Sites))))
	}
	return inv
}

// addCSVCell adds the value of one cell to the row's mapping node.
func addCSVCell(row *yaml.Node, col csvColumn, cell string, line, column int) {
	parent := row
	for _, key := range col.path[:len(col.path)-1] {
		parent = childMapping(parent, key, line, column)
	}
	key := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: col.path[len(col.path)-1], Line: line, Column: column}
	var val *yaml.Node
	switch {
	case col.list:
		val = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Line: line, Column: column}
		for _, item := range strings.Split(cell, csvListSep) {
			val.Content = append(val.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: strings.TrimSpace(item), Line: line, Column: column})
		}
	default:
		val = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: cell, Line: line, Column: column}
		if col.number {
			// Let the field's decoder see what YAML would: a number
			// written plainly.
			if _, err := strconv.ParseFloat(cell, 64); err == nil {
				val.Tag = "!!int"
				if _, err := strconv.ParseInt(cell, 10, 64); err != nil {
					val.Tag = "!!float"
				}
			} else if _, err := strconv.ParseBool(cell); err == nil {
				val.Tag = "!!bool"
			}
		}
	}
	parent.Content = append(parent.Content, key, val)
}

// childMapping returns the mapping under key in parent, adding it.
func childMapping(parent *yaml.Node, key string, line, column int) *yaml.Node {
	for i := 0; i+1 < len(parent.Content); i += 2 {
		if parent.Content[i].Value == key {
			return parent.Content[i+1]
		}
	}
	k := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key, Line: line, Column: column}
	m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: line, Column: column}
	parent.Content = append(parent.Content, k, m)
	return m
}

// addCSVError reports a CSV syntax error at its line and column.
func addCSVError(ps *problems, err error) {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		ps.add(position{line: pe.Line, col: pe.Column}, "", "", "invalid CSV: %v", pe.Err)
		return
	}
	ps.add(position{}, "", "", "invalid CSV: %v", err)
}
