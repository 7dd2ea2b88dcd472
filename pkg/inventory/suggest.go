package inventory

import "github.com/fleetgen/fleetgen/pkg/suggest"

// closest returns the candidate closest to s when it is close enough to be
// a likely typo ("regoin" → "region"), or "".
func closest(s string, candidates []string) string {
	return suggest.Closest(s, candidates, suggest.Limit(2))
}
