package inventory

import (
	"slices"
	"strings"
	"testing"
)

const k3sHead = `apiVersion: fleetgen.dev/v1alpha1
kind: Inventory
fleet: f
defaults:
  type: store
  region: eu
  arch: arm64
`

// loadK3s resolves an inventory made of k3sHead and rest.
func loadK3s(t *testing.T, rest string) (*Fleet, error) {
	t.Helper()
	inv, err := Load("inventory.yaml", strings.NewReader(k3sHead+rest))
	if err != nil {
		return nil, err
	}
	return inv.Resolve(ResolveOptions{})
}

func TestK3sRules(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		want      []string // substrings of the error; none means valid
	}{
		{"one server sqlite by auto", "sites:\n  - name: s\n    k3s: {servers: 1}\n", nil},
		{"three servers etcd by auto", "sites:\n  - name: s\n    k3s: {servers: 3, joinAddress: \"https://10.0.0.10:6443\"}\n", nil},
		{"two servers auto", "sites:\n  - name: s\n    k3s: {servers: 2, joinAddress: \"https://10.0.0.10:6443\"}\n",
			[]string{`inventory.yaml:10:20: site "s": sites[0].k3s.servers: auto cannot choose a datastore for 2 servers`, "add a third server", "datastore: external"}},
		{"four servers auto", "sites:\n  - name: s\n    k3s: {servers: 4, joinAddress: \"https://10.0.0.10:6443\"}\n", []string{"auto cannot choose a datastore for 4 servers"}},
		{"sqlite three servers", "sites:\n  - name: s\n    k3s: {servers: 3, datastore: sqlite, joinAddress: \"https://h:6443\"}\n", []string{"datastore sqlite needs exactly one server, got 3", "single-writer"}},
		{"etcd even", "sites:\n  - name: s\n    k3s: {servers: 2, datastore: etcd, joinAddress: \"https://h:6443\"}\n", []string{"embedded etcd needs an odd number of servers, got 2"}},
		{"etcd one", "sites:\n  - name: s\n    k3s: {servers: 1, datastore: etcd}\n", nil},
		{"external without file", "sites:\n  - name: s\n    k3s: {servers: 2, datastore: external, joinAddress: \"https://h:6443\"}\n", []string{"datastoreEndpointFile: is required with datastore external"}},
		{"external two servers", "sites:\n  - name: s\n    k3s: {servers: 2, datastore: external, datastoreEndpointFile: /etc/rancher/k3s/config.yaml.d/datastore.yaml, joinAddress: \"https://h:6443\"}\n", nil},
		{"external endpoint in git", "sites:\n  - name: s\n    k3s: {datastore: external, datastoreEndpointFile: \"postgres://u:secret@db:5432/k3s\"}\n", []string{"looks like a datastore endpoint"}},
		{"join address required", "sites:\n  - name: s\n    k3s: {agents: 2}\n", []string{"sites[0].k3s.joinAddress: is required when a site has more than one server or any agent"}},
		{"join address no port", "sites:\n  - name: s\n    k3s: {agents: 1, joinAddress: \"https://10.0.0.10\"}\n", []string{"the port is required"}},
		{"join address http", "sites:\n  - name: s\n    k3s: {agents: 1, joinAddress: \"http://10.0.0.10:6443\"}\n", []string{"must be the first server's supervisor URL"}},
		{"version not a tag", "sites:\n  - name: s\n    k3s: {version: v1.33.5}\n", []string{`inventory.yaml:10:20: site "s": sites[0].k3s.version: invalid value "v1.33.5": must be a K3s release tag`}},
		{"version rc", "sites:\n  - name: s\n    k3s: {version: v1.33.5-rc1+k3s1}\n", []string{"must be a K3s release tag"}},
		{"unknown disable", "sites:\n  - name: s\n    k3s: {disable: [traefic]}\n", []string{`sites[0].k3s.disable[0]: unknown K3s packaged component "traefic" (did you mean "traefik"?)`}},
		{"token refused", "sites:\n  - name: s\n    k3s:\n      token: K10abc\n", []string{"inventory.yaml:11:7", "a K3s token must never be in the inventory"}},
		{"servers zero", "sites:\n  - name: s\n    k3s: {servers: 0}\n", []string{"must be a whole number from 1 to 99"}},
		{"bad taint", "sites:\n  - name: s\n    k3s: {nodeTaints: [\"gpu:Never\"]}\n", []string{`invalid taint "gpu:Never": effect "Never"`}},
		{"unknown field", "sites:\n  - name: s\n    k3s: {server: 3}\n", []string{`unknown field "server" (did you mean "servers"?)`}},
		{"group sets even servers", "groups:\n  - name: ha\n    k3s: {servers: 2, datastore: etcd, joinAddress: \"https://h:6443\"}\nsites:\n  - name: s\n    groups: [ha]\n",
			[]string{"inventory.yaml:10:20: site \"s\": sites[0].k3s.servers: embedded etcd needs an odd number", "servers from group/ha at inventory.yaml:10"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadK3s(t, tc.doc)
			wantErrors(t, err, tc.want)
		})
	}
}

func TestK3sMerge(t *testing.T) {
	f, err := loadK3s(t, `  k3s:
    version: v1.33.5+k3s1
    disable: [servicelb]
    nodeTaints: ["a=b:NoSchedule"]
groups:
  - name: big
    k3s:
      servers: 3
      disable: [traefik, servicelb]
      joinAddress: https://10.0.0.10:6443
      nodeTaints: []
sites:
  - name: plain
    k3s: {}
  - name: ha
    groups: [big]
    k3s:
      agents: 2
      disable: [local-storage]
`)
	if err != nil {
		t.Fatal(err)
	}
	ha, plain := f.Sites[0], f.Sites[1]
	k := ha.K3s
	if k == nil || k.Servers != 3 || k.Agents != 2 || k.Datastore != "auto" || k.JoinAddress != "https://10.0.0.10:6443" {
		t.Fatalf("ha k3s = %+v", k)
	}
	if want := []string{"servicelb", "traefik", "local-storage"}; !slices.Equal(k.Disable, want) {
		t.Errorf("disable = %q, want %q", k.Disable, want)
	}
	if len(k.NodeTaints) != 0 {
		t.Errorf("nodeTaints = %q, want the group's empty list", k.NodeTaints)
	}
	for key, layer := range map[string]string{"k3s.servers": "group/big", "k3s.agents": "site", "k3s.version": "defaults", "k3s.disable[0]": "defaults", "k3s.disable[1]": "group/big", "k3s.disable[2]": "site"} {
		if o := ha.Origins[key]; o.Layer != layer || o.Line == 0 {
			t.Errorf("origin of %s = %+v, want layer %s", key, o, layer)
		}
	}
	if p := plain.K3s; p == nil || p.Servers != 1 || p.TokenFile != DefaultK3sTokenFile || p.Version != K3sVersion || !slices.Equal(p.NodeTaints, []string{"a=b:NoSchedule"}) {
		t.Errorf("plain k3s = %+v", p)
	}

	f, err = loadK3s(t, "sites:\n  - name: none\n")
	if err != nil {
		t.Fatal(err)
	}
	if f.Sites[0].K3s != nil {
		t.Errorf("a site without any k3s block has %+v", f.Sites[0].K3s)
	}
}

func TestK3sTokenFileKeyIsATypo(t *testing.T) {
	_, err := loadK3s(t, "sites:\n  - name: s\n    k3s:\n      token-file: /etc/k3s-token\n")
	if err == nil || !strings.Contains(err.Error(), `unknown field "token-file" (did you mean "tokenFile"?)`) {
		t.Fatalf("err = %v", err)
	}
}
