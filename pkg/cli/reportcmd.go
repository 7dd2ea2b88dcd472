package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/fleetgen/fleetgen/pkg/report"
)

// NewCmdReport builds `fleetgen report`, which works on JSON reports.
func NewCmdReport(streams IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "report",
		Short:   "Work on JSON verification reports (merge the reports of sharded runs)",
		Example: `  fleetgen report merge report-1.json report-2.json report-3.json > report.json`,
		Args:    exactArgs(0),
		RunE:    func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(NewCmdReportMerge(streams))
	return cmd
}

// NewCmdReportMerge builds `fleetgen report merge`.
func NewCmdReportMerge(streams IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "merge FILE...",
		Short: "Merge the JSON reports of the shards of one run into the report of the whole run",
		Long: `merge reads the JSON reports (verify -o json, check --format json) of the
N shards of one run (--shard 1/N ... N/N) and prints on standard output the
report an unsharded run gives: every shard's sites, sorted by name, and the
summed summary, without the shard field. The summary line and the count of
fleet-wide problems go to standard error.

Exit 0 when every site and the fleet-wide checks passed, 1 when any failed,
2 when the files are not the reports of one sharded run: a file that is not
a report, reports of different fleets or shard counts, a shard missing or
given twice, or a site in two reports (each named).`,
		Example: `  # After N CI jobs each ran: fleetgen verify fleet/ --shard I/N -o json > report-I.json
  fleetgen report merge report-*.json > report.json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError(fmt.Errorf("no reports: give the JSON report of every shard\nSee '%s --help'", cmd.CommandPath()))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			in := make([]report.Input, 0, len(args))
			for _, name := range args {
				data, err := os.ReadFile(name)
				if err != nil {
					return usageError(err)
				}
				r, err := report.Decode(name, data)
				if err != nil {
					return usageError(err)
				}
				in = append(in, r)
			}
			m, err := report.Merge(in)
			if err != nil {
				return usageError(err)
			}
			if err := m.Report.Write(streams.Out, report.JSON); err != nil {
				return err
			}
			if err := m.Report.Write(streams.ErrOut, report.Text); err != nil {
				return err
			}
			if m.FleetProblems > 0 {
				fmt.Fprintf(streams.ErrOut, "FAIL fleet-wide checks: %d problems (listed in the log of shard 1)\n", m.FleetProblems)
			}
			if !m.OK() {
				return silentFailure()
			}
			return nil
		},
	}
}
