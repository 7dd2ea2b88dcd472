package tree

import (
	"fmt"
	"strings"
)

const (
	diffContext = 3
	// maxDiffEdits bounds the work of the line diff; beyond it the hunk
	// simply replaces every old line with every new one.
	maxDiffEdits = 4000
)

// UnifiedDiff returns a unified diff (3 lines of context) from old to new,
// labelled a/<path> and b/<path>; a nil old is labelled /dev/null (file
// created), as is a nil new (file deleted). A last line without a newline is
// followed by "\ No newline at end of file". Equal contents give "". The
// output depends only on the arguments.
func UnifiedDiff(path string, old, new []byte) string {
	if string(old) == string(new) && (old == nil) == (new == nil) {
		return ""
	}
	a, b := splitLines(old), splitLines(new)
	edits := diffLines(a, b)

	var out strings.Builder
	from, to := "a/"+path, "b/"+path
	if old == nil {
		from = "/dev/null"
	}
	if new == nil {
		to = "/dev/null"
	}
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", from, to)

	for i := 0; i < len(edits); {
		if edits[i].op == ' ' {
			i++
			continue
		}
		// A hunk starts diffContext lines before the first change and
		// takes in every change less than 2*diffContext+1 lines after the
		// previous one.
		lo := max(i-diffContext, 0)
		last := i
		for j := i + 1; j < len(edits); j++ {
			if edits[j].op == ' ' {
				continue
			}
			if j-last > 2*diffContext {
				break
			}
			last = j
		}
		hi := min(last+1+diffContext, len(edits))
		writeHunk(&out, a, b, edits[lo:hi])
		i = hi
	}
	return out.String()
}

// edit is one line of an edit script: op ' ' keeps a[ai] (== b[bi]), '-'
// deletes a[ai], '+' inserts b[bi]. ai and bi are also the positions in a
// and b at which the edit happens.
type edit struct {
	op     byte
	ai, bi int
}

func writeHunk(out *strings.Builder, a, b []string, es []edit) {
	var na, nb int
	for _, e := range es {
		if e.op != '+' {
			na++
		}
		if e.op != '-' {
			nb++
		}
	}
	fmt.Fprintf(out, "@@ -%s +%s @@\n", hunkRange(es[0].ai, na), hunkRange(es[0].bi, nb))
	for _, e := range es {
		line := ""
		switch e.op {
		case ' ', '-':
			line = a[e.ai]
		case '+':
			line = b[e.bi]
		}
		out.WriteByte(e.op)
		out.WriteString(line)
		if !strings.HasSuffix(line, "\n") {
			out.WriteString("\n\\ No newline at end of file\n")
		}
	}
}

// hunkRange formats "start,count" the way diff -u does: 1-based start, count
// omitted when 1, and for an empty range the line before it.
func hunkRange(pos, n int) string {
	switch n {
	case 0:
		return fmt.Sprintf("%d,0", pos)
	case 1:
		return fmt.Sprintf("%d", pos+1)
	}
	return fmt.Sprintf("%d,%d", pos+1, n)
}

// splitLines splits data after each newline; the last line may lack one.
func splitLines(data []byte) []string {
	if len(data) == 0 {
		return nil
	}
	lines := strings.SplitAfter(string(data), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// diffLines returns a shortest edit script from a to b (Myers' O(ND)
// algorithm), with every run of changes ordered deletions first.
func diffLines(a, b []string) []edit {
	// Common prefix and suffix are kept as they are.
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	var es []edit
	for i := 0; i < pre; i++ {
		es = append(es, edit{' ', i, i})
	}
	for _, e := range myers(a[pre:len(a)-suf], b[pre:len(b)-suf]) {
		es = append(es, edit{e.op, e.ai + pre, e.bi + pre})
	}
	for i := suf; i > 0; i-- {
		es = append(es, edit{' ', len(a) - i, len(b) - i})
	}
	return groupChanges(es)
}

func myers(a, b []string) []edit {
	n, m := len(a), len(b)
	if n+m == 0 {
		return nil
	}
	offset := n + m
	v := make([]int, 2*(n+m)+2)
	// trace[d] holds v[-d..d] as it was before step d.
	var trace [][]int
	for d := 0; d <= n+m; d++ {
		if d > maxDiffEdits {
			return replaceAll(n, m)
		}
		trace = append(trace, append([]int(nil), v[offset-d:offset+d+1]...))
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[offset+k-1] < v[offset+k+1]) {
				x = v[offset+k+1]
			} else {
				x = v[offset+k-1] + 1
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x++
				y++
			}
			v[offset+k] = x
			if x >= n && y >= m {
				return backtrack(trace, n, m)
			}
		}
	}
	return replaceAll(n, m)
}

func backtrack(trace [][]int, n, m int) []edit {
	var rev []edit
	x, y := n, m
	for d := len(trace) - 1; d >= 0; d-- {
		vd := trace[d] // index k+d
		at := func(k int) int { return vd[k+d] }
		k := x - y
		var pk int
		if k == -d || (k != d && at(k-1) < at(k+1)) {
			pk = k + 1
		} else {
			pk = k - 1
		}
		px := 0
		if d > 0 {
			px = at(pk)
		}
		py := px - pk
		for x > px && y > py {
			x--
			y--
			rev = append(rev, edit{' ', x, y})
		}
		if d > 0 {
			if x == px {
				rev = append(rev, edit{'+', px, py})
			} else {
				rev = append(rev, edit{'-', px, py})
			}
		}
		x, y = px, py
	}
	es := make([]edit, len(rev))
	for i, e := range rev {
		es[len(rev)-1-i] = e
	}
	return es
}

func replaceAll(n, m int) []edit {
	es := make([]edit, 0, n+m)
	for i := 0; i < n; i++ {
		es = append(es, edit{'-', i, 0})
	}
	for j := 0; j < m; j++ {
		es = append(es, edit{'+', n, j})
	}
	return es
}

// groupChanges reorders each run of consecutive changes so that its
// deletions come before its insertions, and fixes the positions to match.
func groupChanges(es []edit) []edit {
	out := make([]edit, 0, len(es))
	for i := 0; i < len(es); {
		if es[i].op == ' ' {
			out = append(out, es[i])
			i++
			continue
		}
		j := i
		for j < len(es) && es[j].op != ' ' {
			j++
		}
		ai, bi := es[i].ai, es[i].bi
		var dels, ins []edit
		for _, e := range es[i:j] {
			if e.op == '-' {
				dels = append(dels, e)
			} else {
				ins = append(ins, e)
			}
		}
		for _, e := range dels {
			out = append(out, edit{'-', e.ai, bi})
		}
		na := ai + len(dels)
		for _, e := range ins {
			out = append(out, edit{'+', na, e.bi})
		}
		i = j
	}
	return out
}
