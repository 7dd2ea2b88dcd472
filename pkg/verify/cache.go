package verify

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"sync"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/fleetgen/fleetgen/pkg/cache"
	"github.com/fleetgen/fleetgen/pkg/policy"
)

// cacheFormat changes whenever what an entry means changes.
const cacheFormat = "fleetgen-verify-cache-v1"

// op is a kind of file-system access a build made.
type op string

const (
	opReadFile   op = "read"
	opIsDir      op = "isdir"
	opExists     op = "exists"
	opReadDir    op = "readdir"
	opCleanedAbs op = "abs"
	opGlob       op = "glob"
	// opReadChecked is only used by replays: a read with every check of a
	// build (size limit, content), needed where the recorded read failed.
	opReadChecked op = "read!"
)

// probe is one access and a digest of what it returned.
type probe struct {
	Op     op     `json:"o"`
	Path   string `json:"p"`
	Digest string `json:"d"`
}

// recorder collects the accesses of one build: everything its result
// depends on in the file system.
type recorder struct {
	mu     sync.Mutex
	probes []probe
	seen   map[string]string
	bad    bool
}

func newRecorder() *recorder { return &recorder{seen: map[string]string{}} }

func (r *recorder) add(o op, p, digest string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	k := string(o) + "\x00" + p
	if d, ok := r.seen[k]; ok {
		if d != digest {
			r.bad = true // the file system changed under the build
		}
		return
	}
	r.seen[k] = digest
	r.probes = append(r.probes, probe{o, p, digest})
}

// accesses returns what was recorded, or nil when the record is not
// complete.
func (r *recorder) accesses() []Access {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.bad || len(r.probes) == 0 {
		return nil
	}
	return probeAccesses(r.probes)
}

func probeAccesses(probes []probe) []Access {
	out := make([]Access, len(probes))
	for i, p := range probes {
		o := p.Op
		if o == opReadChecked {
			o = opReadFile
		}
		out[i] = Access{Op: string(o), Path: p.Path}
	}
	return out
}

func (r *recorder) uncacheable() {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.bad = true
	r.mu.Unlock()
}

func boolDigest(b bool) string {
	if b {
		return "t"
	}
	return "f"
}

func listDigest(items []string, err error) string {
	if err != nil {
		return "!"
	}
	h := sha256.New()
	for _, s := range items {
		io.WriteString(h, s)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

func dataDigest(data []byte, err error) string {
	if err != nil {
		return "!"
	}
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// entry is what the cache keeps for an overlay that passed.
type entry struct {
	Probes   []probe          `json:"probes"`
	Skipped  []ObjectRef      `json:"skipped,omitempty"`
	Findings []policy.Finding `json:"findings,omitempty"`
}

// verifyCache serves and stores the results of one Run.
type verifyCache struct {
	dir  *cache.Dir
	salt string
	fs   filesys.FileSystem
	root string
	// memo holds the current digest of each access, shared by the
	// lookups of a Run: a base file read by every overlay is hashed once.
	memo sync.Map
}

// Salt returns what every cache key of this program includes: the cache
// format, the given fleetgen version, the kustomize and Kubernetes API
// module versions, and the identity of the running executable (so
// policies, schemas and any code change invalidate the cache, also for
// development builds that all call themselves "dev"): its Go build ID,
// which ends in a hash of the linked program's content, or where the
// executable carries none, a hash of the whole file.
func Salt(version string) (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	id, err := exeIdentity(exe)
	if err != nil {
		return "", err
	}
	return salt(version, ModuleVersion("sigs.k8s.io/kustomize/api"), ModuleVersion("k8s.io/api"), id), nil
}

// exeIdentity is "buildid:" and the Go build ID of the executable exe, or
// the hex SHA-256 of the file when it has no ELF build ID note. Reading
// the note costs a few small reads; hashing the 50-odd MB of a fleetgen
// binary took a tenth of a second per run.
func exeIdentity(exe string) (string, error) {
	if id := goBuildID(exe); id != "" {
		return "buildid:" + id, nil
	}
	f, err := os.Open(exe)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// goBuildID returns the Go build ID recorded in the ELF note
// .note.go.buildid of exe ("" when there is none). Its last part is the
// content ID: a hash of the program the linker wrote.
func goBuildID(exe string) string {
	f, err := elf.Open(exe)
	if err != nil {
		return ""
	}
	defer f.Close()
	sec := f.Section(".note.go.buildid")
	if sec == nil {
		return ""
	}
	data, err := sec.Data()
	if err != nil || len(data) < 16 {
		return ""
	}
	// An ELF note: name size, description size, type, then the padded
	// name ("Go") and the description (the build ID).
	bo := f.ByteOrder
	namesz, descsz, typ := bo.Uint32(data), bo.Uint32(data[4:]), bo.Uint32(data[8:])
	desc := 12 + int(namesz+3)&^3
	if typ != 4 || namesz > 8 || desc+int(descsz) > len(data) || strings.TrimRight(string(data[12:12+namesz]), "\x00") != "Go" {
		return ""
	}
	id := string(data[desc : desc+int(descsz)])
	if !strings.Contains(id, "/") {
		return "" // not the action/content form the go command writes
	}
	return id
}

func salt(version, kustomize, k8s, exe string) string {
	return cache.Key([]byte(cacheFormat), []byte(version), []byte(kustomize), []byte(k8s), []byte(exe),
		[]byte(fmt.Sprintf("%s|%d", optionsDigest(KustomizeOptions()), MaxFileSize)))
}

// optionsDigest spells out the build options by value. The options hold
// pointers, and %v would print their addresses, which differ from one
// process to the next: no entry would ever be served again.
func optionsDigest(o *krusty.Options) string {
	b, err := json.Marshal(o)
	if err != nil {
		return "!" + err.Error()
	}
	return string(b)
}

// ModuleVersion is the version of the module at path that this binary was
// built with ("unknown" when the build carries no module information).
func ModuleVersion(path string) string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, d := range info.Deps {
		if d.Path == path {
			if d.Replace != nil {
				return d.Replace.Path + "@" + d.Replace.Version
			}
			return d.Version
		}
	}
	return "unknown"
}

// key is the cache key of t: the salt, the tree root, and everything of
// the target the checks read.
func (c *verifyCache) key(t Target) string {
	j := func(v any) []byte {
		b, err := json.Marshal(v)
		if err != nil {
			return []byte("!" + err.Error())
		}
		return b
	}
	return cache.Key([]byte(c.salt), []byte(c.root), []byte(t.Site), []byte(t.Dir),
		j(t.Config), []byte(t.ConfigMapName), j(t.Facts), j(t.Waivers))
}

// current is the digest of what the access p returns now.
func (c *verifyCache) current(p probe) string {
	k := string(p.Op) + "\x00" + p.Path
	if d, ok := c.memo.Load(k); ok {
		return d.(string)
	}
	g, err := newGuardedFS(c.fs, c.root)
	if err != nil {
		return "!"
	}
	g.mode = exclusive // a replay only reads; it never builds
	var d string
	switch p.Op {
	case opReadFile:
		// The recorded digest is of content that passed every check of
		// the build, and the checks depend on the content alone: the same
		// bytes pass again, so a replay only reads and hashes them.
		d = dataDigest(g.readRaw(p.Path))
	case opReadChecked:
		d = dataDigest(g.readFile(p.Path))
	case opIsDir:
		_, f, ok, err := g.check(p.Path)
		d = boolDigest(err == nil && ok && f == "")
	case opExists:
		_, _, ok, err := g.check(p.Path)
		d = boolDigest(err == nil && ok)
	case opReadDir:
		d = listDigest(g.readDir(p.Path))
	case opCleanedAbs:
		dir, f, err := g.cleanedAbs(p.Path)
		d = listDigest([]string{dir.String(), f}, err)
	case opGlob:
		d = listDigest(g.glob(p.Path))
	default:
		d = "?"
	}
	c.memo.Store(k, d)
	return d
}

// matches reports whether the access p still returns what it returned.
func (c *verifyCache) matches(p probe) bool {
	if p.Op == opReadFile && p.Digest == "!" {
		p.Op = opReadChecked // the read failed: replay it with its checks
	}
	return c.current(p) == p.Digest
}

// lookup returns the cached passing result of t when every access its
// build made still returns what it returned then.
func (c *verifyCache) lookup(t Target, key string, dir string) (Result, bool) {
	payload, ok := c.dir.Get(key)
	if !ok {
		return Result{}, false
	}
	head, objects, ok := bytes.Cut(payload, []byte{'\n'})
	if !ok {
		return Result{}, false
	}
	var e entry
	if err := json.Unmarshal(head, &e); err != nil || len(e.Probes) == 0 {
		return Result{}, false
	}
	for _, p := range e.Probes {
		if !c.matches(p) {
			return Result{}, false
		}
	}
	res := Result{Site: t.Site, Dir: dir, Objects: objects, Skipped: e.Skipped, Findings: e.Findings, Accesses: probeAccesses(e.Probes)}
	res.setErr()
	if res.Err != nil {
		// Only passes are stored; anything else is not served.
		return Result{}, false
	}
	return res, true
}

// store keeps res, which must have passed, with the accesses of its build.
func (c *verifyCache) store(key string, res *Result, rec *recorder) error {
	if res.Err != nil || len(res.Errors) > 0 || len(res.SchemaErrors) > 0 || len(res.Unwaived()) > 0 {
		return errors.New("verify cache: refusing to store a failure")
	}
	rec.mu.Lock()
	bad, probes := rec.bad, append([]probe(nil), rec.probes...)
	rec.mu.Unlock()
	if bad || len(probes) == 0 {
		return nil
	}
	head, err := json.Marshal(entry{Probes: probes, Skipped: res.Skipped, Findings: res.Findings})
	if err != nil {
		return err
	}
	if bytes.IndexByte(head, '\n') >= 0 || strings.Contains(string(head), "\n") {
		return errors.New("verify cache: header holds a newline")
	}
	payload := make([]byte, 0, len(head)+1+len(res.Objects))
	payload = append(append(append(payload, head...), '\n'), res.Objects...)
	return c.dir.Put(key, payload)
}

// readRaw reads the regular file p as a build would, without the checks on
// its content.
func (g *guardedFS) readRaw(p string) ([]byte, error) {
	d, f, ok, err := g.check(p)
	if err != nil {
		return nil, err
	}
	if !ok || f == "" {
		return nil, fmt.Errorf("%q: not a file", p)
	}
	real := d.Join(f)
	info, err := g.stat(real)
	if err != nil {
		return nil, err
	}
	if info == nil || !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%q: not a regular file", p)
	}
	return g.fs.ReadFile(real)
}
