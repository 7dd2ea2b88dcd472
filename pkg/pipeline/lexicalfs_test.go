package pipeline

import (
	"testing"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// lexicalFS.CleanedAbs agrees with the in-memory file system's own.
func TestLexicalCleanedAbs(t *testing.T) {
	mem := filesys.MakeFsInMemory()
	if err := mem.MkdirAll("/fleet/overlays/a"); err != nil {
		t.Fatal(err)
	}
	if err := mem.WriteFile("/fleet/overlays/a/kustomization.yaml", []byte("x")); err != nil {
		t.Fatal(err)
	}
	lex := lexicalFS{mem}
	for _, p := range []string{
		"/fleet", "/fleet/overlays/a", "/fleet/overlays/a/", "/fleet/overlays/a/kustomization.yaml",
		"/fleet/overlays/../overlays/a/kustomization.yaml", "/fleet/overlays/a/missing.yaml", "/nope",
	} {
		wd, wf, werr := mem.CleanedAbs(p)
		gd, gf, gerr := lex.CleanedAbs(p)
		if wd != gd || wf != gf || (werr == nil) != (gerr == nil) {
			t.Errorf("CleanedAbs(%q) = %q, %q, %v; in-memory file system says %q, %q, %v", p, gd, gf, gerr, wd, wf, werr)
		}
	}
}
