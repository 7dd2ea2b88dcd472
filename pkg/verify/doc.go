// Package verify builds each overlay of a fleet tree with the kustomize API
// (krusty) and reports, per site, whether it built and passed the checks.
//
// Builds use the options of KustomizeOptions everywhere: the CLI's output
// order, files only from within each kustomization root, builtin plugins
// only, Helm off. kustomize reads the tree through a guarded file system
// that confines every access to the tree root (also through symbolic links
// on disk), refuses writes, and checks each file as it is read: at most
// MaxFileSize bytes, YAML aliases expanding to at most MaxAliasExpansion
// extra nodes, and no remote references (URLs, git repositories) in the
// fields kustomize loads, so a build never touches the network.
//
// The built output is written as YAML and read back: every object needs
// apiVersion, kind and a valid name; no key may repeat; ConfigMap keys must
// be valid and values strings; ConfigMap data must read back as kustomize
// held it (with yaml.v3 and with the YAML 1.1 rules kubectl and Flux use);
// and, when a Target carries Config, the generated site ConfigMap must hold
// exactly that data.
//
// Every built object is then checked against the schema of its kind
// (package schema, one Validator per Run); objects of kinds without a
// schema are listed in Result.Skipped, never silently passed. Last, the
// edge policies (package policy) run over the site's objects with the
// Target's Facts and Waivers; a nil Facts means a tree without facts, with
// architecture and capacity unknown. Result keeps build problems, schema
// errors and policy findings (waived ones marked, with their reason) apart;
// Result.Err joins everything that fails the site.
//
// A generated overlay carries its site's facts and waivers in
// SiteFactsFile (overlays/<site>/fleetgen-site.yaml), which no kustomization
// refers to; Overlays reads it, so verifying a written tree reaches the
// verdict generate reached in memory.
//
// verify imports neither the inventory nor the renderer, so it serves
// hand-written trees (Overlays) as well as generated ones.
package verify
