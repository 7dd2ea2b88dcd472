// Package report turns a verification report (verify.Report) into what
// fleetgen prints: a stable, versioned JSON document (apiVersion
// fleetgen.dev/v1alpha1, kind VerifyReport) for machines, and text grouped
// by site for people.
//
// The JSON schema is documented in docs/report.md. Within v1alpha1, fields
// are only ever added; every list is present (possibly empty, never null),
// sites are sorted by name, and each site's lists keep verify's order, so
// the same tree always gives the same bytes.
//
// Merge combines the reports of the N shards of one run (--shard I/N) into
// the report of the whole run, refusing reports of different runs.
package report
