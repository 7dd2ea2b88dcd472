// Package gitops checks the GitOps wiring of a fleet tree: the Flux sync
// objects under clusters/<site>/ and each site's least-privilege applier
// (clusters/<site>/applier.yaml: its service account, roles and bindings,
// validated with the k8s.io/api types), and the Argo CD ApplicationSet and
// AppProjects under argocd/ with each site's parameter file
// overlays/<site>/argocd-site.json.
//
// Checker.CheckSummarized (and CheckRead, for a tree on disk) decodes
// every wiring object strictly: Flux objects against
// the upstream Go API types of source-controller and kustomize-controller,
// the objects that enforce a Flux site's maintenance window (CronJob,
// ServiceAccount, Role, RoleBinding) against the k8s.io/api types, and
// Argo CD objects against the OpenAPI schemas of Argo CD's published CRDs
// of a pinned release (crds/argocd/<version>/, embedded), validated with
// k8s.io/apiextensions-apiserver as an API server would (pruned fields are
// unknown fields), see argocd.go. It checks that every site has exactly
// one wiring entry and that no wiring points at a missing overlay or, for
// Argo CD, at a project the tree does not define, and that a Flux
// Kustomization's spec.serviceAccountName is the service account its
// site's applier file defines. It runs after rendering
// (pkg/pipeline) and on trees read from disk. Flux kinds with a pinned
// published CRD (HelmRelease, HelmRepository, OCIRepository:
// pkg/schema/crds/flux) are validated against it too, CEL rules included;
// Checker.CheckObjects validates the HelmRelease files of Helm releases in
// mode release the same way, which live in a site's overlay rather than
// among the wiring.
//
// FindRepo finds the git work tree a directory is in, without running git;
// Checker.WithPlace then checks Flux paths from the repository's root,
// where Flux resolves them.
package gitops
