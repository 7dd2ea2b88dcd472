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
// environment, the network or the host OS (see RemovedFuncs); sprig's keys
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
package render
