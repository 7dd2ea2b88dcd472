package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"
)

// fixedCompletion completes a flag from a fixed list of values.
func fixedCompletion(values []string) cobra.CompletionFunc {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		var out []cobra.Completion
		for _, v := range values {
			if strings.HasPrefix(v, toComplete) {
				out = append(out, v)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// overlaySiteCompletion completes `build DIR SITE`: DIR as a directory,
// SITE from the directories under DIR/overlays.
func overlaySiteCompletion(_ *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	switch len(args) {
	case 0:
		return nil, cobra.ShellCompDirectiveFilterDirs
	case 1:
		entries, err := os.ReadDir(filepath.Join(args[0], "overlays"))
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []cobra.Completion
		for _, e := range entries {
			if e.IsDir() && strings.HasPrefix(e.Name(), toComplete) && !strings.HasPrefix(e.Name(), ".") {
				out = append(out, e.Name())
			}
		}
		sort.Strings(out)
		return out, cobra.ShellCompDirectiveNoFileComp
	}
	return nil, cobra.ShellCompDirectiveNoFileComp
}

// NewCmdCompletion builds `fleetgen completion SHELL`, which prints a
// completion script for bash, zsh, fish or powershell.
func NewCmdCompletion(streams IOStreams) *cobra.Command {
	shells := []string{"bash", "zsh", "fish", "powershell"}
	noDesc := false
	cmd := &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print a shell completion script",
		Long: `completion prints a shell completion script for fleetgen: commands, flags,
site names (explain SITE, from the inventory given with -i; build DIR SITE,
from DIR/overlays) and output formats (sites -o).`,
		Example: `  # bash (needs the bash-completion package): current session, then every session
  source <(fleetgen completion bash)
  fleetgen completion bash > /etc/bash_completion.d/fleetgen

  # zsh
  fleetgen completion zsh > "${fpath[1]}/_fleetgen"

  # fish
  fleetgen completion fish > ~/.config/fish/completions/fleetgen.fish

  # PowerShell
  fleetgen completion powershell | Out-String | Invoke-Expression`,
		ValidArgs:             shells,
		DisableFlagsInUseLine: true,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 || !slices.Contains(shells, args[0]) {
				return usageError(fmt.Errorf("give one shell: %s\nSee '%s --help'", strings.Join(shells, ", "), cmd.CommandPath()))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			root := cmd.Root()
			out := streams.Out
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(out, !noDesc)
			case "zsh":
				if noDesc {
					return root.GenZshCompletionNoDesc(out)
				}
				return root.GenZshCompletion(out)
			case "fish":
				return root.GenFishCompletion(out, !noDesc)
			default:
				if noDesc {
					return root.GenPowerShellCompletion(out)
				}
				return root.GenPowerShellCompletionWithDesc(out)
			}
		},
	}
	cmd.Flags().BoolVar(&noDesc, "no-descriptions", false, "leave completion descriptions out")
	return cmd
}
