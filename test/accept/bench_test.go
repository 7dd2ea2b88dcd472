package accept

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/fleetgen/fleetgen/pkg/benchfleet"
)

// benchSitesEnv sets the fleet size of BenchmarkGenerate (default 1,000).
const benchSitesEnv = "FLEETGEN_ACCEPT_BENCH_SITES"

// BenchmarkGenerate measures, for each engine, a cold generate of the
// benchmark fleet (empty tree, empty verification cache) and then
// generate after adding one site in the middle of the fleet, each in a
// git repository as the acceptance test runs them.
//
//	FLEETGEN_ACCEPT_BENCH_SITES=10000 go test ./test/accept -run '^$' -bench Generate -benchtime 1x -timeout 2h
func BenchmarkGenerate(b *testing.B) {
	n := 1000
	if s := os.Getenv(benchSitesEnv); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 2 {
			b.Fatalf("%s=%q: want a number of sites, at least 2", benchSitesEnv, s)
		}
		n = v
	}
	for _, engine := range []string{"argocd", "flux"} {
		b.Run(engine+"/cold", func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				r, inv := benchRepo(b, engine, n)
				r.writeInventory(b, inv)
				b.StartTimer()
				r.generate(b)
			}
		})
		b.Run(engine+"/add-site", func(b *testing.B) {
			r, inv := benchRepo(b, engine, n)
			r.writeInventory(b, inv)
			r.generate(b)
			name := benchfleet.SiteName(n/2) + "a"
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				if i%2 == 0 {
					r.writeInventory(b, addSiteLast(inv, name, n))
				} else {
					r.writeInventory(b, inv)
				}
				b.StartTimer()
				r.generate(b)
			}
		})
	}
}

func benchRepo(b *testing.B, engine string, n int) (*repo, []byte) {
	b.Helper()
	dir := b.TempDir()
	b.Setenv("FLEETGEN_CACHE_DIR", filepath.Join(dir, "cache"))
	return newRepo(b, filepath.Join(dir, "repo"), engine), inventory(b, engine, n)
}
