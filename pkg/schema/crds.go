package schema

import (
	"embed"
	"fmt"
	"path"
	"sync"
)

// CertManagerVersion is the cert-manager release whose published CRDs
// (crds/cert-manager/<version>/, see the README there) cert-manager
// objects are validated against.
const CertManagerVersion = "v1.21.1"

//go:embed crds/cert-manager/v1.21.1/*.yaml.gz
var certManagerFiles embed.FS

// pinnedCRDs are the custom resource kinds a Validator knows from
// embedded published CRDs, by apiVersion and kind. Each is compiled on
// first use, once per process, and is read-only afterwards.
var pinnedCRDs = map[gvKey]func() (*CRD, error){
	{"cert-manager.io/v1", "Certificate"}: certManagerCRD("cert-manager.io_certificates.yaml", "v1"),
	{"cert-manager.io/v1", "Issuer"}:      certManagerCRD("cert-manager.io_issuers.yaml", "v1"),
}

func certManagerCRD(file, version string) func() (*CRD, error) {
	return sync.OnceValues(func() (*CRD, error) {
		name := path.Join("crds/cert-manager", CertManagerVersion, file)
		data, err := ReadGzip(certManagerFiles, name+".gz")
		if err != nil {
			return nil, err
		}
		crd, err := CompileCRD(data, version)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return crd, nil
	})
}
