package index

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/fleetgen/fleetgen/pkg/cache"
)

// format changes whenever the meaning of an index changes.
const format = "fleetgen-index-v6"

// Index is what one run learned about one output tree.
type Index struct {
	// Salt is the salt of the program that wrote it (verify.Salt).
	Salt string
	// Inputs is the digest of the render's inputs (see Inputs).
	Inputs string
	// Selected are the sites the run verified, sorted.
	Selected []string
	// Files are the rendered files of the run, sorted by path.
	Files FileList
	// Sites are the records of sites that passed, sorted by name.
	Sites SiteList
	// Units are the distinct dependency lists; Site.Units indexes them.
	Units [][]string
	// Renders are the render keys of the run's sites (render.Tree's
	// SiteKeys), sorted by site: a site whose key is unchanged renders
	// the files recorded for it in Files.
	Renders RenderList
	// Wiring are the summaries of the GitOps wiring files of the run, by
	// path and content hash, sorted by path.
	Wiring WiringList
	// Stats is the tree's stat cache (changes.StatCache's binary form). It is
	// stored apart (SaveStats), so a run that learnt nothing else rewrites
	// only it.
	Stats []byte

	// id identifies the stored index (a digest of its encoding), for seals.
	id string
}

// File is one rendered file, known by its content hash.
type File struct {
	Path string
	Site string
	Hash string // lowercase hex SHA-256
	Size int64
	Seed bool
}

// Render is the render key of a site.
type Render struct {
	Site, Key string
}

// Wiring is the summary of a GitOps wiring file with this content: the
// references it makes (pkg/pipeline converts them from and to the wiring
// checks' own summary).
type Wiring struct {
	Path, Hash string
	Refs       []Ref
}

// Ref is one reference a wiring file makes, as stored: what it stands for
// (Kind, a code of the wiring checks), the object's document number in the
// file (Doc, from 1), a path, generator and element indexes and a site.
type Ref struct {
	Kind      byte
	Doc       int
	Path      string
	Gen, Elem int
	Site      string
	// Account is the service account a Flux Kustomization applies as
	// (namespace/name), "" when it names none.
	Account string
}

// Access is one access of an overlay's build to its file system: Op is
// "read", "isdir", "exists", "abs", "readdir" or "glob", Path the path
// (pattern, for a glob) it was made with.
type Access struct {
	Op, Path string
}

// Site is the verification record of a site that passed.
type Site struct {
	Name string
	// Dir is the overlay directory relative to the tree root.
	Dir string
	// Target is the digest of the verification target (TargetDigest).
	Target string
	// Digest covers the salt, the target and what the tree holds for
	// each unit (see Digest).
	Digest string
	// Units indexes Index.Units.
	Units int
	// Skipped and Findings are what the verification result carries
	// besides its site and directory (the objects the schema check skipped,
	// the policy findings), encoded by pkg/pipeline; nil when there are
	// none. The index stores them as they are.
	Skipped, Findings []byte
}

// Keys are the cache keys of the index of the tree at root, of its stat
// cache and of its seal.
func Keys(root string) []string {
	return []string{key(root), statsKey(root), sealKey(root), sealDataKey(root)}
}

func key(root string) string {
	return cache.Key([]byte(format), []byte(absRoot(root)))
}

func sealKey(root string) string {
	return cache.Key([]byte(format), []byte("seal"), []byte(absRoot(root)))
}

func sealDataKey(root string) string {
	return cache.Key([]byte(format), []byte("seal-paths"), []byte(absRoot(root)))
}

func statsKey(root string) string {
	return cache.Key([]byte(format), []byte("stats"), []byte(absRoot(root)))
}

func absRoot(root string) string {
	if abs, err := filepath.Abs(root); err == nil {
		root = abs
	}
	return filepath.Clean(root)
}

// Stored is an index read from the cache and not decoded yet: its inputs
// digest is known at once, so that a caller can decide what to do while
// the rest is decoded (Decode).
type Stored struct {
	// Inputs is the digest of the render inputs of the run that wrote
	// the index, as the header says; the decoded index's is authoritative.
	Inputs string

	data       []byte
	sum        string
	salt       string
	c          *cache.Dir
	statsEntry string
}

// header is what precedes the gob encoding of an index: the salt and the
// inputs digest, each on a line.
func header(salt, inputs string) string { return salt + "\n" + inputs + "\n" }

// Open reads the index of the tree at root written by a program with this
// salt; nil when there is none or another program's.
func Open(c *cache.Dir, root, salt string) *Stored {
	if c == nil {
		return nil
	}
	data, sum, ok := c.GetSum(key(root))
	if !ok {
		return nil
	}
	rest, ok := bytes.CutPrefix(data, []byte(salt+"\n"))
	if !ok {
		return nil
	}
	inputs, body, ok := bytes.Cut(rest, []byte("\n"))
	if !ok {
		return nil
	}
	return &Stored{Inputs: string(inputs), data: body, sum: sum, salt: salt, c: c, statsEntry: statsKey(root)}
}

// Decode decodes the index; nil when it is damaged (a nil Stored decodes
// to nil).
func (s *Stored) Decode() *Index {
	if s == nil {
		return nil
	}
	var x Index
	if err := gob.NewDecoder(bytes.NewReader(s.data)).Decode(&x); err != nil {
		return nil
	}
	if x.Salt != s.salt || x.Inputs != s.Inputs || !x.valid() {
		return nil
	}
	x.Stats, _ = s.c.Get(s.statsEntry)
	x.id = s.sum
	return &x
}

// valid checks what lookups rely on: sorted, unique files and sites, and
// unit indexes in range.
func (x *Index) valid() bool {
	for i := 1; i < len(x.Files); i++ {
		if x.Files[i-1].Path >= x.Files[i].Path {
			return false
		}
	}
	for i, s := range x.Sites {
		if i > 0 && x.Sites[i-1].Name >= s.Name {
			return false
		}
		if s.Units < 0 || s.Units >= len(x.Units) {
			return false
		}
	}
	for i := 1; i < len(x.Renders); i++ {
		if x.Renders[i-1].Site >= x.Renders[i].Site {
			return false
		}
	}
	for i := 1; i < len(x.Wiring); i++ {
		if x.Wiring[i-1].Path >= x.Wiring[i].Path {
			return false
		}
	}
	return true
}

// Save stores the index of the tree at root, and its stat cache.
func (x *Index) Save(c *cache.Dir, root string) error {
	if err := x.Store(c, root); err != nil {
		return err
	}
	return SaveStats(c, root, x.Stats)
}

// Store stores the index of the tree at root without its stat cache, which
// SaveStats stores.
func (x *Index) Store(c *cache.Dir, root string) error {
	main := *x
	main.Stats = nil // stored under its own key
	// Written as it is encoded: at 100,000 sites a buffer of the whole
	// encoding (and the cache entry's copy of it) was hundreds of
	// megabytes, held while the tree was planned and written.
	id, err := c.PutFunc(key(root), func(w io.Writer) error {
		if _, err := io.WriteString(w, header(x.Salt, x.Inputs)); err != nil {
			return err
		}
		return gob.NewEncoder(w).Encode(&main)
	})
	if err != nil {
		return err
	}
	x.id = id
	return nil
}

// Seal is a changes.Seal of what a clean check of the tree looked at, with
// what it vouches for: the index it was made with (by the index's
// identity), the inputs and the selected sites.
type Seal struct {
	Index    string
	Inputs   string
	Selected []string
	// Ledger is the SHA-256 of the ledger file the tree is clean with.
	Ledger string
	Seal   []byte // changes.Seal's binary form
}

// SaveSeal stores the seal of the tree at root, made with index x (loaded
// or saved). A seal is only good with the index it names: saving another
// index voids it, unless CarrySeal carries it over.
func (x *Index) SaveSeal(c *cache.Dir, root string, seal []byte, ledger string) error {
	if x.id == "" {
		return errors.New("index: only a loaded or saved index can be sealed")
	}
	return saveSeal(c, root, Seal{Index: x.id, Inputs: x.Inputs, Selected: x.Selected, Ledger: ledger, Seal: seal})
}

// CarrySeal stores the seal the tree at root had with index from (if any,
// for the same selected sites) as the seal of index x, with the ledger the
// tree now has. Use it only when the run that made x left the tree clean
// (every verdict a pass, its plan applied): every path the run changed has
// new stat data, so the seal shows it changed. Only the seal's header is
// rewritten; its paths stay as they are.
func (x *Index) CarrySeal(c *cache.Dir, root string, from *Index, ledger string) error {
	h := readSealHeader(c, root)
	if h == nil || !from.made(h.Index, h.Inputs) || x.id == "" || !slices.Equal(h.Selected, x.Selected) {
		return nil
	}
	h.Index, h.Inputs, h.Ledger = x.id, x.Inputs, ledger
	return putSealHeader(c, root, h)
}

// A seal is stored as two entries: its paths (changes.Seal's binary form,
// megabytes for a large fleet) and a small header naming the checksum of
// the paths, so that carrying a seal over rewrites only the header.
type sealHeader struct {
	Index, Inputs string
	Selected      []string
	Ledger        string
	Data          string // cache checksum of the paths entry
}

func saveSeal(c *cache.Dir, root string, s Seal) error {
	if err := c.Put(sealDataKey(root), s.Seal); err != nil {
		return err
	}
	return putSealHeader(c, root, &sealHeader{Index: s.Index, Inputs: s.Inputs, Selected: s.Selected, Ledger: s.Ledger, Data: cache.Sum(s.Seal)})
}

func putSealHeader(c *cache.Dir, root string, h *sealHeader) error {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(h); err != nil {
		return err
	}
	return c.Put(sealKey(root), buf.Bytes())
}

func readSealHeader(c *cache.Dir, root string) *sealHeader {
	if c == nil {
		return nil
	}
	data, ok := c.Get(sealKey(root))
	if !ok {
		return nil
	}
	var h sealHeader
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&h); err != nil || h.Data == "" {
		return nil
	}
	return &h
}

// ReadSeal returns the seal stored for the tree at root, whichever index it
// was made with (see Index.Sealed), or nil. Paths that are not those the
// header names (a write of the seal that did not finish) are no seal.
func ReadSeal(c *cache.Dir, root string) *Seal {
	h := readSealHeader(c, root)
	if h == nil {
		return nil
	}
	data, sum, ok := c.GetSum(sealDataKey(root))
	if !ok || sum != h.Data {
		return nil
	}
	return &Seal{Index: h.Index, Inputs: h.Inputs, Selected: h.Selected, Ledger: h.Ledger, Seal: data}
}

// Sealed reports whether s was made with index x for its inputs.
func (x *Index) Sealed(s *Seal) bool {
	return s != nil && x.made(s.Index, s.Inputs)
}

// made reports whether a seal naming this index identity and inputs was
// made with x.
func (x *Index) made(id, inputs string) bool {
	return x != nil && x.id != "" && id == x.id && inputs == x.Inputs
}

// SaveStats stores the stat cache of the tree at root alone.
func SaveStats(c *cache.Dir, root string, stats []byte) error {
	return c.Put(statsKey(root), stats)
}

// FileList is the rendered files of an index. It has a compact encoding:
// paths share their prefix with the previous path, hashes are raw bytes.
type FileList []File

// GobEncode implements gob.GobEncoder.
func (l FileList) GobEncode() ([]byte, error) {
	buf := make([]byte, 0, 48*len(l)+16)
	buf = binary.AppendUvarint(buf, uint64(len(l)))
	prev := ""
	var sum [sha256.Size]byte
	for _, f := range l {
		n := 0
		for n < len(prev) && n < len(f.Path) && prev[n] == f.Path[n] {
			n++
		}
		buf = binary.AppendUvarint(buf, uint64(n))
		buf = appendString(buf, f.Path[n:])
		buf = appendString(buf, f.Site)
		if len(f.Hash) != 2*sha256.Size {
			return nil, fmt.Errorf("index: %s: malformed hash %q", f.Path, f.Hash)
		}
		if _, err := hex.Decode(sum[:], []byte(f.Hash)); err != nil {
			return nil, fmt.Errorf("index: %s: malformed hash %q", f.Path, f.Hash)
		}
		buf = append(buf, sum[:]...)
		if f.Size < 0 {
			return nil, fmt.Errorf("index: %s: negative size", f.Path)
		}
		buf = binary.AppendUvarint(buf, uint64(f.Size))
		if f.Seed {
			buf = append(buf, 1)
		} else {
			buf = append(buf, 0)
		}
		prev = f.Path
	}
	return buf, nil
}

// GobDecode implements gob.GobDecoder.
func (l *FileList) GobDecode(data []byte) error {
	errBad := errors.New("index: damaged file list")
	d := data
	uvarint := func() (uint64, bool) {
		v, k := binary.Uvarint(d)
		if k <= 0 {
			return 0, false
		}
		d = d[k:]
		return v, true
	}
	field := func() ([]byte, bool) {
		n, ok := uvarint()
		if !ok || n > uint64(len(d)) {
			return nil, false
		}
		b := d[:n]
		d = d[n:]
		return b, true
	}
	n, ok := uvarint()
	if !ok || n > uint64(len(data)) {
		return errBad
	}
	// Paths and hashes are decoded into two buffers, each made one string
	// that every file's strings are cut from: a 10,000-site index has some
	// 90,000 files, and an allocation per string was most of its decoding.
	out := make(FileList, n)
	ends := make([]int, n)
	paths := make([]byte, 0, len(data))
	hashes := make([]byte, 2*sha256.Size*n)
	sites := map[string]string{}
	prevStart := 0
	for i := range out {
		shared, ok := uvarint()
		if !ok || shared > uint64(len(paths)-prevStart) {
			return errBad
		}
		rest, ok := field()
		if !ok {
			return errBad
		}
		site, ok := field()
		if !ok || len(d) < sha256.Size {
			return errBad
		}
		hex.Encode(hashes[2*sha256.Size*i:], d[:sha256.Size])
		d = d[sha256.Size:]
		size, ok := uvarint()
		if !ok || size > 1<<62 || len(d) == 0 || d[0] > 1 {
			return errBad
		}
		seed := d[0] == 1
		d = d[1:]
		start := len(paths)
		paths = append(paths, paths[prevStart:prevStart+int(shared)]...)
		paths = append(paths, rest...)
		ends[i], prevStart = len(paths), start
		name, known := sites[string(site)]
		if !known {
			name = string(site)
			sites[name] = name
		}
		out[i] = File{Site: name, Size: int64(size), Seed: seed}
	}
	if len(d) != 0 {
		return errBad
	}
	allPaths, allHashes := string(paths), string(hashes)
	start := 0
	for i := range out {
		out[i].Path = allPaths[start:ends[i]]
		out[i].Hash = allHashes[2*sha256.Size*i : 2*sha256.Size*(i+1)]
		start = ends[i]
	}
	*l = out
	return nil
}

func appendString(buf []byte, s string) []byte {
	return append(binary.AppendUvarint(buf, uint64(len(s))), s...)
}

// Site returns the record of the named site.
func (x *Index) Site(name string) (*Site, bool) {
	if x == nil {
		return nil, false
	}
	i := sort.Search(len(x.Sites), func(i int) bool { return x.Sites[i].Name >= name })
	if i < len(x.Sites) && x.Sites[i].Name == name {
		return &x.Sites[i], true
	}
	return nil, false
}

// File returns the rendered file at path p.
func (x *Index) File(p string) (File, bool) {
	if x == nil {
		return File{}, false
	}
	i := sort.Search(len(x.Files), func(i int) bool { return x.Files[i].Path >= p })
	if i < len(x.Files) && x.Files[i].Path == p {
		return x.Files[i], true
	}
	return File{}, false
}

// RenderKey returns the render key the site had in the run, if any.
func (x *Index) RenderKey(site string) (string, bool) {
	if x == nil {
		return "", false
	}
	i := sort.Search(len(x.Renders), func(i int) bool { return x.Renders[i].Site >= site })
	if i < len(x.Renders) && x.Renders[i].Site == site {
		return x.Renders[i].Key, true
	}
	return "", false
}

// WiringRefs returns the references of the wiring file at path when the
// run had it with this content hash.
func (x *Index) WiringRefs(path, hash string) ([]Ref, bool) {
	if x == nil {
		return nil, false
	}
	i := sort.Search(len(x.Wiring), func(i int) bool { return x.Wiring[i].Path >= path })
	if i < len(x.Wiring) && x.Wiring[i].Path == path && x.Wiring[i].Hash == hash {
		return x.Wiring[i].Refs, true
	}
	return nil, false
}

// UnitsOf returns the unit list of a record.
func (x *Index) UnitsOf(s *Site) []string { return x.Units[s.Units] }

// Builder assembles a new index, sharing equal unit lists.
type Builder struct {
	x     Index
	units map[string]int
}

// NewBuilder starts an index for a program with this salt and a render
// with this input digest.
func NewBuilder(salt, inputs string) *Builder {
	return &Builder{x: Index{Salt: salt, Inputs: inputs}, units: map[string]int{}}
}

// AddFile records a rendered file.
func (b *Builder) AddFile(f File) { b.x.Files = append(b.x.Files, f) }

// SetRenders records the render keys of the run's sites.
func (b *Builder) SetRenders(keys map[string]string) {
	b.x.Renders = make(RenderList, 0, len(keys))
	for site, key := range keys {
		b.x.Renders = append(b.x.Renders, Render{Site: site, Key: key})
	}
	sort.Slice(b.x.Renders, func(i, j int) bool { return b.x.Renders[i].Site < b.x.Renders[j].Site })
}

// SetWiring records the summaries of the run's wiring files.
func (b *Builder) SetWiring(w []Wiring) {
	b.x.Wiring = append(WiringList(nil), w...)
	sort.Slice(b.x.Wiring, func(i, j int) bool { return b.x.Wiring[i].Path < b.x.Wiring[j].Path })
}

// SetSelected records the sites the run verified.
func (b *Builder) SetSelected(names []string) {
	b.x.Selected = append([]string(nil), names...)
	sort.Strings(b.x.Selected)
}

// AddSite records a passing site with its unit list.
func (b *Builder) AddSite(s Site, units []string) {
	k := strings.Join(units, "\x00")
	i, ok := b.units[k]
	if !ok {
		i = len(b.x.Units)
		b.units[k] = i
		b.x.Units = append(b.x.Units, append([]string(nil), units...))
	}
	s.Units = i
	b.x.Sites = append(b.x.Sites, s)
}

// Index returns the assembled index with its stat cache.
func (b *Builder) Index(stats []byte) *Index {
	x := b.x
	sort.Slice(x.Files, func(i, j int) bool { return x.Files[i].Path < x.Files[j].Path })
	sort.Slice(x.Sites, func(i, j int) bool { return x.Sites[i].Name < x.Sites[j].Name })
	x.Stats = stats
	return &x
}

// Inputs is the digest of the render's inputs: each part (an inventory
// file's name and bytes, the template set's digest, the selector, ...) in
// order.
func Inputs(parts ...[]byte) string {
	return cache.Key(append([][]byte{[]byte(format)}, parts...)...)
}

// Unit kinds: the answer of one path (its kind and, for a file, its
// content), or the listing of a directory (names and kinds).
const (
	entryUnit = "e:"
	listUnit  = "l:"
	// ownDir stands for the site's overlay directory in a unit path, and
	// ownName for the site's name as a whole segment of a path outside it
	// (clusters/<site>/applier.yaml, bootstrap/<site>), so that sites
	// built alike share one unit list.
	ownDir  = "\x00"
	ownName = "\x01"
)

// Tree answers what the units of a record depend on, from the tree of the
// current run. Paths are relative to the tree root, "" for the root.
type Tree interface {
	// EntryDigest is a digest of what is at rel: nothing, a directory, or
	// a file with its content.
	EntryDigest(rel string) string
	// ListDigest is a digest of the names and kinds in the directory rel,
	// or a fixed value when rel is not a directory.
	ListDigest(rel string) string
}

// Digest is the record digest of a site: the salt, its target digest and
// each unit with what the tree holds for it now. siteDir is the overlay
// directory relative to the root (Site.Dir), site the site's name.
func Digest(salt, target, siteDir, site string, units []string, t Tree) string {
	// The same digest as cache.Key over the parts salt, target, siteDir,
	// then each unit and its answer, built in one buffer: a record check
	// runs this for every site.
	buf := make([]byte, 0, 256+len(units)*160)
	part := func(s string) {
		buf = binary.BigEndian.AppendUint64(buf, uint64(len(s)))
		buf = append(buf, s...)
	}
	part(salt)
	part(target)
	part(siteDir)
	part(site)
	for _, u := range units {
		kind, p := u[:2], expand(u[2:], siteDir, site)
		var d string
		if kind == listUnit {
			d = t.ListDigest(p)
		} else {
			d = t.EntryDigest(p)
		}
		part(u)
		part(d)
	}
	sum := sha256.Sum256(buf)
	return hex.EncodeToString(sum[:])
}

// expand is the path a unit path stands for in the tree of the site
// named site with its overlay in siteDir.
func expand(p, siteDir, site string) string {
	switch {
	case p == ownDir:
		return siteDir
	case strings.HasPrefix(p, ownDir+"/"):
		return siteDir + p[len(ownDir):]
	case strings.Contains(p, ownName):
		return ExpandName(p, site)
	}
	return p
}

// ExpandName is a unit path outside the site's overlay with every segment
// that stands for the site's name (ownName) replaced by site.
func ExpandName(p, site string) string { return swapSegments(p, ownName, site) }

// swapSegments is p with every slash-separated segment equal to from
// replaced by to.
func swapSegments(p, from, to string) string {
	segs := strings.Split(p, "/")
	changed := false
	for i, s := range segs {
		if s == from {
			segs[i], changed = to, true
		}
	}
	if !changed {
		return p
	}
	return strings.Join(segs, "/")
}

// NamesSite reports whether a unit path (without its kind) stands for a
// path outside the site's overlay that holds the site's name: it must be
// expanded (ExpandName) for each site.
func NamesSite(p string) bool { return strings.Contains(p, ownName) }

// Units maps the accesses of the build of the overlay in siteDir (relative
// to root) in a file system rooted at root to the units whose answers
// decide every answer the build got: the entry of each path read or
// tested, the listing of each directory listed and of the directory of
// each glob. A segment equal to site's name outside siteDir is replaced
// by a placeholder, so that the lists of sites built alike are equal. ok
// is false when an access cannot be mapped (a path outside root, a glob
// with a pattern in its directory part, a path holding a placeholder's
// byte): such a build gets no record.
func Units(root, siteDir, site string, accesses []Access) (units []string, ok bool) {
	if len(accesses) == 0 {
		return nil, false
	}
	root = path.Clean(filepath.ToSlash(root))
	rel := func(p string) (string, bool) {
		p = path.Clean(filepath.ToSlash(p))
		switch {
		case p == root:
			return "", true
		case root == "/" && strings.HasPrefix(p, "/"):
			return p[1:], true
		case strings.HasPrefix(p, root+"/"):
			return p[len(root)+1:], true
		}
		return "", false
	}
	short := func(r string) string {
		switch {
		case siteDir != "" && r == siteDir:
			return ownDir
		case siteDir != "" && strings.HasPrefix(r, siteDir+"/"):
			return ownDir + r[len(siteDir):]
		case site != "":
			return swapSegments(r, site, ownName)
		}
		return r
	}
	set := map[string]bool{}
	for _, a := range accesses {
		r, in := rel(a.Path)
		if !in || strings.ContainsAny(r, ownDir+ownName) {
			return nil, false
		}
		switch a.Op {
		case "readdir":
			set[listUnit+short(r)] = true
		case "glob":
			dir := path.Dir(r)
			if dir == "." {
				dir = ""
			}
			if strings.ContainsAny(dir, `*?[\`) {
				return nil, false
			}
			set[listUnit+short(dir)] = true
		case "read", "isdir", "exists", "abs":
			set[entryUnit+short(r)] = true
		default:
			return nil, false
		}
	}
	for u := range set {
		units = append(units, u)
	}
	sort.Strings(units)
	return units, true
}
