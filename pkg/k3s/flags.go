package k3s

import "github.com/fleetgen/fleetgen/pkg/inventory"

// Kind is the type of a K3s flag's value in a config file.
type Kind int

// Kinds of flag values. A K3s config file takes a list flag as a YAML list
// of strings (or one string), a bool as true or false, an int as a YAML
// integer, a duration as a Go duration string ("5m").
const (
	Bool Kind = iota + 1
	String
	StringSlice
	Int
	Duration
)

func (k Kind) String() string {
	switch k {
	case Bool:
		return "bool"
	case String:
		return "string"
	case StringSlice:
		return "string list"
	case Int:
		return "int"
	case Duration:
		return "duration"
	}
	return "unknown"
}

// Source of the flag table: the K3s release it describes and where its
// flags were checked. FlagTableSources says which flag was checked against
// which source; docs/k3s.md repeats it.
const (
	FlagTableVersion = inventory.K3sVersion
	FlagTableSource  = "K3s " + FlagTableVersion + " `k3s server --help` and `k3s agent --help` " +
		"(pkg/cli/cmds/server.go, agent.go, log.go), checked against the flag set of rke2 v1.33.5+rke2r1, " +
		"the docs.k3s.io CLI reference (k3s-io/docs docs/cli/server.md and docs/cli/agent.md) and " +
		"k3s-io/k3s pkg/cli/cmds sources"
)

// The table was checked against these sources (nothing here was typed from
// memory):
//
//  1. `rke2 server --help` and `rke2 agent --help` of rke2 v1.33.5+rke2r1
//     (commit d1092839cf08cb901b1d40461b0fa6e7ae6f8fc4), as recorded in
//     github.com/lanzhiwang/rancher_rke2_docs README.md. rke2 builds its
//     server and agent commands from K3s's pkg/cli/cmds flag definitions of
//     the same minor release, with urfave/cli v2, whose help marks a list
//     flag as "--x value [ --x value ]". This is the only source of the
//     exact minor release: it settles the name and type of every flag rke2
//     keeps (the etcd-s3-*, etcd-snapshot-*, node-*, *-arg, disable,
//     embedded-registry, supervisor-metrics, nonroot-devices,
//     secrets-encryption-provider, protect-kernel-defaults, token-file,
//     server, datastore-endpoint, write-kubeconfig-mode ... flags).
//  2. The "K3s Server CLI Help" and "K3s Agent CLI Help" of
//     https://docs.k3s.io/cli/server and https://docs.k3s.io/cli/agent
//     (k3s-io/docs docs/cli/server.md at 02434960d6d5881e47ae8a1c857c4b51f23deec6,
//     docs/cli/agent.md at 1f023c058c5f999a8857644625779e7298d13936), for the
//     flags rke2 drops or hides: cluster-init, https-listen-port,
//     advertise-port, flannel-*, vpn-auth*, default-local-storage-path,
//     disable-network-policy, disable-helm-controller, secrets-encryption,
//     rootless, prefer-bundled-bin, docker, image-service-endpoint,
//     pause-image, v, vmodule, log, alsologtostderr, disable-apiserver-lb,
//     and the valid items of --disable.
//  3. k3s-io/k3s pkg/cli/cmds/server.go and agent.go (v1.30/v1.31-era
//     revisions), for the Go type of each flag (BoolFlag, IntFlag,
//     DurationFlag, StringSliceFlag) and for the hidden flags no help text
//     shows: supervisor-port, apiserver-port, apiserver-bind-address,
//     disable-agent, disable-apiserver, disable-controller-manager,
//     disable-etcd, kine-tls, airgap-extra-registry.
//
// Flags of sources 2 and 3 only (not shown by rke2 v1.33.5) are not
// verified against the exact v1.33.5 release; they are the ones listed under
// 2 and 3 above. Deliberately left out: "config" (names the config file
// itself), and the hidden, deprecated aliases kube-controller-arg and
// kube-cloud-controller-arg (use kube-controller-manager-arg and
// kube-cloud-controller-manager-arg).

// nodeFlags are the flags both `k3s agent` and `k3s server` take: servers
// run an agent too (pkg/cli/cmds/agent.go, log.go; server.go lists the
// same flag variables).
var nodeFlags = map[string]Kind{
	// Logging (log.go)
	"v":               Int,
	"vmodule":         String,
	"log":             String,
	"alsologtostderr": Bool,
	"debug":           Bool,
	// Cluster
	"token":      String,
	"token-file": String,
	"server":     String,
	// Data
	"data-dir": String,
	// Node
	"node-name":                         String,
	"with-node-id":                      Bool,
	"node-label":                        StringSlice,
	"node-taint":                        StringSlice,
	"image-credential-provider-bin-dir": String,
	"image-credential-provider-config":  String,
	"selinux":                           Bool,
	"lb-server-port":                    Int,
	"protect-kernel-defaults":           Bool,
	"rootless":                          Bool,
	"prefer-bundled-bin":                Bool,
	"enable-pprof":                      Bool,
	"bind-address":                      String,
	// Runtime
	"docker":                            Bool,
	"container-runtime-endpoint":        String,
	"default-runtime":                   String,
	"image-service-endpoint":            String,
	"disable-default-registry-endpoint": Bool,
	"nonroot-devices":                   Bool,
	"pause-image":                       String,
	"snapshotter":                       String,
	"private-registry":                  String,
	"airgap-extra-registry":             StringSlice,
	// Networking
	"node-ip":           StringSlice,
	"node-external-ip":  StringSlice,
	"node-internal-dns": StringSlice,
	"node-external-dns": StringSlice,
	"resolv-conf":       String,
	"flannel-iface":     String,
	"flannel-conf":      String,
	"flannel-cni-conf":  String,
	"vpn-auth":          String,
	"vpn-auth-file":     String,
	// Customized flags for components
	"kubelet-arg":    StringSlice,
	"kube-proxy-arg": StringSlice,
}

// agentOnlyFlags are the flags of `k3s agent` that `k3s server` does not
// take (agent.go).
var agentOnlyFlags = map[string]Kind{
	"disable-apiserver-lb": Bool,
}

// serverOnlyFlags are the flags `k3s server` adds to the agent's
// (pkg/cli/cmds/server.go).
var serverOnlyFlags = map[string]Kind{
	// Listener
	"advertise-address":      String,
	"advertise-port":         Int,
	"tls-san":                StringSlice,
	"tls-san-security":       Bool,
	"https-listen-port":      Int,
	"supervisor-port":        Int,
	"apiserver-port":         Int,
	"apiserver-bind-address": String,
	// Networking
	"cluster-cidr":            StringSlice,
	"service-cidr":            StringSlice,
	"service-node-port-range": String,
	"cluster-dns":             StringSlice,
	"cluster-domain":          String,
	"flannel-backend":         String,
	"flannel-ipv6-masq":       Bool,
	"flannel-external-ip":     Bool,
	"egress-selector-mode":    String,
	"servicelb-namespace":     String,
	// Client
	"write-kubeconfig":       String,
	"write-kubeconfig-mode":  String,
	"write-kubeconfig-group": String,
	// Cluster
	"agent-token":                String,
	"agent-token-file":           String,
	"cluster-init":               Bool,
	"cluster-reset":              Bool,
	"cluster-reset-restore-path": String,
	// Flags for components
	"etcd-arg":                          StringSlice,
	"kube-apiserver-arg":                StringSlice,
	"kube-scheduler-arg":                StringSlice,
	"kube-controller-manager-arg":       StringSlice,
	"kube-cloud-controller-manager-arg": StringSlice,
	// Database
	"kine-tls":                         Bool,
	"datastore-endpoint":               String,
	"datastore-cafile":                 String,
	"datastore-certfile":               String,
	"datastore-keyfile":                String,
	"etcd-expose-metrics":              Bool,
	"etcd-disable-snapshots":           Bool,
	"etcd-snapshot-name":               String,
	"etcd-snapshot-schedule-cron":      String,
	"etcd-snapshot-reconcile-interval": Duration,
	"etcd-snapshot-retention":          Int,
	"etcd-snapshot-dir":                String,
	"etcd-snapshot-compress":           Bool,
	"etcd-s3":                          Bool,
	"etcd-s3-endpoint":                 String,
	"etcd-s3-endpoint-ca":              String,
	"etcd-s3-skip-ssl-verify":          Bool,
	"etcd-s3-access-key":               String,
	"etcd-s3-secret-key":               String,
	"etcd-s3-session-token":            String,
	"etcd-s3-bucket":                   String,
	"etcd-s3-bucket-lookup-type":       String,
	"etcd-s3-region":                   String,
	"etcd-s3-folder":                   String,
	"etcd-s3-retention":                Int,
	"etcd-s3-proxy":                    String,
	"etcd-s3-config-secret":            String,
	"etcd-s3-insecure":                 Bool,
	"etcd-s3-timeout":                  Duration,
	// Storage
	"default-local-storage-path": String,
	// Components
	"disable":                    StringSlice,
	"disable-scheduler":          Bool,
	"disable-cloud-controller":   Bool,
	"disable-kube-proxy":         Bool,
	"disable-network-policy":     Bool,
	"disable-helm-controller":    Bool,
	"disable-apiserver":          Bool,
	"disable-controller-manager": Bool,
	"disable-etcd":               Bool,
	"embedded-registry":          Bool,
	"supervisor-metrics":         Bool,
	"helm-job-image":             String,
	"system-default-registry":    String,
	"disable-agent":              Bool,
	// Security
	"secrets-encryption":          Bool,
	"secrets-encryption-provider": String,
}

// Role is the kind of node a config file is for.
type Role int

// Node roles.
const (
	Server Role = iota + 1
	Agent
)

func (r Role) String() string {
	if r == Agent {
		return "agent"
	}
	return "server"
}

// Flag returns the kind of the config-file key for a node of role, and
// whether K3s FlagTableVersion has such a flag.
func Flag(role Role, key string) (Kind, bool) {
	if k, ok := nodeFlags[key]; ok {
		return k, true
	}
	only := agentOnlyFlags
	if role == Server {
		only = serverOnlyFlags
	}
	k, ok := only[key]
	return k, ok
}

// Flags returns the names of every flag a config file of role may hold,
// unsorted.
func Flags(role Role) []string {
	only := agentOnlyFlags
	if role == Server {
		only = serverOnlyFlags
	}
	out := make([]string, 0, len(nodeFlags)+len(only))
	for k := range nodeFlags {
		out = append(out, k)
	}
	for k := range only {
		out = append(out, k)
	}
	return out
}
