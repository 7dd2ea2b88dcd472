// Package chartref parses a release's chart reference (the inventory's
// charts.R.chart and charts.R.repo) into where the chart comes from: a
// chart directory or .tgz in the repository, an OCI registry, or an
// HTTP(S) Helm chart repository. It is the one place that tells them
// apart, so that validation, pulling, rendering and the GitOps sources
// agree.
package chartref
