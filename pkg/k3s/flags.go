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
// flags are defined and documented.
const (
	FlagTableVersion = inventory.K3sVersion
	FlagTableSource  = "k3s-io/k3s " + FlagTableVersion + " pkg/cli/cmds/server.go and pkg/cli/cmds/agent.go, " +
		"as documented at https://docs.k3s.io/cli/server and https://docs.k3s.io/cli/agent"
)

// agentFlags are the flags of `k3s agent` (pkg/cli/cmds/agent.go). Servers
// run an agent too, so a server's config file may hold them as well.
var agentFlags = map[string]Kind{
	// Logging
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
	"node-ip":               StringSlice,
	"node-external-ip":      StringSlice,
	"node-internal-dns":     StringSlice,
	"node-external-dns":     StringSlice,
	"resolv-conf":           String,
	"flannel-iface":         String,
	"flannel-conf":          String,
	"flannel-cni-conf-file": String,
	"vpn-auth":              String,
	"vpn-auth-file":         String,
	// Customized flags for components
	"kubelet-arg":    StringSlice,
	"kube-proxy-arg": StringSlice,
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
	"datastore-endpoint":          String,
	"datastore-cafile":            String,
	"datastore-certfile":          String,
	"datastore-keyfile":           String,
	"etcd-expose-metrics":         Bool,
	"etcd-disable-snapshots":      Bool,
	"etcd-snapshot-name":          String,
	"etcd-snapshot-schedule-cron": String,
	"etcd-snapshot-retention":     Int,
	"etcd-snapshot-dir":           String,
	"etcd-snapshot-compress":      Bool,
	"etcd-s3":                     Bool,
	"etcd-s3-endpoint":            String,
	"etcd-s3-endpoint-ca":         String,
	"etcd-s3-skip-ssl-verify":     Bool,
	"etcd-s3-access-key":          String,
	"etcd-s3-secret-key":          String,
	"etcd-s3-bucket":              String,
	"etcd-s3-bucket-lookup-type":  String,
	"etcd-s3-region":              String,
	"etcd-s3-folder":              String,
	"etcd-s3-proxy":               String,
	"etcd-s3-config-secret":       String,
	"etcd-s3-insecure":            Bool,
	"etcd-s3-timeout":             Duration,
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
	if k, ok := agentFlags[key]; ok {
		return k, true
	}
	if role == Server {
		k, ok := serverOnlyFlags[key]
		return k, ok
	}
	return 0, false
}

// Flags returns the names of every flag a config file of role may hold,
// unsorted.
func Flags(role Role) []string {
	out := make([]string, 0, len(agentFlags)+len(serverOnlyFlags))
	for k := range agentFlags {
		out = append(out, k)
	}
	if role == Server {
		for k := range serverOnlyFlags {
			out = append(out, k)
		}
	}
	return out
}
