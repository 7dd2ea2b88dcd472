package index

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"slices"
)

// Compact encodings of the index's large lists. gob encodes a slice of
// structs field by field through reflection; at 10,000 sites that was
// most of the time a run spent loading its index. These encode strings
// with a length, digests (64 lowercase hex digits) as their 32 bytes, and
// the rarely present verdict details (skipped objects, findings) as the
// bytes pkg/pipeline encoded them to, with a length.

// SiteList is the site records of an index.
type SiteList []Site

// RenderList is the render keys of an index.
type RenderList []Render

// WiringList is the wiring summaries of an index.
type WiringList []Wiring

var errDamaged = errors.New("index: damaged list")

type encoder struct{ buf []byte }

func (e *encoder) uvarint(v uint64) { e.buf = binary.AppendUvarint(e.buf, v) }

func (e *encoder) string(s string) {
	e.uvarint(uint64(len(s)))
	e.buf = append(e.buf, s...)
}

// digest writes a lowercase hex SHA-256 as its bytes, anything else as a
// string.
func (e *encoder) digest(s string) {
	var sum [32]byte
	if len(s) == 64 && isLowerHex(s) {
		if _, err := hex.Decode(sum[:], []byte(s)); err == nil {
			e.buf = append(e.buf, 1)
			e.buf = append(e.buf, sum[:]...)
			return
		}
	}
	e.buf = append(e.buf, 0)
	e.string(s)
}

// bytes writes b with its length; nil and empty are the same.
func (e *encoder) bytes(b []byte) {
	e.uvarint(uint64(len(b)))
	e.buf = append(e.buf, b...)
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

type decoder struct {
	data []byte
	bad  bool
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.data)
	if n <= 0 {
		d.bad = true
		return 0
	}
	d.data = d.data[n:]
	return v
}

func (d *decoder) take(n uint64) []byte {
	if d.bad || n > uint64(len(d.data)) {
		d.bad = true
		return nil
	}
	b := d.data[:n]
	d.data = d.data[n:]
	return b
}

func (d *decoder) string() string { return string(d.take(d.uvarint())) }

func (d *decoder) digest() string {
	switch kind := d.take(1); {
	case d.bad:
		return ""
	case kind[0] == 1:
		return hex.EncodeToString(d.take(32))
	case kind[0] == 0:
		return d.string()
	}
	d.bad = true
	return ""
}

func (d *decoder) int() int {
	v := d.uvarint()
	if v > 1<<31 {
		d.bad = true
	}
	return int(v)
}

// count reads a list length, which cannot exceed the bytes left.
func (d *decoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.data)) {
		d.bad = true
		return 0
	}
	return int(n)
}

// bytes reads what encoder.bytes wrote: nil when it was empty.
func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if n == 0 || d.bad {
		return nil
	}
	b := d.take(n)
	if d.bad {
		return nil
	}
	return slices.Clone(b)
}

func (d *decoder) done() error {
	if d.bad || len(d.data) != 0 {
		return errDamaged
	}
	return nil
}

// GobEncode implements gob.GobEncoder.
func (l SiteList) GobEncode() ([]byte, error) {
	e := &encoder{buf: make([]byte, 0, 128*len(l)+8)}
	e.uvarint(uint64(len(l)))
	for _, s := range l {
		e.string(s.Name)
		e.string(s.Dir)
		e.digest(s.Target)
		e.digest(s.Digest)
		if s.Units < 0 {
			return nil, errors.New("index: negative unit list index")
		}
		e.uvarint(uint64(s.Units))
		e.bytes(s.Skipped)
		e.bytes(s.Findings)
	}
	return e.buf, nil
}

// GobDecode implements gob.GobDecoder.
func (l *SiteList) GobDecode(data []byte) error {
	d := &decoder{data: data}
	out := make(SiteList, d.count())
	for i := range out {
		s := &out[i]
		s.Name, s.Dir = d.string(), d.string()
		s.Target, s.Digest = d.digest(), d.digest()
		s.Units = d.int()
		s.Skipped, s.Findings = d.bytes(), d.bytes()
		if d.bad {
			return errDamaged
		}
	}
	if err := d.done(); err != nil {
		return err
	}
	*l = out
	return nil
}

// GobEncode implements gob.GobEncoder.
func (l RenderList) GobEncode() ([]byte, error) {
	e := &encoder{buf: make([]byte, 0, 56*len(l)+8)}
	e.uvarint(uint64(len(l)))
	for _, r := range l {
		e.string(r.Site)
		e.digest(r.Key)
	}
	return e.buf, nil
}

// GobDecode implements gob.GobDecoder.
func (l *RenderList) GobDecode(data []byte) error {
	d := &decoder{data: data}
	out := make(RenderList, d.count())
	for i := range out {
		out[i] = Render{Site: d.string(), Key: d.digest()}
		if d.bad {
			return errDamaged
		}
	}
	if err := d.done(); err != nil {
		return err
	}
	*l = out
	return nil
}

// GobEncode implements gob.GobEncoder.
func (l WiringList) GobEncode() ([]byte, error) {
	e := &encoder{buf: make([]byte, 0, 96*len(l)+8)}
	e.uvarint(uint64(len(l)))
	for _, w := range l {
		e.string(w.Path)
		e.digest(w.Hash)
		e.uvarint(uint64(len(w.Refs)))
		for _, r := range w.Refs {
			if r.Doc < 0 || r.Gen < 0 || r.Elem < 0 {
				return nil, errors.New("index: negative wiring index")
			}
			e.buf = append(e.buf, byte(r.Kind))
			e.uvarint(uint64(r.Doc))
			e.string(r.Path)
			e.uvarint(uint64(r.Gen))
			e.uvarint(uint64(r.Elem))
			e.string(r.Site)
			e.string(r.Account)
		}
	}
	return e.buf, nil
}

// GobDecode implements gob.GobDecoder.
func (l *WiringList) GobDecode(data []byte) error {
	d := &decoder{data: data}
	out := make(WiringList, d.count())
	for i := range out {
		w := &out[i]
		w.Path, w.Hash = d.string(), d.digest()
		if n := d.count(); n > 0 {
			w.Refs = make([]Ref, n)
			for j := range w.Refs {
				r := &w.Refs[j]
				if k := d.take(1); !d.bad {
					r.Kind = k[0]
				}
				r.Doc = d.int()
				r.Path = d.string()
				r.Gen, r.Elem = d.int(), d.int()
				r.Site = d.string()
				r.Account = d.string()
			}
		}
		if d.bad {
			return errDamaged
		}
	}
	if err := d.done(); err != nil {
		return err
	}
	*l = out
	return nil
}
