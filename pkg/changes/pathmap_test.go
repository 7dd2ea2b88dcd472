package changes

import (
	"fmt"
	"sync"
	"testing"
)

// A PathMap keeps every key stored from many goroutines at once, answers
// each with its last value, and ranges over each once.
func TestPathMap(t *testing.T) {
	var m PathMap[int]
	if _, ok := m.Load("a"); ok {
		t.Fatal("the zero PathMap holds a")
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				m.Store(fmt.Sprintf("sites/%d/f%d", w, i), i)
			}
		})
	}
	wg.Wait()
	m.Store("sites/3/f7", -1)
	if n := m.Len(); n != 8000 {
		t.Errorf("Len = %d, want 8000", n)
	}
	if v, ok := m.Load("sites/3/f7"); !ok || v != -1 {
		t.Errorf("Load(sites/3/f7) = %d, %v; want the last value stored", v, ok)
	}
	seen := map[string]bool{}
	m.Range(func(k string, _ int) bool {
		if seen[k] {
			t.Errorf("Range gave %s twice", k)
		}
		seen[k] = true
		return true
	})
	if len(seen) != 8000 {
		t.Errorf("Range gave %d keys, want 8000", len(seen))
	}
	n := 0
	m.Range(func(string, int) bool { n++; return n < 10 })
	if n != 10 {
		t.Errorf("Range went on after f returned false: %d calls", n)
	}
}
