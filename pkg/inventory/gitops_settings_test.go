package inventory

import (
	"strings"
	"testing"
)

func TestMirrorImage(t *testing.T) {
	for _, tc := range []struct{ registry, name, want string }{
		{"mirror.local:5000", "registry.example.com/shop/app", "mirror.local:5000/shop/app"},
		{"mirror.local:5000/edge", "registry.example.com:443/shop/app", "mirror.local:5000/edge/shop/app"},
		{"mirror.local", "localhost/app", "mirror.local/app"},
		{"mirror.local", "nginx", "mirror.local/library/nginx"},
		{"mirror.local", "bitnami/redis", "mirror.local/bitnami/redis"},
		{"mirror.local", "app", "mirror.local/library/app"},
		{"", "registry.example.com/shop/app", "registry.example.com/shop/app"},
	} {
		if got := MirrorImage(tc.registry, tc.name); got != tc.want {
			t.Errorf("MirrorImage(%q, %q) = %q, want %q", tc.registry, tc.name, got, tc.want)
		}
	}
}

func TestCheckCron(t *testing.T) {
	for _, tc := range []struct {
		expr string
		ok   bool
	}{
		{"0 2 * * *", true},
		{"*/15 1-3 1,15 JAN-MAR mon-fri", true},
		{"59 23 31 12 6", true},
		{"0 0 * * SUN", true},
		{"0 2 * *", false},
		{"0 2 * * * *", false},
		{"60 * * * *", false},
		{"* 24 * * *", false},
		{"* * 0 * *", false},
		{"* * * 13 *", false},
		{"* * * * 7", false},
		{"5-1 * * * *", false},
		{"*/0 * * * *", false},
		{"@daily", false},
		{"a * * * *", false},
		{"-1 * * * *", false},
	} {
		if got := checkCron(tc.expr) == ""; got != tc.ok {
			t.Errorf("checkCron(%q) ok = %v, want %v (%s)", tc.expr, got, tc.ok, checkCron(tc.expr))
		}
	}
}

func TestCheckAgeRecipient(t *testing.T) {
	const good = "age1u2kzw74m4dtlhw8vc0gpj0a9pvu7t22rxrc500cp5c994g9p65gq08hmfr"
	for _, tc := range []struct {
		in, want string
	}{
		{good, ""},
		{good[:len(good)-1] + "q", "invalid checksum"},
		{good[:len(good)-2], "invalid"},
		{strings.ToUpper(good), "must be an age X25519 public key"},
		{"age1", "invalid"},
		{"", "must be an age X25519 public key"},
	} {
		got := checkAgeRecipient(tc.in)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("checkAgeRecipient(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestGitURLAndBranchAndPath(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"https://git.example.com/org/fleet.git", true},
		{"ssh://git@git.example.com/org/fleet.git", true},
		{"ssh://git@git.example.com:2222/org/fleet", true},
		{"git@git.example.com:org/fleet.git", false},
		{"https://user:pw@git.example.com/org/fleet.git", false},
		{"ftp://git.example.com/fleet", false},
		{"https://git.example.com", false},
		{"https://git.example.com/x?y=1", false},
	} {
		if got := checkGitURL(tc.url) == ""; got != tc.ok {
			t.Errorf("checkGitURL(%q) ok = %v, want %v", tc.url, got, tc.ok)
		}
	}
	for _, tc := range []struct {
		branch string
		ok     bool
	}{{"main", true}, {"release/v2", true}, {"a..b", false}, {"-x", false}, {"x.lock", false}, {"a b", false}, {"x/", false}, {"a@{b", false}} {
		if got := checkBranch(tc.branch) == ""; got != tc.ok {
			t.Errorf("checkBranch(%q) ok = %v, want %v", tc.branch, got, tc.ok)
		}
	}
	for _, tc := range []struct {
		path string
		ok   bool
	}{{".", true}, {"fleet", true}, {"a/b-c/d_e", true}, {"../x", false}, {"/abs", false}, {"a/", false}, {"a//b", false}, {"a/./b", false}, {"", false}} {
		if got := checkRepoPath(tc.path) == ""; got != tc.ok {
			t.Errorf("checkRepoPath(%q) ok = %v, want %v", tc.path, got, tc.ok)
		}
	}
}

func TestGitOpsResolved(t *testing.T) {
	inv, err := LoadFile("testdata/valid-gitops/inventory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fleet, err := inv.Resolve(ResolveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	g := fleet.GitOps
	if g.Engine != "flux" || g.Branch != "main" || g.Path != "." || len(g.AdminRecipients) != 1 {
		t.Errorf("gitops = %+v, want defaults branch main, path .", g)
	}
	canary, plant := fleet.Sites[0], fleet.Sites[1]
	if canary.Wave != 0 || plant.Wave != 1 {
		t.Errorf("waves = %d, %d; want 0 (site) and 1 (defaults)", canary.Wave, plant.Wave)
	}
	if w := canary.MaintenanceWindow; w != (MaintenanceWindow{"0 2 * * MON-FRI", "2h", "Europe/Berlin"}) {
		t.Errorf("canary window = %+v: schedule and duration from defaults, zone from the group", w)
	}
	if w := plant.MaintenanceWindow; w != (MaintenanceWindow{"15 1 1,15 JAN-MAR 0", "45m", "UTC"}) {
		t.Errorf("plant window = %+v, want its own with zone UTC", w)
	}
	if canary.Network != "online" || plant.Network != "airgapped" || plant.ImageRegistry != "localhost:5000" {
		t.Errorf("network %q %q registry %q", canary.Network, plant.Network, plant.ImageRegistry)
	}
	for key, want := range map[string]string{
		"wave":                       "site",
		"maintenanceWindow.schedule": "defaults",
		"maintenanceWindow.timeZone": "group/berlin",
		"ageRecipient":               "site",
	} {
		if o := canary.Origins[key]; o.Layer != want || o.Line == 0 {
			t.Errorf("canary origin of %s = %+v, want layer %s with a line", key, o, want)
		}
	}
	if got := canary.ImageName("registry.example.com/shop/app"); got != "registry.example.com/shop/app" {
		t.Errorf("canary ImageName = %q", got)
	}
	if got := plant.ImageName("registry.example.com/shop/app"); got != "localhost:5000/shop/app" {
		t.Errorf("plant ImageName = %q", got)
	}
}

// TestSecretConfigRejected checks that secret-looking config is bad input
// naming file:line:col, the site and the key, and never the value.
func TestSecretConfigRejected(t *testing.T) {
	const value = "s3cr3t-v4lue"
	for _, tc := range []struct{ key, val, want string }{
		{"DB_PASSWORD", value, `t.yaml:7:7: site "s1": sites[0].config.DB_PASSWORD: key "DB_PASSWORD" in site "s1" looks like a secret (contains password)`},
		{"apiKey", value, `key "apiKey" in site "s1" looks like a secret (contains apikey)`},
		{"SSH_PRIVATE_KEY", value, `(contains privatekey)`},
		{"AWS_CREDENTIALS", value, `(contains credential)`},
		{"SESSION_SECRET", value, `(contains secret)`},
		{"CERT", `"-----BEGIN EC PRIVATE KEY-----` + value + `"`, `t.yaml:7:13: site "s1": sites[0].config.CERT: the value of "CERT" in site "s1" holds a PEM private key (value not shown)`},
	} {
		doc := "apiVersion: fleetgen.dev/v1alpha1\nkind: Inventory\nfleet: f\nsites:\n  - name: s1\n    config:\n      " + tc.key + ": " + tc.val + "\n"
		_, err := Load("t.yaml", strings.NewReader(doc))
		if err == nil {
			t.Errorf("%s: accepted", tc.key)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %q does not contain %q", tc.key, err, tc.want)
		}
		if strings.Contains(err.Error(), value) {
			t.Errorf("%s: error prints the value: %q", tc.key, err)
		}
	}
}
