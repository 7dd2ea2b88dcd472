package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/fleetgen/fleetgen/pkg/pipeline"
)

// Exit codes, part of fleetgen's interface.
const (
	ExitOK       = 0 // success
	ExitFailed   = 1 // verification failed, drift found, conflicts, tree locked
	ExitBadInput = 2 // bad inventory, templates, flags or arguments
)

// version is set at build time with -ldflags "-X github.com/fleetgen/fleetgen/pkg/cli.version=v1.2.3".
var version = "dev"

// IOStreams are the streams a command reads and writes.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
}

// ExitError carries an exit code with the error to print. A nil Err means
// the command already reported what went wrong.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// silentFailure reports exit code 1 without printing anything more: the
// command has already printed its report.
func silentFailure() error { return &ExitError{Code: ExitFailed} }

// usageError marks err as bad usage (exit 2).
func usageError(err error) error { return &ExitError{Code: ExitBadInput, Err: err} }

// Main runs fleetgen with the process's arguments and streams and returns the
// exit code.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	streams := IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	return Run(ctx, streams, os.Args[1:])
}

// Run executes fleetgen with args and returns the exit code.
func Run(ctx context.Context, streams IOStreams, args []string) int {
	root, prof := newRootCmd(streams)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if perr := prof.stop(); err == nil {
		err = perr
	}
	if err == nil {
		return ExitOK
	}
	code := exitCode(err)
	var ee *ExitError
	if errors.As(err, &ee) && ee.Err == nil {
		return code
	}
	fmt.Fprintf(streams.ErrOut, "Error: %v\n", err)
	return code
}

func exitCode(err error) int {
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	var ie *pipeline.InputError
	if errors.As(err, &ie) {
		return ExitBadInput
	}
	return ExitFailed
}

// NewRootCmd builds the fleetgen command tree.
func NewRootCmd(streams IOStreams) *cobra.Command {
	root, _ := newRootCmd(streams)
	return root
}

func newRootCmd(streams IOStreams) (*cobra.Command, *profiler) {
	root := &cobra.Command{
		Use:   "fleetgen",
		Short: "Generate and verify a Kustomize fleet tree from a site inventory",
		Long: `fleetgen turns a site inventory (one YAML file listing every edge site with its
type, region, arch, capacity, groups, config and images) into a GitOps fleet
tree: base/, components/ and one overlays/<site>/ per site. Every overlay is
built with the kustomize Go API before anything is written.

Exit codes: 0 ok, 1 verification failed (or drift, conflicts, locked tree),
2 bad input or usage.`,
		Example: `  # Bootstrap a fleet repository from an inventory
  fleetgen generate -i inventory.yaml -o fleet/

  # Try fleetgen on its embedded sample inventory
  fleetgen generate --sample -o demo-fleet/

  # Verify every overlay of an existing (even hand-written) tree
  fleetgen verify fleet/

  # Print one site's manifests, as kubectl kustomize fleet/overlays/store-berlin-001 would
  fleetgen build fleet/ store-berlin-001`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	root.AddCommand(
		NewCmdGenerate(streams, nil),
		NewCmdCheck(streams, nil),
		NewCmdDiff(streams, nil),
		NewCmdVerify(streams, nil),
		NewCmdBuild(streams, nil),
		NewCmdVersion(streams),
		NewCmdInit(streams, nil),
		NewCmdSites(streams, nil),
		NewCmdExplain(streams, nil),
		NewCmdSchema(streams),
		NewCmdCompletion(streams),
		NewCmdDocs(streams),
		NewCmdReport(streams),
		NewCmdCache(streams),
		NewCmdCharts(streams, nil),
	)
	prof := &profiler{}
	addProfileFlags(root, prof)
	return root, prof
}

// exactArgs is cobra.ExactArgs with exit code 2.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(n)(cmd, args); err != nil {
			return usageError(fmt.Errorf("%w\nSee '%s --help'", err, cmd.CommandPath()))
		}
		return nil
	}
}

// NewCmdVersion prints fleetgen's version and the kustomize API it builds with.
func NewCmdVersion(streams IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print fleetgen's version and the kustomize API version it builds overlays with",
		Example: `  fleetgen version`,
		Args:    exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(streams.Out, "fleetgen %s\n", version)
			fmt.Fprintf(streams.Out, "kustomize api %s\n", pipeline.ModuleVersion("sigs.k8s.io/kustomize/api"))
			return nil
		},
	}
}
