package jsonschema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/fleetgen/fleetgen/pkg/inventory"
)

// Draft is the JSON Schema dialect of the generated schema.
const Draft = "https://json-schema.org/draft/2020-12/schema"

// ID is the $id of the inventory schema.
const ID = "https://fleetgen.dev/schemas/inventory-v1alpha1.json"

// Schema is one JSON Schema object. Properties keep their order.
type Schema struct {
	Schema               string     `json:"$schema,omitempty"`
	ID                   string     `json:"$id,omitempty"`
	Ref                  string     `json:"$ref,omitempty"`
	Title                string     `json:"title,omitempty"`
	Description          string     `json:"description,omitempty"`
	Type                 any        `json:"type,omitempty"`
	Const                any        `json:"const,omitempty"`
	Enum                 []string   `json:"enum,omitempty"`
	Pattern              string     `json:"pattern,omitempty"`
	MinLength            int        `json:"minLength,omitempty"`
	MaxLength            int        `json:"maxLength,omitempty"`
	Minimum              *int       `json:"minimum,omitempty"`
	Maximum              *int       `json:"maximum,omitempty"`
	Required             []string   `json:"required,omitempty"`
	Properties           Properties `json:"properties,omitempty"`
	AdditionalProperties any        `json:"additionalProperties,omitempty"`
	PropertyNames        *Schema    `json:"propertyNames,omitempty"`
	Not                  *Schema    `json:"not,omitempty"`
	Items                *Schema    `json:"items,omitempty"`
	MinItems             int        `json:"minItems,omitempty"`
	UniqueItems          bool       `json:"uniqueItems,omitempty"`
	Defs                 Properties `json:"$defs,omitempty"`
}

// Property is a named schema.
type Property struct {
	Name   string
	Schema *Schema
}

// Properties are named schemas in a fixed order.
type Properties []Property

// MarshalJSON writes the properties as an object in their order.
func (ps Properties) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, p := range ps {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(p.Name)
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(p.Schema)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// Get returns the named property, or nil.
func (ps Properties) Get(name string) *Schema {
	for _, p := range ps {
		if p.Name == name {
			return p.Schema
		}
	}
	return nil
}

// textTypes are the YAML scalars a text field accepts: the loader takes the
// text as written, so 1.10, no and an empty value are text too.
var textTypes = []string{"string", "number", "boolean", "null"}

const dns1123 = `^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`

// dns1123Subdomain is the rule for Secret names.
const dns1123Subdomain = `^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`

// Inventory returns the schema of an inventory document.
func Inventory() *Schema {
	r := &reflector{defs: map[string]bool{}}
	layer := r.object(reflect.TypeOf(inventory.Layer{}), "Layer")
	r.define("layer", layer)
	r.define("group", r.object(reflect.TypeOf(inventory.Group{}), "Group"))
	r.define("site", r.object(reflect.TypeOf(inventory.SiteSpec{}), "SiteSpec"))
	s := &Schema{
		Schema:      Draft,
		ID:          ID,
		Title:       "fleetgen inventory",
		Description: describe("Inventory", ""),
		Type:        "object",
		Required:    []string{"apiVersion", "kind", "fleet"},
		Properties: Properties{
			{"apiVersion", &Schema{Description: describe("Inventory", "apiVersion"), Const: inventory.APIVersion}},
			{"kind", &Schema{Description: describe("Inventory", "kind"), Const: inventory.Kind}},
			{"fleet", &Schema{Description: describe("Inventory", "fleet"), Type: "string", Pattern: dns1123, MaxLength: 63}},
			{"gitops", r.object(reflect.TypeOf(inventory.GitOps{}), "GitOps")},
			{"defaults", &Schema{Description: describe("Inventory", "defaults"), Ref: "#/$defs/layer"}},
			{"groups", &Schema{Description: describe("Inventory", "groups"), Type: []string{"array", "null"}, Items: &Schema{Ref: "#/$defs/group"}}},
			{"sites", &Schema{Description: describe("Inventory", "sites"), Type: []string{"array", "null"}, Items: &Schema{Ref: "#/$defs/site"}}},
		},
		AdditionalProperties: false,
		Defs:                 r.out,
	}
	s.Properties.Get("gitops").Description = describe("Inventory", "gitops")
	return s
}

// JSON returns the inventory schema as indented JSON with a final newline.
func JSON() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(Inventory()); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

type reflector struct {
	out  Properties
	defs map[string]bool
}

func (r *reflector) define(name string, s *Schema) {
	r.out = append(r.out, Property{name, s})
	r.defs[name] = true
}

// object describes a struct type by its json-tagged fields, embedded
// structs inlined.
func (r *reflector) object(t reflect.Type, typeName string) *Schema {
	s := &Schema{Type: []string{"object", "null"}, AdditionalProperties: false}
	if typeName == "Group" || typeName == "SiteSpec" {
		s.Type = "object"
		s.Required = []string{"name"}
	}
	r.fields(s, t, typeName)
	return s
}

func (r *reflector) fields(s *Schema, t reflect.Type, typeName string) {
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			r.fields(s, f.Type, f.Type.Name())
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		p := r.field(f.Type, typeName, name)
		if p.Ref == "" {
			p.Description = describe(typeName, name)
		}
		s.Properties = append(s.Properties, Property{name, p})
	}
}

func (r *reflector) field(t reflect.Type, typeName, name string) *Schema {
	if c, ok := constraints[typeName+"."+name]; ok {
		return &c
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return &Schema{Type: textTypes}
	case reflect.Bool:
		return &Schema{Type: "boolean"}
	case reflect.Int, reflect.Int32, reflect.Int64:
		return &Schema{Type: "integer"}
	case reflect.Slice:
		item := r.field(t.Elem(), t.Elem().Name(), "")
		if t.Elem().Kind() == reflect.Struct {
			item = r.object(t.Elem(), t.Elem().Name())
			item.Type = "object"
		}
		return &Schema{Type: []string{"array", "null"}, Items: item}
	case reflect.Map:
		return &Schema{Type: []string{"object", "null"}, AdditionalProperties: &Schema{Type: textTypes}}
	case reflect.Struct:
		return r.object(t, t.Name())
	}
	panic(fmt.Sprintf("jsonschema: no schema for %s.%s of kind %s", typeName, name, t.Kind()))
}

func intp(i int) *int { return &i }

// yamlNonString matches the plain scalars YAML reads as something other than
// a string (booleans, null, numbers, dates): kustomize cannot write them as
// ConfigMap keys, so the loader rejects them as config keys.
const yamlNonString = `^(?:[Tt]rue|TRUE|[Ff]alse|FALSE|[Nn]ull|NULL|~` +
	`|[-+]?[0-9][0-9_]*|0o[0-7_]+|0x[0-9a-fA-F_]+|0b[01_]+` +
	`|[-+]?(?:[0-9][0-9_]*)?\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+` +
	`|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)|[0-9]{4}-[0-9]{2}-[0-9]{2})$`

// constraints replace the reflected schema of fields with stricter ones.
var constraints = map[string]Schema{
	"Layer.type":       {Type: "string", Enum: inventory.SiteTypes},
	"Layer.arch":       {Type: "string", Enum: inventory.Arches},
	"Layer.network":    {Type: "string", Enum: inventory.Networks},
	"Layer.region":     {Type: "string", Pattern: dns1123, MaxLength: 63},
	"Layer.wave":       {Type: "integer", Minimum: intp(0), Maximum: intp(1000)},
	"Layer.components": {Type: []string{"array", "null"}, Items: &Schema{Type: "string", Pattern: dns1123, MaxLength: 63}},
	"Layer.config": {Type: []string{"object", "null"}, AdditionalProperties: &Schema{Type: textTypes},
		PropertyNames: &Schema{Pattern: `^[-._a-zA-Z0-9]+$`, MaxLength: 253, Not: &Schema{Pattern: yamlNonString}}},
	"Group.name":    {Type: "string", Pattern: dns1123, MaxLength: 63},
	"SiteSpec.name": {Type: "string", Pattern: dns1123, MaxLength: 63},
	"SiteSpec.groups": {Type: []string{"array", "null"}, UniqueItems: true,
		Items: &Schema{Type: "string", Pattern: dns1123, MaxLength: 63}},
	"GitOps.engine": {Type: "string", Enum: inventory.Engines},
	"Verify.keyIDs": {Type: []string{"array", "null"},
		Items: &Schema{Type: "string", Pattern: `^([0-9A-Fa-f]{16}|[0-9A-Fa-f]{40})$`}},
	"Verify.publicKeysSecret": {Type: "string", Pattern: dns1123Subdomain, MaxLength: 253},
	"Verify.cosignKeySecret":  {Type: "string", Pattern: dns1123Subdomain, MaxLength: 253},
	"Layer.charts": {Type: []string{"object", "null"}, PropertyNames: &Schema{Pattern: dns1123, MaxLength: 63},
		AdditionalProperties: &Schema{Type: []string{"object", "null"}, AdditionalProperties: false, Properties: Properties{
			{"chart", &Schema{Description: describe("ChartSpec", "chart"), Type: "string", MinLength: 1}},
			{"repo", &Schema{Description: describe("ChartSpec", "repo"), Type: "string", Pattern: `^https?://[^/?#@]+(/[^?#]*)?$`}},
			{"version", &Schema{Description: describe("ChartSpec", "version"), Type: textTypes}},
			{"namespace", &Schema{Description: describe("ChartSpec", "namespace"), Type: "string", Pattern: dns1123, MaxLength: 63}},
			{"mode", &Schema{Description: describe("ChartSpec", "mode"), Type: "string", Enum: inventory.ChartModes}},
			{"values", &Schema{Description: describe("ChartSpec", "values"), Type: []string{"object", "null"}}},
		}}},
	"K3s.datastore": {Type: "string", Enum: inventory.Datastores},
	"K3s.version":   {Type: "string", Pattern: `^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\+k3s[1-9][0-9]*$`},
	"K3s.servers":   {Type: "integer", Minimum: intp(1), Maximum: intp(99)},
	"K3s.agents":    {Type: "integer", Minimum: intp(0), Maximum: intp(1000)},
	"K3s.disable": {Type: []string{"array", "null"}, UniqueItems: true,
		Items: &Schema{Type: "string", Enum: inventory.K3sPackagedComponents}},
	"K3s.joinAddress": {Type: "string", Pattern: `^https://[^/@?#]+:[0-9]+/?$`},
}

// describe returns the description of a field (or, with name "", of a type).
func describe(typeName, name string) string {
	return descriptions[typeName+"."+name]
}
