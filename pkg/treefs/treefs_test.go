package treefs_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/fleetgen/fleetgen/pkg/treefs"
)

// sample is a small tree: nested directories, hidden files and directories,
// files directly under the root, names that sort differently as names and
// as paths (a, a-b), a directory named "skip" and a file named "stop.yaml"
// that the walk comparisons answer with filepath.SkipDir.
var sample = map[string]string{
	"top.yaml":                           "top: 1\n",
	".hidden":                            "h\n",
	"a-b":                                "dash\n",
	"a/b":                                "slash\n",
	"base/kustomization.yaml":            "resources: [deployment.yaml]\n",
	"base/deployment.yaml":               "kind: Deployment\n",
	"base/.env":                          "X=1\n",
	"components/gpu/kustomization.yaml":  "kind: Component\n",
	"overlays/site-a/kustomization.yaml": "resources: [../../base]\n",
	"overlays/site-a/local/kustomization.yaml": "kind: Component\n",
	"overlays/site-a/local/.keep":              "",
	"overlays/site-b/kustomization.yaml":       "resources: [../../base]\n",
	"overlays/site-b/skip/x.yaml":              "x: 1\n",
	"overlays/site-b/stop.yaml":                "stop: 1\n",
	"overlays/site-b/z.yaml":                   "z: 1\n",
	"overlays/.cache/a.yaml":                   "cached: 1\n",
}

func sha(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

func sortedPaths(files map[string]string) []string {
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	return paths
}

// memFS lays files out under root in filesys.MakeFsInMemory, as the
// pipeline does.
func memFS(t testing.TB, root string, files map[string]string) filesys.FileSystem {
	t.Helper()
	fsys := filesys.MakeFsInMemory()
	if err := fsys.MkdirAll(root); err != nil {
		t.Fatal(err)
	}
	for _, p := range sortedPaths(files) {
		abs := path.Join(root, p)
		if err := fsys.MkdirAll(path.Dir(abs)); err != nil {
			t.Fatal(err)
		}
		if err := fsys.WriteFile(abs, []byte(files[p])); err != nil {
			t.Fatal(err)
		}
	}
	return fsys
}

// treeFS builds the same files with treefs, the content given in every way
// File allows in turn: Data; Load; Load with Hash; Data with Hash.
func treeFS(t testing.TB, root string, files map[string]string) *treefs.FS {
	t.Helper()
	var list []treefs.File
	for i, p := range sortedPaths(files) {
		data := []byte(files[p])
		f := treefs.File{Path: p}
		switch i % 4 {
		case 0:
			f.Data = data
		case 1:
			f.Size, f.Load = int64(len(data)), func() ([]byte, error) { return bytes.Clone(data), nil }
		case 2:
			f.Size, f.Hash, f.Load = int64(len(data)), sha(data), func() ([]byte, error) { return bytes.Clone(data), nil }
		case 3:
			f.Data, f.Hash = data, sha(data)
		}
		list = append(list, f)
	}
	fsys, err := treefs.New(root, list)
	if err != nil {
		t.Fatal(err)
	}
	return fsys
}

// probePaths are paths worth resolving in a tree of files under root:
// every file and directory spelled in several ways, the root's parents,
// and paths that are missing, through a file, or unclean.
func probePaths(root string, files map[string]string) []string {
	set := map[string]bool{}
	add := func(ps ...string) {
		for _, p := range ps {
			set[p] = true
		}
	}
	add("", "/", ".", "./", "..", "/..", "//", "///", "/.", "/./", "/missing", "missing", "*", "/*")
	var entries []string
	for p := range files {
		for d := p; d != "."; d = path.Dir(d) {
			entries = append(entries, d)
		}
	}
	for d := root; d != "/"; d = path.Dir(d) {
		add(d)
	}
	for _, e := range entries {
		abs := path.Join(root, e)
		add(abs, abs+"/", abs+"/.", abs+"/..", abs+"/../"+path.Base(abs), abs+"/x", abs+"/x/y",
			strings.TrimPrefix(abs, "/"), "/"+abs, "./"+strings.TrimPrefix(abs, "/"),
			"/.."+abs, strings.Replace(abs, "/", "/./", 1), strings.Replace(abs, "/", "//", 2))
	}
	var out []string
	for p := range set {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// globPatterns are the patterns tried for a probe path.
func globPatterns(p string) []string {
	return []string{p, p + "/*", p + "/.*", p + "/*/*", p + "/*.yaml", p + "/[", p + "/*[", p + "/?", p + `/\*`, p + "/[a-c]*"}
}

func sameErr(t *testing.T, what, p string, want, got error) {
	t.Helper()
	switch {
	case (want == nil) != (got == nil):
		t.Errorf("%s(%q): error %v, in-memory %v", what, p, got, want)
	case want == nil:
	case errors.Is(want, fs.ErrNotExist) != errors.Is(got, fs.ErrNotExist):
		t.Errorf("%s(%q): error %v (not-exist %v), in-memory %v", what, p, got, errors.Is(got, fs.ErrNotExist), want)
	case want.Error() != got.Error():
		t.Errorf("%s(%q): error %q, in-memory %q", what, p, got, want)
	}
}

// walkLog records a walk, answering SkipDir for directories named "skip"
// and for a file named "stop.yaml" other than the one the walk starts at
// (the in-memory file system returns that SkipDir from Walk; see
// TestWalkLikeFilepathWalk).
func walkLog(fsys filesys.FileSystem, p string) (string, error) {
	var b strings.Builder
	err := fsys.Walk(p, func(q string, info fs.FileInfo, err error) error {
		first := b.Len() == 0
		fmt.Fprintf(&b, "%s name=%s dir=%v size=%d err=%v\n", q, info.Name(), info.IsDir(), info.Size(), err)
		if info.IsDir() && info.Name() == "skip" {
			return filepath.SkipDir
		}
		if !first && info.Name() == "stop.yaml" {
			return filepath.SkipDir
		}
		return nil
	})
	return b.String(), err
}

// compareAt checks that every read method gives the same answer for p on
// both file systems.
func compareAt(t *testing.T, mem filesys.FileSystem, tfs *treefs.FS, p string) {
	t.Helper()
	if got, want := tfs.IsDir(p), mem.IsDir(p); got != want {
		t.Errorf("IsDir(%q) = %v, in-memory %v", p, got, want)
	}
	if got, want := tfs.Exists(p), mem.Exists(p); got != want {
		t.Errorf("Exists(%q) = %v, in-memory %v", p, got, want)
	}

	wantNames, wantErr := mem.ReadDir(p)
	gotNames, gotErr := tfs.ReadDir(p)
	sameErr(t, "ReadDir", p, wantErr, gotErr)
	slices.Sort(wantNames)
	if !slices.Equal(gotNames, wantNames) {
		t.Errorf("ReadDir(%q) = %q, in-memory (sorted) %q", p, gotNames, wantNames)
	}

	wantDir, wantFile, wantErr := mem.CleanedAbs(p)
	gotDir, gotFile, gotErr := tfs.CleanedAbs(p)
	sameErr(t, "CleanedAbs", p, wantErr, gotErr)
	if gotDir != wantDir || gotFile != wantFile {
		t.Errorf("CleanedAbs(%q) = %q, %q; in-memory %q, %q", p, gotDir, gotFile, wantDir, wantFile)
	}

	wantData, wantErr := mem.ReadFile(p)
	gotData, gotErr := tfs.ReadFile(p)
	if mem.IsDir(p) {
		// The in-memory error names "/" whatever the directory; ours names it.
		if gotErr == nil || !strings.HasPrefix(gotErr.Error(), "cannot read content from non-file ") {
			t.Errorf("ReadFile(%q) of a directory: error %v", p, gotErr)
		}
	} else {
		sameErr(t, "ReadFile", p, wantErr, gotErr)
	}
	if !bytes.Equal(gotData, wantData) || (gotData == nil) != (wantData == nil) {
		t.Errorf("ReadFile(%q) = %q, in-memory %q", p, gotData, wantData)
	}

	wantWalk, wantErr := walkLog(mem, p)
	gotWalk, gotErr := walkLog(tfs, p)
	sameErr(t, "Walk", p, wantErr, gotErr)
	if gotWalk != wantWalk {
		t.Errorf("Walk(%q):\n%s\nin-memory:\n%s", p, gotWalk, wantWalk)
	}

	for _, pat := range globPatterns(p) {
		want, wantErr := mem.Glob(pat)
		got, gotErr := tfs.Glob(pat)
		sameErr(t, "Glob", pat, wantErr, gotErr)
		if !slices.Equal(got, want) {
			t.Errorf("Glob(%q) = %q, in-memory %q", pat, got, want)
		}
	}
}

func TestSameAsInMemory(t *testing.T) {
	for _, root := range []string{"/fleet", "/srv/fleet", "/"} {
		t.Run(root, func(t *testing.T) {
			mem := memFS(t, root, sample)
			tfs := treeFS(t, root, sample)
			if tfs.Files() != len(sample) {
				t.Errorf("Files() = %d, want %d", tfs.Files(), len(sample))
			}
			for _, p := range probePaths(root, sample) {
				compareAt(t, mem, tfs, p)
			}
			for _, pat := range []string{"", "*", "/*/*", "/*/*/*", "**", "[", `\`, "/fleet/overlays/*/kustomization.yaml",
				"/srv/*/base/*", "/[a-z]*/base/*", "/fleet/[^b]*/*", "/fleet/a*", "/nowhere/*[", "/fleet/*/[",
				"/fleet/base/*.yam[", "/fleet/a[", "relative/*[", "/fleet//base/*", "/fleet/./base/*"} {
				want, wantErr := mem.Glob(pat)
				got, gotErr := tfs.Glob(pat)
				sameErr(t, "Glob", pat, wantErr, gotErr)
				if !slices.Equal(got, want) {
					t.Errorf("Glob(%q) = %q, in-memory %q", pat, got, want)
				}
			}
		})
	}
}

// TestSameAsInMemoryEmpty covers an FS without files: the root and its
// parents exist, empty, and a bad Glob pattern matches nothing without
// error, as in memory where no file is ever matched.
func TestSameAsInMemoryEmpty(t *testing.T) {
	mem := memFS(t, "/fleet", nil)
	tfs := treeFS(t, "/fleet", nil)
	for _, p := range []string{"/", "/fleet", "/fleet/x", "", ".", "[", "/fleet/*["} {
		compareAt(t, mem, tfs, p)
	}
}

func FuzzSameAsInMemory(f *testing.F) {
	for _, p := range probePaths("/fleet", sample) {
		f.Add(p)
	}
	mem := memFS(f, "/fleet", sample)
	tfs := treeFS(f, "/fleet", sample)
	f.Fuzz(func(t *testing.T, p string) {
		compareAt(t, mem, tfs, p)
	})
}

// TestWalkLikeFilepathWalk checks Walk against filepath.Walk over the same
// tree on disk, for the WalkFunc results where the in-memory file system
// differs from filepath.Walk.
func TestWalkLikeFilepathWalk(t *testing.T) {
	disk := t.TempDir()
	for p, data := range sample {
		abs := filepath.Join(disk, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(abs, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tfs := treeFS(t, "/fleet", sample)
	errStop := errors.New("stop")
	tests := []struct {
		name  string
		start string // relative to the root
		fn    func(rel string, info fs.FileInfo) error
	}{
		{"error on a directory stops", "", func(rel string, info fs.FileInfo) error {
			if rel == "overlays/site-a" {
				return errStop
			}
			return nil
		}},
		{"error on a file stops", "", func(rel string, info fs.FileInfo) error {
			if rel == "base/deployment.yaml" {
				return errStop
			}
			return nil
		}},
		{"SkipAll stops without error", "", func(rel string, info fs.FileInfo) error {
			if rel == "components" {
				return filepath.SkipAll
			}
			return nil
		}},
		{"SkipDir on a directory skips it", "", func(rel string, info fs.FileInfo) error {
			if info.IsDir() && info.Name() == "overlays" {
				return filepath.SkipDir
			}
			return nil
		}},
		{"SkipDir on a file skips the rest of its directory", "", func(rel string, info fs.FileInfo) error {
			if rel == "overlays/site-b/stop.yaml" {
				return filepath.SkipDir
			}
			return nil
		}},
		{"SkipDir on the starting file", "top.yaml", func(string, fs.FileInfo) error { return filepath.SkipDir }},
		{"SkipDir on the starting directory", "base", func(string, fs.FileInfo) error { return filepath.SkipDir }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := func(walk func(string, filepath.WalkFunc) error, root string) (string, error) {
				var b strings.Builder
				err := walk(path.Join(root, tt.start), func(p string, info fs.FileInfo, err error) error {
					if err != nil {
						return err
					}
					rel := strings.TrimPrefix(strings.TrimPrefix(filepath.ToSlash(p), filepath.ToSlash(root)), "/")
					fmt.Fprintf(&b, "%s %s %v\n", rel, info.Name(), info.IsDir())
					return tt.fn(rel, info)
				})
				return b.String(), err
			}
			want, wantErr := log(filepath.Walk, disk)
			got, gotErr := log(tfs.Walk, "/fleet")
			// The walk's first entry is named after the start; the roots' names differ.
			want = strings.Replace(want, filepath.Base(disk), "fleet", 1)
			if got != want || !errors.Is(gotErr, wantErr) || (gotErr == nil) != (wantErr == nil) {
				t.Errorf("Walk: %v\n%s\nfilepath.Walk: %v\n%s", gotErr, got, wantErr, want)
			}
		})
	}
}

// TestKrustyBuild builds an overlay with a base, a component and a local
// component from the in-memory file system and from treefs.
func TestKrustyBuild(t *testing.T) {
	files := map[string]string{
		"base/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: edge-app
resources:
- namespace.yaml
- deployment.yaml
`,
		"base/namespace.yaml": `apiVersion: v1
kind: Namespace
metadata:
  name: edge-app
`,
		"base/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: edge-app
spec:
  replicas: 1
  selector:
    matchLabels: {app: edge-app}
  template:
    metadata:
      labels: {app: edge-app}
    spec:
      containers:
      - name: app
        image: app
        envFrom:
        - configMapRef: {name: site-config}
`,
		"components/gpu/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
patches:
- path: gpu.yaml
`,
		"components/gpu/gpu.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: edge-app
  namespace: edge-app
spec:
  template:
    spec:
      nodeSelector: {fleetgen.dev/gpu: "true"}
`,
		"overlays/site-a/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- ../../base
components:
- ../../components/gpu
- local
labels:
- pairs: {fleetgen.dev/site: site-a}
images:
- name: app
  newName: registry.example.com/shop/app
  newTag: 1.4.2
configMapGenerator:
- name: site-config
  namespace: edge-app
  envs: [site.env]
`,
		"overlays/site-a/site.env": "LOG_LEVEL=info\nSTORE_ID=001\n",
		"overlays/site-a/local/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
patches:
- path: replicas.yaml
`,
		"overlays/site-a/local/replicas.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: edge-app, namespace: edge-app}
spec: {replicas: 3}
`,
		"overlays/site-b/kustomization.yaml": "resources: [../../base]\n",
	}
	build := func(fsys filesys.FileSystem) string {
		t.Helper()
		m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fsys, "/fleet/overlays/site-a")
		if err != nil {
			t.Fatal(err)
		}
		out, err := m.AsYaml()
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	want := build(memFS(t, "/fleet", files))
	got := build(treeFS(t, "/fleet", files))
	if got != want {
		t.Errorf("treefs build:\n%s\nin-memory build:\n%s", got, want)
	}
	for _, s := range []string{"replicas: 3", "fleetgen.dev/gpu", "registry.example.com/shop/app:1.4.2", "name: site-config-", "STORE_ID"} {
		if !strings.Contains(got, s) {
			t.Errorf("build output lacks %q:\n%s", s, got)
		}
	}
}

// TestLoadOnce reads files left on disk from many goroutines at once; each
// Load runs once and everyone sees its content.
func TestLoadOnce(t *testing.T) {
	a, b := []byte("a: 1\n"), []byte("b: 22\n")
	var calls [2]atomic.Int32
	fsys, err := treefs.New("/fleet", []treefs.File{
		{Path: "local/a.yaml", Size: int64(len(a)), Hash: sha(a), Load: func() ([]byte, error) { calls[0].Add(1); return bytes.Clone(a), nil }},
		{Path: "local/b.yaml", Size: int64(len(b)), Load: func() ([]byte, error) { calls[1].Add(1); return bytes.Clone(b), nil }},
	})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	digests := make([]string, 32)
	for i := range 32 {
		wg.Go(func() {
			for _, f := range []struct {
				p    string
				want []byte
			}{{"/fleet/local/a.yaml", a}, {"/fleet/local/b.yaml", b}} {
				data, err := fsys.ReadFile(f.p)
				if err != nil || !bytes.Equal(data, f.want) {
					t.Errorf("ReadFile(%s) = %q, %v", f.p, data, err)
				}
				h, err := fsys.Open(f.p)
				if err != nil {
					t.Errorf("Open(%s): %v", f.p, err)
					continue
				}
				if data, err := io.ReadAll(h); err != nil || !bytes.Equal(data, f.want) {
					t.Errorf("reading opened %s = %q, %v", f.p, data, err)
				}
				h.Close()
			}
			if s, ok := fsys.Hash("local/b.yaml"); !ok || s != sha(b) {
				t.Errorf("Hash(local/b.yaml) = %q, %v", s, ok)
			}
			digests[i] = fsys.DirDigest("local")
		})
	}
	wg.Wait()
	for i := range calls {
		if n := calls[i].Load(); n != 1 {
			t.Errorf("file %d: Load ran %d times, want 1", i, n)
		}
	}
	for _, d := range digests {
		if d != digests[0] {
			t.Errorf("DirDigest differs between goroutines: %s, %s", d, digests[0])
		}
	}
}

// TestLoadChanged: content that no longer matches its File fails every
// read, naming the file, and Load is not retried.
func TestLoadChanged(t *testing.T) {
	old := []byte("old\n")
	boom := errors.New("boom")
	tests := []struct {
		name    string
		file    treefs.File
		wantErr string
		wantIs  error
	}{
		{"hash", treefs.File{Path: "local/a.yaml", Size: 4, Hash: sha(old), Load: func() ([]byte, error) { return []byte("new\n"), nil }},
			"local/a.yaml changed on disk during the run: SHA-256 ", nil},
		{"size", treefs.File{Path: "local/a.yaml", Size: 4, Load: func() ([]byte, error) { return []byte("newer\n"), nil }},
			"local/a.yaml changed on disk during the run: 6 bytes, expected 4", nil},
		{"load error", treefs.File{Path: "local/a.yaml", Size: 4, Load: func() ([]byte, error) { return nil, boom }},
			"reading local/a.yaml: boom", boom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			load := tt.file.Load
			tt.file.Load = func() ([]byte, error) { calls++; return load() }
			fsys, err := treefs.New("/fleet", []treefs.File{tt.file})
			if err != nil {
				t.Fatal(err)
			}
			for range 2 {
				_, err := fsys.ReadFile("/fleet/local/a.yaml")
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("ReadFile: error %v, want one containing %q", err, tt.wantErr)
				}
				if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
					t.Errorf("ReadFile: error %v does not wrap %v", err, tt.wantIs)
				}
				if _, err := fsys.Open("/fleet/local/a.yaml"); err == nil {
					t.Error("Open: no error")
				}
			}
			if calls != 1 {
				t.Errorf("Load ran %d times, want 1", calls)
			}
		})
	}
}

func TestNoContent(t *testing.T) {
	data := []byte("known by hash\n")
	fsys, err := treefs.New("/fleet", []treefs.File{{Path: "a.yaml", Hash: sha(data), Size: int64(len(data))}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fsys.ReadFile("/fleet/a.yaml"); !errors.Is(err, treefs.ErrNoContent) {
		t.Errorf("ReadFile: error %v, want ErrNoContent", err)
	}
	if _, err := fsys.Open("/fleet/a.yaml"); !errors.Is(err, treefs.ErrNoContent) {
		t.Errorf("Open: error %v, want ErrNoContent", err)
	}
	if s, ok := fsys.Hash("a.yaml"); !ok || s != sha(data) {
		t.Errorf("Hash = %q, %v", s, ok)
	}
	if st, err := fsys.Stat("/fleet/a.yaml"); err != nil || st.Size() != int64(len(data)) {
		t.Errorf("Stat = %v, %v", st, err)
	}
	if !fsys.Exists("/fleet/a.yaml") || fsys.IsDir("/fleet/a.yaml") {
		t.Error("a hash-only file should exist as a file")
	}
}

// TestEmptyFile: a File with nothing but a path is empty.
func TestEmptyFile(t *testing.T) {
	fsys, err := treefs.New("/fleet", []treefs.File{{Path: "empty"}})
	if err != nil {
		t.Fatal(err)
	}
	if data, err := fsys.ReadFile("/fleet/empty"); err != nil || len(data) != 0 {
		t.Errorf("ReadFile = %q, %v", data, err)
	}
	if s, ok := fsys.Hash("empty"); !ok || s != sha(nil) {
		t.Errorf("Hash = %q, %v", s, ok)
	}
}

func TestHash(t *testing.T) {
	data := []byte("x: 1\n")
	given := sha([]byte("claimed"))
	fsys, err := treefs.New("/fleet", []treefs.File{
		{Path: "d/data.yaml", Data: data},
		{Path: "d/given.yaml", Data: data, Hash: given},
		{Path: "d/load.yaml", Size: int64(len(data)), Load: func() ([]byte, error) { return data, nil }},
		{Path: "d/broken.yaml", Size: 1, Load: func() ([]byte, error) { return nil, errors.New("gone") }},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		rel    string
		want   string
		wantOK bool
	}{
		{"d/data.yaml", sha(data), true},
		{"d/given.yaml", given, true},
		{"d/load.yaml", sha(data), true},
		{"d/broken.yaml", "", false},
		{"d", "", false},
		{"", "", false},
		{"missing", "", false},
		{"/d/data.yaml", "", false},
		{"d/../d/data.yaml", "", false},
	}
	for _, tt := range tests {
		if got, ok := fsys.Hash(tt.rel); got != tt.want || ok != tt.wantOK {
			t.Errorf("Hash(%q) = %q, %v; want %q, %v", tt.rel, got, ok, tt.want, tt.wantOK)
		}
	}
}

// TestDirDigest changes one thing at a time in a tree and checks which
// directories' digests change.
func TestDirDigest(t *testing.T) {
	base := map[string]string{
		"top.yaml":       "top\n",
		"a/x.yaml":       "x\n",
		"a/y.yaml":       "y\n",
		"a/sub/deep.txt": "deep\n",
		"b/z.yaml":       "z\n",
	}
	with := func(change func(m map[string]string)) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		change(m)
		return m
	}
	dirs := []string{"", "a", "a/sub", "b"}
	digests := func(fsys *treefs.FS) map[string]string {
		out := map[string]string{}
		for _, d := range dirs {
			out[d] = fsys.DirDigest(d)
		}
		return out
	}
	want := digests(treeFS(t, "/fleet", base))

	tests := []struct {
		name    string
		files   map[string]string
		changed []string // the directories whose digest changes
	}{
		{"same files", base, nil},
		{"other root", base, nil},
		{"file content", with(func(m map[string]string) { m["a/x.yaml"] = "x2\n" }), []string{"a"}},
		{"file name", with(func(m map[string]string) { m["a/w.yaml"] = m["a/x.yaml"]; delete(m, "a/x.yaml") }), []string{"a"}},
		{"file added", with(func(m map[string]string) { m["b/new.yaml"] = "" }), []string{"b"}},
		{"file removed", with(func(m map[string]string) { delete(m, "a/y.yaml") }), []string{"a"}},
		{"file becomes directory", with(func(m map[string]string) { delete(m, "a/x.yaml"); m["a/x.yaml/f"] = "x\n" }), []string{"a"}},
		{"deep change", with(func(m map[string]string) { m["a/sub/deep.txt"] = "deeper\n" }), []string{"a/sub"}},
		{"directory renamed", with(func(m map[string]string) { m["c/z.yaml"] = m["b/z.yaml"]; delete(m, "b/z.yaml") }), []string{"", "b"}},
		{"top-level file", with(func(m map[string]string) { m["top.yaml"] = "" }), []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := "/fleet"
			if tt.name == "other root" {
				root = "/srv/other"
			}
			got := digests(treeFS(t, root, tt.files))
			for _, d := range dirs {
				changed := got[d] != want[d]
				if changed != slices.Contains(tt.changed, d) {
					t.Errorf("DirDigest(%q) changed: %v, want %v", d, changed, !changed)
				}
			}
		})
	}

	// The same content given as Data, Load or Hash gives the same digest;
	// a file that cannot be loaded gives another.
	data := []byte("x\n")
	for _, f := range []treefs.File{
		{Path: "a/x.yaml", Hash: sha(data), Size: 2},
		{Path: "a/x.yaml", Size: 2, Load: func() ([]byte, error) { return data, nil }},
	} {
		fsys, err := treefs.New("/fleet", []treefs.File{f, {Path: "a/y.yaml", Data: []byte("y\n")}, {Path: "a/sub/deep.txt", Data: []byte("deep\n")}})
		if err != nil {
			t.Fatal(err)
		}
		if got := fsys.DirDigest("a"); got != want["a"] {
			t.Errorf("DirDigest(a) with %+v = %s, want %s", f, got, want["a"])
		}
	}
	broken, err := treefs.New("/fleet", []treefs.File{
		{Path: "a/x.yaml", Size: 2, Load: func() ([]byte, error) { return nil, errors.New("gone") }},
		{Path: "a/y.yaml", Data: []byte("y\n")}, {Path: "a/sub/deep.txt", Data: []byte("deep\n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := broken.DirDigest("a"); got == want["a"] || got == "-" {
		t.Errorf("DirDigest(a) with an unloadable file = %s", got)
	}

	fsys := treeFS(t, "/fleet", base)
	for _, rel := range []string{"top.yaml", "a/x.yaml", "missing", "a/sub/deep.txt/x", "/a", "a/", "./a", "../fleet", "."} {
		if got := fsys.DirDigest(rel); got != "-" {
			t.Errorf("DirDigest(%q) = %q, want -", rel, got)
		}
	}
	if empty, err := treefs.New("/fleet", nil); err != nil || empty.DirDigest("") == "-" || empty.DirDigest("") == want[""] {
		t.Errorf("DirDigest of an empty root: %v", err)
	}
}

func TestNewErrors(t *testing.T) {
	data := []byte("x")
	tests := []struct {
		name    string
		root    string
		files   []treefs.File
		wantErr string
	}{
		{"relative root", "fleet", nil, `root "fleet": must be an absolute, clean path`},
		{"empty root", "", nil, `root "": must be an absolute, clean path`},
		{"unclean root", "/fleet/", nil, `root "/fleet/": must be an absolute, clean path`},
		{"root with ..", "/srv/../fleet", nil, `root "/srv/../fleet": must be an absolute, clean path`},
		{"duplicate", "/fleet", []treefs.File{{Path: "a/b", Data: data}, {Path: "a/b", Data: data}}, "a/b: duplicate path"},
		{"file then directory", "/fleet", []treefs.File{{Path: "a", Data: data}, {Path: "a/b", Data: data}}, "a/b: a is both a file and a directory"},
		{"directory then file", "/fleet", []treefs.File{{Path: "a/b/c", Data: data}, {Path: "a/b", Data: data}}, "a/b: both a file and a directory"},
		{"file under a file's path", "/", []treefs.File{{Path: "a/b", Data: data}, {Path: "a/b/c/d", Data: data}}, "a/b/c/d: a/b is both a file and a directory"},
		{"empty path", "/fleet", []treefs.File{{Path: ""}}, `"": invalid path`},
		{"dot", "/fleet", []treefs.File{{Path: "."}}, `".": invalid path`},
		{"absolute", "/fleet", []treefs.File{{Path: "/a"}}, `"/a": invalid path`},
		{"dotdot", "/fleet", []treefs.File{{Path: "../a"}}, `"../a": invalid path`},
		{"inner dotdot", "/fleet", []treefs.File{{Path: "a/../b"}}, `"a/../b": invalid path`},
		{"inner dot", "/fleet", []treefs.File{{Path: "a/./b"}}, `"a/./b": invalid path`},
		{"double slash", "/fleet", []treefs.File{{Path: "a//b"}}, `"a//b": invalid path`},
		{"trailing slash", "/fleet", []treefs.File{{Path: "a/"}}, `"a/": invalid path`},
		{"NUL", "/fleet", []treefs.File{{Path: "a\x00b"}}, `"a\x00b": invalid path`},
		{"uppercase hash", "/fleet", []treefs.File{{Path: "a", Data: data, Hash: strings.ToUpper(sha(data))}}, "a: invalid hash"},
		{"short hash", "/fleet", []treefs.File{{Path: "a", Data: data, Hash: "abc"}}, `a: invalid hash "abc"`},
		{"Data and Load", "/fleet", []treefs.File{{Path: "a", Data: data, Load: func() ([]byte, error) { return data, nil }}}, "a: both Data and Load are set"},
		{"size of Data", "/fleet", []treefs.File{{Path: "a", Data: data, Size: 2}}, "a: size 2 but 1 bytes of data"},
		{"negative size", "/fleet", []treefs.File{{Path: "a", Size: -1, Hash: sha(data)}}, "a: negative size -1"},
		{"size without content", "/fleet", []treefs.File{{Path: "a", Size: 3}}, "a: size 3 but no content"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys, err := treefs.New(tt.root, tt.files)
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Errorf("New: %v, %v; want error starting with %q", fsys, err, tt.wantErr)
			}
		})
	}
}

func TestStat(t *testing.T) {
	fsys, err := treefs.New("/fleet", []treefs.File{
		{Path: "base/a.yaml", Data: []byte("abc")},
		{Path: "base/b.yaml", Size: 5, Load: func() ([]byte, error) { return []byte("12345"), nil }},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		name string
		size int64
		mode fs.FileMode
	}{
		{"/fleet/base/a.yaml", "a.yaml", 3, 0o444},
		{"/fleet/base/b.yaml", "b.yaml", 5, 0o444},
		{"/fleet/base", "base", 2, fs.ModeDir | 0o555},
		{"/fleet/./base/", "base", 2, fs.ModeDir | 0o555},
		{"/fleet", "fleet", 1, fs.ModeDir | 0o555},
		{"/", "/", 1, fs.ModeDir | 0o555},
	}
	for _, tt := range tests {
		st, err := fsys.Stat(tt.path)
		if err != nil {
			t.Errorf("Stat(%q): %v", tt.path, err)
			continue
		}
		if st.Name() != tt.name || st.Size() != tt.size || st.Mode() != tt.mode || st.IsDir() != tt.mode.IsDir() || !st.ModTime().IsZero() || st.Sys() != nil {
			t.Errorf("Stat(%q) = %s %d %v %v %v", tt.path, st.Name(), st.Size(), st.Mode(), st.IsDir(), st.ModTime())
		}
	}
	for _, p := range []string{"/fleet/missing", "", "/fleet/base/a.yaml/x"} {
		if _, err := fsys.Stat(p); err == nil {
			t.Errorf("Stat(%q): no error", p)
		}
	}
	if _, err := fsys.Stat("/fleet/missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat of a missing path: %v, want fs.ErrNotExist", err)
	}
}

func TestReadOnly(t *testing.T) {
	fsys := treeFS(t, "/fleet", sample)
	if _, err := fsys.Create("/fleet/new.yaml"); !errors.Is(err, treefs.ErrReadOnly) {
		t.Errorf("Create: %v", err)
	}
	for name, write := range map[string]func() error{
		"Mkdir":     func() error { return fsys.Mkdir("/fleet/new") },
		"MkdirAll":  func() error { return fsys.MkdirAll("/fleet/new/dir") },
		"RemoveAll": func() error { return fsys.RemoveAll("/fleet/base") },
		"WriteFile": func() error { return fsys.WriteFile("/fleet/top.yaml", []byte("changed")) },
	} {
		if err := write(); !errors.Is(err, treefs.ErrReadOnly) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if fsys.Exists("/fleet/new") || !fsys.Exists("/fleet/base") {
		t.Error("a write changed the file system")
	}
	if data, _ := fsys.ReadFile("/fleet/top.yaml"); string(data) != sample["top.yaml"] {
		t.Errorf("top.yaml = %q", data)
	}
	// ReadFile returns a copy.
	data, _ := fsys.ReadFile("/fleet/top.yaml")
	data[0] = 'X'
	if again, _ := fsys.ReadFile("/fleet/top.yaml"); string(again) != sample["top.yaml"] {
		t.Errorf("changing what ReadFile returned changed the file: %q", again)
	}
}

func TestOpen(t *testing.T) {
	fsys := treeFS(t, "/fleet", sample)
	h1, err := fsys.Open("/fleet/base/deployment.yaml")
	if err != nil {
		t.Fatal(err)
	}
	h2, err := fsys.Open("/fleet/base/deployment.yaml")
	if err != nil {
		t.Fatalf("second Open of an open file: %v", err)
	}
	buf := make([]byte, 4)
	if n, err := h1.Read(buf); n != 4 || err != nil {
		t.Fatalf("Read = %d, %v", n, err)
	}
	rest, err := io.ReadAll(h1)
	if err != nil || string(buf)+string(rest) != sample["base/deployment.yaml"] {
		t.Errorf("read %q%q, %v", buf, rest, err)
	}
	if all, err := io.ReadAll(h2); err != nil || string(all) != sample["base/deployment.yaml"] {
		t.Errorf("second handle read %q, %v", all, err)
	}
	if st, err := h1.Stat(); err != nil || st.Name() != "deployment.yaml" || st.Size() != int64(len(sample["base/deployment.yaml"])) {
		t.Errorf("Stat = %v, %v", st, err)
	}
	if _, err := h1.Write([]byte("x")); !errors.Is(err, treefs.ErrReadOnly) {
		t.Errorf("Write: %v", err)
	}
	if err := h1.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := h1.Close(); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
	if _, err := h1.Read(buf); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Read after Close: %v", err)
	}
	dir, err := fsys.Open("/fleet/base")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dir.Read(buf); err == nil {
		t.Error("reading a directory: no error")
	}
	if st, err := dir.Stat(); err != nil || !st.IsDir() {
		t.Errorf("Stat of an opened directory = %v, %v", st, err)
	}
	if _, err := fsys.Open("/fleet/missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open of a missing file: %v", err)
	}
	if _, err := fsys.Open("/fleet/top.yaml/x"); err == nil {
		t.Error("Open through a file: no error")
	}
}

// fleetFiles is a tree shaped like a generated fleet: a base, and per site
// five overlay files and one cluster file (6 × sites + 8 files).
func fleetFiles(sites int) []treefs.File {
	var files []treefs.File
	for i := range 8 {
		files = append(files, treefs.File{Path: fmt.Sprintf("base/object-%d.yaml", i), Data: []byte("kind: ConfigMap\n")})
	}
	for i := range sites {
		site := fmt.Sprintf("site-%05d", i)
		for _, name := range []string{"kustomization.yaml", "fleetgen-site.yaml", "site.env", "patch.yaml", "local/kustomization.yaml"} {
			files = append(files, treefs.File{Path: "overlays/" + site + "/" + name, Data: []byte("resources: [../../base]\n# " + site + "\n")})
		}
		files = append(files, treefs.File{Path: "clusters/" + site + "/fleet-sync.yaml", Data: []byte("kind: Kustomization\n")})
	}
	return files
}

func memFromFiles(b *testing.B, root string, files []treefs.File) filesys.FileSystem {
	fsys := filesys.MakeFsInMemory()
	for _, f := range files {
		p := path.Join(root, f.Path)
		if err := fsys.MkdirAll(path.Dir(p)); err != nil {
			b.Fatal(err)
		}
		if err := fsys.WriteFile(p, f.Data); err != nil {
			b.Fatal(err)
		}
	}
	return fsys
}

const benchSites = 10000

func BenchmarkNew(b *testing.B) {
	files := fleetFiles(benchSites)
	b.Run("inmemory", func(b *testing.B) {
		for b.Loop() {
			memFromFiles(b, "/fleet", files)
		}
		b.ReportMetric(float64(len(files)), "files")
	})
	b.Run("treefs", func(b *testing.B) {
		for b.Loop() {
			if _, err := treefs.New("/fleet", files); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(files)), "files")
	})
}

func BenchmarkLookup(b *testing.B) {
	files := fleetFiles(benchSites)
	tfs, err := treefs.New("/fleet", files)
	if err != nil {
		b.Fatal(err)
	}
	for _, impl := range []struct {
		name string
		fsys filesys.FileSystem
	}{{"inmemory", memFromFiles(b, "/fleet", files)}, {"treefs", tfs}} {
		dir := "/fleet/overlays/site-05000"
		file := dir + "/kustomization.yaml"
		b.Run(impl.name+"/IsDir", func(b *testing.B) {
			for b.Loop() {
				if !impl.fsys.IsDir(dir) {
					b.Fatal("not a directory")
				}
			}
		})
		b.Run(impl.name+"/ReadFile", func(b *testing.B) {
			for b.Loop() {
				if _, err := impl.fsys.ReadFile(file); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(impl.name+"/CleanedAbs", func(b *testing.B) {
			for b.Loop() {
				if _, _, err := impl.fsys.CleanedAbs(file); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
