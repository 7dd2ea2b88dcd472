package tree

import (
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

func lines(n int, format string) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		b.WriteString(strings.ReplaceAll(format, "N", itoa(i)))
	}
	return b.String()
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}

func TestUnifiedDiffGolden(t *testing.T) {
	twenty := lines(20, "line N\n")
	tests := []struct {
		name     string
		old, new []byte
	}{
		{"create", nil, []byte("a: 1\nb: 2\n")},
		{"delete", []byte("a: 1\nb: 2\n"), nil},
		{"empty-to-content", []byte{}, []byte("a: 1\n")},
		{"one-line-changed", []byte(twenty), []byte(strings.Replace(twenty, "line 10\n", "line ten\n", 1))},
		{"two-hunks", []byte(twenty), []byte(strings.Replace(strings.Replace(twenty, "line 2\n", "line two\n", 1), "line 18\n", "", 1))},
		{"merged-hunk", []byte(twenty), []byte(strings.Replace(strings.Replace(twenty, "line 5\n", "line five\n", 1), "line 11\n", "line eleven\n", 1))},
		{"insert-at-start", []byte("b\nc\n"), []byte("a\nb\nc\n")},
		{"append", []byte("a\nb\n"), []byte("a\nb\nc\n")},
		{"no-newline-at-end", []byte("a\nb"), []byte("a\nb\n")},
		{"replace-block", []byte("keep\nold 1\nold 2\nkeep too\n"), []byte("keep\nnew 1\nnew 2\nnew 3\nkeep too\n")},
		{"yaml-edit", []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: site-config\ndata:\n  region: eu-west\n  tier: gold\n"),
			[]byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: site-config\n  labels:\n    site: berlin\ndata:\n  region: eu-central\n  tier: gold\n")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := UnifiedDiff("overlays/s/x.yaml", tc.old, tc.new)
			golden := filepath.Join("testdata", "diff", tc.name+".diff")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Fatalf("diff:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestUnifiedDiffIdentical(t *testing.T) {
	if d := UnifiedDiff("x", []byte("a\n"), []byte("a\n")); d != "" {
		t.Fatalf("identical contents gave %q", d)
	}
	if d := UnifiedDiff("x", nil, nil); d != "" {
		t.Fatalf("nil, nil gave %q", d)
	}
}

// TestDiffLinesMinimal checks on random inputs that the edit script turns
// a into b and is as short as the longest common subsequence allows.
func TestDiffLinesMinimal(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 500; i++ {
		a := randomLines(rng)
		b := randomLines(rng)
		es := diffLines(a, b)
		var gotA, gotB []string
		dels, ins := 0, 0
		for _, e := range es {
			switch e.op {
			case ' ':
				gotA, gotB = append(gotA, a[e.ai]), append(gotB, b[e.bi])
				if a[e.ai] != b[e.bi] {
					t.Fatalf("kept line differs: %q vs %q", a[e.ai], b[e.bi])
				}
			case '-':
				gotA = append(gotA, a[e.ai])
				dels++
			case '+':
				gotB = append(gotB, b[e.bi])
				ins++
			}
		}
		if strings.Join(gotA, "") != strings.Join(a, "") || strings.Join(gotB, "") != strings.Join(b, "") {
			t.Fatalf("script does not rebuild the inputs\na=%q\nb=%q", a, b)
		}
		if want := len(a) + len(b) - 2*lcs(a, b); dels+ins != want {
			t.Fatalf("%d edits, minimum is %d\na=%q\nb=%q", dels+ins, want, a, b)
		}
	}
}

func randomLines(rng *rand.Rand) []string {
	n := rng.IntN(12)
	out := make([]string, n)
	for i := range out {
		out[i] = string(rune('a'+rng.IntN(4))) + "\n"
	}
	return out
}

func lcs(a, b []string) int {
	dp := make([][]int, len(a)+1)
	for i := range dp {
		dp[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				dp[i][j] = dp[i+1][j+1] + 1
			} else {
				dp[i][j] = max(dp[i+1][j], dp[i][j+1])
			}
		}
	}
	return dp[0][0]
}
