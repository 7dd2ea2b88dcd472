package charts

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
	"helm.sh/helm/v4/pkg/chart/v2/loader"

	"github.com/fleetgen/fleetgen/pkg/charts/chartref"
)

// The lock file: where `fleetgen charts pull` records each remote chart it
// downloaded, next to the inventory.
const (
	// LockFileName is the lock file's name, in the directory of the
	// (first) inventory file.
	LockFileName = "charts.lock.yaml"
	// PulledDir is where pulled charts are kept, relative to the lock
	// file's directory.
	PulledDir = "charts/.pulled"
	// LockAPIVersion and LockKind head the lock file.
	LockAPIVersion = "fleetgen.dev/v1alpha1"
	LockKind       = "ChartLock"
	// maxLockSize bounds what ParseLock reads.
	maxLockSize = 4 << 20
)

// LockEntry is one pulled chart version.
type LockEntry struct {
	// Repo and Chart are as in the inventory: Chart an oci:// URL, or
	// with Repo (an HTTP(S) chart repository) the chart's name.
	Repo, Chart string
	Version     string
	// File is the packaged chart, slash separated, relative to the lock
	// file's directory.
	File string
	// SHA256 is the hex SHA-256 of File's bytes.
	SHA256 string
	// ManifestDigest is the digest of the OCI manifest the chart was
	// pulled with (sha256:...); "" for HTTP(S) repositories.
	ManifestDigest string
	// Line is the entry's line in the lock file it was read from (0 for
	// an entry made in memory).
	Line int
}

// Ref is the entry's chart reference.
func (e LockEntry) Ref() (Ref, error) { return chartref.Parse(e.Chart, e.Repo) }

// Lock is a parsed lock file.
type Lock struct {
	// Name is the file's name in messages.
	Name    string
	Entries []LockEntry
}

// LockProblems are every problem of a lock file, each naming its line.
type LockProblems struct {
	Name     string
	Problems []LockProblem
}

// LockProblem is one problem at a line and column of a lock file.
type LockProblem struct {
	Line, Column int
	Msg          string
}

func (e *LockProblems) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = fmt.Sprintf("%s:%d:%d: %s", e.Name, p.Line, p.Column, p.Msg)
	}
	return strings.Join(msgs, "\n")
}

var (
	hexSHA256    = regexp.MustCompile(`^[0-9a-f]{64}$`)
	ociDigest    = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	lockFields   = []string{"apiVersion", "kind", "charts"}
	lockEntryKey = []string{"repo", "chart", "version", "file", "sha256", "manifestDigest"}
)

// ParseLock reads a lock file strictly: known fields only, every entry a
// remote chart with one exact version, a relative .tgz path inside the
// repository, a SHA-256, and no chart version twice. name is used in
// messages.
func ParseLock(name string, data []byte) (*Lock, error) {
	lock := &Lock{Name: name}
	ps := &LockProblems{Name: name}
	add := func(n *yaml.Node, format string, args ...any) {
		ps.Problems = append(ps.Problems, LockProblem{Line: n.Line, Column: n.Column, Msg: fmt.Sprintf(format, args...)})
	}
	if len(data) > maxLockSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, maxLockSize)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: not a chart lock (a mapping with apiVersion %s, kind %s, charts)", name, LockAPIVersion, LockKind)
	}
	top := doc.Content[0]
	seenTop := map[string]bool{}
	var charts *yaml.Node
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		if seenTop[k.Value] {
			add(k, "field %q is given twice", k.Value)
			continue
		}
		seenTop[k.Value] = true
		switch k.Value {
		case "apiVersion":
			if v.Kind != yaml.ScalarNode || v.Value != LockAPIVersion {
				add(v, "apiVersion must be %s", LockAPIVersion)
			}
		case "kind":
			if v.Kind != yaml.ScalarNode || v.Value != LockKind {
				add(v, "kind must be %s", LockKind)
			}
		case "charts":
			charts = v
		default:
			add(k, "unknown field %q; allowed fields: %s", k.Value, strings.Join(lockFields, ", "))
		}
	}
	for _, f := range []string{"apiVersion", "kind"} {
		if !seenTop[f] {
			add(top, "%s is missing (%s)", f, map[string]string{"apiVersion": LockAPIVersion, "kind": LockKind}[f])
		}
	}
	if charts != nil && !(charts.Kind == yaml.ScalarNode && charts.Tag == "!!null") {
		if charts.Kind != yaml.SequenceNode {
			add(charts, "charts must be a list of pulled charts")
		} else {
			first := map[string]int{}
			for _, item := range charts.Content {
				e, ok := lockEntry(item, add)
				if !ok {
					continue
				}
				key := e.Repo + "\x00" + e.Chart + "\x00" + e.Version
				if line, dup := first[key]; dup {
					add(item, "chart %s version %s is locked twice (first at line %d)", describeEntry(e), e.Version, line)
					continue
				}
				first[key] = e.Line
				lock.Entries = append(lock.Entries, e)
			}
		}
	}
	if len(ps.Problems) > 0 {
		return nil, ps
	}
	return lock, nil
}

// lockEntry reads and checks one entry.
func lockEntry(n *yaml.Node, add func(*yaml.Node, string, ...any)) (LockEntry, bool) {
	e := LockEntry{Line: n.Line}
	if n.Kind != yaml.MappingNode {
		add(n, "a pulled chart must be a mapping (%s)", strings.Join(lockEntryKey, ", "))
		return e, false
	}
	ok := true
	at := map[string]*yaml.Node{}
	fields := map[string]*string{"repo": &e.Repo, "chart": &e.Chart, "version": &e.Version, "file": &e.File, "sha256": &e.SHA256, "manifestDigest": &e.ManifestDigest}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if fields[k.Value] == nil {
			add(k, "unknown field %q; allowed fields: %s", k.Value, strings.Join(lockEntryKey, ", "))
			ok = false
			continue
		}
		if at[k.Value] != nil {
			add(k, "field %q is given twice", k.Value)
			ok = false
			continue
		}
		at[k.Value] = v
		if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
			add(v, "%s must be a string", k.Value)
			ok = false
			continue
		}
		*fields[k.Value] = v.Value
	}
	if !ok {
		return e, false
	}
	for _, f := range []string{"chart", "version", "file", "sha256"} {
		if at[f] == nil {
			add(n, "%s is missing", f)
			ok = false
		}
	}
	if !ok {
		return e, false
	}
	ref, err := e.Ref()
	switch {
	case err != nil:
		add(at["chart"], "chart %q: %v", e.Chart, err)
		ok = false
	case !ref.Remote():
		add(at["chart"], "chart %q: only remote charts (oci://, or a chart with repo) are pulled and locked", e.Chart)
		ok = false
	}
	if err := chartref.CheckVersion(e.Version); err != nil {
		add(at["version"], "version %q: %v", e.Version, err)
		ok = false
	}
	if msg := checkLockedFile(e.File); msg != "" {
		add(at["file"], "file %q: %s", e.File, msg)
		ok = false
	}
	if !hexSHA256.MatchString(e.SHA256) {
		add(at["sha256"], "sha256 must be 64 lowercase hex digits")
		ok = false
	}
	if e.ManifestDigest != "" {
		if err == nil && ref.Kind != chartref.OCI {
			add(at["manifestDigest"], "manifestDigest is for charts pulled from an OCI registry")
			ok = false
		} else if !ociDigest.MatchString(e.ManifestDigest) {
			add(at["manifestDigest"], "manifestDigest must be sha256: and 64 lowercase hex digits")
			ok = false
		}
	}
	return e, ok
}

// checkLockedFile says why p cannot be the path of a pulled chart, or "".
func checkLockedFile(p string) string {
	switch {
	case p == "" || strings.ContainsAny(p, "\\\x00") || strings.HasPrefix(p, "/") || path.Clean(p) != p:
		return "must be a clean relative path, slash separated"
	case p == ".." || strings.HasPrefix(p, "../"):
		return "must be inside the directory of the lock file"
	case !strings.HasSuffix(p, ".tgz"):
		return "must be a packaged chart (.tgz)"
	}
	return ""
}

func describeEntry(e LockEntry) string {
	if e.Repo != "" {
		return e.Chart + " (repo " + e.Repo + ")"
	}
	return e.Chart
}

// Find returns the entry of ref at version.
func (l *Lock) Find(ref Ref, version string) (LockEntry, bool) {
	if l == nil {
		return LockEntry{}, false
	}
	for _, e := range l.Entries {
		if e.Version != version {
			continue
		}
		if r, err := e.Ref(); err == nil && r == ref {
			return e, true
		}
	}
	return LockEntry{}, false
}

// Marshal writes the lock file: entries sorted by repository, chart and
// version, each field in a fixed order, so the same entries always give
// the same bytes.
func (l *Lock) Marshal() []byte {
	entries := slices.Clone(l.Entries)
	slices.SortFunc(entries, func(a, b LockEntry) int {
		return strings.Compare(a.Repo+"\x00"+a.Chart+"\x00"+a.Version, b.Repo+"\x00"+b.Chart+"\x00"+b.Version)
	})
	var b bytes.Buffer
	b.WriteString("# Written by fleetgen charts pull: the remote charts of the inventory,\n# pinned by digest. Commit it with the files it names; generation\n# renders only charts whose file matches its sha256 here.\n")
	fmt.Fprintf(&b, "apiVersion: %s\nkind: %s\n", LockAPIVersion, LockKind)
	if len(entries) == 0 {
		b.WriteString("charts: []\n")
		return b.Bytes()
	}
	b.WriteString("charts:\n")
	for _, e := range entries {
		lead := "  - "
		field := func(k, v string) {
			if v == "" {
				return
			}
			fmt.Fprintf(&b, "%s%s: %s\n", lead, k, strconv.Quote(v))
			lead = "    "
		}
		field("repo", e.Repo)
		field("chart", e.Chart)
		field("version", e.Version)
		field("file", e.File)
		field("sha256", e.SHA256)
		field("manifestDigest", e.ManifestDigest)
	}
	return b.Bytes()
}

// PulledPath is where pull keeps a chart version, relative to the lock
// file's directory: charts/.pulled/oci/HOST/REPO/NAME-VERSION.tgz for OCI,
// charts/.pulled/http(s)/HOST/PATH/NAME-VERSION.tgz for a chart
// repository; characters a file name should not hold (":" of a port)
// become "_".
func PulledPath(ref Ref, version string) string {
	var dir string
	switch ref.Kind {
	case chartref.OCI:
		rest := strings.TrimPrefix(ref.URL, chartref.OCIScheme)
		dir = "oci/" + rest[:strings.LastIndex(rest, "/")]
	default:
		scheme, rest, _ := strings.Cut(ref.URL, "://")
		dir = scheme + "/" + rest
	}
	segs := strings.Split(dir, "/")
	for i, s := range segs {
		segs[i] = safeSegment(s)
	}
	return path.Join(PulledDir, path.Join(segs...), safeSegment(ref.Name+"-"+version)+".tgz")
}

// safeSegment makes s a portable file name.
func safeSegment(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' || c == '+') {
			b[i] = '_'
		}
	}
	if s == "" || s == "." || s == ".." {
		return "_"
	}
	return string(b)
}

// FileDigest is the hex SHA-256 of data, as the lock records it.
func FileDigest(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// LoadPulled loads the chart that entry e of the lock names, from dir (the
// lock file's directory), once its bytes match the entry's SHA-256 and its
// Chart.yaml names the chart and version the entry locks. A missing file
// is an error wrapping fs.ErrNotExist.
func LoadPulled(dir string, e LockEntry, lockName string) (*Chart, error) {
	p := filepath.Join(dir, filepath.FromSlash(e.File))
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("pulled chart %s (%s:%d): %w", p, lockName, e.Line, err)
	}
	if got := FileDigest(data); got != e.SHA256 {
		return nil, fmt.Errorf("pulled chart %s has sha256 %s, but %s:%d locks %s: the file changed since it was pulled", p, got, lockName, e.Line, e.SHA256)
	}
	c, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("loading pulled chart %s: %w", p, err)
	}
	ref, err := e.Ref()
	if err != nil {
		return nil, err
	}
	if c.Name() != ref.Name || c.Metadata.Version != e.Version {
		return nil, fmt.Errorf("pulled chart %s is %s %s, not %s %s as %s:%d locks", p, c.Name(), c.Metadata.Version, ref.Name, e.Version, lockName, e.Line)
	}
	return &Chart{c: c, Source: p, Digest: digest(c)}, nil
}
