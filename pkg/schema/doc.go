// Package schema validates built Kubernetes objects offline against the Go
// API types of k8s.io/api, so the schema is the Kubernetes version those
// types come from and ships inside the binary.
//
// A Validator walks an object decoded from YAML (maps, slices and scalars)
// alongside the reflect.Type the API server would decode it into. It
// reports unknown fields (with a suggestion for likely typos), missing
// required fields, values of the wrong type, out-of-range integers and
// unparsable quantities, times and durations, each with the path of the
// field, and collects every problem of an object rather than the first.
//
// A field is required the way Kubernetes' openapi-gen decides it: when its
// json tag has neither omitempty nor omitzero, unless a +optional comment
// marker says otherwise, and also when a +required marker says so despite
// omitempty. Reflection cannot see comments, so the markers that contradict
// a tag are read from the k8s.io/api source by internal/markers/gen into
// zz_generated_markers.go.
//
// Custom resources the template set generates (cert-manager's Issuer and
// Certificate) and the Flux kinds of Helm releases (HelmRelease,
// HelmRepository, OCIRepository) are validated instead against the published CRD of a
// pinned release, embedded gzipped (crds/, see the README there), through
// k8s.io/apiextensions-apiserver as an API server would (type CRD, which
// pkg/gitops uses for the Argo CD CRDs too).
//
// Kinds without a registered type or CRD are reported as Skipped, never
// passed.
package schema

//go:generate go run ./internal/markers/gen zz_generated_markers.go
