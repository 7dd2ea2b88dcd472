package changes

import "sync"

// PathMap is a map by path safe for concurrent use, for what a run keeps
// for each path it looked at (Snapshot; pkg/pipeline's view of the disk):
// an entry costs some 40 bytes where a sync.Map's costs some 140, and a
// check of a 10,000-site tree keeps over 100,000 of them. It is split by a
// hash of the path so that workers rarely wait for each other. The zero
// value is empty.
type PathMap[V any] struct {
	shards [pathMapShards]pathMapShard[V]
}

const pathMapShards = 64

type pathMapShard[V any] struct {
	mu sync.Mutex
	m  map[string]V
}

func (m *PathMap[V]) shard(key string) *pathMapShard[V] {
	// FNV-1a: cheap, and spreads the paths of one directory.
	h := uint32(2166136261)
	for i := 0; i < len(key); i++ {
		h = (h ^ uint32(key[i])) * 16777619
	}
	return &m.shards[h%pathMapShards]
}

// Load returns the value stored for key.
func (m *PathMap[V]) Load(key string) (V, bool) {
	s := m.shard(key)
	s.mu.Lock()
	v, ok := s.m[key]
	s.mu.Unlock()
	return v, ok
}

// Store sets the value for key.
func (m *PathMap[V]) Store(key string, v V) {
	s := m.shard(key)
	s.mu.Lock()
	if s.m == nil {
		s.m = make(map[string]V)
	}
	s.m[key] = v
	s.mu.Unlock()
}

// Len is the number of keys stored.
func (m *PathMap[V]) Len() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		n += len(s.m)
		s.mu.Unlock()
	}
	return n
}

// Range calls f for every key and its value, in no set order, until f
// returns false. f must not call m's methods.
func (m *PathMap[V]) Range(f func(key string, v V) bool) {
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		for k, v := range s.m {
			if !f(k, v) {
				s.mu.Unlock()
				return
			}
		}
		s.mu.Unlock()
	}
}
