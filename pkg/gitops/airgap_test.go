package gitops_test

import (
	"os"
	"path"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// TestAirgappedImagesUseTheMirror builds the overlay of every site of the
// fixtures and checks that each container image of a site with an
// imageRegistry starts with that mirror, and that other sites keep their
// registry.
func TestAirgappedImagesUseTheMirror(t *testing.T) {
	for _, fixture := range []string{"flux-networks", "argocd-waves"} {
		data, err := os.ReadFile("testdata/" + fixture + "/inventory.yaml")
		if err != nil {
			t.Fatal(err)
		}
		fleet, tree := renderFixture(t, fixture, data)
		fsys := filesys.MakeFsInMemory()
		for _, f := range tree.Files {
			p := path.Join("/fleet", f.Path)
			if err := fsys.MkdirAll(path.Dir(p)); err != nil {
				t.Fatal(err)
			}
			if err := fsys.WriteFile(p, f.Data); err != nil {
				t.Fatal(err)
			}
		}
		mirrored := 0
		for _, s := range fleet.Sites {
			// A site's own local/ component is created on first write.
			_ = fsys.MkdirAll(path.Join("/fleet/overlays", s.Name, "local"))
			if !fsys.Exists(path.Join("/fleet/overlays", s.Name, "local", "kustomization.yaml")) {
				_ = fsys.WriteFile(path.Join("/fleet/overlays", s.Name, "local", "kustomization.yaml"),
					[]byte("apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"))
			}
			res, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fsys, path.Join("/fleet/overlays", s.Name))
			if err != nil {
				t.Fatalf("%s: building overlay: %v", s.Name, err)
			}
			images := 0
			for _, r := range res.Resources() {
				m, err := r.Map()
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range containers(m) {
					img, _ := c["image"].(string)
					images++
					if s.ImageRegistry != "" && !strings.HasPrefix(img, s.ImageRegistry+"/") {
						t.Errorf("%s: image %q does not come from the mirror %s", s.Name, img, s.ImageRegistry)
					}
					if s.ImageRegistry == "" && !strings.HasPrefix(img, "registry.example.com/") {
						t.Errorf("%s: image %q rewritten without a mirror", s.Name, img)
					}
				}
			}
			if images == 0 {
				t.Errorf("%s: no container images found", s.Name)
			}
			if s.ImageRegistry != "" {
				mirrored++
			}
		}
		if mirrored == 0 {
			t.Errorf("%s: no site with an imageRegistry", fixture)
		}
	}
}

// containers returns every container, init container and ephemeral
// container of a pod-bearing object.
func containers(obj map[string]any) []map[string]any {
	var out []map[string]any
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if k == "containers" || k == "initContainers" || k == "ephemeralContainers" {
					if list, ok := x.([]any); ok {
						for _, c := range list {
							if cm, ok := c.(map[string]any); ok {
								out = append(out, cm)
							}
						}
						continue
					}
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(obj)
	return out
}
