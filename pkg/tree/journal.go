package tree

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"
)

// Journal headers: a v1 journal lists the whole ownership before and after
// the apply; a v2 journal (earlier releases, one-file ledger) names the
// ledger file it started from and the one it writes (by SHA-256) and lists
// only the entries that differ; a v3 journal does the same for each file of
// the ledger directory that the apply changes.
const (
	journalHeader      = "# fleetgen journal v1"
	journalDeltaHeader = "# fleetgen journal v2"
	journalFilesHeader = "# fleetgen journal v3"
)

// ledgerRef names a ledger file an apply changes: its SHA-256 before and
// after ("" when it does not exist).
type ledgerRef struct {
	file, before, after string
}

// journal is the on-disk record of an apply in progress. It is written
// (atomically) before the first change to the tree and removed after the new
// ledger is in place.
type journal struct {
	base   []Entry  // ownership before the apply, sorted
	target []Entry  // ownership after the apply, sorted
	writes []string // files being created or replaced, sorted
	delete []string // files being deleted, sorted
	prune  []string // directories to remove if they end up empty, sorted
	// ledger and next, when set, are the SHA-256 of the ledger file the
	// apply started from and of the one it writes. On disk, base and
	// target then hold only the entries that differ between the two; the
	// others are those of whichever of the two ledgers is on disk
	// (complete).
	ledger, next string
	// files, when set (v3), are the ledger files the apply changes. On
	// disk, base and target then hold only the entries that differ; each
	// listed file is either as before or as after, and every other ledger
	// file is the same before and after.
	files []ledgerRef
}

// filesJournal is the journal of an apply from the ledger directory whose
// files have the digests sums (entries base) to the ledger target, written
// as the files next (from marshalLedgerFiles).
func filesJournal(base, target []Entry, sums map[string]string, next map[string][]byte) *journal {
	j := &journal{files: []ledgerRef{}}
	j.base, j.target = diffEntries(base, target)
	for _, f := range sortedFileNames(next) {
		if after := hashOf(next[f]); sums[f] != after {
			j.files = append(j.files, ledgerRef{file: f, before: sums[f], after: after})
		}
	}
	for _, f := range sortedFileNames(sums) {
		if _, ok := next[f]; !ok {
			j.files = append(j.files, ledgerRef{file: f, before: sums[f]})
		}
	}
	sort.Slice(j.files, func(a, b int) bool { return j.files[a].file < j.files[b].file })
	return j
}

// diffEntries returns the entries of a that are not in b exactly alike, and
// those of b not in a; both lists are sorted by path.
func diffEntries(a, b []Entry) (onlyA, onlyB []Entry) {
	i, k := 0, 0
	for i < len(a) || k < len(b) {
		switch {
		case k == len(b) || (i < len(a) && a[i].Path < b[k].Path):
			onlyA = append(onlyA, a[i])
			i++
		case i == len(a) || b[k].Path < a[i].Path:
			onlyB = append(onlyB, b[k])
			k++
		default:
			if a[i] != b[k] {
				onlyA, onlyB = append(onlyA, a[i]), append(onlyB, b[k])
			}
			i++
			k++
		}
	}
	return onlyA, onlyB
}

// patchEntries returns full without the paths of remove, with add: the
// other side of a diff (diffEntries) of full. All three are sorted.
func patchEntries(full, remove, add []Entry) []Entry {
	drop := make(map[string]bool, len(remove))
	for _, e := range remove {
		drop[e.Path] = true
	}
	out := make([]Entry, 0, len(full)+len(add))
	k := 0
	for _, e := range full {
		for k < len(add) && add[k].Path < e.Path {
			out = append(out, add[k])
			k++
		}
		if !drop[e.Path] {
			out = append(out, e)
		}
	}
	return append(out, add[k:]...)
}

// complete fills in a v2 journal's entries from the ledger file on disk,
// which must be the one the apply started from or the one it wrote.
func (j *journal) complete(r *os.Root) error {
	if j.files != nil {
		return j.completeFiles(r)
	}
	if j.ledger == "" {
		return nil
	}
	corrupt := func(format string, args ...any) error {
		return &LedgerCorruptError{File: journalFile, Reason: fmt.Sprintf(format, args...)}
	}
	data, err := readRegular(r, legacyLedgerFile)
	if errors.Is(err, fs.ErrNotExist) {
		return corrupt("it lists changes to %s, which is missing", legacyLedgerFile)
	}
	if err != nil {
		return err
	}
	led, err := ParseLedger(data)
	if err != nil {
		return err
	}
	switch hashOf(data) {
	case j.ledger:
		j.base, j.target = led.Entries, patchEntries(led.Entries, j.base, j.target)
	case j.next:
		j.base, j.target = patchEntries(led.Entries, j.target, j.base), led.Entries
	default:
		return corrupt("%s is neither the ledger the interrupted apply started from nor the one it was writing (edited since?)", legacyLedgerFile)
	}
	return nil
}

// completeFiles fills in a v3 journal's entries from the ledger directory:
// each file it lists must be as the apply found it or as it wrote it.
func (j *journal) completeFiles(r *os.Root) error {
	dir, err := readLedgerDir(r)
	if err != nil {
		return err
	}
	listed := map[string]bool{}
	var base, target []Entry
	for _, ref := range j.files {
		listed[ref.file] = true
		var dBase, dTarget []Entry
		for _, e := range j.base {
			if ledgerFileOf(e.Site) == ref.file {
				dBase = append(dBase, e)
			}
		}
		for _, e := range j.target {
			if ledgerFileOf(e.Site) == ref.file {
				dTarget = append(dTarget, e)
			}
		}
		disk := dir.files[ref.file]
		switch dir.sums[ref.file] {
		case ref.before:
			base = append(base, disk...)
			target = append(target, patchEntries(disk, dBase, dTarget)...)
		case ref.after:
			target = append(target, disk...)
			base = append(base, patchEntries(disk, dTarget, dBase)...)
		default:
			return &LedgerCorruptError{File: journalFile, Reason: fmt.Sprintf(
				"%s is neither as the interrupted apply found it nor as it was writing it (edited since?)", ref.file)}
		}
	}
	for f, es := range dir.files {
		if !listed[f] {
			base = append(base, es...)
			target = append(target, es...)
		}
	}
	byPath := func(es []Entry) { sort.Slice(es, func(a, b int) bool { return es[a].Path < es[b].Path }) }
	byPath(base)
	byPath(target)
	j.base, j.target = base, target
	return nil
}

func (j *journal) marshal() []byte {
	var b bytes.Buffer
	line := make([]byte, 0, 256)
	b.Grow(len(journalHeader) + 1 + 128*(len(j.base)+len(j.target)) + 64*(len(j.writes)+len(j.delete)+len(j.prune)))
	switch {
	case j.files != nil:
		b.WriteString(journalFilesHeader + "\n")
		orDash := func(s string) string {
			if s == "" {
				return "-"
			}
			return s
		}
		for _, f := range j.files {
			b.WriteString("ledger " + f.file + " " + orDash(f.before) + " " + orDash(f.after) + "\n")
		}
	case j.ledger != "":
		b.WriteString(journalDeltaHeader + "\nledger " + j.ledger + "\nnext " + j.next + "\n")
	default:
		b.WriteString(journalHeader + "\n")
	}
	for _, e := range j.base {
		line = append(appendEntry(append(line[:0], "base "...), e), '\n')
		b.Write(line)
	}
	for _, e := range j.target {
		line = append(appendEntry(append(line[:0], "target "...), e), '\n')
		b.Write(line)
	}
	for _, p := range j.writes {
		b.WriteString("write " + p + "\n")
	}
	for _, p := range j.delete {
		b.WriteString("delete " + p + "\n")
	}
	for _, p := range j.prune {
		b.WriteString("prune " + p + "\n")
	}
	return b.Bytes()
}

func parseJournal(data []byte) (*journal, error) {
	corrupt := func(line int, format string, args ...any) error {
		return &LedgerCorruptError{File: journalFile, Line: line, Reason: fmt.Sprintf(format, args...)}
	}
	if len(data) == 0 || data[len(data)-1] != '\n' {
		return nil, corrupt(0, "truncated: does not end with a newline")
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	j := &journal{}
	first := 1
	switch lines[0] {
	case journalHeader:
	case journalFilesHeader:
		j.files = []ledgerRef{}
		for first < len(lines) && strings.HasPrefix(lines[first], "ledger ") {
			ref, ok := parseLedgerRef(strings.TrimPrefix(lines[first], "ledger "))
			if !ok || ref.before == ref.after || (len(j.files) > 0 && j.files[len(j.files)-1].file >= ref.file) {
				return nil, corrupt(first+1, "want a ledger record: ledger <file> <sha256 or -> <sha256 or ->, files sorted")
			}
			j.files = append(j.files, ref)
			first++
		}
	case journalDeltaHeader:
		if len(lines) < 3 {
			return nil, corrupt(len(lines)+1, "missing the ledger and next records")
		}
		var ok bool
		if j.ledger, ok = strings.CutPrefix(lines[1], "ledger "); !ok || !isHash(j.ledger) {
			return nil, corrupt(2, "want the ledger record: ledger <sha256>")
		}
		if j.next, ok = strings.CutPrefix(lines[2], "next "); !ok || !isHash(j.next) {
			return nil, corrupt(3, "want the next record: next <sha256>")
		}
		first = 3
	default:
		return nil, corrupt(1, "first line must be %q, %q or %q", journalHeader, journalDeltaHeader, journalFilesHeader)
	}
	for i, line := range lines[first:] {
		n := i + first + 1
		kind, rest, _ := strings.Cut(line, " ")
		switch kind {
		case "base", "target":
			e, err := parseEntry(rest)
			if err != nil {
				return nil, corrupt(n, "%v", err)
			}
			list := &j.base
			if kind == "target" {
				list = &j.target
			}
			if k := len(*list); k > 0 && (*list)[k-1].Path >= e.Path {
				return nil, corrupt(n, "path %q out of order or repeated", e.Path)
			}
			*list = append(*list, e)
		case "write", "delete", "prune":
			if err := validPath(rest); err != nil {
				return nil, corrupt(n, "%v", err)
			}
			switch kind {
			case "write":
				j.writes = append(j.writes, rest)
			case "delete":
				j.delete = append(j.delete, rest)
			default:
				j.prune = append(j.prune, rest)
			}
		default:
			return nil, corrupt(n, "unknown record %q", kind)
		}
	}
	return j, nil
}

// readJournal returns the leftover journal, or nil if there is none.
func readJournal(r *os.Root) (*journal, error) {
	data, err := readRegular(r, journalFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	j, err := parseJournal(data)
	if err != nil {
		return nil, err
	}
	if err := j.complete(r); err != nil {
		return nil, err
	}
	return j, nil
}

// parseLedgerRef parses "<file> <sha256 or -> <sha256 or ->".
func parseLedgerRef(rest string) (ledgerRef, bool) {
	f := strings.Split(rest, " ")
	if len(f) != 3 {
		return ledgerRef{}, false
	}
	name, ok := strings.CutPrefix(f[0], ledgerDir+"/")
	if !ok || !strings.HasSuffix(name, ledgerExt) || strings.Contains(name, "/") || strings.HasPrefix(name, ".") {
		return ledgerRef{}, false
	}
	ref := ledgerRef{file: f[0]}
	for i, h := range f[1:] {
		if h == "-" {
			h = ""
		} else if !isHash(h) {
			return ledgerRef{}, false
		}
		if i == 0 {
			ref.before = h
		} else {
			ref.after = h
		}
	}
	return ref, true
}
