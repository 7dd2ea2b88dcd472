// Package inventory loads, validates and resolves a fleetgen site
// inventory: one YAML document describing a fleet of edge sites, from which
// fleetgen generates a Kustomize tree (base/, components/, overlays/<site>/).
//
// LoadFiles (or Load) decodes the document strictly and checks every value;
// Inventory.Resolve checks component names against the template set and
// merges each site's layers into a Fleet. Both return every problem at once
// as an *ErrorList; each Problem renders as
//
//	inventory.yaml:14:11: site "Store_7": sites[3].name: invalid value "Store_7": must be a DNS-1123 label (lowercase letters, digits, '-'), at most 63 characters
//
// Failures to read the file itself are returned as other errors.
//
// LoadFiles merges several files in order: a YAML inventory first, then YAML
// files adding groups and sites, or CSV files (.csv) adding sites, one a
// row under a header naming the columns (name, type, capacity.cpu,
// config.KEY, labels.KEY, images.NAME; lists separated by ';'; an empty
// cell leaves the field unset). Each row is decoded like a site in YAML,
// and problems name FILE:ROW:COLUMN with the column counted in fields.
//
// # Document
//
//	apiVersion: fleetgen.dev/v1alpha1   # required, read first
//	kind: Inventory                      # required
//	fleet: acme-retail                   # required: the fleet name
//	gitops:                              # optional: how sites pull the tree
//	  engine: flux
//	  repo: https://git.example.com/retail/edge-fleet.git
//	defaults:                            # optional: site fields every site starts from
//	  type: store
//	  region: eu-central
//	  arch: arm64
//	  capacity: {cpu: "2", memory: 2Gi}
//	  config: {LOG_LEVEL: info}
//	  images: {app: registry.example.com/shop/app:1.4.2}
//	  components: [monitoring]
//	  labels: {tier: edge}
//	groups:                              # optional: named layers sites opt into
//	  - name: eu
//	    config: {DATA_RESIDENCY: eu}
//	    components: [eu-compliance]
//	sites:                               # required: at least one site
//	  - name: store-berlin-001
//	    groups: [eu]
//	    config: {STORE_ID: "001"}
//
// The apiVersion and kind are checked before anything else. An unknown
// apiVersion or kind is reported with the supported value, and the rest of
// the document is not checked, since it may follow another schema.
//
// The top level allows exactly apiVersion, kind, fleet, gitops, defaults,
// groups and sites. defaults allows the site fields below except name and groups; a
// group allows name and the site fields except groups (groups do not nest);
// a site allows name, groups and the site fields. Any other key is an
// error naming it, the allowed keys and, for a likely typo, the intended
// one ("unknown field \"regoin\" (did you mean \"region\"?)").
//
// # Site fields
//
//   - name (sites and groups): required; a DNS-1123 label (lowercase letters,
//     digits and '-', starting and ending with a letter or digit, at most 63
//     characters), so that it is safe as a directory name and in Kubernetes
//     names. Site names are unique within the fleet, group names among
//     groups; names differing only in case count as the same name. Since
//     a DNS-1123 label is ASCII, two names that differ only by Unicode
//     normalisation ("café" composed and decomposed) can never both be
//     valid: the label rule subsumes a normalisation check.
//   - groups (sites): names of groups, applied in the order listed. Each
//     must be defined under groups and be listed once.
//   - type: one of "factory", "store" (see SiteTypes).
//   - region: a DNS-1123 label; it becomes a label value.
//   - arch: one of "amd64", "arm64" (see Arches).
//   - capacity: a mapping with cpu and memory, each a Kubernetes quantity
//     ("2", "500m", "2Gi") greater than zero. The text is kept as written.
//     An optional reserve mapping (capacity: {reserve: {cpu: 500m, memory:
//     1536Mi}}) overrides what the capacity policy keeps back for K3s
//     itself (default 500m and 768Mi, see docs/policies.md); each a
//     quantity, zero or more.
//   - config: a mapping of strings to strings that lands verbatim in the
//     site's ConfigMap. Keys must be valid ConfigMap keys (letters, digits,
//     '-', '_', '.'; at most 253 characters; not "." and not starting with
//     "..") that YAML reads as strings: true, false, null, numbers (1,
//     0x10, 1.5, .inf) and dates (2001-12-14) are rejected, since kustomize
//     writes data keys as plain YAML and fails on them. yes, no, on and off
//     are strings in YAML 1.2 and build fine. Values: see "Exact text" and
//     "Rejected characters" below.
//   - images: a mapping from an image name as the base manifests use it
//     ("app", "registry.example.com/shop/app"; no tag, no digest) to a full,
//     pinned reference: NAME:TAG, NAME@sha256:DIGEST or
//     NAME:TAG@sha256:DIGEST (64 lowercase hex digits; sha512 with 128 is
//     accepted too). A reference without tag or digest is rejected, as is a
//     malformed tag or digest. Names follow the OCI distribution grammar:
//     an optional registry host[:port]/ and lowercase path components.
//   - components: names of Kustomize components (DNS-1123 labels), each at
//     most once per list. Resolve checks them against the components the
//     template set provides.
//   - labels: Kubernetes labels; keys are qualified names ("tier",
//     "acme.example.com/zone"), values valid label values.
//   - waivers: a list of {policy: ID, reason: TEXT}; each turns the
//     findings of one edge policy into passes for the sites the layer
//     applies to (docs/policies.md). The reason is required (not blank);
//     a policy is waived at most once per layer. Resolve checks the ids
//     against ResolveOptions.Policies, naming file:line:col.
//   - requireDigests: true or false (a YAML boolean); true switches on the
//     image-digest policy, which requires every image pinned by digest.
//   - wave: the rollout wave, a whole number from 0 to 1000 written in
//     decimal; sites of wave 0 (canaries) roll out first. 0 when no layer
//     sets it.
//   - maintenanceWindow: {schedule, duration, timeZone}: when the site may
//     be changed. schedule is a standard cron expression of exactly 5
//     fields (minute hour day-of-month month day-of-week; numbers, *,
//     ranges, lists, steps, JAN-DEC and SUN-SAT); duration a Go duration
//     ("2h", "90m") greater than zero and at most a week; timeZone an IANA
//     zone ("Europe/Berlin"; not "Local"), UTC when not set. The zone data
//     is embedded (time/tzdata), so validation does not depend on the
//     machine. After merging, a window needs a schedule and a duration.
//   - network: "online" (default), "intermittent" or "airgapped" (see
//     Networks). An airgapped site needs an imageRegistry after merging.
//   - ageRecipient: the site's age X25519 public key ("age1" and 58
//     bech32 characters, lowercase), checked including its checksum. No two
//     sites may share one, and none may be an admin recipient, so a site's
//     secrets are readable by that site only. With gitops.engine argocd a
//     site may not have one: Argo CD does not decrypt SOPS files.
//   - imageRegistry: a registry mirror host[:port][/path] whose host
//     contains '.' or ':' or is localhost; every image of the site is
//     pulled through it (see MirrorImage).
//   - k3s: the site's K3s cluster (type K3s; see docs/k3s.md): version
//     (a release tag vX.Y.Z+k3sN, default K3sVersion), servers (1-99,
//     default 1), agents (0-1000, default 0), disable (K3s packaged
//     components, see K3sPackagedComponents), datastore (auto, sqlite,
//     etcd, external; default auto), joinAddress (https://HOST:PORT),
//     datastoreEndpointFile (a drop-in under /etc/rancher/k3s/config.yaml.d/),
//     tokenFile (an absolute path, default DefaultK3sTokenFile) and
//     nodeTaints (KEY[=VALUE]:EFFECT). A token value (token, agentToken)
//     is rejected. After merging: sqlite needs one server, etcd an odd
//     number, auto refuses an even number above one, external needs
//     datastoreEndpointFile, and joinAddress is required when servers > 1
//     or agents > 0 (see K3sDatastore). A site whose layers set no k3s
//     block has Site.K3s nil.
//
// After merging, every site must have a type, a region and an arch, from
// itself, its groups or defaults.
//
// # GitOps
//
// The optional top-level gitops block (type GitOps) says how sites pull
// the tree; see docs/gitops.md:
//
//   - engine: "flux", "argocd" or "none" (default: no wiring is generated).
//   - repo: the Git URL, https://, http:// or ssh:// (scp-like
//     user@host:path is rejected, Flux cannot use it), with a repository
//     path, no query, and no password (messages redact one). Required
//     unless the engine is none.
//   - branch: a Git branch name (git check-ref-format rules); default main.
//   - path: the repository directory holding the tree, "." (default) or a
//     clean relative path without "..".
//   - adminRecipients: age X25519 recipients, each once, that can decrypt
//     every site's secrets.
//
// # Secrets
//
// Config is plain text in Git and in a ConfigMap, so a config key that
// looks like a secret (PASSWORD, PASSWD, SECRET, TOKEN, APIKEY, PRIVATEKEY,
// CREDENTIAL, compared ignoring case, '-', '_' and '.'; keys ending in
// FILE, PATH, NAME, REF or DIR only name where a secret is and pass) or a
// value holding a PEM private key or an AWS access key id is rejected,
// naming file:line:col, the layer and the key but never the value. The
// matcher is package secretlike, shared with the config-secrets policy.
//
// # Merge
//
// Each site is the merge of defaults, then each of its groups in the order
// listed, then the site itself; later layers win:
//
//   - type, region, arch, capacity.cpu, capacity.memory and the
//     capacity.reserve values: the last non-empty value wins ("" does not
//     unset); cpu and memory merge independently.
//   - requireDigests: the last layer that sets it wins (a site can set
//     false under defaults' true); false when no layer sets it.
//   - waivers: the ordered union by policy id, in order of first
//     appearance; a later layer's waiver of the same policy replaces the
//     reason.
//   - wave, network, ageRecipient, imageRegistry and each of
//     maintenanceWindow's schedule, duration and timeZone: the last layer
//     that sets it wins (a window's fields merge independently, so
//     defaults can set the schedule and a group the zone).
//   - k3s: each field on its own, the last layer that sets it winning;
//     disable lists are unioned in order of first appearance, and
//     nodeTaints is replaced as a whole.
//   - config, images, labels: key by key; a key given in a later layer
//     wins, even with an empty value.
//   - components: the ordered union, without duplicates, in order of first
//     appearance.
//
// Resolve returns the sites sorted by name. In a resolved Site no map or
// slice is nil, so templates can range over them. Site.Origins tells, for
// every merged value, which layer set it ("defaults", "group/<name>",
// "site") and at which file:line:column.
//
// # Exact text
//
// Every string value is taken as the text written in the file, after YAML
// quoting and escapes, never as the value YAML would resolve it to: 1.10
// stays "1.10", no stays "no", 0x10 stays "0x10", ~ stays "~" and null
// stays "null". A key with nothing after it ("KEY:") is the empty string.
// Quoted and block scalars give their decoded string. In config, images and
// labels a mapping or list where a string belongs is an error. An empty or
// null value where a mapping or list belongs (config:, sites: ~) means
// "none". Explicit YAML tags other than !!str (!!binary, !custom) are
// rejected, since their text would not be what they mean.
//
// # Rejected characters
//
// A config value must be valid UTF-8 and may not contain:
//
//   - U+0085 (NEXT LINE), U+2028 (LINE SEPARATOR), U+2029 (PARAGRAPH
//     SEPARATOR): YAML parsers fold them into line breaks, so they would not
//     reach the cluster unchanged.
//   - control characters: U+0000–U+001F except tab, line feed and carriage
//     return, U+007F and U+0080–U+009F. NUL cannot be passed in an
//     environment variable, and the others are invisible in review and can
//     only be written escaped.
//   - U+FEFF (byte order mark): invisible, and added or stripped silently by
//     editors and tools.
//
// Other string fields have stricter rules (labels, names, quantities,
// image references) that already exclude these characters.
//
// # Hostile input
//
// An inventory may come from anywhere, so it is rejected quickly when:
//
//   - the file is larger than 64 MiB (checked from its size before reading;
//     standard input is read up to one byte past the limit);
//   - it is empty, only comments, not YAML, or holds more than one YAML
//     document, or its top level is not a mapping;
//   - mappings and lists nest deeper than 64 levels;
//   - it uses YAML anchors (&name), aliases (*name) or merge keys (<<).
//     These are rejected outright rather than expanded under a budget:
//     defaults and groups already share values, and a document whose
//     aliases expand exponentially (a "billion laughs") is then no more
//     expensive than its size;
//   - a key appears twice in a mapping (both positions are named).
//
// At most 1000 problems are reported; the rest are counted.
package inventory
