package selector

import (
	"fmt"
	"strings"
	"testing"
)

func TestParseShard(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Shard
		err  string
	}{
		{in: "1/3", want: Shard{1, 3}},
		{in: "3/3", want: Shard{3, 3}},
		{in: "1/1", want: Shard{1, 1}},
		{in: "0/3", err: "1-based"},
		{in: "4/3", err: "between 1 and 3"},
		{in: "x/y", err: "whole numbers"},
		{in: "1/0", err: "at least 1"},
		{in: "2", err: "want I/N"},
		{in: "", err: "want I/N"},
		{in: "-1/3", err: "1-based"},
	} {
		got, err := ParseShard(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), fmt.Sprintf("%q", tc.in)) {
				t.Errorf("ParseShard(%q) error %v, want one naming the value and %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseShard(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

// realisticNames are site names as fleets spell them: a type, a city and
// a number, or a plain numbered prefix.
func realisticNames(n int) []string {
	cities := []string{"berlin", "paris", "madrid", "rome", "vienna", "oslo", "lyon", "porto"}
	names := make([]string, 0, n)
	for i := 0; len(names) < n; i++ {
		switch i % 3 {
		case 0:
			names = append(names, fmt.Sprintf("store-%s-%03d", cities[i%len(cities)], i/3))
		case 1:
			names = append(names, fmt.Sprintf("site-%05d", i))
		default:
			names = append(names, fmt.Sprintf("edge-%d", i))
		}
	}
	return names
}

// TestShardBalance checks the balance rule: no shard holds less than half
// of an even share, on realistic fleets of 100 to 10,000 sites.
func TestShardBalance(t *testing.T) {
	for _, size := range []int{100, 1000, 10000} {
		names := realisticNames(size)
		for n := 2; n <= 16; n++ {
			if size/n < 20 {
				continue // too few sites a shard for a statistical balance
			}
			counts := make([]int, n+1)
			for _, name := range names {
				counts[Of(name, n)]++
			}
			even := float64(size) / float64(n)
			lo, hi := size, 0
			for i := 1; i <= n; i++ {
				lo, hi = min(lo, counts[i]), max(hi, counts[i])
				if float64(counts[i]) < even/2 {
					t.Errorf("%d sites, %d shards: shard %d holds %d, less than half of %.0f", size, n, i, counts[i], even)
				}
			}
			if size == 10000 && testing.Verbose() {
				t.Logf("%d sites, N=%d: even %.0f, smallest %d (%.1f%%), largest %d (%.1f%%)", size, n, even, lo, 100*float64(lo)/even, hi, 100*float64(hi)/even)
			}
		}
	}
}

// TestShardStable checks that a site's shard depends on its name alone:
// removing or adding sites moves no other site, and the shards partition
// the fleet.
func TestShardStable(t *testing.T) {
	names := realisticNames(500)
	for n := 1; n <= 5; n++ {
		before := map[string]int{}
		for _, name := range names {
			hits := 0
			for i := 1; i <= n; i++ {
				if (Shard{i, n}).Has(name) {
					hits++
					before[name] = i
				}
			}
			if hits != 1 {
				t.Fatalf("N=%d: %s is in %d shards, want 1", n, name, hits)
			}
		}
		more := append(realisticNames(700)[500:], names[100:]...)
		for _, name := range more {
			if i, ok := before[name]; ok && Of(name, n) != i {
				t.Errorf("N=%d: %s moved from shard %d to %d when the fleet changed", n, name, i, Of(name, n))
			}
		}
	}
	if got := Of("store-berlin-001", 3); got != Of("store-berlin-001", 3) || got < 1 || got > 3 {
		t.Errorf("Of out of range: %d", got)
	}
}
