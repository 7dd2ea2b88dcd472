package gitops

import (
	"encoding/json"
	"testing"
)

// FuzzSiteParams feeds arbitrary bytes to the parameter file check: it
// never panics, and a file it accepts decodes to parameters that name the
// file's site and encode back to a file it accepts too.
func FuzzSiteParams(f *testing.F) {
	f.Add([]byte(`{"network": "online", "project": "waves-mw-563ddaf717", "site": "canary", "wave": "0"}`))
	f.Add([]byte(`{"network": "airgapped", "project": "waves", "site": "canary", "wave": "10", "x": 1}`))
	f.Add([]byte(`{"site": "canary"} {}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		const p = "overlays/canary/" + SiteParamsFile
		sp, errs := checkSiteParams(p, data)
		if len(errs) > 0 {
			return
		}
		if sp.Site != "canary" {
			t.Fatalf("accepted site %q for overlays/canary", sp.Site)
		}
		again, err := json.Marshal(sp)
		if err != nil {
			t.Fatal(err)
		}
		if _, errs := checkSiteParams(p, again); len(errs) > 0 {
			t.Fatalf("re-encoded %s rejected: %v", again, errs)
		}
	})
}
