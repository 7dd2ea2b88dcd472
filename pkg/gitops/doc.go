// Package gitops checks the GitOps wiring of a fleet tree: the Flux sync
// objects under clusters/<site>/ and the Argo CD ApplicationSet and
// AppProject under argocd/.
//
// CheckWiring decodes every wiring object strictly (Flux objects against
// the upstream Go API types of source-controller and kustomize-controller;
// Argo CD objects against the subset of the ApplicationSet and AppProject
// types that fleetgen emits, see argocd.go) and checks that every site has
// exactly one wiring entry and that no wiring points at a missing overlay.
// The objects that enforce a Flux site's maintenance window (CronJob,
// ServiceAccount, Role, RoleBinding) are decoded with the k8s.io/api types.
// It runs after rendering (pkg/pipeline) and on trees read from disk.
//
// FindRepo finds the git work tree a directory is in, without running git;
// Checker.WithPlace then checks Flux paths from the repository's root,
// where Flux resolves them.
package gitops
