package render

// siteLocalFields are the fields of Data that a site-local template may read
// from the root data: everything but Sites. A name not listed here (Sites,
// or a method added to Data later) makes the set not site-local.
var siteLocalFields = map[string]bool{"Site": true, "Fleet": true}

// analyzeSiteLocal reports whether no per-site template of the set can read
// Data.Sites, and when it can, where and how (a "template:line:col: ..."
// message). It is conservative: a construct it cannot follow counts as
// reading Data.Sites.
//
// The analysis follows the root data (the *Data a per-site execution gets as
// dot and $) through each per-site path and content template and through
// every template they call with it. A value is either the root data or a
// value that cannot lead back to it (.Site, .Fleet and anything computed
// from them or from literals: none of them holds the fleet's sites). The
// root data may only be used
//
//   - as the receiver of a Site or Fleet field (.Site.Name, $.Fleet, $x.Site
//     when $x holds it, (pipeline).Site),
//   - as the dot of with, or bound to a variable,
//   - as the argument of a template action or of include, whose callee is
//     then followed with it as dot and $ (every template of the namespace
//     when include's name is not a string literal),
//   - as an if condition (a non-nil pointer is always true).
//
// Anything else — reading .Sites or an unknown field, printing it, passing
// it to any other function or method (toYaml, toJson, index, dict, list,
// print, eq, ...), ranging over it — makes the set not site-local.
// Variables are tracked by name, across scopes and flow-insensitively: a
// variable that is ever bound to the root data counts as holding it
// everywhere in its template.
func analyzeSiteLocal(files []*setFile) (local bool, reason string) {
	reason = analyzeFlow(files, flowRules{
		noun:  "the whole data",
		field: func(_ int, id string) (int, bool) { return 0, siteLocalFields[id] },
	})
	return reason == "", reason
}
