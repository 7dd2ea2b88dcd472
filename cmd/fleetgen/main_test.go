package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/fleetgen/fleetgen/pkg/cli"
	"github.com/fleetgen/fleetgen/pkg/pipeline"
)

var update = flag.Bool("update", false, "rewrite the cmp files of the CLI scripts with actual output")

// clockAheadEnv, in a script's environment, moves the clock of the
// fleetgen it runs that far ahead of time.Now (a time.ParseDuration
// string): "env FLEETGEN_TEST_CLOCK_AHEAD=2100ms" ages every file written
// so far past the two seconds after which the stat cache trusts a file
// and a clean check seals it, without sleeping.
const clockAheadEnv = "FLEETGEN_TEST_CLOCK_AHEAD"

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"fleetgen": func() {
			ahead := os.Getenv(clockAheadEnv)
			if ahead == "" {
				os.Exit(cli.Main())
			}
			d, err := time.ParseDuration(ahead)
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n", clockAheadEnv, err)
				os.Exit(2)
			}
			ctx := context.WithValue(context.Background(), pipeline.ClockKey{}, func() time.Time { return time.Now().Add(d) })
			os.Exit(cli.Run(ctx, cli.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}, os.Args[1:]))
		},
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
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits": cmdExits, "helm-package": chartScriptCmds["helm-package"], "serve": chartScriptCmds["serve"],
		},
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
