package tree

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"sort"
	"strings"
)

const ledgerHeader = "# fleetgen ledger v1"

// ErrLedgerCorrupt is matched (errors.Is) by every *LedgerCorruptError.
var ErrLedgerCorrupt = errors.New("fleetgen ledger is corrupt")

// LedgerCorruptError reports a ledger or journal file that cannot be parsed.
type LedgerCorruptError struct {
	File   string // relative to the root: a ledger file or ".fleetgen/journal"
	Line   int    // 1-based; 0 when the problem is not tied to a line
	Reason string
}

func (e *LedgerCorruptError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Reason)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Reason)
}

// Is makes errors.Is(err, ErrLedgerCorrupt) true.
func (e *LedgerCorruptError) Is(target error) bool { return target == ErrLedgerCorrupt }

// Entry is one file fleetgen wrote.
type Entry struct {
	Path string // slash-separated, relative to the root
	Site string // owning site; "" for fleet-level files
	Hash string // lowercase hex SHA-256 of the content fleetgen wrote
}

// LedgerState says where a Ledger came from.
type LedgerState int

const (
	// LedgerPresent: read from .fleetgen/ledger.d (or the one-file
	// .fleetgen/ledger of earlier releases).
	LedgerPresent LedgerState = iota
	// LedgerMissing: no ledger on disk (first run, or it was deleted). The
	// ledger is empty: fleetgen owns nothing.
	LedgerMissing
	// LedgerCorrupt: a ledger file (or a leftover journal) could not be
	// parsed. MakePlan then proceeds as with LedgerMissing and adds a note.
	LedgerCorrupt
	// LedgerRecovered: an interrupted apply left .fleetgen/journal; the
	// ledger was reconstructed from it and the files on disk.
	LedgerRecovered
)

// Ledger is the record of the files fleetgen owns under a root.
type Ledger struct {
	Entries []Entry // sorted by Path, paths unique
	State   LedgerState
	// journal is the interrupted apply's journal when State is
	// LedgerRecovered; Apply uses it to clean up after that run.
	journal *journal
	// sums are the SHA-256 of each file of .fleetgen/ledger.d, by path,
	// when State is LedgerPresent.
	sums map[string]string
	// legacy is set when the ledger was read from the one-file
	// .fleetgen/ledger of earlier releases.
	legacy bool
}

func lookup(es []Entry, path string) (Entry, bool) {
	i := sort.Search(len(es), func(i int) bool { return es[i].Path >= path })
	if i < len(es) && es[i].Path == path {
		return es[i], true
	}
	return Entry{}, false
}

// textDigest is the digest of the ledger: the lowercase hex SHA-256 of
// its one-file form (that of .fleetgen/ledger in earlier releases: the
// header line, then one line per entry sorted by path), hashed as it is
// encoded, so that the form of a large ledger (some 120 MB at 100,000
// sites) is never held whole. The form depends only on the entries, so equal
// ledgers have equal digests. On disk the entries are split by site (see
// ledgerdir.go), in the same line format.
func (l *Ledger) textDigest() (string, error) {
	h := sha256.New()
	b, err := l.appendText(make([]byte, 0, 2*textChunk), func(b []byte) { h.Write(b) })
	if err != nil {
		return "", err
	}
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// textChunk is how much of the encoding appendText holds before it hands
// it to its flush function.
const textChunk = 64 << 10

// appendText appends the ledger's one-file form to b. With flush set, it hands
// b to flush whenever b holds textChunk bytes or more, and goes on in
// b[:0]; the rest is returned.
func (l *Ledger) appendText(b []byte, flush func([]byte)) ([]byte, error) {
	es := l.Entries
	if !slices.IsSortedFunc(es, func(a, b Entry) int { return strings.Compare(a.Path, b.Path) }) {
		es = append([]Entry(nil), es...)
		sort.Slice(es, func(i, j int) bool { return es[i].Path < es[j].Path })
	}
	b = append(b, ledgerHeader+"\n"...)
	for i, e := range es {
		if err := checkEntry(e); err != nil {
			return nil, err
		}
		if i > 0 && es[i-1].Path == e.Path {
			return nil, fmt.Errorf("ledger: duplicate path %q", e.Path)
		}
		b = append(appendEntry(b, e), '\n')
		if flush != nil && len(b) >= textChunk {
			flush(b)
			b = b[:0]
		}
	}
	return b, nil
}

// appendEntry appends an entry's line, without its newline, to b.
func appendEntry(b []byte, e Entry) []byte {
	site := e.Site
	if site == "" {
		site = "-"
	}
	b = append(b, e.Hash...)
	b = append(b, "  "...)
	b = append(b, site...)
	b = append(b, "  "...)
	return append(b, e.Path...)
}

func checkEntry(e Entry) error {
	if err := validPath(e.Path); err != nil {
		return err
	}
	if err := validSite(e.Site); err != nil {
		return err
	}
	if !isHash(e.Hash) {
		return fmt.Errorf("path %q: hash %q is not a lowercase hex SHA-256", e.Path, e.Hash)
	}
	return nil
}

func isHash(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// parseEntry parses "<hash>  <site or ->  <path>".
func parseEntry(line string) (Entry, error) {
	hash, rest, ok := strings.Cut(line, "  ")
	if !ok {
		return Entry{}, errors.New(`expected "<sha256>  <site or ->  <path>"`)
	}
	site, p, ok := strings.Cut(rest, "  ")
	if !ok {
		return Entry{}, errors.New(`expected "<sha256>  <site or ->  <path>"`)
	}
	if site == "-" {
		site = ""
	}
	e := Entry{Path: p, Site: site, Hash: hash}
	if err := checkEntry(e); err != nil {
		return Entry{}, err
	}
	return e, nil
}

// ParseLedger decodes a ledger from its on-disk form. Any deviation from the
// format (header, field layout, hash syntax, path rules, strictly increasing
// paths) is a *LedgerCorruptError.
func ParseLedger(data []byte) (*Ledger, error) {
	corrupt := func(line int, format string, args ...any) error {
		return &LedgerCorruptError{File: legacyLedgerFile, Line: line, Reason: fmt.Sprintf(format, args...)}
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		return nil, corrupt(0, "truncated: does not end with a newline")
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) == 0 || lines[0] != ledgerHeader {
		return nil, corrupt(1, "first line must be %q", ledgerHeader)
	}
	l := &Ledger{State: LedgerPresent, Entries: make([]Entry, 0, len(lines)-1)}
	for i, line := range lines[1:] {
		n := i + 2
		e, err := parseEntry(line)
		if err != nil {
			return nil, corrupt(n, "%v", err)
		}
		if k := len(l.Entries); k > 0 && l.Entries[k-1].Path >= e.Path {
			return nil, corrupt(n, "path %q out of order or repeated", e.Path)
		}
		l.Entries = append(l.Entries, e)
	}
	return l, nil
}

// ReadLedger reads the ownership record of root.
//
//   - No root, or no ledger (neither .fleetgen/ledger.d nor the one-file
//     .fleetgen/ledger of earlier releases): an empty ledger with State
//     LedgerMissing and a nil error.
//   - A ledger file that does not parse, or both layouts at once: a
//     *LedgerCorruptError (errors.Is ErrLedgerCorrupt).
//   - A leftover .fleetgen/journal from an interrupted apply: the ledger is
//     recovered from the journal and the files on disk (see the package
//     documentation) and has State LedgerRecovered; the ledger files are
//     consulted only as far as the journal refers to them. A journal that does not parse is a *LedgerCorruptError.
//
// ReadLedger never writes.
func ReadLedger(root string) (*Ledger, error) {
	r, err := openRoot(root)
	if err != nil {
		return nil, err
	}
	if r != nil {
		defer r.Close()
	}
	return readLedger(r)
}

func readLedger(r *os.Root) (*Ledger, error) {
	if r == nil {
		return &Ledger{State: LedgerMissing}, nil
	}
	if err := checkStateDir(r); err != nil {
		return nil, err
	}
	j, err := readJournal(r)
	if err != nil {
		return nil, err
	}
	if j != nil {
		return recoverLedger(r, j)
	}
	dir, err := readLedgerDir(r)
	if err != nil {
		return nil, err
	}
	data, err := readRegular(r, legacyLedgerFile)
	legacy := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	switch {
	case dir.exists && legacy:
		return nil, &LedgerCorruptError{File: legacyLedgerFile, Reason: fmt.Sprintf(
			"both %s (the one-file ledger of earlier releases) and %s/ exist; remove the one that is out of date", legacyLedgerFile, ledgerDir)}
	case dir.exists:
		es, err := mergeLedgerFiles(dir.files)
		if err != nil {
			return nil, err
		}
		return &Ledger{State: LedgerPresent, Entries: es, sums: dir.sums}, nil
	case legacy:
		l, err := ParseLedger(data)
		if err != nil {
			return nil, err
		}
		l.legacy = true
		return l, nil
	}
	return &Ledger{State: LedgerMissing}, nil
}

// readRegular reads a bookkeeping file, refusing symlinks.
func readRegular(r *os.Root, rel string) ([]byte, error) {
	return readRegularIn(r, rel, rel)
}

// readRegularIn is readRegular of the file name in the directory r, which
// is rel in the tree: errors name rel.
func readRegularIn(r *os.Root, name, rel string) ([]byte, error) {
	fi, err := r.Lstat(name)
	if err != nil {
		return nil, renamed(err, name, rel)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", rel)
	}
	data, err := r.ReadFile(name)
	return data, renamed(err, name, rel)
}

// renamed is err with the path name of an *fs.PathError replaced by rel.
func renamed(err error, name, rel string) error {
	var pe *fs.PathError
	if name == rel || !errors.As(err, &pe) || pe.Path != name {
		return err
	}
	return &fs.PathError{Op: pe.Op, Path: rel, Err: pe.Err}
}

// recoverLedger rebuilds ownership after an interrupted apply. For every path
// the journal knows: if the disk holds the content the interrupted apply
// meant to write, the target entry holds; otherwise the entry from before
// that apply (if any) still holds.
func recoverLedger(r *os.Root, j *journal) (*Ledger, error) {
	paths := map[string]bool{}
	for _, e := range j.base {
		paths[e.Path] = true
	}
	for _, e := range j.target {
		paths[e.Path] = true
	}
	l := &Ledger{State: LedgerRecovered, journal: j}
	for _, p := range sortedKeys(paths) {
		t, inTarget := lookup(j.target, p)
		if b, inBase := lookup(j.base, p); inTarget && inBase && b == t {
			l.Entries = append(l.Entries, t) // the apply did not change it
			continue
		}
		d, err := inspect(r, p)
		if err != nil {
			return nil, fmt.Errorf("recovering from %s: %w", journalFile, err)
		}
		if t, ok := lookup(j.target, p); ok && d.exists && d.hash == t.Hash {
			l.Entries = append(l.Entries, t)
		} else if b, ok := lookup(j.base, p); ok {
			l.Entries = append(l.Entries, b)
		}
	}
	return l, nil
}

func sortedKeys(m map[string]bool) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func entriesEqual(a, b []Entry) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// LedgerDigest is the lowercase hex SHA-256 of the ledger file Apply
// writes for this plan (the ledger's text form of the plan's target).
func (p *Plan) LedgerDigest() (string, error) {
	if p.ledgerDigest != "" {
		return p.ledgerDigest, nil // Apply wrote it
	}
	return (&Ledger{Entries: p.target}).textDigest()
}
