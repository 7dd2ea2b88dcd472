package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/fleetgen/fleetgen/pkg/pipeline"
)

// starterChartAnchor is the line of the starter inventory after which init
// adds a chart release.
const starterChartAnchor = "  config:\n    LOG_LEVEL: info\n"

// withChart adds the chart at source (a path as given on the command line)
// to the starter inventory's defaults as a release named after the chart,
// its path made relative to dir, where the inventory goes.
func withChart(inv []byte, dir, source string) ([]byte, error) {
	info, err := pipeline.DescribeChart(source)
	if err != nil {
		return nil, usageError(err)
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	absChart, err := filepath.Abs(source)
	if err != nil {
		return nil, err
	}
	rel, err := filepath.Rel(absDir, absChart)
	if err != nil {
		return nil, usageError(fmt.Errorf("--chart %s: %w", source, err))
	}
	entry := fmt.Sprintf(`  # Helm chart releases, by release name (docs/charts.md): rendered at
  # generate time and verified like the base; values merge leaf by leaf.
  charts:
    %s:
      chart: %s
      version: %s
      values: {}
`, info.Name, strconv.Quote(filepath.ToSlash(rel)), strconv.Quote(info.Version))
	i := bytes.Index(inv, []byte(starterChartAnchor))
	if i < 0 {
		return nil, fmt.Errorf("the starter inventory has no place for a chart")
	}
	i += len(starterChartAnchor)
	return append(append(append([]byte{}, inv[:i]...), entry...), inv[i:]...), nil
}

// ChartsPullOptions are the inputs of `fleetgen charts pull`.
type ChartsPullOptions struct {
	IO             IOStreams
	Inventories    []string
	Check          bool
	PlainHTTP      bool
	RegistryConfig string
}

// NewCmdCharts builds `fleetgen charts` and its subcommands.
func NewCmdCharts(streams IOStreams, runF func(*ChartsPullOptions) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "charts",
		Short: "Pull the inventory's remote Helm charts into the repository and pin them",
		Long: `Helm charts from OCI registries (chart: oci://...) and HTTP(S) chart
repositories (repo: https://..., chart: NAME) are downloaded by 'charts pull'
into the fleet repository and pinned by digest in ` + pipeline.ChartLockFile + `;
generation reads only those files and never touches the network
(docs/charts.md).`,
		Example: `  fleetgen charts pull -i inventory.yaml`,
		Args:    exactArgs(0),
		RunE:    func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newCmdChartsPull(streams, runF))
	return cmd
}

func newCmdChartsPull(streams IOStreams, runF func(*ChartsPullOptions) error) *cobra.Command {
	opts := &ChartsPullOptions{IO: streams}
	cmd := &cobra.Command{
		Use:   "pull [-i INVENTORY] [--check]",
		Short: "Download the pinned version of every remote chart and record its digest in the lock file",
		Long: `pull downloads, for every release of the inventory whose chart is remote (after
merging defaults, groups and sites: each distinct chart and version once),
the pinned version: from an OCI registry with Helm's registry client (the
credentials of 'helm registry login', else Docker's), from an HTTP(S) chart
repository through its index.yaml. Each goes to
` + pipeline.ChartsPulledDir + `/<scheme>/<host>/<path>/<chart>-<version>.tgz and is recorded in
` + pipeline.ChartLockFile + ` (chart, version, file, sha256, and the OCI manifest digest),
both next to the first inventory file: commit them.

A chart whose file is present with its locked sha256 is not downloaded
again, so a second pull changes nothing. A locked version that the registry
now serves with other bytes is an error: delete its entry to accept it.
Entries no release uses any more are dropped, and their files removed.
Everything is downloaded before anything is written.

--check downloads nothing and writes nothing: it exits 1 when the lock and
the pulled files are not what pull would leave.

Exit codes: 0 done (or, with --check, up to date); 1 a download failed, or
--check found the lock out of date; 2 bad input: the inventory, the lock
file, a chart version the registry or repository does not have.`,
		Example: `  # Pull every remote chart of the inventory and pin it
  fleetgen charts pull -i inventory.yaml

  # In CI: is the lock up to date with the inventory? (offline)
  fleetgen charts pull -i inventory.yaml --check

  # A registry on the local network without TLS
  fleetgen charts pull -i inventory.yaml --plain-http`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(opts.Inventories) == 0 {
				opts.Inventories = []string{"inventory.yaml"}
			}
			if runF != nil {
				return runF(opts)
			}
			return chartsPullRun(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&opts.Inventories, "inventory", "i", nil, "inventory file (- for standard input; default inventory.yaml); repeat to merge files in order")
	f.BoolVar(&opts.Check, "check", false, "download and write nothing: exit 1 when the lock or the pulled charts are out of date")
	f.BoolVar(&opts.PlainHTTP, "plain-http", false, "talk to OCI registries over plain HTTP instead of HTTPS")
	f.StringVar(&opts.RegistryConfig, "registry-config", "", "credentials file of OCI registries (default: Helm's, falling back to Docker's)")
	return cmd
}

func chartsPullRun(ctx context.Context, opts *ChartsPullOptions) error {
	report, err := pipeline.PullCharts(ctx, pipeline.PullOptions{
		Inventories: opts.Inventories, Stdin: opts.IO.In, Check: opts.Check,
		PlainHTTP: opts.PlainHTTP, RegistryConfig: opts.RegistryConfig,
	})
	var stale *pipeline.PullStaleError
	if errors.As(err, &stale) {
		return &ExitError{Code: ExitFailed, Err: err}
	}
	if err != nil {
		return err
	}
	for _, c := range report.Charts {
		fmt.Fprintf(opts.IO.Out, "%-8s %s %s  %s\n", c.Status, c.Chart, c.Version, c.File)
	}
	switch {
	case len(report.Charts) == 0:
		fmt.Fprintln(opts.IO.Out, "no remote charts in the inventory")
	case opts.Check || !report.Wrote:
		fmt.Fprintf(opts.IO.Out, "%s is up to date\n", report.Lock)
	default:
		fmt.Fprintf(opts.IO.Out, "wrote %s\n", report.Lock)
	}
	return nil
}
