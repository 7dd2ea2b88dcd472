package schema

import (
	"embed"
	"fmt"
	"maps"
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
var pinnedCRDs = func() map[gvKey]func() (*CRD, error) {
	m := map[gvKey]func() (*CRD, error){
		{"cert-manager.io/v1", "Certificate"}: certManagerCRD("cert-manager.io_certificates.yaml", "v1"),
		{"cert-manager.io/v1", "Issuer"}:      certManagerCRD("cert-manager.io_issuers.yaml", "v1"),
	}
	// The Flux kinds of Helm chart releases.
	maps.Copy(m, fluxCRDs)
	return m
}()

func certManagerCRD(file, version string) func() (*CRD, error) {
	return embeddedCRD(certManagerFiles, path.Join("crds/cert-manager", CertManagerVersion, file), version)
}

// embeddedCRD compiles, once and on first use, the served version of the
// CRD embedded gzipped in fsys as name+".gz".
func embeddedCRD(fsys embed.FS, name, version string) func() (*CRD, error) {
	return sync.OnceValues(func() (*CRD, error) {
		data, err := ReadGzip(fsys, name+".gz")
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

// Flux releases whose published CRDs (crds/flux/, see the README there)
// the Flux kinds of Helm chart releases are validated against:
// helm-controller's HelmRelease and source-controller's HelmRepository
// and OCIRepository.
const (
	HelmControllerVersion   = "v1.6.5"
	SourceControllerVersion = "v1.9.6"
)

//go:embed crds/flux/helm-controller-v1.6.5/*.yaml.gz crds/flux/source-controller-v1.9.6/*.yaml.gz
var fluxFiles embed.FS

// fluxCRDs are the Flux kinds of pinnedCRDs, each compiled on first use.
var fluxCRDs = map[gvKey]func() (*CRD, error){
	{"helm.toolkit.fluxcd.io/v2", "HelmRelease"}:      fluxCRD("helm-controller-"+HelmControllerVersion, "helm.toolkit.fluxcd.io_helmreleases.yaml", "v2"),
	{"source.toolkit.fluxcd.io/v1", "HelmRepository"}: fluxCRD("source-controller-"+SourceControllerVersion, "source.toolkit.fluxcd.io_helmrepositories.yaml", "v1"),
	{"source.toolkit.fluxcd.io/v1", "OCIRepository"}:  fluxCRD("source-controller-"+SourceControllerVersion, "source.toolkit.fluxcd.io_ocirepositories.yaml", "v1"),
}

func fluxCRD(dir, file, version string) func() (*CRD, error) {
	return embeddedCRD(fluxFiles, path.Join("crds/flux", dir, file), version)
}

// PinnedCRD returns the compiled pinned CRD of apiVersion and kind, and
// whether fleetgen pins one: callers that decode an object into its Go
// type (pkg/gitops, for Flux objects) validate it against the published
// schema too, CEL rules included.
func PinnedCRD(apiVersion, kind string) (*CRD, bool, error) {
	compiled, ok := pinnedCRDs[gvKey{apiVersion, kind}]
	if !ok {
		return nil, false, nil
	}
	crd, err := compiled()
	return crd, true, err
}
