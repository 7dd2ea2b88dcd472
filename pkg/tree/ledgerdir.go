package tree

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// The ledger is a directory, .fleetgen/ledger.d, with one file per site,
// <site>.ledger, and one for the fleet-level files, _fleet.ledger (a site
// name never starts with '_'). Each file is the header line and the entries
// of that site, one per line sorted by path, in the line format of the
// one-file ledger. A file changes only when its site's files change, no file
// grows with the number of sites, and two branches that add different sites
// add different files, which git merges without conflict.
const (
	ledgerDirHeader = "# fleetgen ledger v2"
	ledgerExt       = ".ledger"
	fleetLedgerName = "_fleet"
)

// gitignoreContent is .fleetgen/.gitignore: what under .fleetgen is local
// to this checkout. The ledger is the only part meant to be committed.
const gitignoreContent = `# Written by fleetgen. The lock, the journal of an interrupted write and
# temporary files are local to this checkout; commit ledger.d/ only.
/lock
/journal
.fleetgen-tmp-*
`

// ledgerFileOf is the ledger file of a site ("" for fleet-level files).
func ledgerFileOf(site string) string {
	if site == "" {
		site = fleetLedgerName
	}
	return ledgerDir + "/" + site + ledgerExt
}

// marshalLedgerFiles encodes entries (sorted by path, paths unique) as the
// ledger directory's files, by path relative to the root.
func marshalLedgerFiles(es []Entry) (map[string][]byte, error) {
	out := map[string][]byte{}
	last := map[string]string{}
	for _, e := range es {
		if err := checkEntry(e); err != nil {
			return nil, err
		}
		rel := ledgerFileOf(e.Site)
		b, ok := out[rel]
		if !ok {
			b = append(make([]byte, 0, 4096), ledgerDirHeader+"\n"...)
		} else if last[rel] >= e.Path {
			return nil, fmt.Errorf("ledger: path %q out of order or repeated", e.Path)
		}
		last[rel] = e.Path
		out[rel] = append(appendEntry(b, e), '\n')
	}
	return out, nil
}

// parseLedgerFile decodes the ledger file rel of site.
func parseLedgerFile(rel, site string, data []byte) ([]Entry, error) {
	corrupt := func(line int, format string, args ...any) error {
		return &LedgerCorruptError{File: rel, Line: line, Reason: fmt.Sprintf(format, args...)}
	}
	if len(data) == 0 || data[len(data)-1] != '\n' {
		return nil, corrupt(0, "truncated: does not end with a newline")
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if lines[0] != ledgerDirHeader {
		return nil, corrupt(1, "first line must be %q", ledgerDirHeader)
	}
	es := make([]Entry, 0, len(lines)-1)
	for i, line := range lines[1:] {
		n := i + 2
		e, err := parseEntry(line)
		if err != nil {
			return nil, corrupt(n, "%v", err)
		}
		if e.Site != site {
			want := site
			if want == "" {
				want = "-"
			}
			return nil, corrupt(n, "path %q belongs to site %q, but this file holds the entries of %q", e.Path, e.Site, want)
		}
		if k := len(es); k > 0 && es[k-1].Path >= e.Path {
			return nil, corrupt(n, "path %q out of order or repeated", e.Path)
		}
		es = append(es, e)
	}
	return es, nil
}

// ledgerDirState is the ledger directory as read.
type ledgerDirState struct {
	exists bool
	files  map[string][]Entry // by path relative to the root
	sums   map[string]string  // SHA-256 of each file
}

// readLedgerDir reads every ledger file of the ledger directory. Temporary
// files and names not ending in .ledger are left alone.
func readLedgerDir(r *os.Root) (*ledgerDirState, error) {
	st := &ledgerDirState{files: map[string][]Entry{}, sums: map[string]string{}}
	fi, err := r.Lstat(ledgerDir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return st, nil
	case err != nil:
		return nil, err
	case fi.Mode()&fs.ModeSymlink != 0:
		return nil, fmt.Errorf("%s: refusing to follow a symlink", ledgerDir)
	case !fi.IsDir():
		return nil, fmt.Errorf("%s: not a directory", ledgerDir)
	}
	st.exists = true
	// The files are read through a root at the directory: each lookup is
	// then one name, not the walk of every component from the tree's root.
	d, err := r.OpenRoot(ledgerDir)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	entries, err := fs.ReadDir(d.FS(), ".")
	if err != nil {
		return nil, err
	}
	type file struct {
		name, rel, site string
		data            []byte
		err             error
	}
	var files []file
	for _, e := range entries {
		name := e.Name()
		site, ok := strings.CutSuffix(name, ledgerExt)
		if !ok || strings.HasPrefix(name, tmpPrefix) {
			continue
		}
		rel := path.Join(ledgerDir, name)
		if site == fleetLedgerName {
			site = ""
		} else if err := validSite(site); err != nil || site == "" {
			return nil, &LedgerCorruptError{File: rel, Reason: "the file name is not <site>.ledger or " + fleetLedgerName + ledgerExt}
		}
		files = append(files, file{name: name, rel: rel, site: site})
	}
	// One file per site: read them on every CPU (the lookups are system
	// calls), then report the first problem in name order.
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(files)) {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < len(files); i = int(next.Add(1)) - 1 {
				f := &files[i]
				f.data, f.err = readRegularIn(d, f.name, f.rel)
			}
		})
	}
	wg.Wait()
	for _, f := range files {
		if f.err != nil {
			return nil, f.err
		}
		es, err := parseLedgerFile(f.rel, f.site, f.data)
		if err != nil {
			return nil, err
		}
		st.files[f.rel] = es
		st.sums[f.rel] = hashOf(f.data)
	}
	return st, nil
}

// mergeLedgerFiles returns the entries of all files, sorted by path.
func mergeLedgerFiles(files map[string][]Entry) ([]Entry, error) {
	n := 0
	for _, es := range files {
		n += len(es)
	}
	all := make([]Entry, 0, n)
	for _, es := range files {
		all = append(all, es...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Path < all[j].Path })
	for i := 1; i < len(all); i++ {
		if all[i].Path == all[i-1].Path {
			return nil, &LedgerCorruptError{File: ledgerFileOf(all[i].Site),
				Reason: fmt.Sprintf("path %q is also in %s", all[i].Path, ledgerFileOf(all[i-1].Site))}
		}
	}
	return all, nil
}

// sortedFileNames returns the keys of m, sorted.
func sortedFileNames[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// LedgerRead is the ledger of a root as one read of its files found it,
// with no interrupted apply pending. The steps of one run that need the
// ledger (checking it against a seal, planning, sealing) share one
// LedgerRead rather than each reading the ledger's files, one per site:
// ReadLedgerState makes it, PlanOptions.Ledger hands it to MakePlan, and
// Plan.LedgerRead returns the one a plan was made against. Like a
// changes.Snapshot it must not outlive the run that made it, nor be used
// across a write to the tree. It is safe for concurrent use.
type LedgerRead struct {
	root   string
	ledger *Ledger // State LedgerPresent or LedgerMissing
	digest func() (string, error)
}

func newLedgerRead(root string, l *Ledger) *LedgerRead {
	return &LedgerRead{root: root, ledger: l, digest: sync.OnceValues(l.textDigest)}
}

// Digest is the digest of the ledger: the SHA-256 of its entries in the
// one-file form, as Plan.LedgerDigest gives it for the ledger an apply
// writes.
func (l *LedgerRead) Digest() (string, error) { return l.digest() }

// Entries are the ledger's entries, sorted by path; the caller must not
// change them.
func (l *LedgerRead) Entries() []Entry { return l.ledger.Entries }

// Files are the paths, relative to the root, of the files that hold the
// ledger, sorted.
func (l *LedgerRead) Files() []string {
	if l.ledger.legacy {
		return []string{legacyLedgerFile}
	}
	return sortedFileNames(l.ledger.sums)
}

// ReadLedgerState reads the ledger of root. It fails when root does not
// exist (errors.Is fs.ErrNotExist), when an interrupted apply left a
// journal, and as ReadLedger does.
func ReadLedgerState(root string) (*LedgerRead, error) {
	r, err := openRoot(root)
	if err != nil || r == nil {
		return nil, errors.Join(err, fs.ErrNotExist)
	}
	defer r.Close()
	if _, err := r.Lstat(journalFile); err == nil {
		return nil, fmt.Errorf("%s: an interrupted apply is pending", journalFile)
	}
	l, err := readLedger(r)
	switch {
	case err != nil:
		return nil, err
	case l.State == LedgerRecovered: // the journal appeared since
		return nil, fmt.Errorf("%s: an interrupted apply is pending", journalFile)
	}
	return newLedgerRead(root, l), nil
}
