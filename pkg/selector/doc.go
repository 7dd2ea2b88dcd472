// Package selector selects sites with kubectl label-selector syntax
// ("type=store", "region in (eu-central,eu-west)", "!gpu", "group=eu,arch!=amd64")
// over a site's fields and labels.
//
// The keys a selector can name are the site fields name, type, region,
// arch, group, wave and network, and any of the site's labels. A field
// wins over a label with the same key. Select refuses a key that is
// neither a field nor the key of a label some site has (a typo would
// otherwise select nothing, or negated everything), suggesting the closest
// known key. group holds several values: =, ==,
// in and exists match when any of the site's groups matches; !=, notin
// and !group match when none does.
//
// Shard splits what a selector selects into N parts by a hash of the site
// name (--shard I/N), so that N CI jobs share a fleet's verification; a
// site's shard depends on its name and N only.
package selector
