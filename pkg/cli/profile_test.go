package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// The hidden --cpuprofile and --memprofile flags write their profiles once
// the command has run.
func TestProfileFlags(t *testing.T) {
	dir := t.TempDir()
	cpu, mem := filepath.Join(dir, "cpu.pprof"), filepath.Join(dir, "mem.pprof")
	var out, errOut bytes.Buffer
	code := Run(context.Background(), IOStreams{In: &bytes.Buffer{}, Out: &out, ErrOut: &errOut},
		[]string{"version", "--cpuprofile", cpu, "--memprofile", mem})
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, p := range []string{cpu, mem} {
		if st, err := os.Stat(p); err != nil || st.Size() == 0 {
			t.Errorf("%s: not written (%v)", filepath.Base(p), err)
		}
	}
}
