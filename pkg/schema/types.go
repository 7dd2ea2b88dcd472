package schema

import (
	"encoding"
	"encoding/json"
	"math"
	"reflect"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// kind says how a value of a Go type is checked.
type kind uint8

const (
	kindAny kind = iota // interface{}: anything goes
	kindString
	kindBool
	kindInt
	kindUint
	kindFloat
	kindBytes // []byte: base64 string
	kindSlice
	kindMap
	kindStruct
	kindQuantity
	kindIntOrString
	kindTime
	kindMicroTime
	kindDuration
	kindRaw       // runtime.RawExtension: any JSON value
	kindUnmarshal // other json.Unmarshaler or encoding.TextUnmarshaler: decoded for real
)

// typeInfo is the precomputed check for one Go type. The tables are built
// once, when the Validator is constructed, and only read afterwards.
type typeInfo struct {
	kind     kind
	typ      reflect.Type
	min, max int64  // kindInt
	umax     uint64 // kindUint

	elem         *typeInfo // kindSlice and kindMap values
	elemNullable bool      // the element is a pointer, slice, map or interface
	key          *typeInfo // kindMap keys

	fields   map[string]*fieldInfo // kindStruct, by json name
	names    []string              // kindStruct: sorted json names, for suggestions
	required []string              // kindStruct: sorted json names of required fields
	meta     bool                  // kindStruct: has metadata of type ObjectMeta
}

// fieldInfo is one json field of a struct.
type fieldInfo struct {
	name     string
	t        *typeInfo
	required bool // null or absent is an error
}

var (
	typeQuantity     = reflect.TypeFor[resource.Quantity]()
	typeIntOrString  = reflect.TypeFor[intstr.IntOrString]()
	typeTime         = reflect.TypeFor[metav1.Time]()
	typeMicroTime    = reflect.TypeFor[metav1.MicroTime]()
	typeDuration     = reflect.TypeFor[metav1.Duration]()
	typeRawExtension = reflect.TypeFor[runtime.RawExtension]()
	typeObjectMeta   = reflect.TypeFor[metav1.ObjectMeta]()
	typeJSONUnmarsh  = reflect.TypeFor[json.Unmarshaler]()
	typeTextUnmarsh  = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// builder turns Go types into typeInfo, sharing one typeInfo per type so
// recursive types terminate.
type builder struct {
	seen map[reflect.Type]*typeInfo
}

func (b *builder) build(t reflect.Type) *typeInfo {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if ti, ok := b.seen[t]; ok {
		return ti
	}
	ti := &typeInfo{typ: t}
	b.seen[t] = ti
	switch t {
	case typeQuantity:
		ti.kind = kindQuantity
		return ti
	case typeIntOrString:
		ti.kind = kindIntOrString
		return ti
	case typeTime:
		ti.kind = kindTime
		return ti
	case typeMicroTime:
		ti.kind = kindMicroTime
		return ti
	case typeDuration:
		ti.kind = kindDuration
		return ti
	case typeRawExtension:
		ti.kind = kindRaw
		return ti
	}
	if p := reflect.PointerTo(t); p.Implements(typeJSONUnmarsh) || p.Implements(typeTextUnmarsh) {
		ti.kind = kindUnmarshal
		return ti
	}
	switch t.Kind() {
	case reflect.String:
		ti.kind = kindString
	case reflect.Bool:
		ti.kind = kindBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		ti.kind = kindInt
		bits := t.Bits()
		ti.min, ti.max = math.MinInt64>>(64-bits), math.MaxInt64>>(64-bits)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		ti.kind = kindUint
		ti.umax = math.MaxUint64 >> (64 - t.Bits())
	case reflect.Float32, reflect.Float64:
		ti.kind = kindFloat
	case reflect.Slice, reflect.Array:
		if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
			ti.kind = kindBytes
			break
		}
		ti.kind = kindSlice
		ti.elem = b.build(t.Elem())
		ti.elemNullable = nullableKind(t.Elem().Kind())
	case reflect.Map:
		ti.kind = kindMap
		ti.key = b.build(t.Key())
		ti.elem = b.build(t.Elem())
		ti.elemNullable = nullableKind(t.Elem().Kind())
	case reflect.Struct:
		ti.kind = kindStruct
		ti.fields = make(map[string]*fieldInfo)
		b.addFields(ti, t)
		for name, f := range ti.fields {
			ti.names = append(ti.names, name)
			if f.required {
				ti.required = append(ti.required, name)
			}
		}
		sort.Strings(ti.names)
		sort.Strings(ti.required)
		if m, ok := ti.fields["metadata"]; ok && m.t.typ == typeObjectMeta {
			ti.meta = true
		}
	default:
		// Interfaces, and kinds JSON cannot carry (chan, func), accept anything:
		// encoding/json would fail on the latter, but k8s.io/api has none.
		ti.kind = kindAny
	}
	return ti
}

// addFields adds the json fields of struct type t to ti, flattening embedded
// structs without a json name the way encoding/json and openapi-gen do. A
// struct's own fields are added before those of its embedded structs, so the
// shallower of two fields with one name wins, as in encoding/json.
func (b *builder) addFields(ti *typeInfo, t reflect.Type) {
	var inline []reflect.Type
	for i := range t.NumField() {
		sf := t.Field(i)
		tag, hasTag := sf.Tag.Lookup("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" && opts == "" {
			continue
		}
		if sf.Anonymous && name == "" {
			et := sf.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				inline = append(inline, et)
				continue
			}
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		if _, dup := ti.fields[name]; dup {
			continue
		}
		omit := hasOption(opts, "omitempty") || hasOption(opts, "omitzero")
		required := hasTag && !omit
		if r, ok := requiredOverride(t, name); ok {
			required = r
		}
		ti.fields[name] = &fieldInfo{
			name:     name,
			t:        b.build(sf.Type),
			required: required,
		}
	}
	for _, et := range inline {
		b.addFields(ti, et)
	}
}

// requiredOverride reports whether a comment marker or the hand-kept table
// decides, against the json tag, if field name of struct t is required.
func requiredOverride(t reflect.Type, name string) (required, found bool) {
	key := t.PkgPath() + "." + t.Name() + "." + name
	if r, ok := handRequired(key); ok {
		return r, true
	}
	return markerRequired(key)
}

// handRequired holds exceptions that neither the json tag nor the comment
// markers get right, keyed like markerRequired. It is empty for k8s.io/api
// v0.37.2: every field checked against the API server's behaviour (see
// TestRequiredFields) matched the tag or its marker, and ObjectMeta.name,
// which the server defaults from generateName, is checked apart in
// Validator.Validate. Add an entry, with a comment saying why, when a Go
// type registered with NewWith or a newer k8s.io/api needs one.
func handRequired(key string) (required, found bool) {
	_ = key
	return false, false
}

func hasOption(opts, want string) bool {
	for opts != "" {
		var o string
		o, opts, _ = strings.Cut(opts, ",")
		if o == want {
			return true
		}
	}
	return false
}

func nullableKind(k reflect.Kind) bool {
	switch k {
	case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
		return true
	}
	return false
}
