package cache

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestPutGet(t *testing.T) {
	d, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	k := Key([]byte("a"), []byte("b"))
	if _, ok := d.Get(k); ok {
		t.Fatal("hit in an empty cache")
	}
	if err := d.Put(k, []byte("payload")); err != nil {
		t.Fatal(err)
	}
	got, ok := d.Get(k)
	if !ok || string(got) != "payload" {
		t.Fatalf("Get = %q, %v", got, ok)
	}
	if _, sum, ok := d.GetSum(k); !ok || sum != Sum([]byte("payload")) {
		t.Errorf("GetSum's checksum %q is not Sum of the data", sum)
	}
}

// PutFunc stores what its function writes as Put stores a payload: the
// same entry, the same checksum; a function that fails stores nothing and
// leaves the entry there was.
func TestPutFunc(t *testing.T) {
	d, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	payload := []byte(strings.Repeat("a payload written in pieces\n", 10000))
	k, kp := Key([]byte("func")), Key([]byte("put"))
	sum, err := d.PutFunc(k, func(w io.Writer) error {
		for rest := payload; len(rest) > 0; {
			n := min(len(rest), 1000)
			if _, err := w.Write(rest[:n]); err != nil {
				return err
			}
			rest = rest[n:]
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Put(kp, payload); err != nil {
		t.Fatal(err)
	}
	got, gotSum, ok := d.GetSum(k)
	if !ok || !bytes.Equal(got, payload) || gotSum != sum || sum != Sum(payload) {
		t.Fatalf("GetSum after PutFunc = %d bytes, %q, %v; want %d bytes, %q", len(got), gotSum, ok, len(payload), Sum(payload))
	}
	a, _ := os.ReadFile(d.file(k))
	b, _ := os.ReadFile(d.file(kp))
	if !bytes.Equal(a, b) {
		t.Error("PutFunc and Put wrote different entries for the same payload")
	}
	boom := errors.New("boom")
	if _, err := d.PutFunc(k, func(w io.Writer) error {
		w.Write([]byte("half"))
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("PutFunc with a failing function: %v, want %v", err, boom)
	}
	if got, ok := d.Get(k); !ok || !bytes.Equal(got, payload) {
		t.Error("a failed PutFunc changed the entry")
	}
	tmps, _ := filepath.Glob(filepath.Join(filepath.Dir(d.file(k)), "*.tmp-*"))
	if len(tmps) > 0 {
		t.Errorf("temporary files left: %v", tmps)
	}
}

func TestKeyIsUnambiguous(t *testing.T) {
	if Key([]byte("ab"), []byte("c")) == Key([]byte("a"), []byte("bc")) {
		t.Fatal("different parts gave the same key")
	}
}

func TestDamagedEntryIsMiss(t *testing.T) {
	for name, damage := range map[string]func([]byte) []byte{
		"truncated":    func(b []byte) []byte { return b[:len(b)-3] },
		"flipped byte": func(b []byte) []byte { b[len(b)-1] ^= 1; return b },
		"empty":        func([]byte) []byte { return nil },
		"no header":    func(b []byte) []byte { return b[len(magic):] },
		"bad checksum": func(b []byte) []byte { b[len(magic)] ^= 1; return b },
	} {
		t.Run(name, func(t *testing.T) {
			d, _ := Open(t.TempDir())
			k := Key([]byte(name))
			if err := d.Put(k, []byte("a payload long enough")); err != nil {
				t.Fatal(err)
			}
			f := d.file(k)
			data, _ := os.ReadFile(f)
			if err := os.WriteFile(f, damage(data), 0o644); err != nil {
				t.Fatal(err)
			}
			if got, ok := d.Get(k); ok {
				t.Fatalf("damaged entry served: %q", got)
			}
		})
	}
}

func TestInvalidKey(t *testing.T) {
	d, _ := Open(t.TempDir())
	if err := d.Put("../x", nil); err == nil {
		t.Fatal("Put accepted an invalid key")
	}
	if _, ok := d.Get("../x"); ok {
		t.Fatal("Get served an invalid key")
	}
}

// Concurrent writers of one key leave a whole entry and no temporary files.
func TestConcurrentPut(t *testing.T) {
	d, _ := Open(t.TempDir())
	k := Key([]byte("k"))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				if err := d.Put(k, []byte{byte('a' + i), 'x', 'y'}); err != nil {
					t.Error(err)
				}
				if got, ok := d.Get(k); ok && len(got) != 3 {
					t.Errorf("partial entry %q", got)
				}
			}
		}()
	}
	wg.Wait()
	left, _ := filepath.Glob(filepath.Join(d.Path(), "*", "*.tmp-*"))
	if len(left) > 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

func TestOpenRefusesUnusableDirectory(t *testing.T) {
	tmp := t.TempDir()
	file := filepath.Join(tmp, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(filepath.Join(file, "cache")); err == nil {
		t.Error("Open under a regular file succeeded")
	}
	ro := filepath.Join(tmp, "read-only")
	if err := os.Mkdir(ro, 0o555); err != nil {
		t.Fatal(err)
	}
	if f, err := os.CreateTemp(ro, "x"); err == nil {
		f.Close()
		t.Log("the read-only case is skipped: this user can write into a 0555 directory")
	} else if _, err := Open(ro); err == nil || !strings.Contains(err.Error(), "not writable") {
		t.Errorf("Open of a read-only directory: err = %v, want not writable", err)
	}
	d, err := Open(filepath.Join(tmp, "ok"))
	if err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(d.Path()); len(entries) != 0 {
		t.Errorf("Open left files behind: %v", entries)
	}
}
