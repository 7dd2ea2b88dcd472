package gitops_test

import (
	"os"
	"strings"
	"testing"

	"github.com/fleetgen/fleetgen/pkg/gitops"
)

// TestSignedWiringValidates checks the wiring of gitops.verify and the
// applier against the pinned schemas: the golden fixtures pass, and a
// misspelt field of each new part is an error naming the file.
func TestSignedWiringValidates(t *testing.T) {
	for _, tc := range []struct {
		fixture, file, old, new, want string
	}{
		{"argocd-waves", "argocd/appproject.yaml", "            mode: head\n", "            modus: head\n", "sourceIntegrity"},
		{"argocd-waves", "argocd/appproject.yaml", "      defaultServiceAccount:", "      serviceAccount:", "destinationServiceAccounts"},
		{"flux-networks", "clusters/site-online/fleet-sync.yaml", "    mode: HEAD\n", "    mode: HEAD\n    keys: x\n", "spec.verify"},
		{"flux-networks", "clusters/site-airgapped/fleet-sync.yaml", "    provider: cosign\n", "    provider: cosign\n    mode: HEAD\n", "spec.verify"},
		{"flux-networks", "clusters/site-online/fleet-sync.yaml", "  serviceAccountName: fleet-applier\n", "  serviceAccount: fleet-applier\n", "serviceAccount"},
		{"flux-networks", "clusters/site-online/applier.yaml", "    resourceNames: [\"edge-app\"]\n", "    resourceName: [\"edge-app\"]\n", "clusters/site-online/applier.yaml"},
		{"flux-networks", "clusters/site-online/applier.yaml", "kind: ClusterRoleBinding\n", "kind: ClusterRoleBinding\nrules: []\n", "clusters/site-online/applier.yaml"},
		{"flux-networks", "clusters/site-online/fleet-sync.yaml", "  serviceAccountName: fleet-applier\n", "  serviceAccountName: other\n", "applies as service account flux-system/other, which clusters/site-online/applier.yaml does not define"},
	} {
		t.Run(tc.fixture+"/"+tc.want, func(t *testing.T) {
			inv := "testdata/" + tc.fixture + "/inventory.yaml"
			data, err := os.ReadFile(inv)
			if err != nil {
				t.Fatal(err)
			}
			fleet, tree := renderFixture(t, inv, data)
			var sites []string
			for _, s := range fleet.Sites {
				sites = append(sites, s.Name)
			}
			files := gitops.Files(tree)
			if errs := check(gitops.NewChecker(), files, sites); len(errs) > 0 {
				t.Fatalf("golden wiring fails: %v", errs)
			}
			got := string(files[tc.file])
			if !strings.Contains(got, tc.old) {
				t.Fatalf("%s has no %q", tc.file, tc.old)
			}
			files[tc.file] = []byte(strings.Replace(got, tc.old, tc.new, 1))
			errs := check(gitops.NewChecker(), files, sites)
			if len(errs) == 0 {
				t.Fatalf("%s with %q: no error", tc.file, tc.new)
			}
			if msg := errs[0].Error(); !strings.Contains(msg, tc.want) || !strings.Contains(msg, tc.file) {
				t.Errorf("error %q does not name %q and %s", msg, tc.want, tc.file)
			}
		})
	}
}
