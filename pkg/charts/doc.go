// Package charts loads Helm charts and renders them with the Helm Go SDK,
// in process, offline and hermetically: a fixed release name and
// namespace, a stated Kubernetes version and API set (KubeVersion,
// Capabilities), lookup returning nothing as `helm template` does, no DNS,
// no clock and no randomness, and the chart's values.schema.json enforced
// without fetching remote references. Charts from OCI registries and
// HTTP(S) chart repositories are downloaded only by Pull, into the fleet
// repository, and pinned by SHA-256 in the lock file (ParseLock); rendering
// loads them from there (LoadPulled) after checking them against it.
package charts
