package suggest

import "strings"

// maxLen bounds the inputs Distance compares in full: names and keys are
// short, and anything longer is no typo of one.
const maxLen = 128

// Closest returns the candidate closest to s, ignoring case, when it is
// within limit edits (see Limit), or "". Ties go to the earlier candidate.
func Closest(s string, candidates []string, limit func(candidate string) int) string {
	best, bestDist := "", -1
	ls := strings.ToLower(s)
	for _, c := range candidates {
		d := Distance(ls, strings.ToLower(c))
		if d <= limit(c) && (bestDist < 0 || d < bestDist) {
			best, bestDist = c, d
		}
	}
	return best
}

// Limit is the usual tolerance: a third of the candidate's length, at least
// 1 and at most max edits.
func Limit(max int) func(string) int {
	return func(c string) int { return min(max, maxInt(1, len(c)/3)) }
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

// Distance is the optimal string alignment distance between a and b:
// insertions, deletions, substitutions and transpositions of adjacent bytes
// each cost 1.
func Distance(a, b string) int {
	if len(a) > maxLen || len(b) > maxLen {
		return max(len(a), len(b))
	}
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
