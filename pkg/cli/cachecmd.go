package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/fleetgen/fleetgen/pkg/pipeline"
)

// cachePath is the cache directory: $FLEETGEN_CACHE_DIR, else the user
// cache directory/fleetgen.
func cachePath() (string, error) { return pipeline.CacheDir() }

// NewCmdCache builds `fleetgen cache`.
func NewCmdCache(streams IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cache",
		Short: "Show and prune fleetgen's cache directory (verification results and tree indexes)",
		Long: `fleetgen keeps verification results and the index of each tree it works on in
one cache directory: $` + cacheDirEnv + `, or the user cache directory/fleetgen
(~/.cache/fleetgen on Linux). Nothing in it is needed: a removed entry is
rebuilt on the next run. It grows with the fleets and versions it has seen,
so a CI runner that keeps it between runs should prune it (see docs/cache.md).`,
		Example: `  fleetgen cache dir
  fleetgen cache size
  fleetgen cache prune --max-age 168h --max-size 1GiB`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(
		&cobra.Command{
			Use:     "dir",
			Short:   "Print the cache directory",
			Example: `  tar -C "$(fleetgen cache dir)" -czf cache.tgz .`,
			Args:    exactArgs(0),
			RunE: func(cmd *cobra.Command, _ []string) error {
				dir, err := cachePath()
				if err != nil {
					return err
				}
				fmt.Fprintln(streams.Out, dir)
				return nil
			},
		},
		&cobra.Command{
			Use:     "size",
			Aliases: []string{"info"},
			Short:   "Print the cache directory, its number of entries and their total size",
			Example: `  fleetgen cache size`,
			Args:    exactArgs(0),
			RunE: func(cmd *cobra.Command, _ []string) error {
				dir, err := cachePath()
				if err != nil {
					return err
				}
				entries, n, err := pipeline.CacheSize(dir)
				if err != nil {
					return fmt.Errorf("reading cache %s: %w", dir, err)
				}
				fmt.Fprintf(streams.Out, "%s: %d entries, %s (%d bytes)\n", dir, entries, humanBytes(n), n)
				return nil
			},
		},
		newCmdCachePrune(streams),
	)
	return cmd
}

func newCmdCachePrune(streams IOStreams) *cobra.Command {
	var (
		maxAge  time.Duration
		maxSize string
		dryRun  bool
	)
	cmd := &cobra.Command{
		Use:   "prune",
		Short: "Remove cache entries unused for --max-age, then the least recently used above --max-size",
		Long: `prune removes the cache entries not used (read or written) for longer than
--max-age, then the least recently used ones until the rest take at most
--max-size, and temporary files a killed run left behind. It is safe while
other fleetgen runs use the cache: a run that needs a removed entry
rebuilds it. --max-age 0 or --max-size 0 turns that bound off.`,
		Example: `  # The defaults: 30 days, 2 GiB
  fleetgen cache prune

  # A CI runner that restores the cache between jobs
  fleetgen cache prune --max-age 168h --max-size 500MiB

  # What would go
  fleetgen cache prune --dry-run`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			size, err := parseSize(maxSize)
			if err != nil {
				return usageError(fmt.Errorf("--max-size %q: want a size such as 2GiB, 500MiB or 0 (no bound)", maxSize))
			}
			if maxAge < 0 {
				return usageError(fmt.Errorf("--max-age %s: must not be negative", maxAge))
			}
			dir, err := cachePath()
			if err != nil {
				return err
			}
			res, err := pipeline.PruneCache(dir, pipeline.PruneOptions{MaxAge: maxAge, MaxSize: size, DryRun: dryRun})
			if err != nil {
				return fmt.Errorf("pruning cache %s: %w", dir, err)
			}
			verb := "removed"
			if dryRun {
				verb = "would remove"
			}
			fmt.Fprintf(streams.Out, "%s: %s %d entries (%s), kept %d (%s)\n", dir, verb, res.Removed, humanBytes(res.RemovedBytes), res.Kept, humanBytes(res.KeptBytes))
			return nil
		},
	}
	f := cmd.Flags()
	f.DurationVar(&maxAge, "max-age", pipeline.DefaultMaxAge, "remove entries not used for longer than this (0: no age bound)")
	f.StringVar(&maxSize, "max-size", "2GiB", "then remove the least recently used entries until the rest take at most this (2GiB, 500MiB, 0: no size bound)")
	f.BoolVar(&dryRun, "dry-run", false, "print what would be removed, remove nothing")
	return cmd
}

// humanBytes reads like "1.5 MiB".
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// parseSize parses a byte size: 2GiB, 2Gi, 500MB, 500M, 1024 or 0.
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if len(t) > 1 && (t[len(t)-1] == 'B' || t[len(t)-1] == 'b') && (t[len(t)-2] < '0' || t[len(t)-2] > '9') {
		t = t[:len(t)-1] // GiB -> Gi, MB -> M
	} else if strings.HasSuffix(t, "B") {
		t = strings.TrimSuffix(t, "B") // 1024B
	}
	if strings.HasSuffix(t, "K") {
		t = strings.TrimSuffix(t, "K") + "k"
	}
	q, err := resource.ParseQuantity(t)
	if err != nil || q.Sign() < 0 {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	return q.Value(), nil
}
