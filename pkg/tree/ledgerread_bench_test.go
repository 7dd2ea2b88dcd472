package tree

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/fleetgen/fleetgen/pkg/changes"
	"github.com/fleetgen/fleetgen/pkg/render"
)

// BenchmarkLedgerPerJob is the ledger's part of a check right after a
// one-site generate, at FLEETGEN_BENCH_SITES sites (default 1,000; one
// ledger file per site, six files each), the tree unchanged and its stat
// cache warm: the check of the ledger against the seal, the plan and the
// new seal. "per-step" reads the ledger in each of them, as fleetgen did
// until 2026-12; "once" reads it once and hands it on (ReadLedgerState,
// PlanOptions.Ledger, Plan.LedgerRead).
func BenchmarkLedgerPerJob(b *testing.B) {
	sites := 1000
	if v, err := strconv.Atoi(os.Getenv("FLEETGEN_BENCH_SITES")); err == nil && v > 0 {
		sites = v
	}
	const perSite = 6
	files := []render.File{file("base/kustomization.yaml", "", "resources: [deploy.yaml]\n")}
	for s := range sites {
		site := fmt.Sprintf("store-%06d", s)
		for f := range perSite {
			files = append(files, file(fmt.Sprintf("overlays/%s/f%d.yaml", site, f), site, fmt.Sprintf("# %s file %d\n", site, f)))
		}
	}
	tr := mkTree(files...)
	root := b.TempDir()
	if p, err := MakePlan(root, tr, PlanOptions{}); err != nil {
		b.Fatal(err)
	} else if err := Apply(context.Background(), p); err != nil {
		b.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	for _, f := range tr.Files {
		if err := os.Chtimes(filepath.Join(root, filepath.FromSlash(f.Path)), old, old); err != nil {
			b.Fatal(err)
		}
	}
	stats := changes.NewStatCache()
	if _, err := MakePlan(root, tr, PlanOptions{Stats: stats}); err != nil {
		b.Fatal(err)
	}
	inSync := func(p *Plan, err error) *Plan {
		if err != nil || !p.InSync() {
			b.Fatalf("plan: %v (in sync %v)", err, err == nil && p.InSync())
		}
		return p
	}
	b.Run("per-step", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := ReadLedgerDigest(root); err != nil { // the seal's check
				b.Fatal(err)
			}
			inSync(MakePlan(root, tr, PlanOptions{Stats: stats}))
			if _, _, err := ReadLedgerDigest(root); err != nil { // the new seal
				b.Fatal(err)
			}
		}
	})
	b.Run("once", func(b *testing.B) {
		for b.Loop() {
			l, err := ReadLedgerState(root) // the seal's check
			if err != nil {
				b.Fatal(err)
			}
			if _, err := l.Digest(); err != nil {
				b.Fatal(err)
			}
			p := inSync(MakePlan(root, tr, PlanOptions{Stats: stats, Ledger: l}))
			if _, err := p.LedgerRead().Digest(); err != nil { // the new seal
				b.Fatal(err)
			}
			_ = p.LedgerRead().Files()
		}
	})
}
