package gitops

import (
	"os"
	"path"
	"testing"

	"github.com/fleetgen/fleetgen/pkg/policy"
)

// TestArgoCRDsCompile compiles every embedded CRD, the Application's
// included, which the wiring check only compiles when it meets one.
func TestArgoCRDsCompile(t *testing.T) {
	for gvk, compiled := range argoCRDs {
		v, err := compiled()
		if err != nil {
			t.Fatalf("%s: %v", gvk, err)
		}
		if v.GVK != gvk || !v.Namespaced {
			t.Errorf("%s: compiled as %s, namespaced %v", gvk, v.GVK, v.Namespaced)
		}
	}
}

// BenchmarkArgoCRDCompile measures compiling each embedded Argo CD CRD
// (decode, convert, structural schema, validator), which a process does
// once per kind it meets.
func BenchmarkArgoCRDCompile(b *testing.B) {
	for _, file := range []string{"applicationset-crd.yaml", "appproject-crd.yaml"} {
		b.Run(file, func(b *testing.B) {
			for b.Loop() {
				if _, err := compileCRD(argoCRDFiles, path.Join("crds/argocd", ArgoCDVersion, file), "v1alpha1"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkArgoValidate measures validating one generated object against
// its CRD (pruning, schema, CEL rules, list types, ObjectMeta), per kind.
func BenchmarkArgoValidate(b *testing.B) {
	for _, tc := range []struct{ file, kind string }{
		{"testdata/argocd-waves/golden/argocd/applicationset.yaml", "ApplicationSet"},
		{"testdata/argocd-waves/golden/argocd/appproject.yaml", "AppProject"},
	} {
		data, err := os.ReadFile(tc.file)
		if err != nil {
			b.Fatal(err)
		}
		docs, err := policy.DecodeObjects(data)
		if err != nil || len(docs) == 0 {
			b.Fatal(err)
		}
		gvk := ArgoApplicationSet
		if tc.kind == "AppProject" {
			gvk = ArgoAppProject
		}
		v, err := argoCRDs[gvk]()
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tc.kind, func(b *testing.B) {
			for b.Loop() {
				if errs := v.Validate(docs[0]); len(errs) > 0 {
					b.Fatal(errs)
				}
			}
		})
	}
}
