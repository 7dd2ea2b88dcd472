package cli

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strconv"

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
