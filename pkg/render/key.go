package render

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"maps"
	"math"
	"reflect"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/fleetgen/fleetgen/pkg/inventory"
)

// keyFormat names the layout of render keys. Change it whenever what a key
// covers or how it is encoded changes, so that keys of older runs no longer
// match.
const keyFormat = "fleetgen render key 2"

// setDigest is the SHA-256 of a template set: every file's path and bytes,
// partials included, in path order, and the component directory names.
func setDigest(partials, files []setEntry, components []string) [sha256.Size]byte {
	var enc encoder
	for _, group := range [][]setEntry{partials, files} {
		enc.uint(uint64(len(group)))
		for _, f := range group {
			enc.string(f.path)
			enc.string(string(f.data))
		}
	}
	enc.uint(uint64(len(components)))
	for _, c := range components {
		enc.string(c)
	}
	return sha256.Sum256(enc.buf)
}

// buildIdentity is the SHA-256 of the running program's build information
// (Go version, module versions, VCS revision, build settings): the template
// functions and the encoders behind toYaml and friends are part of the
// program, so a different build may render the same inputs differently.
func buildIdentity() [sha256.Size]byte {
	info := "no build information"
	if bi, ok := debug.ReadBuildInfo(); ok {
		info = bi.String()
	}
	return sha256.Sum256([]byte(info))
}

// keyPrefix is the SHA-256 of what every site's key of one render shares:
// the key format, the build, the template set, the fleet data and, when the
// set is not site-local, all sites.
func (e *Engine) keyPrefix(f *inventory.Fleet) ([sha256.Size]byte, error) {
	var enc encoder
	enc.string(keyFormat)
	enc.buf = append(enc.buf, e.build[:]...)
	enc.buf = append(enc.buf, e.digest[:]...)
	enc.value(reflect.ValueOf(FleetData{Name: f.Name, GitOps: f.GitOps}))
	enc.bool(e.siteLocal)
	enc.bool(e.originBlind)
	if !e.siteLocal {
		enc.value(reflect.ValueOf(f.Sites))
	}
	if enc.err != nil {
		return [sha256.Size]byte{}, fmt.Errorf("render key: %w", enc.err)
	}
	return sha256.Sum256(enc.buf), nil
}

// siteKey is the render key of site s: the lowercase hex SHA-256 of the
// render's key prefix and the site's full value, without its Origins when
// no template can observe them (originBlind). enc is the caller's scratch
// encoder.
func siteKey(enc *encoder, prefix [sha256.Size]byte, s *inventory.Site, originBlind bool) (string, error) {
	enc.buf, enc.err = append(enc.buf[:0], prefix[:]...), nil
	if originBlind {
		c := *s
		c.Origins = nil
		s = &c
	}
	enc.value(reflect.ValueOf(s).Elem())
	if enc.err != nil {
		return "", fmt.Errorf("render key of site %q: %w", s.Name, enc.err)
	}
	sum := sha256.Sum256(enc.buf)
	return hex.EncodeToString(sum[:]), nil
}

// encoder appends a value to buf so that two values of the same type give
// the same bytes exactly when a template could not tell them apart: every
// field (exported or not, whatever its json tag), nil apart from empty for
// maps, slices and pointers, maps in key order. Lengths prefix variable-size
// parts, so no two values of a type share an encoding. Field names and
// types are not written: keys also cover the build, which fixes the types.
type encoder struct {
	buf []byte
	err error
}

func (e *encoder) uint(u uint64) { e.buf = binary.BigEndian.AppendUint64(e.buf, u) }

func (e *encoder) bool(b bool) {
	if b {
		e.buf = append(e.buf, 1)
	} else {
		e.buf = append(e.buf, 0)
	}
}

func (e *encoder) string(s string) {
	e.uint(uint64(len(s)))
	e.buf = append(e.buf, s...)
}

func (e *encoder) value(v reflect.Value) {
	if e.err != nil {
		return
	}
	switch v.Kind() {
	case reflect.Bool:
		e.bool(v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.uint(uint64(v.Int()))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		e.uint(v.Uint())
	case reflect.Float32, reflect.Float64:
		e.uint(math.Float64bits(v.Float()))
	case reflect.String:
		e.string(v.String())
	case reflect.Pointer, reflect.Interface:
		e.bool(!v.IsNil())
		if !v.IsNil() {
			if v.Kind() == reflect.Interface {
				e.string(v.Elem().Type().String())
			}
			e.value(v.Elem())
		}
	case reflect.Slice:
		e.bool(!v.IsNil())
		if v.IsNil() {
			return
		}
		fallthrough
	case reflect.Array:
		e.uint(uint64(v.Len()))
		for i := range v.Len() {
			e.value(v.Index(i))
		}
	case reflect.Map:
		e.bool(!v.IsNil())
		if v.IsNil() {
			return
		}
		e.uint(uint64(v.Len()))
		if m, ok := stringMap(v); ok {
			for _, k := range slices.Sorted(maps.Keys(m)) {
				e.string(k)
				e.string(m[k])
			}
			return
		}
		if v.Type().Key().Kind() != reflect.String {
			e.err = fmt.Errorf("cannot encode map with %s keys", v.Type().Key())
			return
		}
		type entry struct {
			key string
			val reflect.Value
		}
		entries := make([]entry, 0, v.Len())
		for it := v.MapRange(); it.Next(); {
			entries = append(entries, entry{it.Key().String(), it.Value()})
		}
		slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.key, b.key) })
		for _, en := range entries {
			e.string(en.key)
			e.value(en.val)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			e.value(v.Field(i))
		}
	default:
		e.err = fmt.Errorf("cannot encode a value of type %s", v.Type())
	}
}

// stringMap returns v as a map[string]string when it is one (the common
// case, encoded without reflection).
func stringMap(v reflect.Value) (map[string]string, bool) {
	if !v.CanInterface() {
		return nil, false
	}
	m, ok := v.Interface().(map[string]string)
	return m, ok
}
