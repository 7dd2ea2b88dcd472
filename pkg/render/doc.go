// Package render executes a fleetgen template set against a resolved
// inventory and produces an in-memory Tree.
//
// A template set is an fs.FS. Its rules:
//
//   - Every file's slash-separated path is itself a template, for example
//     "overlays/{{ .Site.Name }}/kustomization.yaml.tmpl". A path template
//     that refers to .Site (found by walking its parse tree) is per-site: it
//     is rendered once per site with Data.Site set. Any other file is
//     fleet-level: rendered once with Data.Site nil. Data.Sites always holds
//     every site. Path templates may use functions but not partials.
//   - Files ending in ".tmpl" have their content rendered and the suffix
//     stripped from the output path; other files are copied byte for byte.
//   - Files whose base name starts with "_" (for example "_helpers.tpl") are
//     partials: parsed into every template's namespace, usable with
//     include and template, never written. Directories named ".git" are
//     skipped.
//   - A rendered .tmpl file whose content is empty or only whitespace is not
//     written, so a template can be conditional.
//   - A rendered path must be clean and relative: no "..", "." or empty
//     segments, no leading "/", no backslashes or control characters, and
//     nothing under ".fleetgen/", which is reserved. Two templates may not
//     produce the same path, and no path may be the parent of another.
//   - Every output ending in .yaml or .yml is parsed back (all documents)
//     and must be valid YAML without duplicate mapping keys.
//
// Templates run with missingkey=error and a function map that starts from
// sprig's and drops everything that depends on the clock, randomness, the
// environment, the network or the host OS (removedFuncs lists them); sprig's keys
// and values are replaced by sorted versions. Added functions: toYaml,
// yamlQuote, include, required, configLiteral and splitImageRef. Every
// user value should reach YAML through yamlQuote or toYaml.
//
// Rendering is deterministic: the same set and fleet give byte-identical
// trees on every run and machine. Templates are executed, and their output
// hashed (File.Hash, SHA-256) and parsed back, on runtime.GOMAXPROCS(0)
// goroutines; the tree and the errors do not depend on the scheduling.
// RenderWith's RenderOptions.Parsed lets a caller skip the parse-back of
// content whose hash passed it before.
//
// # Reusing a site's files
//
// Every render gives each site a render key (Tree.SiteKeys): a lowercase hex
// SHA-256 that covers everything a per-site execution (path and content
// templates) can read, so that two renders that give a site the same key
// produce the same per-site files for it. A key covers
//
//   - a key format constant and the running program's build information
//     (Go version, module versions, VCS revision, build settings): template
//     functions are part of the program;
//   - the whole template set: every file's path and bytes, partials
//     included, and the component directory names (a digest made by Load);
//   - the fleet data (Data.Fleet: the fleet's name and gitops block);
//   - the site's full inventory.Site value: every field, exported or not and
//     whatever its json tag, nil told apart from empty, maps in key order;
//     Origins (where each value was written in the inventory) only when a
//     template can observe them (decided at Load), so that lines added
//     to the inventory above a site do not change its key;
//   - when the set is not site-local, every site of the fleet in order
//     (Data.Sites), so that any change to any site changes every key.
//
// It covers nothing else (not Fleet.Source, not RenderOptions). A set is
// site-local when no per-site template can read Data.Sites, which Load
// decides from the parse trees: the root
// data is followed through every per-site path and content template and
// every template they call with it (any template of the namespace when an
// include's name is computed), and it may only have its Site and Fleet
// fields read, be bound to variables, become dot in with, be passed to
// include or a template action, or be tested by if. Reading .Sites (or a
// field the analysis does not know), printing the data, passing it to any
// other function or method (toYaml $, toJson ., dict "root" $, index $ ...)
// or ranging over it makes the set not site-local. The default template set
// is site-local. The methods of the inventory types that templates can
// call depend on their receiver and arguments only.
//
// Whether a site-local set can observe a site's Origins is decided the
// same way, following the site (.Site) through the per-site templates: it
// may have its other fields read and its methods called, be bound, become
// dot, be tested, be given to include or a template action, and be
// encoded by toYaml or toJson (which leave Origins out); reading .Origins,
// printing the site or passing it to any other function or method counts
// as observing them. The default template set cannot.
//
// RenderOptions.Reuse hands back, by site and key, the per-site files of an
// earlier render with that key, known by hash only if need be. The site's
// content templates are then not executed and its files not parsed back;
// its path templates are, to tie each file to its template so that
// duplicate paths, file/directory clashes and error messages are exactly
// those of a full render. Fleet-level templates always run.
package render
