package tree

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLedgerRoundTrip(t *testing.T) {
	h1, h2 := hashOf([]byte("one")), hashOf([]byte("two"))
	l := &Ledger{Entries: []Entry{
		{Path: "overlays/b/kustomization.yaml", Site: "b", Hash: h2},
		{Path: "base/kustomization.yaml", Hash: h1},
		{Path: "base/with space.yaml", Hash: h2},
	}}
	data, err := l.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	want := "# fleetgen ledger v1\n" +
		h1 + "  -  base/kustomization.yaml\n" +
		h2 + "  -  base/with space.yaml\n" +
		h2 + "  b  overlays/b/kustomization.yaml\n"
	if string(data) != want {
		t.Fatalf("MarshalText:\n%s\nwant:\n%s", data, want)
	}
	back, err := ParseLedger(data)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := back.MarshalText()
	if string(again) != want || back.State != LedgerPresent {
		t.Fatalf("round trip changed the ledger:\n%s", again)
	}
	if e, ok := back.Lookup("overlays/b/kustomization.yaml"); !ok || e.Site != "b" || e.Hash != h2 {
		t.Fatalf("Lookup = %+v, %v", e, ok)
	}
}

func TestLedgerWrittenByApply(t *testing.T) {
	root := filepath.Join(t.TempDir(), "out")
	applyTree(t, root, sample(), PlanOptions{})
	got, _ := readFile(t, root, ledgerFile)
	var want strings.Builder
	want.WriteString(ledgerHeader + "\n")
	for _, f := range sample().Files {
		site := f.Site
		if site == "" {
			site = "-"
		}
		want.WriteString(hashOf(f.Data) + "  " + site + "  " + f.Path + "\n")
	}
	if got != want.String() {
		t.Fatalf("ledger:\n%s\nwant:\n%s", got, want.String())
	}
}

func TestParseLedgerCorrupt(t *testing.T) {
	h := hashOf(nil)
	tests := []struct {
		name, data string
		line       int
	}{
		{"empty", "", 1},
		{"wrong header", "# fleetgen ledger v2\n", 1},
		{"no final newline", "# fleetgen ledger v1\n" + h + "  -  a", 0},
		{"short hash", "# fleetgen ledger v1\nabc  -  a\n", 2},
		{"upper-case hash", "# fleetgen ledger v1\n" + strings.ToUpper(h) + "  -  a\n", 2},
		{"single spaces", "# fleetgen ledger v1\n" + h + " - a\n", 2},
		{"no path", "# fleetgen ledger v1\n" + h + "  -\n", 2},
		{"blank line", "# fleetgen ledger v1\n\n", 2},
		{"out of order", "# fleetgen ledger v1\n" + h + "  -  b\n" + h + "  -  a\n", 3},
		{"duplicate", "# fleetgen ledger v1\n" + h + "  -  a\n" + h + "  x  a\n", 3},
		{"dot dot", "# fleetgen ledger v1\n" + h + "  -  ../etc/passwd\n", 2},
		{"absolute", "# fleetgen ledger v1\n" + h + "  -  /etc/passwd\n", 2},
		{"bookkeeping path", "# fleetgen ledger v1\n" + h + "  -  .fleetgen/lock\n", 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseLedger([]byte(tc.data))
			var ce *LedgerCorruptError
			if !errors.Is(err, ErrLedgerCorrupt) || !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a LedgerCorruptError", err)
			}
			if ce.Line != tc.line || ce.File != ledgerFile {
				t.Fatalf("error at %s:%d, want %s:%d (%v)", ce.File, ce.Line, ledgerFile, tc.line, err)
			}
		})
	}
}

func TestReadLedger(t *testing.T) {
	tmp := t.TempDir()
	l, err := ReadLedger(filepath.Join(tmp, "missing"))
	if err != nil || l.State != LedgerMissing || len(l.Entries) != 0 {
		t.Fatalf("missing root: %+v, %v", l, err)
	}
	l, err = ReadLedger(tmp)
	if err != nil || l.State != LedgerMissing {
		t.Fatalf("root without ledger: %+v, %v", l, err)
	}
	writeFile(t, tmp, ledgerFile, "nonsense\n")
	if _, err := ReadLedger(tmp); !errors.Is(err, ErrLedgerCorrupt) {
		t.Fatalf("corrupt ledger: err = %v", err)
	}
	root := filepath.Join(tmp, "out")
	applyTree(t, root, sample(), PlanOptions{})
	l, err = ReadLedger(root)
	if err != nil || l.State != LedgerPresent || len(l.Entries) != len(sample().Files) {
		t.Fatalf("after apply: %+v, %v", l, err)
	}
	writeFile(t, root, journalFile, "# fleetgen journal v1\nbogus record\n")
	if _, err := ReadLedger(root); !errors.Is(err, ErrLedgerCorrupt) || !strings.Contains(err.Error(), journalFile) {
		t.Fatalf("corrupt journal: err = %v", err)
	}
}

func TestJournalRoundTrip(t *testing.T) {
	h := hashOf([]byte("x"))
	j := &journal{
		base:   []Entry{{Path: "a", Hash: h}, {Path: "b/c", Site: "s", Hash: h}},
		target: []Entry{{Path: "a", Hash: h}},
		writes: []string{"a"},
		delete: []string{"b/c"},
		prune:  []string{"b"},
	}
	data := j.marshal()
	want := "# fleetgen journal v1\n" +
		"base " + h + "  -  a\n" +
		"base " + h + "  s  b/c\n" +
		"target " + h + "  -  a\n" +
		"write a\n" +
		"delete b/c\n" +
		"prune b\n"
	if string(data) != want {
		t.Fatalf("journal:\n%s\nwant:\n%s", data, want)
	}
	back, err := parseJournal(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, j) {
		t.Fatalf("round trip: %+v, want %+v", back, j)
	}
}
