package verify

import (
	"errors"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/kyaml/openapi"
)

// schemaGate guards kustomize's process-global OpenAPI schema
// (sigs.k8s.io/kustomize/kyaml/openapi), the one piece of state builds
// share. Every build holds it for reading. A build reads its kustomization
// files before acting on them; a build whose kustomization sets openapi:
// (the only input that changes the global schema) is stopped at that read,
// before kustomize has seen the field, and built again holding the gate
// for writing, alone, with the schema reset afterwards. So concurrent
// builds only ever read a schema that no build is changing.
//
// It is package-level because the state it guards is: two Runs in one
// process share kustomize's schema too.
var schemaGate sync.RWMutex

// errNeedsExclusive stops a shared build at the read of a kustomization
// file that sets openapi:.
var errNeedsExclusive = errors.New("kustomization sets openapi: built alone")

// setsOpenAPI reports whether the kustomization file name with content
// data may set the openapi field. Anything that cannot be parsed counts as
// setting it. kustomize decodes field names case-insensitively, so keys
// are compared that way too.
func setsOpenAPI(name string, data []byte) bool {
	if !isKustomizationFile(name) {
		return false
	}
	docs, err := parseDocs(data)
	if err != nil {
		return true
	}
	for _, d := range docs {
		n := d
		if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
			n = n.Content[0]
		}
		if n.Kind != yaml.MappingNode {
			continue
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode || strings.EqualFold(k.Value, "openapi") || k.Tag == "!!merge" || k.Value == "<<" {
				return true
			}
		}
	}
	return false
}

// buildMode says how a build takes part in concurrency.
type buildMode int

const (
	// shared builds run concurrently and refuse kustomizations setting
	// openapi: (errNeedsExclusive).
	shared buildMode = iota
	// exclusive builds run alone and may change the global schema; it is
	// reset after them.
	exclusive
)

// withGate runs f holding schemaGate as mode requires.
func withGate(mode buildMode, f func()) {
	if mode == exclusive {
		schemaGate.Lock()
		defer schemaGate.Unlock()
		openapi.ResetOpenAPI()
		defer openapi.ResetOpenAPI()
	} else {
		schemaGate.RLock()
		defer schemaGate.RUnlock()
	}
	f()
}
