package tree

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
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
	want := map[string]string{}
	for _, f := range sample().Files {
		site := f.Site
		if site == "" {
			site = "-"
		}
		rel := ledgerFileOf(f.Site)
		if want[rel] == "" {
			want[rel] = ledgerDirHeader + "\n"
		}
		want[rel] += hashOf(f.Data) + "  " + site + "  " + f.Path + "\n"
	}
	entries, err := os.ReadDir(filepath.Join(root, filepath.FromSlash(ledgerDir)))
	if err != nil || len(entries) != len(want) {
		t.Fatalf("ledger directory: %v, %v; want %d files", entries, err, len(want))
	}
	for rel, w := range want {
		if got, _ := readFile(t, root, rel); got != w {
			t.Errorf("%s:\n%s\nwant:\n%s", rel, got, w)
		}
	}
	if got, _ := readFile(t, root, gitignoreFile); got != gitignoreContent {
		t.Errorf("%s = %q", gitignoreFile, got)
	}
	if exists(t, root, legacyLedgerFile) {
		t.Errorf("%s written", legacyLedgerFile)
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
			if ce.Line != tc.line || ce.File != legacyLedgerFile {
				t.Fatalf("error at %s:%d, want %s:%d (%v)", ce.File, ce.Line, legacyLedgerFile, tc.line, err)
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
	writeFile(t, tmp, legacyLedgerFile, "nonsense\n")
	if _, err := ReadLedger(tmp); !errors.Is(err, ErrLedgerCorrupt) {
		t.Fatalf("corrupt ledger: err = %v", err)
	}
	root := filepath.Join(t.TempDir(), "out") // not inside tmp, which now looks like a tree
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
	// A delta journal names the two ledgers first.
	d := deltaJournal(j.base, j.target, hashOf([]byte("old")), hashOf([]byte("new")))
	d.writes, d.delete, d.prune = j.writes, j.delete, j.prune
	data = d.marshal()
	if !strings.HasPrefix(string(data), journalDeltaHeader+"\nledger "+d.ledger+"\nnext "+d.next+"\nbase "+h+"  s  b/c\nwrite a\n") {
		t.Fatalf("delta journal:\n%s", data)
	}
	if back, err = parseJournal(data); err != nil || !reflect.DeepEqual(back, d) {
		t.Fatalf("delta round trip: %+v, %v, want %+v", back, err, d)
	}
	for _, bad := range []string{
		journalDeltaHeader + "\n",
		journalDeltaHeader + "\nledger x\nnext " + d.next + "\n",
		journalDeltaHeader + "\nledger " + d.ledger + "\nbase " + h + "  -  a\n",
	} {
		if _, err := parseJournal([]byte(bad)); !errors.Is(err, ErrLedgerCorrupt) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// An apply over a ledger the plan was made against writes a journal of
// only the entries that change; recovery takes the rest from whichever
// ledger is on disk, the one the apply started from or the one it wrote,
// and refuses any other.
func TestJournalDelta(t *testing.T) {
	root := filepath.Join(t.TempDir(), "out")
	a := bigTree(1, 0, 20)
	applyTree(t, root, a, PlanOptions{})
	before, err := ReadLedger(root)
	if err != nil {
		t.Fatal(err)
	}
	// One file changes, one site goes, one comes.
	b := bigTree(1, 1, 21)
	for i, f := range b.Files {
		if f.Path == siteDir(5)+"/file-00.yaml" {
			b.Files[i].Data = []byte("changed\n")
		}
	}
	p, err := MakePlan(root, b, PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var journalText string
	p.hook = func(step, _ string) {
		if step == "journal" {
			journalText, _ = readFile(t, root, journalFile)
		}
	}
	if err := Apply(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	after, err := ReadLedger(root)
	if err != nil {
		t.Fatal(err)
	}
	j, err := parseJournal([]byte(journalText))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(journalText, journalFilesHeader+"\n") || len(j.base) != 11 || len(j.target) != 11 {
		t.Fatalf("journal of a 21-file change has %d base and %d target entries:\n%.300s", len(j.base), len(j.target), journalText)
	}
	var refs []string
	for _, f := range j.files {
		refs = append(refs, f.file)
	}
	if want := []string{ledgerFileOf("s000"), ledgerFileOf("s005"), ledgerFileOf("s020")}; !reflect.DeepEqual(refs, want) {
		t.Fatalf("journal refers to ledger files %q, want %q", refs, want)
	}

	// Recovery from the delta journal is recovery from the whole one, with
	// each changed ledger file as the apply found it or as it wrote it, in
	// any combination (interrupted before, while or after writing them).
	whole := &journal{base: before.Entries, target: after.Entries, writes: j.writes, delete: j.delete, prune: j.prune}
	recovered := func(journalText string) []Entry {
		t.Helper()
		writeFile(t, root, journalFile, journalText)
		l, err := ReadLedger(root)
		if err != nil || l.State != LedgerRecovered {
			t.Fatalf("recovering: %v, state %v", err, l.State)
		}
		return l.Entries
	}
	oldFiles, err := marshalLedgerFiles(before.Entries)
	if err != nil {
		t.Fatal(err)
	}
	newFiles, err := marshalLedgerFiles(after.Entries)
	if err != nil {
		t.Fatal(err)
	}
	set := func(rel string, files map[string][]byte) {
		if data, ok := files[rel]; ok {
			writeFile(t, root, rel, string(data))
		} else {
			os.Remove(filepath.Join(root, filepath.FromSlash(rel)))
		}
	}
	for mask := range 1 << len(refs) {
		for i, rel := range refs {
			if mask&(1<<i) != 0 {
				set(rel, newFiles)
			} else {
				set(rel, oldFiles)
			}
		}
		want := recovered(string(whole.marshal()))
		if got := recovered(journalText); !reflect.DeepEqual(got, want) {
			t.Fatalf("state %b: recovered from the delta journal: %d entries, from the whole journal: %d", mask, len(got), len(want))
		}
		if !reflect.DeepEqual(want, before.Entries) && !reflect.DeepEqual(want, after.Entries) {
			// Files the interrupted apply had written hold either way.
			if len(want) < 10 {
				t.Fatalf("state %b: recovered %d entries", mask, len(want))
			}
		}
	}
	// Any other content: the journal cannot be completed.
	writeFile(t, root, ledgerFileOf("s005"), ledgerDirHeader+"\n")
	if _, err := ReadLedger(root); !errors.Is(err, ErrLedgerCorrupt) || !strings.Contains(err.Error(), journalFile) {
		t.Fatalf("journal beside another ledger: %v", err)
	}
	if err := os.RemoveAll(filepath.Join(root, filepath.FromSlash(ledgerDir))); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadLedger(root); !errors.Is(err, ErrLedgerCorrupt) {
		t.Fatalf("journal without a ledger: %v", err)
	}
}

func TestPatchEntries(t *testing.T) {
	e := func(p, h string) Entry { return Entry{Path: p, Hash: strings.Repeat(h, 64)} }
	base := []Entry{e("a", "1"), e("b", "1"), e("c", "1"), e("e", "1")}
	target := []Entry{e("b", "2"), e("c", "1"), e("d", "1"), e("f", "1")}
	onlyBase, onlyTarget := diffEntries(base, target)
	if want := []Entry{e("a", "1"), e("b", "1"), e("e", "1")}; !reflect.DeepEqual(onlyBase, want) {
		t.Fatalf("only in base: %v", onlyBase)
	}
	if want := []Entry{e("b", "2"), e("d", "1"), e("f", "1")}; !reflect.DeepEqual(onlyTarget, want) {
		t.Fatalf("only in target: %v", onlyTarget)
	}
	if got := patchEntries(base, onlyBase, onlyTarget); !reflect.DeepEqual(got, target) {
		t.Fatalf("base patched: %v, want %v", got, target)
	}
	if got := patchEntries(target, onlyTarget, onlyBase); !reflect.DeepEqual(got, base) {
		t.Fatalf("target patched back: %v, want %v", got, base)
	}
}

// A journal that parses marshals back to one that parses to the same.
func FuzzParseJournal(f *testing.F) {
	h := hashOf([]byte("x"))
	whole := &journal{base: []Entry{{Path: "a", Hash: h}}, target: []Entry{{Path: "a", Site: "s", Hash: h}}, writes: []string{"a"}, prune: []string{"b"}}
	f.Add(whole.marshal())
	d := deltaJournal(whole.base, whole.target, h, hashOf([]byte("y")))
	d.delete = []string{"c/d"}
	f.Add(d.marshal())
	v3 := filesJournal(whole.base, whole.target, map[string]string{ledgerFileOf(""): h},
		map[string][]byte{ledgerFileOf("s"): []byte("x")})
	v3.writes = []string{"a"}
	f.Add(v3.marshal())
	f.Fuzz(func(t *testing.T, data []byte) {
		j, err := parseJournal(data)
		if err != nil {
			return
		}
		back, err := parseJournal(j.marshal())
		if err != nil || !reflect.DeepEqual(back, j) {
			t.Fatalf("round trip of %q: %+v, %v; want %+v", data, back, err, j)
		}
	})
}

// The ledger's digest, hashed as it is encoded, is the hash of its
// encoding, for ledgers of one chunk and of many, sorted or not, and it
// fails where the encoding fails.
func TestLedgerTextDigest(t *testing.T) {
	entries := func(n int) []Entry {
		es := make([]Entry, n)
		for i := range es {
			site := fmt.Sprintf("store-%05d", (n-i)/8)
			es[i] = Entry{Path: fmt.Sprintf("overlays/%s/f%d.yaml", site, i%8), Site: site, Hash: hashOf([]byte(site))}
		}
		return es
	}
	for _, n := range []int{0, 3, 5000} {
		for _, sorted := range []bool{false, true} {
			l := &Ledger{Entries: entries(n)}
			if sorted {
				slices.SortFunc(l.Entries, func(a, b Entry) int { return strings.Compare(a.Path, b.Path) })
			}
			data, err := l.MarshalText()
			if err != nil {
				t.Fatal(err)
			}
			if n == 5000 && len(data) < 4*textChunk {
				t.Fatalf("%d entries encode to %d bytes: too few to cross chunks", n, len(data))
			}
			got, err := l.textDigest()
			if err != nil || got != hashOf(data) {
				t.Errorf("%d entries, sorted %v: textDigest = %s, %v; want %s", n, sorted, got, err, hashOf(data))
			}
		}
	}
	bad := &Ledger{Entries: append(entries(2), Entry{Path: "../escape", Hash: hashOf(nil)})}
	if _, err := bad.MarshalText(); err == nil {
		t.Fatal("MarshalText took a path out of the tree")
	}
	if d, err := bad.textDigest(); err == nil {
		t.Errorf("textDigest of a ledger MarshalText refuses = %s, want an error", d)
	}
}
