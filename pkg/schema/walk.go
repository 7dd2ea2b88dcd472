package schema

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fleetgen/fleetgen/pkg/suggest"

	"k8s.io/apimachinery/pkg/api/resource"
)

// seg is one step of a field path: a field name, a slice index or a map key.
type seg struct {
	name  string
	index int
	kind  segKind
}

type segKind uint8

const (
	segField segKind = iota
	segIndex
	segKey
)

// walker checks one object. Paths are kept as a stack of segments and only
// formatted when a problem is reported, so a valid object costs no strings.
type walker struct {
	path []seg
	buf  [16]seg
	errs []FieldError
}

func (w *walker) push(s seg) {
	if w.path == nil {
		w.path = w.buf[:0]
	}
	w.path = append(w.path, s)
}

func (w *walker) pop() { w.path = w.path[:len(w.path)-1] }

// pathString formats the current path, plus extra when it is not empty.
func (w *walker) pathString(extra string) string {
	var b strings.Builder
	for _, s := range w.path {
		switch s.kind {
		case segField:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s.name)
		case segIndex:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.index))
			b.WriteByte(']')
		case segKey:
			if plainKey(s.name) {
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(s.name)
			} else {
				b.WriteString("[" + strconv.Quote(s.name) + "]")
			}
		}
	}
	if extra != "" {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(extra)
	}
	return b.String()
}

// plainKey reports whether a map key reads unambiguously after a dot.
func plainKey(k string) bool {
	if k == "" {
		return false
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// addf reports a problem at the current path.
func (w *walker) addf(_ any, format string, args ...any) {
	w.errs = append(w.errs, FieldError{Path: w.pathString(""), Msg: fmt.Sprintf(format, args...)})
}

func (w *walker) mismatch(want string, got any) {
	w.addf(nil, "expected %s, got %s", want, describe(got))
}

// sorted returns the errors ordered by path, numbers in indexes compared as
// numbers, then by message.
func (w *walker) sorted() []FieldError {
	slices.SortStableFunc(w.errs, func(a, b FieldError) int {
		if c := comparePaths(a.Path, b.Path); c != 0 {
			return c
		}
		return strings.Compare(a.Msg, b.Msg)
	})
	return w.errs
}

// comparePaths orders paths as strings, except that runs of digits compare
// by value, so containers[2] sorts before containers[10].
func comparePaths(a, b string) int {
	for a != "" && b != "" {
		if isDigit(a[0]) && isDigit(b[0]) {
			i, j := digits(a), digits(b)
			na, nb := strings.TrimLeft(a[:i], "0"), strings.TrimLeft(b[:j], "0")
			if len(na) != len(nb) {
				return cmpInt(len(na), len(nb))
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			a, b = a[i:], b[j:]
			continue
		}
		if a[0] != b[0] {
			return cmpInt(int(a[0]), int(b[0]))
		}
		a, b = a[1:], b[1:]
	}
	return cmpInt(len(a), len(b))
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func digits(s string) int {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// value checks v against t at the current path. v is never nil here:
// callers decide whether null is allowed.
func (w *walker) value(t *typeInfo, v any) {
	switch t.kind {
	case kindAny, kindRaw:
	case kindString:
		if _, ok := v.(string); !ok {
			w.mismatch("string", v)
		}
	case kindBool:
		if _, ok := v.(bool); !ok {
			w.mismatch("boolean", v)
		}
	case kindInt:
		w.integer(v, t.min, t.max, t.typ)
	case kindUint:
		w.unsigned(v, t.umax, t.typ)
	case kindFloat:
		if _, ok := number(v); !ok {
			w.mismatch("number", v)
		}
	case kindBytes:
		s, ok := v.(string)
		if !ok {
			w.mismatch("base64-encoded string", v)
			return
		}
		if _, err := base64.StdEncoding.DecodeString(s); err != nil {
			w.addf(nil, "invalid base64 data: %v", err)
		}
	case kindSlice:
		w.slice(t, v)
	case kindMap:
		w.mapping(t, v)
	case kindStruct:
		w.object(t, v)
	case kindQuantity:
		w.quantity(v)
	case kindIntOrString:
		switch v.(type) {
		case string:
		default:
			if _, ok := number(v); !ok {
				w.mismatch("integer or string", v)
				return
			}
			w.integer(v, math.MinInt32, math.MaxInt32, nil)
		}
	case kindTime, kindMicroTime:
		w.timestamp(v, t.kind == kindMicroTime)
	case kindDuration:
		s, ok := v.(string)
		if !ok {
			w.mismatch("duration string such as \"1m30s\"", v)
			return
		}
		if _, err := time.ParseDuration(s); err != nil {
			w.addf(nil, "invalid duration %q: expected a Go duration such as \"1m30s\"", s)
		}
	case kindUnmarshal:
		w.unmarshal(t, v)
	}
}

func (w *walker) object(t *typeInfo, v any) {
	m, ok := v.(map[string]any)
	if !ok {
		if mm, isAnyMap := v.(map[any]any); isAnyMap {
			m = stringKeys(w, mm)
		} else {
			w.mismatch("object", v)
			return
		}
	}
	for k, fv := range m {
		f, known := t.fields[k]
		if !known {
			w.push(seg{name: k})
			if s := closest(k, t.names); s != "" {
				w.addf(nil, "unknown field (did you mean %q?)", s)
			} else {
				w.addf(nil, "unknown field")
			}
			w.pop()
			continue
		}
		if fv == nil {
			if f.required {
				w.push(seg{name: k})
				w.addf(nil, "required field is null")
				w.pop()
			}
			continue
		}
		w.push(seg{name: k})
		w.value(f.t, fv)
		w.pop()
	}
	for _, name := range t.required {
		if _, ok := m[name]; !ok {
			w.addf(nil, "missing required field %q", name)
		}
	}
}

// stringKeys converts a map with non-string keys (YAML allows them),
// reporting each key that is not a string.
func stringKeys(w *walker, mm map[any]any) map[string]any {
	m := make(map[string]any, len(mm))
	for k, v := range mm {
		s, ok := k.(string)
		if !ok {
			s = fmt.Sprint(k)
			w.addf(nil, "key %s is not a string", describe(k))
		}
		m[s] = v
	}
	return m
}

func (w *walker) slice(t *typeInfo, v any) {
	items, ok := v.([]any)
	if !ok {
		w.mismatch("array", v)
		return
	}
	for i, item := range items {
		w.push(seg{index: i, kind: segIndex})
		if item == nil {
			if !t.elemNullable {
				w.mismatch(expected(t.elem), nil)
			}
		} else {
			w.value(t.elem, item)
		}
		w.pop()
	}
}

func (w *walker) mapping(t *typeInfo, v any) {
	m, ok := v.(map[string]any)
	if !ok {
		if mm, isAnyMap := v.(map[any]any); isAnyMap {
			m = stringKeys(w, mm)
		} else {
			w.mismatch("object", v)
			return
		}
	}
	checkKeys := t.key.kind != kindString
	for k, item := range m {
		w.push(seg{name: k, kind: segKey})
		if checkKeys {
			w.value(t.key, k) // reports a non-string key type as a mismatch
		}
		if item == nil {
			if !t.elemNullable {
				w.mismatch(expected(t.elem), nil)
			}
		} else {
			w.value(t.elem, item)
		}
		w.pop()
	}
}

// number returns v as a float64 when it is a number.
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint64:
		return float64(n), true
	case float64:
		return n, true
	case int32:
		return float64(n), true
	case uint32:
		return float64(n), true
	case float32:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

// integer checks that v is a whole number within [lo, hi]; t names the Go
// type in range errors when it is not nil.
func (w *walker) integer(v any, lo, hi int64, t reflect.Type) {
	var i int64
	switch n := v.(type) {
	case int:
		i = int64(n)
	case int64:
		i = n
	case int32:
		i = int64(n)
	case uint64:
		if n > math.MaxInt64 {
			w.outOfRange(v, t)
			return
		}
		i = int64(n)
	default:
		f, ok := number(v)
		if !ok {
			w.mismatch("integer", v)
			return
		}
		if f != math.Trunc(f) || math.IsInf(f, 0) {
			w.mismatch("integer", v)
			return
		}
		if f < -(1<<63) || f >= 1<<63 {
			w.outOfRange(v, t)
			return
		}
		i = int64(f)
	}
	if i < lo || i > hi {
		w.outOfRange(v, t)
	}
}

func (w *walker) unsigned(v any, hi uint64, t reflect.Type) {
	var u uint64
	switch n := v.(type) {
	case uint64:
		u = n
	case int:
		if n < 0 {
			w.outOfRange(v, t)
			return
		}
		u = uint64(n)
	case int64:
		if n < 0 {
			w.outOfRange(v, t)
			return
		}
		u = uint64(n)
	default:
		f, ok := number(v)
		if !ok || f != math.Trunc(f) || math.IsInf(f, 0) {
			w.mismatch("non-negative integer", v)
			return
		}
		if f < 0 || f >= 1<<64 {
			w.outOfRange(v, t)
			return
		}
		u = uint64(f)
	}
	if u > hi {
		w.outOfRange(v, t)
	}
}

func (w *walker) outOfRange(v any, t reflect.Type) {
	typ := "int32"
	if t != nil {
		typ = t.Kind().String()
	}
	w.addf(nil, "%s out of range for %s", describe(v), typ)
}

func (w *walker) quantity(v any) {
	var s string
	switch n := v.(type) {
	case string:
		s = n
	case int:
		s = strconv.Itoa(n)
	default:
		f, ok := number(v)
		if !ok {
			w.mismatch("quantity (string or number)", v)
			return
		}
		s = strconv.FormatFloat(f, 'f', -1, 64)
	}
	if _, err := resource.ParseQuantity(s); err != nil {
		w.addf(nil, "invalid quantity %q: expected a number with an optional suffix such as 250m, 128Mi or 2G", s)
	}
}

func (w *walker) timestamp(v any, micro bool) {
	if t, ok := v.(time.Time); ok && !t.IsZero() {
		return // a YAML timestamp decoded by the YAML library
	}
	s, ok := v.(string)
	if !ok {
		w.mismatch("RFC 3339 time string", v)
		return
	}
	layout := time.RFC3339
	if micro {
		layout = "2006-01-02T15:04:05.000000Z07:00"
	}
	if _, err := time.Parse(layout, s); err != nil {
		w.addf(nil, "invalid time %q: expected RFC 3339 such as \"2006-01-02T15:04:05Z\"", s)
	}
}

// unmarshal decodes v into a fresh value of t with encoding/json, for types
// that decode themselves.
func (w *walker) unmarshal(t *typeInfo, v any) {
	data, err := json.Marshal(jsonValue(v))
	if err != nil {
		w.addf(nil, "cannot encode value as JSON: %v", err)
		return
	}
	if err := json.Unmarshal(data, reflect.New(t.typ).Interface()); err != nil {
		w.addf(nil, "invalid %s: %s", t.typ.Name(), strings.TrimPrefix(err.Error(), "json: "))
	}
}

// jsonValue converts maps with non-string keys, which encoding/json cannot
// encode, to string keys.
func jsonValue(v any) any {
	switch x := v.(type) {
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = jsonValue(e)
		}
		return m
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = jsonValue(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = jsonValue(e)
		}
		return s
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return strconv.FormatFloat(x, 'g', -1, 64)
		}
	}
	return v
}

// checkName reports a top-level object whose metadata has neither name nor
// generateName: the API server needs one of them.
func (w *walker) checkName(obj map[string]any) {
	mv, ok := obj["metadata"]
	if !ok || mv == nil {
		w.addf(nil, "missing required field %q", "metadata")
		return
	}
	md, ok := mv.(map[string]any)
	if !ok {
		return // already reported as a type mismatch
	}
	for _, f := range [...]string{"name", "generateName"} {
		if s, ok := md[f].(string); ok && s != "" {
			return
		}
	}
	w.push(seg{name: "metadata"})
	w.addf(nil, "missing required field %q", "name")
	w.pop()
}

// expected names what a value of t looks like, for messages.
func expected(t *typeInfo) string {
	switch t.kind {
	case kindString:
		return "string"
	case kindBool:
		return "boolean"
	case kindInt, kindUint:
		return "integer"
	case kindFloat:
		return "number"
	case kindBytes:
		return "base64-encoded string"
	case kindSlice:
		return "array"
	case kindMap, kindStruct:
		return "object"
	case kindQuantity:
		return "quantity (string or number)"
	case kindIntOrString:
		return "integer or string"
	case kindTime, kindMicroTime:
		return "RFC 3339 time string"
	case kindDuration:
		return "duration string"
	}
	return "value"
}

// describe names a decoded value for messages: `string "two"`, `integer 5`.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		if len(x) > 40 {
			x = x[:37] + "..."
		}
		return "string " + strconv.Quote(x)
	case bool:
		return "boolean " + strconv.FormatBool(x)
	case map[string]any, map[any]any:
		return "object"
	case []any:
		return "array"
	case time.Time:
		return "timestamp " + x.Format(time.RFC3339)
	}
	if f, ok := number(v); ok {
		if f == math.Trunc(f) && !math.IsInf(f, 0) {
			return fmt.Sprintf("integer %v", v)
		}
		return fmt.Sprintf("number %v", v)
	}
	return fmt.Sprintf("%T", v)
}

// closest returns the name in names closest to key, if it is close enough
// to be a likely typo: 1 edit for short keys, 2 from 6 bytes, 3 from 12.
func closest(key string, names []string) string {
	limit := 1
	switch {
	case len(key) >= 12:
		limit = 3
	case len(key) >= 6:
		limit = 2
	}
	return suggest.Closest(key, names, func(string) int { return limit })
}
