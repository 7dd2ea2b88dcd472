// Package policy checks the objects kustomize built for one site's overlay
// against the edge policies (capacity, limits, architecture pinning, pod
// security, host access, default-deny networking, secrets, image pinning
// and RBAC) and reports findings, each naming the policy, the object and the
// field.
//
// Policies are pure functions of the built objects and the site's Facts:
// they do no I/O and keep no state. Evaluate runs every policy that is on
// for the site, applies the site's waivers, and returns the findings in a
// deterministic order. A waived finding is still returned, marked Waived, so
// reports can list what was waived and why.
//
// ApplierCoverage (policy applier-rbac) compares the built objects with the
// roles of the site's least-privilege applier, the service account its
// GitOps engine applies the overlay as: the roles must allow every built
// object and nothing more. It takes the applier's objects besides the
// built ones, so it runs apart from Evaluate.
package policy
