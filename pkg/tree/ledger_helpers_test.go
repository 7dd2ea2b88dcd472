package tree

import "fmt"

// Helpers only tests call: production code reads Ledger.Entries through
// lookup and never prints a LedgerState.

// Lookup returns the entry for path, if any.
func (l *Ledger) Lookup(path string) (Entry, bool) {
	return lookup(l.Entries, path)
}

func (s LedgerState) String() string {
	switch s {
	case LedgerPresent:
		return "present"
	case LedgerMissing:
		return "missing"
	case LedgerCorrupt:
		return "corrupt"
	case LedgerRecovered:
		return "recovered"
	}
	return fmt.Sprintf("LedgerState(%d)", int(s))
}

// ReadLedgerDigest returns the digest of the ledger of root and the
// paths, relative to root, of the files that hold it, as a LedgerRead
// gives them. It fails as ReadLedgerState does.
func ReadLedgerDigest(root string) (digest string, files []string, err error) {
	l, err := ReadLedgerState(root)
	if err != nil {
		return "", nil, err
	}
	if digest, err = l.Digest(); err != nil {
		return "", nil, err
	}
	return digest, l.Files(), nil
}

// MarshalText encodes the ledger in its one-file form, whose hash is its
// digest (textDigest).
func (l *Ledger) MarshalText() ([]byte, error) {
	return l.appendText(make([]byte, 0, len(ledgerHeader)+1+128*len(l.Entries)), nil)
}
