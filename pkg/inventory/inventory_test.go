package inventory

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// header is the first three lines of every table-test document, so bodies
// start at line 4.
const header = "apiVersion: fleetgen.dev/v1alpha1\nkind: Inventory\nfleet: acme\n"

// oneSite is a minimal valid sites list; "sites:" is line 4, the site's
// name line 5.
const oneSite = "sites:\n  - name: s1\n    type: store\n    region: eu\n    arch: arm64\n"

// knownComponents is what the test template set provides.
var knownComponents = []string{"cache", "eu-compliance", "monitoring", "mtls", "plc-bridge", "wasm"}

type errCase struct {
	name string
	doc  string
	// components, when non-nil, is passed as ResolveOptions.Components.
	components []string
	// want are substrings that must all appear in the error text.
	want []string
	// notWant are substrings that must not appear.
	notWant []string
}

// loadAndResolve runs Load then Resolve, as the CLI does.
func loadAndResolve(doc string, components []string) (*Fleet, error) {
	inv, err := Load("t.yaml", strings.NewReader(doc))
	if err != nil {
		return nil, err
	}
	return inv.Resolve(ResolveOptions{Components: components})
}

func TestLoadErrors(t *testing.T) {
	long := strings.Repeat("a", 64)
	cases := []errCase{
		// Version and kind.
		{
			name: "missing apiVersion",
			doc:  "kind: Inventory\nfleet: acme\n" + oneSite,
			want: []string{`t.yaml:1:1: apiVersion: is required: this fleetgen reads apiVersion "fleetgen.dev/v1alpha1"`},
		},
		{
			name:    "unknown apiVersion stops before the schema",
			doc:     "apiVersion: fleetgen.dev/v2\nkind: Inventory\nfleet: acme\nsitez: []\n",
			want:    []string{`t.yaml:1:13: apiVersion: unsupported value "fleetgen.dev/v2": this fleetgen reads apiVersion "fleetgen.dev/v1alpha1"`},
			notWant: []string{"sitez"},
		},
		{
			name: "unknown kind",
			doc:  "apiVersion: fleetgen.dev/v1alpha1\nkind: Inventroy\nfleet: acme\n" + oneSite,
			want: []string{`t.yaml:2:7: kind: unsupported value "Inventroy": this fleetgen reads kind "Inventory"`},
		},
		{
			name: "missing kind",
			doc:  "apiVersion: fleetgen.dev/v1alpha1\nfleet: acme\n" + oneSite,
			want: []string{`t.yaml:1:1: kind: is required: this fleetgen reads kind "Inventory"`},
		},
		{
			name: "apiVersion not a string",
			doc:  "apiVersion: [fleetgen.dev/v1alpha1]\nkind: Inventory\n",
			want: []string{`t.yaml:1:13: apiVersion: expected "fleetgen.dev/v1alpha1", got a list`},
		},

		// The document as a whole.
		{name: "empty file", doc: "", want: []string{"t.yaml: empty inventory: no YAML document found"}},
		{name: "only comments", doc: "# nothing here\n\n# yet\n", want: []string{"t.yaml: empty inventory: no YAML document found"}},
		{name: "only a document marker", doc: "---\n", want: []string{"t.yaml:2:1: empty inventory: the document has no content"}},
		{name: "not YAML", doc: header + "sites: [\n", want: []string{"t.yaml:4:8: invalid YAML: "}},
		{name: "not YAML on the first line", doc: "{{{ this is : not [ yaml\n", want: []string{"t.yaml:1:1: invalid YAML: "}},
		{name: "tab indentation", doc: header + "sites:\n\t- name: s1\n", want: []string{"t.yaml:5:1: invalid YAML: found character that cannot start any token (indent with spaces"}},
		{
			name: "two documents",
			doc:  header + oneSite + "---\n" + header + oneSite,
			want: []string{"t.yaml:9:1: more than one YAML document"},
		},
		{name: "two documents, second empty", doc: header + oneSite + "---\n", want: []string{"t.yaml:9:1: more than one YAML document"}},
		{name: "top level is a list", doc: "- apiVersion: fleetgen.dev/v1alpha1\n", want: []string{"t.yaml:1:1: the top level must be a mapping with apiVersion, kind, fleet and sites, got a list"}},
		{name: "top level is a scalar", doc: "inventory\n", want: []string{`t.yaml:1:1: the top level must be a mapping with apiVersion, kind, fleet and sites, got the scalar "inventory"`}},

		// Duplicate keys.
		{
			name: "duplicate top-level key",
			doc:  header + "fleet: other\n" + oneSite,
			want: []string{`t.yaml:4:1: fleet: duplicate key "fleet": first given at line 3, column 1`},
		},
		{
			name: "duplicate config key",
			doc:  header + oneSite + "    config:\n      A: x\n      B: y\n      A: z\n",
			want: []string{`t.yaml:12:7: site "s1": sites[0].config.A: duplicate key "A": first given at line 10, column 7`},
		},
		{
			name: "duplicate site field",
			doc:  header + oneSite + "    type: factory\n",
			want: []string{`t.yaml:9:5: site "s1": sites[0].type: duplicate key "type": first given at line 6, column 5`},
		},

		// Unknown fields.
		{
			name: "typo in a site field",
			doc:  header + "sites:\n  - name: s1\n    type: store\n    regoin: eu\n    arch: arm64\n",
			want: []string{`t.yaml:7:5: site "s1": sites[0]: unknown field "regoin" (did you mean "region"?); allowed fields: name, groups, type, region, arch, capacity, config, images, components, labels, waivers, requireDigests, wave, maintenanceWindow, network, ageRecipient, imageRegistry, k3s, charts, mtls, experimental`},
		},
		{
			name: "typo at the top level",
			doc:  header + "site:\n  - name: s1\n",
			want: []string{`t.yaml:4:1: unknown field "site" (did you mean "sites"?); allowed fields: apiVersion, kind, fleet, gitops, defaults, groups, sites`},
		},
		{
			name: "unknown field without suggestion",
			doc:  header + oneSite + "    owner: bob\n",
			want: []string{`t.yaml:9:5: site "s1": sites[0]: unknown field "owner"; allowed fields:`},
		},
		{
			name: "name in defaults",
			doc:  header + "defaults:\n  name: x\n" + oneSite,
			want: []string{`t.yaml:5:3: defaults: field "name" is not allowed in defaults (defaults apply to every site); allowed fields: type, region`},
		},
		{
			name: "groups in a group",
			doc:  header + "groups:\n  - name: eu\n    groups: [us]\n" + oneSite,
			want: []string{`t.yaml:6:5: groups[0]: field "groups" is not allowed in a group (groups do not nest)`},
		},
		{
			name: "typo in capacity",
			doc:  header + oneSite + "    capacity: {cpus: 2}\n",
			want: []string{`t.yaml:9:16: site "s1": sites[0].capacity: unknown field "cpus" (did you mean "cpu"?); allowed fields: cpu, memory`},
		},
		{
			name: "merge key",
			doc:  header + oneSite + "    <<: {type: store}\n",
			want: []string{`t.yaml:9:5: site "s1": sites[0]: merge keys (<<) are not supported`},
		},

		// Wrong shapes.
		{
			name: "site given as a string",
			doc:  header + "sites:\n  - store-1\n",
			want: []string{`t.yaml:5:5: sites[0]: expected a site mapping (name: ..., type: ...), got the scalar "store-1"`},
		},
		{
			name: "site given as an empty item",
			doc:  header + "sites:\n  -\n",
			want: []string{`sites[0]: expected a site mapping (name: ..., type: ...), got an empty value`},
		},
		{
			name: "sites given as a mapping",
			doc:  header + "sites:\n  s1: {type: store}\n",
			want: []string{`t.yaml:5:3: sites: expected a list of sites, got a mapping`},
			// A wrong shape is reported once, not again as "no sites".
			notWant: []string{"no sites"},
		},
		{
			name: "config given as a list",
			doc:  header + oneSite + "    config: [A=1]\n",
			want: []string{`t.yaml:9:13: site "s1": sites[0].config: expected a mapping of strings, got a list`},
		},
		{
			name: "config value is a mapping",
			doc:  header + oneSite + "    config:\n      A: {b: c}\n",
			want: []string{`t.yaml:10:10: site "s1": sites[0].config.A: expected a string, got a mapping`},
		},
		{
			name: "config value is a list",
			doc:  header + oneSite + "    config:\n      A: [1, 2]\n",
			want: []string{`t.yaml:10:10: site "s1": sites[0].config.A: expected a string, got a list`},
		},
		{
			name: "type given as a mapping",
			doc:  header + "sites:\n  - name: s1\n    type: {kind: store}\n    region: eu\n    arch: arm64\n",
			want: []string{`t.yaml:6:11: site "s1": sites[0].type: expected a string, got a mapping`},
			// No follow-on "type is not set".
			notWant: []string{"is not set"},
		},
		{
			name: "site groups given as a string",
			doc:  header + "groups:\n  - name: eu\n" + oneSite + "    groups: eu\n",
			want: []string{`t.yaml:11:13: site "s1": sites[0].groups: expected a list of group names, got the scalar "eu"`},
		},
		{
			name: "components given as a mapping",
			doc:  header + oneSite + "    components: {cache: true}\n",
			want: []string{`t.yaml:9:17: site "s1": sites[0].components: expected a list of component names, got a mapping`},
		},
		{
			name: "capacity given as a string",
			doc:  header + oneSite + "    capacity: 2\n",
			want: []string{`t.yaml:9:15: site "s1": sites[0].capacity: expected a mapping with cpu and memory, got the scalar "2"`},
		},
		{
			name: "key that is a list",
			doc:  header + oneSite + "    config:\n      ? [a, b]\n      : c\n",
			want: []string{`t.yaml:10:9: site "s1": sites[0].config: a key must be a plain string, got a list`},
		},
		{
			name: "explicit tag",
			doc:  header + oneSite + "    config:\n      A: !!binary aGVsbG8=\n",
			want: []string{`t.yaml:10:10: site "s1": sites[0].config.A: YAML tag !!binary is not supported`},
		},
		{
			name: "tag on a key",
			doc:  header + oneSite + "    config:\n      !!int 1: x\n",
			want: []string{`t.yaml:10:7: site "s1": sites[0].config: YAML tag !!int is not supported on a key`},
		},
		{
			name: "custom tag",
			doc:  header + oneSite + "    config:\n      A: !secret x\n",
			want: []string{`YAML tag !secret is not supported`},
		},
		{
			name:    "group given as an empty item",
			doc:     header + "groups:\n  - ~\n" + oneSite,
			want:    []string{`t.yaml:5:5: groups[0]: expected a group mapping (name: ..., config: ...), got an empty value (~)`},
			notWant: []string{"is required"},
		},

		// Config.
		{
			name: "config key with space and slash",
			doc:  header + oneSite + "    config:\n      bad key/x: v\n",
			want: []string{`t.yaml:10:7: site "s1": sites[0].config["bad key/x"]: invalid key "bad key/x": a valid config key must consist of alphanumeric characters`},
		},
		{
			name: "config key ..",
			doc:  header + oneSite + "    config:\n      \"..\": v\n",
			want: []string{`sites[0].config[".."]: invalid key ".."`},
		},
		{
			name: "config value with U+2028",
			doc:  header + oneSite + "    config:\n      MOTD: \"a\\u2028b\"\n",
			want: []string{`t.yaml:10:13: site "s1": sites[0].config.MOTD: value contains U+2028 (LINE SEPARATOR) at byte 1: YAML reads it as a line break`},
		},
		{
			name: "config value with U+2029",
			doc:  header + oneSite + "    config:\n      MOTD: \"\\P\"\n",
			want: []string{`sites[0].config.MOTD: value contains U+2029 (PARAGRAPH SEPARATOR) at byte 0`},
		},
		{
			name: "config value with U+0085",
			doc:  header + oneSite + "    config:\n      MOTD: \"x\\N\"\n",
			want: []string{`sites[0].config.MOTD: value contains U+0085 (NEXT LINE) at byte 1`},
		},
		{
			name: "config value with NUL",
			doc:  header + oneSite + "    config:\n      A: \"a\\0\"\n",
			want: []string{`sites[0].config.A: value contains the control character U+0000 at byte 1: only tab, line feed and carriage return are allowed`},
		},
		{
			name: "config value with ESC",
			doc:  header + oneSite + "    config:\n      A: \"\\e[31m\"\n",
			want: []string{`sites[0].config.A: value contains the control character U+001B at byte 0`},
		},
		{
			name: "config value with DEL",
			doc:  header + oneSite + "    config:\n      A: \"\\x7f\"\n",
			want: []string{`sites[0].config.A: value contains the control character U+007F`},
		},
		{
			name: "config value with C1 control",
			doc:  header + oneSite + "    config:\n      A: \"\\x9b\"\n",
			want: []string{`sites[0].config.A: value contains the control character U+009B`},
		},
		{
			name: "config value with BOM",
			doc:  header + oneSite + "    config:\n      A: \"\\uFEFFx\"\n",
			want: []string{`sites[0].config.A: value contains U+FEFF (byte order mark) at byte 0`},
		},
		{
			name: "defaults config value with U+2028",
			doc:  header + "defaults:\n  config: {A: \"\\L\"}\n" + oneSite,
			want: []string{`t.yaml:5:15: defaults.config.A: value contains U+2028`},
		},

		// Labels.
		{
			name: "bad label key",
			doc:  header + oneSite + "    labels:\n      -tier: edge\n",
			want: []string{`t.yaml:10:7: site "s1": sites[0].labels.-tier: invalid label key "-tier"`},
		},
		{
			name: "bad label value",
			doc:  header + oneSite + "    labels:\n      tier: edge node\n",
			want: []string{`t.yaml:10:13: site "s1": sites[0].labels.tier: invalid label value "edge node"`},
		},
		{
			name: "label key with prefix ok, bad prefix",
			doc:  header + oneSite + "    labels:\n      Acme_Com/zone: eu\n",
			want: []string{`sites[0].labels["Acme_Com/zone"]: invalid label key "Acme_Com/zone"`},
		},

		// Names.
		{name: "fleet missing", doc: "apiVersion: fleetgen.dev/v1alpha1\nkind: Inventory\n" + oneSite, want: []string{`t.yaml:1:1: fleet: is required`}},
		{name: "fleet empty", doc: "apiVersion: fleetgen.dev/v1alpha1\nkind: Inventory\nfleet: \"\"\n" + oneSite, want: []string{`t.yaml:3:8: fleet: is required`}},
		{name: "fleet not a DNS label", doc: "apiVersion: fleetgen.dev/v1alpha1\nkind: Inventory\nfleet: Acme\n" + oneSite, want: []string{`t.yaml:3:8: fleet: invalid value "Acme": ` + dns1123Rule}},
		{
			name: "site name as in the docs",
			doc: header + "sites:\n" +
				"  - {name: s0, type: store, region: eu, arch: arm64}\n" +
				"  - {name: s1, type: store, region: eu, arch: arm64}\n" +
				"  - {name: s2, type: store, region: eu, arch: arm64}\n" +
				"  - {name: Store_7, type: store, region: eu, arch: arm64}\n",
			want: []string{`t.yaml:8:12: site "Store_7": sites[3].name: invalid value "Store_7": must be a DNS-1123 label (lowercase letters, digits, '-'), at most 63 characters`},
		},
		{name: "site name with ../", doc: header + "sites:\n  - {name: ../x, type: store, region: eu, arch: arm64}\n", want: []string{`sites[0].name: invalid value "../x": ` + dns1123Rule}},
		{name: "site name with slash", doc: header + "sites:\n  - {name: a/b, type: store, region: eu, arch: arm64}\n", want: []string{`sites[0].name: invalid value "a/b"`}},
		{name: "site name dot", doc: header + "sites:\n  - {name: ., type: store, region: eu, arch: arm64}\n", want: []string{`sites[0].name: invalid value "."`}},
		{name: "site name too long", doc: header + "sites:\n  - {name: " + long + ", type: store, region: eu, arch: arm64}\n", want: []string{`sites[0].name: invalid value "` + long + `"`}},
		{name: "site name 63 characters is fine", doc: header + "sites:\n  - {name: " + long[:63] + ", type: store, region: eu}\n", want: []string{`sites[0].arch: is not set`}, notWant: []string{"name"}},
		{name: "site name missing", doc: header + "sites:\n  - {type: store, region: eu, arch: arm64}\n", want: []string{`t.yaml:5:5: sites[0].name: is required: every site needs a name`}},
		{name: "site name not a string", doc: header + "sites:\n  - {name: [a], type: store, region: eu, arch: arm64}\n", want: []string{`t.yaml:5:12: sites[0].name: expected the site name, got a list`}, notWant: []string{"is required"}},
		{name: "group name invalid", doc: header + "groups:\n  - name: EU\n" + oneSite, want: []string{`t.yaml:5:11: groups[0].name: invalid value "EU": ` + dns1123Rule}},
		{name: "group name missing", doc: header + "groups:\n  - config: {A: b}\n" + oneSite, want: []string{`t.yaml:5:5: groups[0].name: is required: every group needs a name`}},
		{name: "component name invalid", doc: header + oneSite + "    components: [Cache]\n", want: []string{`t.yaml:9:18: site "s1": sites[0].components[0]: invalid value "Cache": ` + dns1123Rule}},

		// Enumerations, regions, quantities.
		{name: "region invalid", doc: header + "sites:\n  - {name: s1, type: store, region: EU_central, arch: arm64}\n", want: []string{`t.yaml:5:37: site "s1": sites[0].region: invalid value "EU_central": ` + dns1123Rule}},
		{name: "region null is its text", doc: header + "defaults: {region: ~}\n" + oneSite, want: []string{`t.yaml:4:20: defaults.region: invalid value "~"`}},
		{name: "type invalid", doc: header + "sites:\n  - {name: s1, type: shop, region: eu, arch: arm64}\n", want: []string{`t.yaml:5:22: site "s1": sites[0].type: invalid value "shop": must be one of factory, store`}},
		{name: "arch invalid", doc: header + "defaults: {arch: x86_64}\n" + oneSite, want: []string{`t.yaml:4:18: defaults.arch: invalid value "x86_64": must be one of amd64, arm64`}},
		{name: "cpu not a quantity", doc: header + oneSite + "    capacity: {cpu: 2 cores}\n", want: []string{`t.yaml:9:21: site "s1": sites[0].capacity.cpu: invalid value "2 cores": must be a Kubernetes quantity`}},
		{name: "memory zero", doc: header + oneSite + "    capacity: {memory: 0Gi}\n", want: []string{`sites[0].capacity.memory: invalid value "0Gi": must be greater than zero`}},
		{name: "cpu negative", doc: header + "groups:\n  - name: g\n    capacity: {cpu: -1}\n" + oneSite, want: []string{`t.yaml:6:21: groups[0].capacity.cpu: invalid value "-1": must be greater than zero`}},

		// Images.
		{name: "image key with space", doc: header + oneSite + "    images:\n      my app: r.example.com/app:1\n", want: []string{`t.yaml:10:7: site "s1": sites[0].images["my app"]: invalid image name "my app": must be an image name such as`}},
		{name: "image key with tag", doc: header + oneSite + "    images:\n      app:1: r.example.com/app:1\n", want: []string{`sites[0].images["app:1"]: invalid image name "app:1": must be an image name without tag`}},
		{name: "image key empty", doc: header + oneSite + "    images:\n      \"\": r.example.com/app:1\n", want: []string{`sites[0].images[""]: invalid image name "": must not be empty`}},
		{name: "image without tag", doc: header + oneSite + "    images:\n      app: registry.example.com:5000/shop/app\n", want: []string{`t.yaml:10:12: site "s1": sites[0].images.app: invalid image reference "registry.example.com:5000/shop/app": no tag or digest`}},
		{name: "image digest too short", doc: header + oneSite + "    images:\n      app: app@sha256:abc\n", want: []string{`sites[0].images.app: invalid image reference "app@sha256:abc": malformed digest "sha256:abc"`}},
		{name: "image digest uppercase", doc: header + oneSite + "    images:\n      app: app@sha256:" + strings.Repeat("AB", 32) + "\n", want: []string{`malformed digest`}},
		{name: "image digest unknown algorithm", doc: header + oneSite + "    images:\n      app: app@md5:" + strings.Repeat("ab", 16) + "\n", want: []string{`malformed digest "md5:`}},
		{name: "image bad tag", doc: header + oneSite + "    images:\n      app: app:-x\n", want: []string{`malformed tag "-x"`}},
		{name: "image empty tag", doc: header + oneSite + "    images:\n      app: \"app:\"\n", want: []string{`malformed tag ""`}},
		{name: "image uppercase name", doc: header + oneSite + "    images:\n      app: Shop/App:1\n", want: []string{`invalid image reference "Shop/App:1": name "Shop/App" must be an image name such as`}},
		{name: "image with whitespace", doc: header + oneSite + "    images:\n      app: \"app :1\"\n", want: []string{`invalid image reference "app :1"`}},

		// Duplicates and references.
		{
			name: "duplicate site names",
			doc:  header + "sites:\n  - {name: s1, type: store, region: eu, arch: arm64}\n  - {name: s1, type: store, region: eu, arch: arm64}\n",
			want: []string{`t.yaml:6:12: site "s1": sites[1].name: duplicate site name "s1": first used by sites[0] at line 5, column 12`},
		},
		{
			name: "site names differing by case",
			doc:  header + "sites:\n  - {name: store-1, type: store, region: eu, arch: arm64}\n  - {name: Store-1, type: store, region: eu, arch: arm64}\n",
			want: []string{
				`t.yaml:6:12: site "Store-1": sites[1].name: duplicate site name "Store-1": first used by sites[0] at line 5, column 12 as "store-1" (names are compared ignoring case)`,
				`t.yaml:6:12: site "Store-1": sites[1].name: invalid value "Store-1"`,
			},
		},
		{
			name: "duplicate group names",
			doc:  header + "groups:\n  - name: eu\n  - name: us\n  - name: eu\n" + oneSite,
			want: []string{`t.yaml:7:11: groups[2].name: duplicate group name "eu": first used by groups[0] at line 5, column 11`},
		},
		{
			name: "site lists a group twice",
			doc:  header + "groups:\n  - name: eu\n" + oneSite + "    groups: [eu, eu]\n",
			want: []string{`t.yaml:11:18: site "s1": sites[0].groups[1]: group "eu" is listed twice (first as groups[0])`},
		},
		{
			name: "unknown group",
			doc:  header + "groups:\n  - name: eu\n  - name: us\n" + oneSite + "    groups: [ue]\n",
			want: []string{`t.yaml:12:14: site "s1": sites[0].groups[0]: unknown group "ue" (did you mean "eu"?); defined groups: eu, us`},
		},
		{
			name: "unknown group when none are defined",
			doc:  header + oneSite + "    groups: [eu]\n",
			want: []string{`sites[0].groups[0]: unknown group "eu"; defined groups: none`},
		},
		{
			name: "component listed twice",
			doc:  header + oneSite + "    components: [cache, monitoring, cache]\n",
			want: []string{`t.yaml:9:37: site "s1": sites[0].components[2]: component "cache" is listed twice (first as components[0])`},
		},
		{
			name:       "unknown component in a group",
			doc:        header + "groups:\n  - name: eu\n    components: [cahce]\n" + oneSite,
			components: knownComponents,
			want:       []string{`t.yaml:6:18: groups[0].components[0]: unknown component "cahce" in group "eu" (did you mean "cache"?); the template set provides: cache, eu-compliance, monitoring, mtls, plc-bridge, wasm`},
		},
		{
			name:       "unknown component in defaults",
			doc:        header + "defaults:\n  components: [monitoring, logging]\n" + oneSite,
			components: knownComponents,
			want:       []string{`t.yaml:5:28: defaults.components[1]: unknown component "logging" in defaults; the template set provides:`},
		},
		{
			name:       "unknown component in a site",
			doc:        header + oneSite + "    components: [plc]\n",
			components: knownComponents,
			want:       []string{`t.yaml:9:18: site "s1": sites[0].components[0]: unknown component "plc" in site "s1"`},
		},
		{
			name:       "template set without components",
			doc:        header + oneSite + "    components: [cache]\n",
			components: []string{},
			want:       []string{`unknown component "cache" in site "s1"; the template set provides: none`},
		},

		// Required after merge.
		{
			name: "site without type, region, arch",
			doc:  header + "sites:\n  - name: s1\n",
			want: []string{
				`t.yaml:5:5: site "s1": sites[0].type: is not set by the site, its groups or defaults: every site needs a type (one of factory, store)`,
				`t.yaml:5:5: site "s1": sites[0].region: is not set by the site, its groups or defaults: every site needs a region`,
				`t.yaml:5:5: site "s1": sites[0].arch: is not set by the site, its groups or defaults: every site needs a arch`,
			},
		},
		{name: "no sites key", doc: header, want: []string{`t.yaml:1:1: sites: no sites: an inventory needs at least one site`}},
		{name: "empty sites", doc: header + "sites: []\n", want: []string{`t.yaml:4:8: sites: no sites`}},
		{name: "null sites", doc: header + "sites:\n", want: []string{`sites: no sites`}},

		// Hostile input.
		{
			name: "anchors and aliases",
			doc:  header + "defaults:\n  config: &cfg {A: b}\n" + oneSite + "    config: *cfg\n",
			want: []string{
				`t.yaml:5:11: YAML anchors are not supported (found &cfg)`,
				`t.yaml:11:13: YAML aliases are not supported (found *cfg)`,
			},
			notWant: []string{"expected"},
		},
		{
			name: "billion laughs",
			doc:  billionLaughs(),
			want: []string{`t.yaml:10:10: YAML anchors are not supported (found &a and 8 more)`, `t.yaml:11:14: YAML aliases are not supported (found *a and 79 more)`},
		},
		{
			name: "deep nesting",
			doc:  header + oneSite + "    config:\n      A: " + strings.Repeat("[", 70) + strings.Repeat("]", 70) + "\n",
			want: []string{`nesting is deeper than 64 levels of mappings and lists`},
		},
	}
	runErrCases(t, cases)
}

func runErrCases(t *testing.T, cases []errCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadAndResolve(tc.doc, tc.components)
			if err == nil {
				t.Fatalf("no error; want %q", tc.want)
			}
			var list *ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("error is %T, want *ErrorList: %v", err, err)
			}
			got := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("error does not contain\n\t%s\ngot:\n%s", w, got)
				}
			}
			for _, nw := range tc.notWant {
				if strings.Contains(got, nw) {
					t.Errorf("error contains %q, should not:\n%s", nw, got)
				}
			}
		})
	}
}

// billionLaughs is the classic alias bomb: nine levels, each ten aliases of
// the one before, 10^9 strings if expanded.
func billionLaughs() string {
	var b strings.Builder
	b.WriteString(header + oneSite + "    config:\n")
	b.WriteString("      a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n")
	for i := 1; i < 9; i++ {
		prev, cur := string(rune('a'+i-1)), string(rune('a'+i))
		b.WriteString("      " + cur + ": &" + cur + " [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(",")
			}
			b.WriteString("*" + prev)
		}
		b.WriteString("]\n")
	}
	return b.String()
}

func TestAllProblemsReported(t *testing.T) {
	doc := header +
		"defaults:\n" +
		"  arch: x86\n" + // line 5
		"sites:\n" +
		"  - name: s1\n" +
		"    type: shop\n" + // line 8
		"    region: eu\n" +
		"  - name: s2\n" +
		"    type: store\n" +
		"    regoin: eu\n" + // line 12
		"    arch: arm64\n" +
		"  - name: S3\n" + // line 14
		"    type: store\n" +
		"    region: eu\n" +
		"    arch: arm64\n" +
		"    config: {\"a b\": \"\\L\"}\n" // line 18
	_, err := loadAndResolve(doc, nil)
	var list *ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("got %v, want *ErrorList", err)
	}
	want := []string{
		`t.yaml:5:9: defaults.arch: invalid value "x86": must be one of amd64, arm64`,
		`t.yaml:8:11: site "s1": sites[0].type: invalid value "shop": must be one of factory, store`,
		`t.yaml:12:5: site "s2": sites[1]: unknown field "regoin" (did you mean "region"?); allowed fields: name, groups, type, region, arch, capacity, config, images, components, labels, waivers, requireDigests, wave, maintenanceWindow, network, ageRecipient, imageRegistry, k3s, charts, mtls, experimental`,
		`t.yaml:14:11: site "S3": sites[2].name: invalid value "S3": ` + dns1123Rule,
		`t.yaml:18:14: site "S3": sites[2].config["a b"]: invalid key "a b": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`,
		`t.yaml:18:21: site "S3": sites[2].config["a b"]: value contains U+2028 (LINE SEPARATOR) at byte 0: YAML reads it as a line break, so it would not reach the cluster unchanged`,
	}
	var got []string
	for _, p := range list.Problems {
		got = append(got, p.Error())
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if err.Error() != strings.Join(want, "\n") {
		t.Errorf("Error() is not one problem per line:\n%s", err.Error())
	}
}

func TestProblemError(t *testing.T) {
	for _, tc := range []struct {
		p    Problem
		want string
	}{
		{Problem{File: "f.yaml", Line: 3, Column: 5, Site: "s1", Field: "sites[0].type", Msg: "bad"}, `f.yaml:3:5: site "s1": sites[0].type: bad`},
		{Problem{File: "f.yaml", Line: 3, Column: 5, Field: "fleet", Msg: "bad"}, `f.yaml:3:5: fleet: bad`},
		{Problem{File: "f.yaml", Line: 3, Msg: "bad"}, `f.yaml:3: bad`},
		{Problem{File: "f.yaml", Site: "s1", Field: "sites[0]", Msg: "bad"}, `f.yaml: site "s1": sites[0]: bad`},
		{Problem{Field: "fleet", Msg: "bad"}, `fleet: bad`},
	} {
		if got := tc.p.Error(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

// TestConfigExact checks that config values keep their text exactly as
// written, whatever YAML would resolve them to.
func TestConfigExact(t *testing.T) {
	doc := header + oneSite + `    config:
      VERSION: 1.10
      ENABLED: no
      YES: yes
      MASK: 0x10
      OCTAL: 0o17
      TILDE: ~
      IS_NULL: null
      EMPTY:
      QUOTED_EMPTY: ""
      FLOAT: 1e3
      INF: .inf
      TIME: 12:30:00
      DATE: 2001-12-14
      SINGLE: 'it''s'
      DOUBLE: "tab\there\r\n"
      ESCAPED: "caf\u00e9 \U0001F600"
      LITERAL: |
        line one
          indented
        line three
      FOLDED: >-
        folded
        text
      PLAIN_MULTI: a
        b
      STR_TAG: !!str 017
      NONSPECIFIC: ! 12
      LEADING_SPACE: "  x  "
`
	fleet, err := loadAndResolve(doc, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"VERSION":       "1.10",
		"ENABLED":       "no",
		"YES":           "yes",
		"MASK":          "0x10",
		"OCTAL":         "0o17",
		"TILDE":         "~",
		"IS_NULL":       "null",
		"EMPTY":         "",
		"QUOTED_EMPTY":  "",
		"FLOAT":         "1e3",
		"INF":           ".inf",
		"TIME":          "12:30:00",
		"DATE":          "2001-12-14",
		"SINGLE":        "it's",
		"DOUBLE":        "tab\there\r\n",
		"ESCAPED":       "café 😀",
		"LITERAL":       "line one\n  indented\nline three\n",
		"FOLDED":        "folded text",
		"PLAIN_MULTI":   "a b",
		"STR_TAG":       "017",
		"NONSPECIFIC":   "12",
		"LEADING_SPACE": "  x  ",
	}
	if got := fleet.Sites[0].Config; !reflect.DeepEqual(got, want) {
		t.Errorf("config:\n got %q\nwant %q", got, want)
	}
}

func TestStringFieldsExact(t *testing.T) {
	doc := header + `sites:
  - name: s1
    type: "store"
    region: 'eu'
    arch: arm64
    capacity: {cpu: 0.5, memory: 1.5Gi}
    labels: {version: 1.10, enabled: "true", empty: ""}
`
	fleet, err := loadAndResolve(doc, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := fleet.Sites[0]
	if s.Capacity.CPU != "0.5" || s.Capacity.Memory != "1.5Gi" {
		t.Errorf("capacity = %+v", s.Capacity)
	}
	want := map[string]string{"version": "1.10", "enabled": "true", "empty": ""}
	if !reflect.DeepEqual(s.Labels, want) {
		t.Errorf("labels = %q, want %q", s.Labels, want)
	}
}

func TestImagesAccepted(t *testing.T) {
	digest := strings.Repeat("0123456789abcdef", 4)
	refs := map[string]string{
		"app":                                    "registry.example.com/shop/app:1.4.2",
		"nginx":                                  "nginx:1.27",
		"registry.example.com/shop/db":           "registry.example.com/shop/db@sha256:" + digest,
		"localhost:5000/tools/agent":             "localhost:5000/tools/agent:2.0_rc-1",
		"ghcr.io/acme/edge__proxy":               "ghcr.io/acme/edge__proxy:v1@sha256:" + digest,
		"docker.io/library/busybox":              "docker.io/library/busybox:latest",
		"quay.io/acme/sha512-app":                "quay.io/acme/sha512-app@sha512:" + digest + digest,
		"registry-1.example.com/a.b/c-d/e---f_g": "registry-1.example.com/a.b/c-d/e---f_g:TAG.1",
	}
	var b strings.Builder
	b.WriteString(header + oneSite + "    images:\n")
	for _, k := range sortedKeys(refs) {
		b.WriteString("      " + k + ": " + refs[k] + "\n")
	}
	fleet, err := loadAndResolve(b.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fleet.Sites[0].Images, refs) {
		t.Errorf("images = %q", fleet.Sites[0].Images)
	}
}

func TestControlCharactersAllowed(t *testing.T) {
	doc := header + oneSite + "    config:\n      A: \"a\\tb\\nc\\r\\n\"\n      B: \"é ü 漢字 😀 \\u00a0\"\n"
	fleet, err := loadAndResolve(doc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := fleet.Sites[0].Config["A"]; got != "a\tb\nc\r\n" {
		t.Errorf("A = %q", got)
	}
}

const mergeDoc = header + `defaults:
  type: store
  region: eu-central
  arch: arm64
  capacity: {cpu: "2", memory: 2Gi}
  config: {LOG_LEVEL: info, A: defaults, B: defaults}
  images: {app: r.example.com/app:1}
  components: [monitoring, cache]
  labels: {tier: edge}
groups:
  - name: first
    region: eu-west
    capacity: {memory: 4Gi}
    config: {A: first, C: first}
    components: [eu-compliance, monitoring]
  - name: second
    region: eu-north
    type: ""
    config: {A: second}
    images: {app: r.example.com/app:2}
    components: [cache, plc-bridge]
    labels: {tier: core, zone: b}
sites:
  - name: zeta
    groups: [second, first]
    config: {B: ""}
  - name: alpha
    groups: [first, second]
    arch: amd64
    capacity: {cpu: 500m}
    config: {B: site}
    components: [monitoring, extra]
  - name: mid
`

func TestMerge(t *testing.T) {
	fleet, err := loadAndResolve(mergeDoc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fleet.Name != "acme" || fleet.Source != "t.yaml" {
		t.Errorf("fleet = %q from %q", fleet.Name, fleet.Source)
	}
	var names []string
	for _, s := range fleet.Sites {
		names = append(names, s.Name)
	}
	if want := []string{"alpha", "mid", "zeta"}; !slices.Equal(names, want) {
		t.Fatalf("sites = %v, want sorted %v", names, want)
	}
	alpha, mid, zeta := fleet.Sites[0], fleet.Sites[1], fleet.Sites[2]

	wantAlpha := Site{
		Name:       "alpha",
		Type:       "store",    // defaults; group "second" sets "" which does not win
		Region:     "eu-north", // the last group listed wins
		Arch:       "amd64",    // the site wins
		Groups:     []string{"first", "second"},
		Capacity:   Capacity{CPU: "500m", Memory: "4Gi"}, // merged independently
		Config:     map[string]string{"LOG_LEVEL": "info", "A": "second", "B": "site", "C": "first"},
		Images:     map[string]string{"app": "r.example.com/app:2"},
		Components: []string{"monitoring", "cache", "eu-compliance", "plc-bridge", "extra"},
		Labels:     map[string]string{"tier": "core", "zone": "b"},
		Network:    "online", // the default
	}
	checkSite(t, alpha, wantAlpha)

	wantZeta := wantAlpha
	wantZeta.Name = "zeta"
	wantZeta.Region = "eu-west" // groups in the order listed: second, then first
	wantZeta.Arch = "arm64"
	wantZeta.Groups = []string{"second", "first"}
	wantZeta.Capacity = Capacity{CPU: "2", Memory: "4Gi"}
	wantZeta.Config = map[string]string{"LOG_LEVEL": "info", "A": "first", "B": "", "C": "first"} // "" set in the site wins
	wantZeta.Components = []string{"monitoring", "cache", "plc-bridge", "eu-compliance"}
	checkSite(t, zeta, wantZeta)

	wantMid := Site{
		Name: "mid", Type: "store", Region: "eu-central", Arch: "arm64",
		Groups:     []string{},
		Capacity:   Capacity{CPU: "2", Memory: "2Gi"},
		Config:     map[string]string{"LOG_LEVEL": "info", "A": "defaults", "B": "defaults"},
		Images:     map[string]string{"app": "r.example.com/app:1"},
		Components: []string{"monitoring", "cache"},
		Labels:     map[string]string{"tier": "edge"},
		Network:    "online",
	}
	checkSite(t, mid, wantMid)

	// Origins of alpha.
	wantOrigins := map[string]Origin{
		"name":             {"site", "t.yaml", 30, 11},
		"groups[0]":        {"site", "t.yaml", 31, 14},
		"groups[1]":        {"site", "t.yaml", 31, 21},
		"type":             {"defaults", "t.yaml", 5, 9},
		"region":           {"group/second", "t.yaml", 20, 13},
		"arch":             {"site", "t.yaml", 32, 11},
		"capacity.cpu":     {"site", "t.yaml", 33, 21},
		"capacity.memory":  {"group/first", "t.yaml", 16, 24},
		"config.LOG_LEVEL": {"defaults", "t.yaml", 9, 23},
		"config.A":         {"group/second", "t.yaml", 22, 17},
		"config.B":         {"site", "t.yaml", 34, 17},
		"config.C":         {"group/first", "t.yaml", 17, 27},
		"images.app":       {"group/second", "t.yaml", 23, 19},
		"components[0]":    {"defaults", "t.yaml", 11, 16},
		"components[1]":    {"defaults", "t.yaml", 11, 28},
		"components[2]":    {"group/first", "t.yaml", 18, 18},
		"components[3]":    {"group/second", "t.yaml", 24, 25},
		"components[4]":    {"site", "t.yaml", 35, 30},
		"labels.tier":      {"group/second", "t.yaml", 25, 20},
		"labels.zone":      {"group/second", "t.yaml", 25, 32},
	}
	if !reflect.DeepEqual(alpha.Origins, wantOrigins) {
		for _, k := range sortedOriginKeys(alpha.Origins, wantOrigins) {
			if alpha.Origins[k] != wantOrigins[k] {
				t.Errorf("Origins[%q] = %+v, want %+v", k, alpha.Origins[k], wantOrigins[k])
			}
		}
	}
}

func sortedOriginKeys(maps ...map[string]Origin) []string {
	set := map[string]bool{}
	for _, m := range maps {
		for k := range m {
			set[k] = true
		}
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func checkSite(t *testing.T, got, want Site) {
	t.Helper()
	got.Origins = nil
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("site %s:\n got %s\nwant %s", want.Name, g, w)
	}
}

// TestResolvedNeverNil checks that templates can range over every map and
// slice of a resolved site.
func TestResolvedNeverNil(t *testing.T) {
	fleet, err := loadAndResolve(header+oneSite, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := fleet.Sites[0]
	if s.Config == nil || s.Images == nil || s.Labels == nil || s.Origins == nil {
		t.Errorf("nil map in %+v", s)
	}
	if s.Groups == nil || s.Components == nil {
		t.Errorf("nil slice in %+v", s)
	}
	b, _ := json.Marshal(s)
	if !strings.Contains(string(b), `"groups":[]`) || !strings.Contains(string(b), `"config":{}`) {
		t.Errorf("JSON shows nil: %s", b)
	}
}

func TestResolveComponentsNil(t *testing.T) {
	if _, err := loadAndResolve(header+oneSite+"    components: [anything]\n", nil); err != nil {
		t.Errorf("nil Components must not check components: %v", err)
	}
	if _, err := loadAndResolve(header+oneSite+"    components: [cache]\n", knownComponents); err != nil {
		t.Errorf("known component rejected: %v", err)
	}
}

// TestDeterministic resolves the same inventory many times; results and
// messages must not depend on map iteration order.
func TestDeterministic(t *testing.T) {
	first, err := loadAndResolve(mergeDoc, nil)
	if err != nil {
		t.Fatal(err)
	}
	bad := header + oneSite + "    config: {\"a b\": x, \"c d\": y, \"e f\": z}\n    labels: {-a: x, -b: y, -c: z}\n    components: [X, Y, Z]\n"
	_, firstErr := loadAndResolve(bad, nil)
	for i := 0; i < 20; i++ {
		again, err := loadAndResolve(mergeDoc, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(first, again) {
			t.Fatal("Resolve is not deterministic")
		}
		if _, err := loadAndResolve(bad, nil); err.Error() != firstErr.Error() {
			t.Fatalf("problems not deterministic:\n%v\n---\n%v", err, firstErr)
		}
	}
}

// TestResolveBuiltInCode checks an inventory that did not come from Load:
// it is validated just the same, with positions unknown.
func TestResolveBuiltInCode(t *testing.T) {
	inv := &Inventory{
		File:  "code",
		Fleet: "acme",
		Defaults: Layer{
			Type: "store", Region: "eu", Arch: "arm64",
			Config: map[string]string{"A": "bad\xffutf8", "B": "nul\x00"},
		},
		Groups: []Group{{Name: "eu"}},
		Sites: []SiteSpec{
			{Name: "s1", Groups: []string{"eu", "us"}},
			{Name: "s2", Layer: Layer{Components: []string{"cache"}}},
		},
	}
	_, err := inv.Resolve(ResolveOptions{Components: []string{"monitoring"}})
	var list *ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("got %v, want *ErrorList", err)
	}
	want := []string{
		`code: defaults.config.A: value is not valid UTF-8`,
		`code: defaults.config.B: value contains the control character U+0000 at byte 3`,
		`code: site "s1": sites[0].groups[1]: unknown group "us"`,
		`code: site "s2": sites[1].components[0]: unknown component "cache" in site "s2"`,
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in\n%v", w, err)
		}
	}

	inv = &Inventory{Fleet: "acme", Sites: []SiteSpec{{Name: "s1", Layer: Layer{Type: "store", Region: "eu", Arch: "amd64"}}}}
	fleet, err := inv.Resolve(ResolveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if o := fleet.Sites[0].Origins["type"]; o.Layer != "site" || o.Line != 0 {
		t.Errorf("origin = %+v", o)
	}
	if _, err := (*Inventory)(nil).Resolve(ResolveOptions{}); err == nil {
		t.Error("nil Inventory resolved")
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "inventory.yaml")
	if err := os.WriteFile(good, []byte(header+oneSite), 0o644); err != nil {
		t.Fatal(err)
	}
	inv, err := LoadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	if inv.File != good || inv.Fleet != "acme" || len(inv.Sites) != 1 {
		t.Errorf("loaded %+v", inv)
	}

	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte(header+"sites: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = LoadFile(bad)
	if err == nil || !strings.HasPrefix(err.Error(), bad+":4:8: sites: no sites") {
		t.Errorf("got %v", err)
	}

	_, err = LoadFile(filepath.Join(dir, "missing.yaml"))
	var list *ErrorList
	if !errors.Is(err, os.ErrNotExist) || errors.As(err, &list) {
		t.Errorf("missing file: got %v, want an I/O error", err)
	}

	// Larger than the limit: rejected from its size, without reading.
	huge := filepath.Join(dir, "huge.yaml")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(maxFileSize + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, err = LoadFile(huge)
	if !errors.As(err, &list) || !strings.Contains(err.Error(), huge+": inventory is larger than 64 MiB") {
		t.Errorf("huge file: got %v", err)
	}
}

func TestLoadFileStdin(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "stdin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(header + "sites: []\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(0, 0); err != nil {
		t.Fatal(err)
	}
	old := os.Stdin
	os.Stdin = f
	defer func() { os.Stdin = old }()
	_, err = LoadFile("-")
	if err == nil || !strings.HasPrefix(err.Error(), "<stdin>:4:8: sites: no sites") {
		t.Errorf("got %v", err)
	}
}

func TestSizeLimit(t *testing.T) {
	doc := header + oneSite
	if _, err := load("in", strings.NewReader(doc), int64(len(doc)), ResolveOptions{}); err != nil {
		t.Errorf("at the limit: %v", err)
	}
	_, err := load("in", strings.NewReader(doc+"\n"), int64(len(doc)), ResolveOptions{})
	var list *ErrorList
	if !errors.As(err, &list) || err.Error() != fmt.Sprintf("in: inventory is larger than %d bytes; refusing to read it", len(doc)) {
		t.Errorf("over the limit: got %v", err)
	}
	// A reader that never ends is read only up to the limit.
	_, err = load("<stdin>", endless{}, 1<<20, ResolveOptions{})
	if !errors.As(err, &list) || !strings.Contains(err.Error(), "larger than 1 MiB") {
		t.Errorf("endless input: got %v", err)
	}
}

type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = '#'
	}
	return len(p), nil
}

func TestTooManyProblems(t *testing.T) {
	var b strings.Builder
	b.WriteString(header + "sites:\n")
	for i := 0; i < maxProblems+10; i++ {
		b.WriteString("  - {name: X}\n")
	}
	_, err := loadAndResolve(b.String(), nil)
	var list *ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("got %v", err)
	}
	if len(list.Problems) != maxProblems+1 {
		t.Errorf("%d problems, want %d", len(list.Problems), maxProblems+1)
	}
	if last := list.Problems[len(list.Problems)-1]; !strings.Contains(last.Msg, "too many problems") {
		t.Errorf("last problem = %v", last)
	}
}

// Sites merge in parallel; the problems found while merging are still
// those of the first sites, in site order, on every run.
func TestMergeProblemsInSiteOrder(t *testing.T) {
	var b strings.Builder
	b.WriteString(header + "sites:\n")
	for i := range maxProblems {
		fmt.Fprintf(&b, "  - {name: s%04d}\n", i) // no type, region or arch
	}
	var first string
	for range 5 {
		_, _, err := ResolveInputs([]Input{{Path: "t.yaml", Name: "t.yaml", Data: []byte(b.String())}}, ResolveOptions{})
		var list *ErrorList
		if !errors.As(err, &list) || len(list.Problems) != maxProblems+1 {
			t.Fatalf("got %v", err)
		}
		for i, p := range list.Problems[:maxProblems] {
			if want := fmt.Sprintf("s%04d", i/3); p.Site != want || p.Line != i/3+5 {
				t.Fatalf("problem %d: site %s line %d, want %s line %d", i, p.Site, p.Line, want, i/3+5)
			}
		}
		if got := list.Error(); first == "" {
			first = got
		} else if got != first {
			t.Fatal("problems differ between runs")
		}
	}
}

// ResolveInputs checks and merges once: the same fleet as Resolve after a
// load.
func TestResolveInputs(t *testing.T) {
	for _, dir := range []string{"valid-fleet", "valid-gitops"} {
		data, err := os.ReadFile(filepath.Join("testdata", dir, "inventory.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		inv, fleet, err := ResolveInputs([]Input{{Path: "inventory.yaml", Name: "inventory.yaml", Data: data}}, ResolveOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want, err := inv.Resolve(ResolveOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(fleet, want) {
			t.Fatalf("%s: ResolveInputs fleet differs from Resolve's:\n%+v\nwant:\n%+v", dir, fleet, want)
		}
	}
}

func TestNestingAtLimit(t *testing.T) {
	// 64 levels (top-level mapping, sites, a site, config, then 60 lists)
	// pass the depth check (and are then rejected for their shape).
	doc := header + oneSite + "    config:\n      A: " + strings.Repeat("[", 60) + strings.Repeat("]", 60) + "\n"
	_, err := loadAndResolve(doc, nil)
	if err == nil || strings.Contains(err.Error(), "nesting") || !strings.Contains(err.Error(), "expected a string, got a list") {
		t.Errorf("got %v", err)
	}
	doc = header + oneSite + "    config:\n      A: " + strings.Repeat("[", 61) + strings.Repeat("]", 61) + "\n"
	if _, err := loadAndResolve(doc, nil); err == nil || !strings.Contains(err.Error(), "nesting is deeper than 64") {
		t.Errorf("got %v", err)
	}
}

func TestSuggest(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"regoin", "region"},
		{"Region", "region"},
		{"componets", "components"},
		{"lables", "labels"},
		{"typ", "type"},
		{"arc", "arch"},
		{"xyz", ""},
		{"owner", ""},
	} {
		if got := closest(tc.in, siteFields); got != tc.want {
			t.Errorf("closest(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestFixtures loads each testdata/<case>/inventory.yaml and compares the
// resolved fleet (as JSON, with origins) with expected.json, or the
// problems with errors.txt. Refresh with go test -update.
func TestFixtures(t *testing.T) {
	dirs, err := filepath.Glob("testdata/*/inventory.yaml")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, path := range dirs {
		dir := filepath.Dir(path)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			var got []byte
			var golden string
			inv, err := LoadFile(path)
			var fleet *Fleet
			if err == nil {
				fleet, err = inv.Resolve(ResolveOptions{Components: knownComponents})
			}
			if err != nil {
				var list *ErrorList
				if !errors.As(err, &list) {
					t.Fatalf("got %T: %v", err, err)
				}
				golden = filepath.Join(dir, "errors.txt")
				got = []byte(err.Error() + "\n")
			} else {
				golden = filepath.Join(dir, "expected.json")
				got = fleetJSON(t, fleet)
			}
			if *update {
				os.Remove(filepath.Join(dir, "errors.txt"))
				os.Remove(filepath.Join(dir, "expected.json"))
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the result (run go test -update and review the diff):\n%s", golden, got)
			}
		})
	}
}

// fleetJSON renders a fleet for golden files, origins included.
func fleetJSON(t *testing.T, f *Fleet) []byte {
	t.Helper()
	type site struct {
		Site
		Origins map[string]Origin `json:"origins"`
	}
	out := struct {
		Name   string `json:"name"`
		Source string `json:"source"`
		Sites  []site `json:"sites"`
	}{Name: f.Name, Source: f.Source}
	for _, s := range f.Sites {
		out.Sites = append(out.Sites, site{s, s.Origins})
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}
