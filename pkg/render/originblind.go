package render

// jsonFuncs encode their argument as JSON, which leaves out the site's
// Origins (json:"-"): the site may be given to them.
var jsonFuncs = map[string]bool{
	"toYaml": true, "toJson": true, "toPrettyJson": true, "toRawJson": true,
	"mustToJson": true, "mustToPrettyJson": true, "mustToRawJson": true,
}

// analyzeOriginBlind reports whether no per-site template of a site-local
// set can observe the site's Origins (where each value was written in the
// inventory), and when it can, where. A render key then leaves Origins
// out, so that a line added to the inventory does not change the key of
// every site written below it.
//
// The analysis follows the root data and the site through each per-site
// template and every template they call, as analyzeSiteLocal follows the
// root data (which, in a site-local set, only leads to .Site and .Fleet).
// The site may have its fields other than Origins read, be bound to a
// variable, become dot in with, be tested by if, be passed to include or a
// template action (whose callee is followed with it), and be encoded by
// toYaml or toJson, which leave Origins out. Anything else — reading
// .Origins, printing the site, passing it to any other function or method
// (printf, toString, deepCopy, dict, or, index, ...), ranging over it —
// counts as observing Origins.
func analyzeOriginBlind(files []*setFile) (blind bool, reason string) {
	reason = analyzeFlow(files, flowRules{
		noun: "the site",
		field: func(k int, id string) (int, bool) {
			next := 0
			if k&mayRoot != 0 {
				if !siteLocalFields[id] {
					return 0, false
				}
				if id == "Site" {
					next |= maySite
				}
			}
			if k&maySite != 0 && id == "Origins" {
				return 0, false
			}
			return next, true
		},
		encodable: jsonFuncs,
	})
	return reason == "", reason
}
