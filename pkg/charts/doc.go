// Package charts loads Helm charts and renders them with the Helm Go SDK,
// in process, offline and hermetically: a fixed release name and
// namespace, a stated Kubernetes version and API set (KubeVersion,
// Capabilities), lookup returning nothing as `helm template` does, no DNS,
// no clock and no randomness, and the chart's values.schema.json enforced
// without fetching remote references.
package charts
