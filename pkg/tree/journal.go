package tree

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

const journalHeader = "# fleetgen journal v1"

// journal is the on-disk record of an apply in progress. It is written
// (atomically) before the first change to the tree and removed after the new
// ledger is in place.
type journal struct {
	base   []Entry  // ownership before the apply, sorted
	target []Entry  // ownership after the apply, sorted
	writes []string // files being created or replaced, sorted
	delete []string // files being deleted, sorted
	prune  []string // directories to remove if they end up empty, sorted
}

func (j *journal) marshal() []byte {
	var b bytes.Buffer
	line := make([]byte, 0, 256)
	b.Grow(len(journalHeader) + 1 + 128*(len(j.base)+len(j.target)))
	b.WriteString(journalHeader + "\n")
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
	if lines[0] != journalHeader {
		return nil, corrupt(1, "first line must be %q", journalHeader)
	}
	j := &journal{}
	for i, line := range lines[1:] {
		n := i + 2
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
	return parseJournal(data)
}
