package cache

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// magic starts every entry; a change of entry format changes it.
const magic = "fleetgen-cache-v1\n"

// Dir is a cache directory. Its methods are safe for concurrent use, also
// by several processes.
type Dir struct{ path string }

// Open returns the cache in dir, creating the directory if needed. It
// makes sure entries can be written there (by creating and removing a probe
// file), so that a cache that cannot work is found once, here, rather than
// by every Put failing.
func Open(dir string) (*Dir, error) {
	if dir == "" {
		return nil, errors.New("cache: empty directory")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return nil, fmt.Errorf("cache: not writable: %w", err)
	}
	f.Close()
	os.Remove(f.Name())
	return &Dir{path: dir}, nil
}

// DefaultDir is fleetgen's cache directory for this user:
// os.UserCacheDir()/fleetgen.
func DefaultDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "fleetgen"), nil
}

// Path is the directory of the cache.
func (d *Dir) Path() string { return d.path }

// Key hashes parts into a key. Each part is length-prefixed, so no two
// different lists of parts give the same key.
func Key(parts ...[]byte) string {
	h := sha256.New()
	var n [8]byte
	for _, p := range parts {
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func validKey(key string) bool {
	if len(key) != 64 {
		return false
	}
	_, err := hex.DecodeString(key)
	return err == nil
}

func (d *Dir) file(key string) string {
	return filepath.Join(d.path, key[:2], key)
}

// Get returns the payload stored under key. A missing, unreadable,
// truncated or damaged entry is a miss.
func (d *Dir) Get(key string) ([]byte, bool) {
	data, _, ok := d.GetSum(key)
	return data, ok
}

// GetSum is Get that also returns the entry's checksum (the lowercase hex
// SHA-256 of the data, verified), which identifies the content.
func (d *Dir) GetSum(key string) (data []byte, sum string, ok bool) {
	if !validKey(key) {
		return nil, "", false
	}
	name := d.file(key)
	f, err := os.Open(name)
	if err != nil {
		return nil, "", false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, "", false
	}
	raw := make([]byte, st.Size())
	if _, err := io.ReadFull(f, raw); err != nil {
		return nil, "", false
	}
	data, sum, ok = decode(raw)
	if ok && time.Since(st.ModTime()) > touchAfter {
		// A hit is a use: Prune removes the least recently used first.
		now := time.Now()
		_ = os.Chtimes(name, now, now)
	}
	return data, sum, ok
}

// Sum is the checksum GetSum returns for data.
func Sum(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func decode(data []byte) ([]byte, string, bool) {
	rest, ok := bytes.CutPrefix(data, []byte(magic))
	if !ok || len(rest) < 65 || rest[64] != '\n' {
		return nil, "", false
	}
	want, payload := rest[:64], rest[65:]
	sum := sha256.Sum256(payload)
	if hex.EncodeToString(sum[:]) != string(want) {
		return nil, "", false
	}
	return payload, string(want), true
}

func encode(payload []byte) []byte {
	sum := sha256.Sum256(payload)
	out := make([]byte, 0, len(magic)+65+len(payload))
	out = append(out, magic...)
	out = append(out, hex.EncodeToString(sum[:])...)
	out = append(out, '\n')
	return append(out, payload...)
}

// Put stores payload under key: written to a temporary file beside the
// entry, then renamed over it.
func (d *Dir) Put(key string, payload []byte) error {
	_, err := d.put(key, func(tmp string) (string, error) {
		return Sum(payload), os.WriteFile(tmp, encode(payload), 0o644)
	})
	return err
}

// PutFunc stores under key what write writes, as Put does, without
// holding the payload in memory: the entry is written as write goes, its
// checksum filled in at the end. It returns the checksum (as GetSum
// does). When write fails, nothing is stored and its error is returned.
func (d *Dir) PutFunc(key string, write func(io.Writer) error) (string, error) {
	return d.put(key, func(tmp string) (string, error) { return writeEntry(tmp, write) })
}

// put stores the entry that write writes to the temporary file it is
// given under key, renaming it over the entry, and returns its checksum.
func (d *Dir) put(key string, write func(tmp string) (string, error)) (string, error) {
	if !validKey(key) {
		return "", fmt.Errorf("cache: invalid key %q", key)
	}
	dst := d.file(key)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", fmt.Errorf("cache: %w", err)
	}
	var r [8]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", err
	}
	tmp := dst + ".tmp-" + hex.EncodeToString(r[:])
	sum, err := write(tmp)
	if err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("cache: %w", err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("cache: %w", err)
	}
	return sum, nil
}

// writeEntry writes the entry of what write writes to the new file name:
// the header with a placeholder checksum, the payload through a buffer,
// then the payload's checksum over the placeholder.
func writeEntry(name string, write func(io.Writer) error) (string, error) {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	bw := bufio.NewWriterSize(f, 64<<10)
	_, err = bw.WriteString(magic + strings.Repeat("0", 64) + "\n")
	if err == nil {
		err = write(io.MultiWriter(bw, h))
	}
	if err == nil {
		err = bw.Flush()
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if err == nil {
		_, err = f.WriteAt([]byte(sum), int64(len(magic)))
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return sum, err
}

// New returns the cache in dir without creating or probing it, for
// listing and pruning.
func New(dir string) *Dir { return &Dir{path: dir} }
