package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/fleetgen/fleetgen/pkg/cli"
)

var update = flag.Bool("update", false, "rewrite the cmp files of the CLI scripts with actual output")

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"fleetgen": func() { os.Exit(cli.Main()) },
	})
}

// TestScripts runs the end-to-end CLI scripts in testdata/script/*.txtar.
// Scripts that need kubectl use the [kubectl] condition.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "../../testdata/script",
		UpdateScripts:       *update,
		RequireExplicitExec: true,
		// Each script gets its own verification cache inside its work
		// directory's TMPDIR, never the user's cache.
		Setup: func(env *testscript.Env) error {
			env.Setenv("FLEETGEN_CACHE_DIR", filepath.Join(env.Getenv("TMPDIR"), "fleetgen-cache"))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){"exits": cmdExits},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "kubectl":
				_, err := exec.LookPath("kubectl")
				return err == nil, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
	})
}

// cmdExits runs a program and checks its exit code:
//
//	exits 2 fleetgen generate -i bad.yaml -o out
//
// Its stdout and stderr are kept for the stdout and stderr commands.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE PROGRAM [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: bad code %q", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exits: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", args[1], got, want)
	}
}
