// Package jsonschema generates the JSON Schema (draft 2020-12) of the
// fleetgen inventory from the Go types of package inventory, by reflection
// over their json tags, so that editors (yaml-language-server) can complete
// and check inventory files.
//
// Descriptions come from a table keyed by type and field; a test fails when
// a field has none, so the schema stays complete as the inventory grows.
// The schema describes the document's shape; the loader's checks remain the
// authority (exact-text rules, cross references, merged requirements).
package jsonschema
