package cli

import (
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/fleetgen/fleetgen/pkg/selector"
)

// shardHelp documents --shard once for every command that has it.
const shardHelp = `verify only shard I of N (1-based: 1/3 is the first of three) of the sites -l selects, split by a hash of the site name, so N CI jobs verify a fleet in parallel; shard 1 also runs the fleet-wide checks. Combine their JSON reports with 'fleetgen report merge' (see docs/ci.md)`

// shardFlag is a --shard I/N value.
type shardFlag struct{ s selector.Shard }

var _ pflag.Value = (*shardFlag)(nil)

func (v *shardFlag) String() string { return v.s.String() }
func (v *shardFlag) Type() string   { return "I/N" }
func (v *shardFlag) Set(s string) error {
	sh, err := selector.ParseShard(s)
	if err != nil {
		return err
	}
	v.s = sh
	return nil
}

func addShardFlag(cmd *cobra.Command, v *shardFlag) {
	cmd.Flags().Var(v, "shard", shardHelp)
}
