package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetgen/fleetgen/pkg/report"
)

// shardFleet generates the sample fleet in a git work tree and breaks one
// overlay, so that the reports hold passing and failing sites.
func shardFleet(t *testing.T) string {
	t.Helper()
	repo := t.TempDir()
	if out, err := exec.Command("git", "init", "-q", repo).CombinedOutput(); err != nil {
		t.Skipf("git init: %v: %s", err, out)
	}
	dir := filepath.Join(repo, "fleet")
	if code, _, stderr := run(t, "generate", "--sample", "-o", dir); code != 0 {
		t.Fatalf("generate: exit %d: %s", code, stderr)
	}
	k := filepath.Join(dir, "overlays", "store-berlin-001", "kustomization.yaml")
	data, err := os.ReadFile(k)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(k, append(data, []byte("resources:\n  - missing.yaml\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestShardMergeEqualsUnsharded checks that the merged JSON reports of
// shards 1..N are the unsharded run's report, and that the exit codes
// agree, for N = 1 to 4.
func TestShardMergeEqualsUnsharded(t *testing.T) {
	dir := shardFleet(t)
	code, whole, stderr := run(t, "verify", dir, "-o", "json")
	if code != ExitFailed {
		t.Fatalf("unsharded verify: exit %d, want %d (one broken overlay): %s", code, ExitFailed, stderr)
	}
	var want report.Report
	if err := json.Unmarshal([]byte(whole), &want); err != nil {
		t.Fatal(err)
	}
	if want.Summary.Sites != 6 || want.Summary.Failed != 1 || want.Shard != nil {
		t.Fatalf("unsharded summary %+v (shard %v), want 6 sites, 1 failed, no shard", want.Summary, want.Shard)
	}
	for n := 1; n <= 4; n++ {
		var files []string
		failed := 0
		seen := 0
		for i := 1; i <= n; i++ {
			code, out, stderr := run(t, "verify", dir, "--shard", fmt.Sprintf("%d/%d", i, n), "--format", "json")
			var r report.Report
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatalf("shard %d/%d: %v (exit %d, stderr %s)", i, n, err, code, stderr)
			}
			if r.Shard == nil || r.Shard.Index != i || r.Shard.Count != n || r.Shard.FleetChecks != (i == 1) {
				t.Fatalf("shard %d/%d: shard field %+v", i, n, r.Shard)
			}
			seen += len(r.Sites)
			wantCode := ExitOK
			if !r.OK() {
				wantCode = ExitFailed
				failed++
			}
			if code != wantCode {
				t.Errorf("shard %d/%d: exit %d, want %d: %s", i, n, code, wantCode, stderr)
			}
			f := filepath.Join(t.TempDir(), fmt.Sprintf("report-%d.json", i))
			if err := os.WriteFile(f, []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
		if seen != 6 || failed != 1 {
			t.Errorf("N=%d: shards listed %d sites (want 6), %d shards failed (want 1)", n, seen, failed)
		}
		code, merged, stderr := run(t, append([]string{"report", "merge"}, files...)...)
		if code != ExitFailed {
			t.Errorf("N=%d: report merge exit %d, want %d: %s", n, code, ExitFailed, stderr)
		}
		if merged != whole {
			t.Errorf("N=%d: merged report differs from the unsharded one:\n%s\nwant:\n%s", n, merged, whole)
		}
	}
}

func TestShardFlagErrors(t *testing.T) {
	dir := t.TempDir()
	for _, bad := range []string{"0/3", "4/3", "x/y", "3"} {
		code, _, stderr := run(t, "verify", dir, "--shard", bad)
		if code != ExitBadInput || !strings.Contains(stderr, "--shard") || !strings.Contains(stderr, fmt.Sprintf("%q", bad)) {
			t.Errorf("--shard %s: exit %d, stderr %q; want exit 2 naming the flag and value", bad, code, stderr)
		}
	}
}

// TestReportMergeErrors checks that reports of no single sharded run are
// refused with exit 2, naming the files.
func TestReportMergeErrors(t *testing.T) {
	dir := shardFleet(t)
	tmp := t.TempDir()
	write := func(name string, args ...string) string {
		t.Helper()
		_, out, stderr := run(t, args...)
		if !strings.HasPrefix(out, "{") {
			t.Fatalf("%v: no report: %s", args, stderr)
		}
		f := filepath.Join(tmp, name)
		if err := os.WriteFile(f, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		return f
	}
	a1 := write("a1.json", "verify", dir, "--shard", "1/2", "-o", "json")
	a2 := write("a2.json", "verify", dir, "--shard", "2/2", "-o", "json")
	b1 := write("b1.json", "verify", dir, "--shard", "1/3", "-o", "json")
	other := write("other.json", "verify", dir, "--shard", "2/2", "-o", "json", "-l", "name!=store-berlin-001")
	whole := write("whole.json", "verify", dir, "-o", "json")
	garbage := filepath.Join(tmp, "garbage.json")
	os.WriteFile(garbage, []byte("not json"), 0o644)
	for _, tc := range []struct {
		files []string
		want  []string
	}{
		{[]string{a1, b1}, []string{"b1.json", "shard counts"}},
		{[]string{a1, other}, []string{"other.json", "different fleets"}},
		{[]string{a1}, []string{"missing shard 2/2"}},
		{[]string{a1, a1, a2}, []string{"more than once", "a1.json"}},
		{[]string{a1, whole}, []string{"whole.json", "not the report of a shard"}},
		{[]string{a1, garbage}, []string{"garbage.json"}},
		{[]string{a1, filepath.Join(tmp, "absent.json")}, []string{"absent.json"}},
	} {
		code, out, stderr := run(t, append([]string{"report", "merge"}, tc.files...)...)
		if code != ExitBadInput || out != "" {
			t.Errorf("merge %v: exit %d, stdout %q; want exit 2 and nothing on stdout", tc.files, code, out)
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("merge %v: stderr %q does not say %q", tc.files, stderr, w)
			}
		}
	}
	if code, out, _ := run(t, "report", "merge", a1, a2); code != ExitFailed || !bytes.HasPrefix([]byte(out), []byte("{")) {
		t.Errorf("merge of a failing run: exit %d, want %d with the report", code, ExitFailed)
	}
}

// TestCheckShardMergeEqualsUnsharded checks check --shard: the merged
// reports of shards 1..N are the unsharded check's report, and the merge
// fails as the unsharded check does when one site's files drifted.
func TestCheckShardMergeEqualsUnsharded(t *testing.T) {
	dir := shardFleet(t) // store-berlin-001's kustomization is hand-edited
	code, whole, stderr := run(t, "check", "--sample", "-o", dir, "--format", "json")
	if code != ExitFailed || !strings.Contains(stderr, "store-berlin-001") {
		t.Fatalf("unsharded check: exit %d, want %d naming the edited site: %s", code, ExitFailed, stderr)
	}
	for n := 1; n <= 4; n++ {
		var files []string
		for i := 1; i <= n; i++ {
			shard := fmt.Sprintf("%d/%d", i, n)
			code, out, stderr := run(t, "check", "--sample", "-o", dir, "--shard", shard, "--format", "json")
			var r report.Report
			if err := json.Unmarshal([]byte(out), &r); err != nil || r.Shard == nil {
				t.Fatalf("shard %s: %v (exit %d, stderr %s)", shard, err, code, stderr)
			}
			owns := false
			for _, s := range r.Sites {
				owns = owns || s.Name == "store-berlin-001"
			}
			if wantCode := map[bool]int{true: ExitFailed, false: ExitOK}[owns]; code != wantCode || (r.Shard.FleetProblems > 0) != owns {
				t.Errorf("shard %s (has the edited site: %v): exit %d, fleetProblems %d", shard, owns, code, r.Shard.FleetProblems)
			}
			if !owns && strings.Contains(stderr, "store-berlin-001") {
				t.Errorf("shard %s reports another shard's site: %s", shard, stderr)
			}
			f := filepath.Join(t.TempDir(), fmt.Sprintf("check-%d.json", i))
			os.WriteFile(f, []byte(out), 0o644)
			files = append(files, f)
		}
		code, merged, stderr := run(t, append([]string{"report", "merge"}, files...)...)
		if code != ExitFailed {
			t.Errorf("N=%d: merge exit %d, want %d like the unsharded check: %s", n, code, ExitFailed, stderr)
		}
		if merged != whole {
			t.Errorf("N=%d: merged check report differs from the unsharded one:\n%s\nwant:\n%s", n, merged, whole)
		}
	}
}

// TestCheckShardFleetLevel checks that drift in a fleet-level file is
// reported by shard 1 only, once across the shards.
func TestCheckShardFleetLevel(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("git", "init", "-q", dir).CombinedOutput(); err != nil {
		t.Skipf("git init: %v: %s", err, out)
	}
	fleet := filepath.Join(dir, "fleet")
	if code, _, stderr := run(t, "generate", "--sample", "-o", fleet); code != 0 {
		t.Fatalf("generate: exit %d: %s", code, stderr)
	}
	base := filepath.Join(fleet, "base", "kustomization.yaml")
	data, _ := os.ReadFile(base)
	os.WriteFile(base, append(data, []byte("# edited\n")...), 0o644)
	for i, want := range []int{ExitFailed, ExitOK, ExitOK} {
		code, _, stderr := run(t, "check", "--sample", "-o", fleet, "--shard", fmt.Sprintf("%d/3", i+1))
		if code != want || strings.Contains(stderr, "base/kustomization.yaml") != (i == 0) {
			t.Errorf("shard %d/3: exit %d (want %d), stderr %q", i+1, code, want, stderr)
		}
	}
}
