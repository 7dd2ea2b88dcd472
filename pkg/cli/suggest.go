package cli

import (
	"fmt"

	"github.com/fleetgen/fleetgen/pkg/suggest"
)

// didYouMean returns ` (did you mean "X"?)` for the candidate closest to s
// when it is a likely typo, or "".
func didYouMean(s string, candidates []string) string {
	best := suggest.Closest(s, candidates, suggest.Limit(3))
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}
