package jsonschema

// descriptions documents every property of the inventory, keyed by Go type
// and json name ("Layer.region"); "Type." describes a type. A test fails
// when a property has none.
var descriptions = map[string]string{
	"Inventory.":           "A fleetgen site inventory: every edge site of a fleet, from which fleetgen generates a Kustomize tree (base/, components/, overlays/<site>/). See docs/inventory.md.",
	"Inventory.apiVersion": "The inventory format version; read before anything else.",
	"Inventory.kind":       "Always Inventory.",
	"Inventory.fleet":      "The fleet's name, a DNS-1123 label; it appears in generated files.",
	"Inventory.gitops":     "How sites pull the fleet tree: the GitOps engine (flux, argocd or none), the repository, branch and path, and the operators' age recipients.",
	"Inventory.defaults":   "Site fields every site starts from; groups, then the site itself, override them.",
	"Inventory.groups":     "Named layers that sites opt into with groups:, applied in the order the site lists them.",
	"Inventory.sites":      "The sites of the fleet. The inventory needs at least one, here or in later inventory files (YAML or CSV). Site names are unique (ignoring case).",

	"Layer.type":              "The kind of site: factory or store. Required after merging.",
	"Layer.region":            "The site's region, a DNS-1123 label; it becomes a label value. Required after merging.",
	"Layer.arch":              "The CPU architecture of the site's device: amd64 or arm64. Required after merging.",
	"Layer.capacity":          "What the site's device offers to workloads, as Kubernetes quantities; cpu and memory merge independently.",
	"Layer.config":            "Strings that land verbatim in the site's site-config ConfigMap, taken exactly as written (1.10 stays \"1.10\", no stays \"no\"). Keys are ConfigMap keys. Merged key by key.",
	"Layer.images":            "Image name as the base manifests use it (no tag, no digest) to a pinned reference: NAME:TAG, NAME@sha256:DIGEST or both. Merged key by key.",
	"Layer.components":        "Kustomize components of the template set to include; merged as an ordered union.",
	"Layer.labels":            "Kubernetes labels put on the site's objects; keys are qualified names, values label values. Merged key by key.",
	"Layer.waivers":           "Policies whose findings count as passes for the sites this layer applies to, each with the reason; merged by policy id. See docs/policies.md.",
	"Layer.requireDigests":    "When true, every image of the site must be pinned by digest (the image-digest policy).",
	"Layer.wave":              "The rollout wave, a whole number from 0 (rolls out first) to 1000; 0 when no layer sets it.",
	"Layer.maintenanceWindow": "When the site may be changed: from each time schedule fires, for duration, in timeZone.",
	"Layer.network":           "The site's network profile: online (default), intermittent or airgapped (needs imageRegistry).",
	"Layer.ageRecipient":      "The site's age X25519 public key (age1...): its secrets are encrypted to it.",
	"Layer.imageRegistry":     "A registry mirror the site pulls images from, host[:port][/path]; required for airgapped sites.",
	"Layer.k3s":               "The site's K3s cluster: fleetgen writes its bootstrap bundle to bootstrap/<site>/. Sites whose layers set no k3s block get no bundle. See docs/k3s.md.",

	"Layer.mtls":           "What component mtls needs: the central endpoint and the site's CA Secret; each field merged on its own. See docs/components.md.",
	"Layer.experimental":   "Acknowledgements of the risk of experimental components (wasm): a site gets one only with its feature listed here; merged by feature. See docs/components.md.",
	"MTLS.endpoint":        "The central service the application talks to with its workload certificate: an https URL with an explicit port, the only port its egress is opened to.",
	"MTLS.caSecret":        "The name of the Secret holding the site's intermediate CA, SOPS-encrypted under overlays/<site>/secrets/; key material never goes in the inventory.",
	"Experimental.feature": "The experimental component whose risk is accepted: wasm.",
	"Experimental.reason":  "Why the risk is accepted; shown by fleetgen explain.",

	"K3s.version":               "The pinned K3s release, a tag vX.Y.Z+k3sN (default v1.33.5+k3s1).",
	"K3s.servers":               "Server nodes, 1 to 99 (default 1): one with SQLite, an odd number with embedded etcd, any with an external datastore.",
	"K3s.agents":                "Agent nodes, 0 to 1000 (default 0).",
	"K3s.disable":               "Extra K3s packaged components to switch off (coredns, local-storage, metrics-server, runtimes, servicelb, traefik); fleetgen adds its own by capacity. Unioned across layers.",
	"K3s.datastore":             "auto (default: SQLite for 1 server, etcd for an odd number), sqlite, etcd or external.",
	"K3s.joinAddress":           "The first server's URL, https://HOST:PORT, that the other servers and agents join; required when servers > 1 or agents > 0.",
	"K3s.datastoreEndpointFile": "With datastore external: the K3s config drop-in on the device (/etc/rancher/k3s/config.yaml.d/NAME.yaml) that sets datastore-endpoint. The endpoint and its credentials never go in Git.",
	"K3s.tokenFile":             "Where the cluster token is on each node (default /etc/rancher/k3s/token); the token itself never goes in the inventory.",
	"K3s.nodeTaints":            "Taints KEY[=VALUE]:EFFECT every node registers with; the last layer that sets the list wins.",

	"Capacity.cpu":     "CPU the device offers, a Kubernetes quantity greater than zero (\"2\", \"500m\").",
	"Capacity.memory":  "Memory the device offers, a Kubernetes quantity greater than zero (\"2Gi\").",
	"Capacity.reserve": "What K3s itself needs on the device, kept back from the capacity by the capacity policy; unset means the policy's default.",
	"Reserve.cpu":      "CPU kept back for K3s, a Kubernetes quantity.",
	"Reserve.memory":   "Memory kept back for K3s, a Kubernetes quantity.",

	"Waiver.policy": "The id of the policy waived (see docs/policies.md).",
	"Waiver.reason": "Why the policy does not apply; shown in reports.",

	"Group.name":      "The group's name, a DNS-1123 label, unique among groups.",
	"SiteSpec.name":   "The site's name, a DNS-1123 label: its overlay directory (overlays/<name>) and fleetgen.dev/site label.",
	"SiteSpec.groups": "Groups the site belongs to, applied in this order after defaults; each defined under groups and listed once.",

	"GitOps.engine":           "The GitOps engine to generate wiring for: flux, argocd or none (default).",
	"GitOps.repo":             "The Git URL the fleet tree is pushed to (https:// or ssh://).",
	"GitOps.branch":           "The branch sites follow (default main).",
	"GitOps.path":             "The directory of the repository that holds the tree, \".\" for its root; by default derived from where the output directory is in its git work tree, and when set it must match.",
	"GitOps.adminRecipients":  "age X25519 public keys (age1...) that can decrypt every site's secrets: the fleet's operators.",
	"GitOps.kubectlImage":     "The kubectl image, pinned by digest (name[:tag]@sha256:...), of the Flux CronJobs that open and close a site's maintenance window.",
	"GitOps.verify":           "Sites apply only signed changes: Flux verifies commit signatures (and airgapped sites' cosign-signed OCI artifacts) against the keys in the named Secrets; Argo CD's AppProjects require commits signed by one of keyIDs.",
	"Verify.keyIDs":           "The trusted signing keys: OpenPGP key IDs of 16 or 40 hexadecimal digits. Required with Argo CD; with Flux, recorded on the GitRepository (Flux trusts every key in publicKeysSecret).",
	"Verify.publicKeysSecret": "Flux: the Secret in flux-system holding the trusted public keys (OpenPGP *.asc or SSH *.sshpub). Required with Flux; not accepted with Argo CD.",
	"Verify.cosignKeySecret":  "Flux: the Secret in flux-system holding the cosign public key of airgapped sites' OCI artifacts. Required when a site is airgapped; not accepted with Argo CD.",

	"MaintenanceWindow.schedule": "A 5-field cron expression for when the window opens (\"0 2 * * *\").",
	"MaintenanceWindow.duration": "How long the window stays open (\"2h\").",
	"MaintenanceWindow.timeZone": "The IANA time zone of the schedule (default UTC).",
}
