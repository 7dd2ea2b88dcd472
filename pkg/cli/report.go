package cli

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/fleetgen/fleetgen/pkg/report"
)

// formatFlag is a --format/--output value: text or json.
type formatFlag struct{ f report.Format }

var _ pflag.Value = (*formatFlag)(nil)

func (v *formatFlag) String() string {
	if v.f == "" {
		return string(report.Text)
	}
	return string(v.f)
}

func (v *formatFlag) Set(s string) error {
	f, err := report.ParseFormat(s)
	if err != nil {
		return err
	}
	if v.f != "" && v.f != f {
		return fmt.Errorf("%q conflicts with the format already given (%q): --format and -o/--output set the same report format", s, v.f)
	}
	v.f = f
	return nil
}

func (v *formatFlag) Type() string { return "text|json" }

// formatHelp is the usage of every report-format flag.
const formatHelp = "report format: text or json (json goes to standard output, everything else to standard error)"

// addFormatFlags registers the report format flag on a command that prints
// a verification report. Every such command takes --format; a command that
// writes no tree (verify) also takes kubectl's -o/--output for it, while
// on generate, check and diff -o stays the tree directory. See "Report
// format flags" in docs/report.md.
func addFormatFlags(cmd *cobra.Command, v *formatFlag, output bool) {
	f := cmd.Flags()
	f.Var(v, "format", formatHelp)
	if output {
		f.VarP(v, "output", "o", "same as --format")
	}
}

// format returns the chosen format, text by default.
func (v *formatFlag) format() report.Format {
	if v.f == "" {
		return report.Text
	}
	return v.f
}

// writeReportOf writes a report. With json, the JSON report goes to
// standard output and the text report to standard error. With text, the
// report goes to standard error when a site failed and to standard output
// otherwise.
func writeReportOf(streams IOStreams, format report.Format, r report.Report) error {
	if format == report.JSON {
		if err := r.Write(streams.Out, report.JSON); err != nil {
			return err
		}
		return r.Write(streams.ErrOut, report.Text)
	}
	if !r.OK() {
		return r.Write(streams.ErrOut, report.Text)
	}
	return r.Write(streams.Out, report.Text)
}
