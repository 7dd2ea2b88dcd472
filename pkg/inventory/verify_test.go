package inventory

import (
	"strings"
	"testing"
)

// TestVerifyBlock checks gitops.verify per engine: what each engine needs,
// what it cannot apply, and malformed values, each naming file:line and
// the field.
func TestVerifyBlock(t *testing.T) {
	const head = "apiVersion: fleetgen.dev/v1alpha1\nkind: Inventory\nfleet: f\ngitops:\n  engine: %s\n  repo: https://git.example.com/org/fleet.git\n  path: .\n  verify: %s\n"
	const online = "sites:\n  - name: s1\n    type: store\n    region: eu\n    arch: arm64\n    images: {app: registry.example.com/app:1.0}\n"
	const airgapped = "sites:\n  - name: s1\n    network: airgapped\n    imageRegistry: mirror.local:5000\n    type: store\n    region: eu\n    arch: arm64\n    images: {app: registry.example.com/app:1.0}\n"
	for _, tc := range []struct {
		name, engine, verify, sites string
		want                        string // "" means accepted
	}{
		{"flux ok", "flux", "{keyIDs: [4AEE18F83AFDEB23], publicKeysSecret: fleet-signing-keys}", online, ""},
		{"flux fingerprint", "flux", "{keyIDs: [4aee18f83afdeb234aee18f83afdeb234aee18f8], publicKeysSecret: k}", online, ""},
		{"flux airgapped ok", "flux", "{publicKeysSecret: k, cosignKeySecret: c}", airgapped, ""},
		{"argocd ok", "argocd", "{keyIDs: [4AEE18F83AFDEB23]}", online, ""},
		{"flux no secret", "flux", "{keyIDs: [4AEE18F83AFDEB23]}", online, `t.yaml:8:11: gitops.verify.publicKeysSecret: is required when gitops.engine is "flux"`},
		{"flux airgapped no cosign", "flux", "{publicKeysSecret: k}", airgapped, `t.yaml:8:11: site "s1": gitops.verify.cosignKeySecret: is required: site "s1" is airgapped`},
		{"argocd no keys", "argocd", "{keyIDs: []}", online, `gitops.verify.keyIDs: is required when gitops.engine is "argocd"`},
		{"argocd secret", "argocd", "{keyIDs: [4AEE18F83AFDEB23], publicKeysSecret: k}", online, `t.yaml:8:58: gitops.verify.publicKeysSecret: cannot be applied by Argo CD`},
		{"argocd cosign", "argocd", "{keyIDs: [4AEE18F83AFDEB23], cosignKeySecret: k}", online, `gitops.verify.cosignKeySecret: cannot be applied by Argo CD`},
		{"none", "none", "{keyIDs: [4AEE18F83AFDEB23]}", online, `gitops.verify: is set but gitops.engine is "none"`},
		{"short key", "argocd", "{keyIDs: [3AFDEB23]}", online, `t.yaml:8:21: gitops.verify.keyIDs[0]: invalid value "3AFDEB23": must be a key ID of 16 or 40 hexadecimal digits`},
		{"0x key", "argocd", "{keyIDs: [0x4AEE18F83AFDEB23]}", online, `without the 0x prefix`},
		{"not hex", "argocd", "{keyIDs: [4AEE18F83AFDEB2Z]}", online, `gitops.verify.keyIDs[0]: invalid value`},
		{"dup key", "argocd", "{keyIDs: [4AEE18F83AFDEB23, 4aee18f83afdeb23]}", online, `gitops.verify.keyIDs[1]: key "4aee18f83afdeb23" is listed twice`},
		{"bad secret name", "flux", "{publicKeysSecret: Keys_1}", online, `gitops.verify.publicKeysSecret: invalid value "Keys_1"`},
		{"unknown field", "flux", "{publicKeysSecret: k, keyIds: [4AEE18F83AFDEB23]}", online, `keyIds`},
		{"empty", "flux", "{}", online, `gitops.verify: is empty`},
		{"not a mapping", "flux", "[k]", online, `gitops.verify: expected a mapping`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := strings.Replace(strings.Replace(head, "%s", tc.engine, 1), "%s", tc.verify, 1) + tc.sites
			inv, err := Load("t.yaml", strings.NewReader(doc))
			if err == nil {
				_, err = inv.Resolve(ResolveOptions{})
			}
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("rejected: %v", err)
			case tc.want != "" && err == nil:
				t.Fatalf("accepted, want an error containing %q", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}
