package inventory

import (
	"fmt"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	// Time zone data is embedded so that maintenance window zones validate
	// the same on machines without /usr/share/zoneinfo.
	_ "time/tzdata"

	"filippo.io/age"
	"go.yaml.in/yaml/v3"
)

// GitOps engines a fleet can be wired for.
const (
	EngineNone   = "none"
	EngineFlux   = "flux"
	EngineArgoCD = "argocd"
)

// Network profiles of a site.
const (
	NetworkOnline       = "online"
	NetworkIntermittent = "intermittent"
	NetworkAirgapped    = "airgapped"
)

// Allowed values of the gitops engine and of a site's network.
var (
	Engines  = []string{EngineArgoCD, EngineFlux, EngineNone}
	Networks = []string{NetworkAirgapped, NetworkIntermittent, NetworkOnline}
)

// Defaults of the gitops block.
const (
	DefaultBranch = "main"
	DefaultPath   = "."
	// DefaultKubectlImage runs the jobs that open and close a Flux site's
	// maintenance window: the official kubectl image (no shell), pinned
	// by digest. The digest is the one Rancher's system-upgrade-controller
	// configuration pins for this tag; override it with
	// gitops.kubectlImage to use your own mirror or a newer release.
	DefaultKubectlImage = "registry.k8s.io/kubectl:v1.31.2@sha256:d31de5468fb5c0943358671e3dcf8e4d8281108027efd1f211262d09aedd5519"
)

// GitOps says how sites pull the fleet tree: the top-level gitops block.
// In an Inventory it holds what was written ("" when not set); in a Fleet
// the defaults are filled in (engine none, branch main, path ".").
type GitOps struct {
	// Engine is "flux", "argocd" or "none" (no wiring is generated).
	Engine string `json:"engine,omitempty"`
	// Repo is the Git URL the fleet tree is pushed to (https:// or ssh://).
	Repo string `json:"repo,omitempty"`
	// Branch is the branch sites follow.
	Branch string `json:"branch,omitempty"`
	// Path is the directory of the repository that holds the tree
	// (base/, overlays/, ...), "." for its root. When not set, it is the
	// output directory's path from the root of the git work tree it is in;
	// when set, it must be that path.
	Path string `json:"path,omitempty"`
	// AdminRecipients are age X25519 public keys that can decrypt every
	// site's secrets (the fleet's operators).
	AdminRecipients []string `json:"adminRecipients,omitempty"`
	// KubectlImage is the image, pinned by digest, of the Flux jobs that
	// resume and suspend a site's Kustomization at the edges of its
	// maintenance window (default DefaultKubectlImage).
	KubectlImage string `json:"kubectlImage,omitempty"`
	// Verify, when set, makes sites apply only signed changes (see
	// verify.go); nil means no signature check.
	Verify *Verify `json:"verify,omitempty"`
}

// TreePlace is where a fleet tree is written: the output directory and,
// when it is inside a git work tree, that work tree's root and the
// directory's path from it. Wiring must name paths from the repository's
// root, so gitops.path is derived from it.
type TreePlace struct {
	// Dir is the output directory as the user named it, for messages.
	Dir string
	// Root is the work tree's root; "" when Dir is in no git work tree.
	Root string
	// Path is Dir's slash-separated path from Root, "." for Root itself.
	Path string
}

// MaintenanceWindow is when a site may be changed: from each time the cron
// Schedule fires, for Duration, in TimeZone (an IANA zone).
type MaintenanceWindow struct {
	Schedule string `json:"schedule,omitempty"`
	Duration string `json:"duration,omitempty"`
	TimeZone string `json:"timeZone,omitempty"`
}

// IsZero reports whether no field of the window is set.
func (w MaintenanceWindow) IsZero() bool { return w == MaintenanceWindow{} }

// Fields of the gitops block and of a maintenance window, in documentation
// order.
var (
	gitopsFields = []string{"engine", "repo", "branch", "path", "adminRecipients", "kubectlImage", "verify"}
	windowFields = []string{"schedule", "duration", "timeZone"}
)

// gitops decodes the top-level gitops block into g.
func (d *decoder) gitops(v *yaml.Node, g *GitOps) {
	ok, present := d.mapping(v, "gitops", "a mapping with engine, repo, branch, path and adminRecipients")
	if !ok {
		d.src.bad["gitops"] = true
		return
	}
	if !present {
		return
	}
	for _, e := range d.entries(v, "gitops") {
		k, val := e.key, e.val
		field := "gitops." + k.Value
		switch k.Value {
		case "engine", "repo", "branch", "path", "kubectlImage":
			d.src.paths[field] = nodePos(val)
			s, ok := d.text(val, field, "a string")
			if !ok {
				d.src.bad[field] = true
			}
			switch k.Value {
			case "engine":
				g.Engine = s
			case "repo":
				g.Repo = s
			case "branch":
				g.Branch = s
			case "path":
				g.Path = s
			case "kubectlImage":
				g.KubectlImage = s
			}
		case "adminRecipients":
			d.src.paths[field] = nodePos(val)
			ok, present := d.sequence(val, field, "a list of age recipients (age1...)")
			if !ok {
				d.src.bad[field] = true
			}
			if !ok || !present {
				continue
			}
			g.AdminRecipients = make([]string, 0, len(val.Content))
			for i, item := range val.Content {
				p := index(field, i)
				d.src.paths[p] = nodePos(item)
				s, ok := d.text(item, p, "a string")
				if !ok {
					d.src.bad[p] = true
				}
				g.AdminRecipients = append(g.AdminRecipients, s)
			}
		case "verify":
			d.verify(val, g)
		default:
			d.unknownField(k, "gitops", "gitops", gitopsFields)
		}
	}
}

// wiringField decodes the rollout and delivery fields of a layer. It
// returns false when the key is not one of them.
func (d *decoder) wiringField(l *Layer, e entry, field string) bool {
	k, v := e.key, e.val
	switch k.Value {
	case "wave":
		d.cur.val["wave"] = nodePos(v)
		s, ok := d.text(v, field, "a whole number (0 rolls out first)")
		if !ok {
			d.cur.bad["wave"] = true
			return true
		}
		n, err := strconv.Atoi(s)
		switch {
		case err != nil || strings.HasPrefix(s, "+") || (len(s) > 1 && s[0] == '0'):
			d.fail(v, field, "invalid value %s: must be a whole number written in decimal, 0 or more (0 rolls out first)", quote(s))
			d.cur.bad["wave"] = true
		case n < 0:
			d.fail(v, field, "invalid value %s: must be 0 or more (0 rolls out first)", quote(s))
			d.cur.bad["wave"] = true
		case n > maxWave:
			d.fail(v, field, "invalid value %s: must be at most %d", quote(s), maxWave)
			d.cur.bad["wave"] = true
		default:
			l.Wave = &n
		}
	case "maintenanceWindow":
		d.cur.val["maintenanceWindow"] = nodePos(v)
		ok, present := d.mapping(v, field, "a mapping with schedule, duration and timeZone")
		if !ok || !present {
			if !ok {
				d.cur.bad["maintenanceWindow"] = true
			}
			return true
		}
		for _, e := range d.entries(v, field) {
			name := "maintenanceWindow." + e.key.Value
			switch e.key.Value {
			case "schedule", "duration", "timeZone":
				d.cur.val[name] = nodePos(e.val)
				s, ok := d.text(e.val, join(field, e.key.Value), "a string")
				if !ok {
					d.cur.bad[name] = true
				}
				switch e.key.Value {
				case "schedule":
					l.MaintenanceWindow.Schedule = s
				case "duration":
					l.MaintenanceWindow.Duration = s
				case "timeZone":
					l.MaintenanceWindow.TimeZone = s
				}
			default:
				d.unknownField(e.key, field, "maintenanceWindow", windowFields)
			}
		}
	case "network", "ageRecipient", "imageRegistry":
		d.cur.val[k.Value] = nodePos(v)
		s, ok := d.text(v, field, "a string")
		if !ok {
			d.cur.bad[k.Value] = true
		}
		switch k.Value {
		case "network":
			l.Network = s
		case "ageRecipient":
			l.AgeRecipient = s
		case "imageRegistry":
			l.ImageRegistry = s
		}
	default:
		return false
	}
	return true
}

// maxWave bounds wave numbers; a fleet has far fewer waves than this.
const maxWave = 1000

// checkGitOps validates the gitops block.
func (c *checker) checkGitOps() {
	g := c.inv.GitOps
	at := func(f string) position { return c.src.at(f) }
	ok := func(f string) bool { return !c.src.isBad(f) }
	if g.Engine != "" && ok("gitops.engine") {
		c.oneOf(at("gitops.engine"), "", "gitops.engine", g.Engine, Engines)
	}
	engine := g.Engine
	if engine == "" {
		engine = EngineNone
	}
	if g.Repo != "" && ok("gitops.repo") {
		if msg := checkGitURL(g.Repo); msg != "" {
			c.ps.add(at("gitops.repo"), "", "gitops.repo", "invalid value %s: %s", quote(redactURL(g.Repo)), msg)
		}
	} else if g.Repo == "" && engine != EngineNone && ok("gitops.repo") && ok("gitops") {
		pos := at("gitops.engine")
		c.ps.add(pos, "", "gitops.repo", "is required when gitops.engine is %q: the Git URL sites pull the tree from", engine)
	}
	if g.Branch != "" && ok("gitops.branch") {
		if msg := checkBranch(g.Branch); msg != "" {
			c.ps.add(at("gitops.branch"), "", "gitops.branch", "invalid value %s: %s", quote(g.Branch), msg)
		}
	}
	if g.Path != "" && ok("gitops.path") {
		if msg := checkRepoPath(g.Path); msg != "" {
			c.ps.add(at("gitops.path"), "", "gitops.path", "invalid value %s: %s", quote(g.Path), msg)
		} else if t := c.tree; t != nil && t.Root != "" && g.Path != t.Path && engine != EngineNone {
			c.ps.add(at("gitops.path"), "", "gitops.path",
				"is %s, but the output directory %s is at %s in the git work tree %s, so the wiring would point at the wrong directory: remove gitops.path (it is derived from the repository) or set it to %s",
				quote(g.Path), t.Dir, quote(t.Path), t.Root, quote(t.Path))
		}
	}
	if t := c.tree; g.Path == "" && engine != EngineNone && t != nil && t.Root == "" && ok("gitops.path") && ok("gitops") {
		c.ps.add(at("gitops.engine"), "", "gitops.path",
			"is not set and the output directory %s is not inside a git work tree, so the tree's directory in the repository the sites pull cannot be determined: run git init (or clone the repository) first, or set gitops.path to that directory (\".\" when %s is the repository's root)",
			t.Dir, t.Dir)
	}
	if g.KubectlImage != "" && ok("gitops.kubectlImage") {
		if msg := checkPinnedImage(g.KubectlImage); msg != "" {
			c.ps.add(at("gitops.kubectlImage"), "", "gitops.kubectlImage", "invalid value %s: %s", quote(g.KubectlImage), msg)
		}
	}
	c.checkVerify(engine)
	seen := map[string]int{}
	for i, r := range g.AdminRecipients {
		f := index("gitops.adminRecipients", i)
		if !ok(f) {
			continue
		}
		if msg := checkAgeRecipient(r); msg != "" {
			c.ps.add(at(f), "", f, "%s", msg)
			continue
		}
		if j, dup := seen[r]; dup {
			c.ps.add(at(f), "", f, "recipient is listed twice (first as adminRecipients[%d])", j)
			continue
		}
		seen[r] = i
	}
}

// resolvedGitOps returns the gitops block with defaults filled in: the
// path, when not set, is the tree's path in its git work tree (tree), or
// "." when the tree is not written or in no work tree.
func resolvedGitOps(g GitOps, tree *TreePlace) GitOps {
	out := GitOps{Engine: g.Engine, Repo: g.Repo, Branch: g.Branch, Path: g.Path,
		AdminRecipients: append([]string{}, g.AdminRecipients...), KubectlImage: g.KubectlImage}
	if g.Verify != nil {
		v := *g.Verify
		v.KeyIDs = append([]string{}, g.Verify.KeyIDs...)
		out.Verify = &v
	}
	if out.KubectlImage == "" {
		out.KubectlImage = DefaultKubectlImage
	}
	if out.Engine == "" {
		out.Engine = EngineNone
	}
	if out.Branch == "" {
		out.Branch = DefaultBranch
	}
	if out.Path == "" && tree != nil && tree.Root != "" {
		out.Path = tree.Path
	}
	if out.Path == "" {
		out.Path = DefaultPath
	}
	return out
}

// wiringLayer checks the rollout and delivery fields of one layer.
func (c *checker) wiringLayer(l *Layer, m *entryMeta, field, site string) {
	w := l.MaintenanceWindow
	if w.Schedule != "" && !m.bad["maintenanceWindow.schedule"] {
		if msg := checkCron(w.Schedule); msg != "" {
			c.ps.add(m.at("maintenanceWindow.schedule"), site, field+".maintenanceWindow.schedule", "invalid value %s: %s", quote(w.Schedule), msg)
		}
	}
	if w.Duration != "" && !m.bad["maintenanceWindow.duration"] {
		if msg := checkWindowDuration(w.Duration); msg != "" {
			c.ps.add(m.at("maintenanceWindow.duration"), site, field+".maintenanceWindow.duration", "invalid value %s: %s", quote(w.Duration), msg)
		}
	}
	if w.TimeZone != "" && !m.bad["maintenanceWindow.timeZone"] {
		if msg := checkTimeZone(w.TimeZone); msg != "" {
			c.ps.add(m.at("maintenanceWindow.timeZone"), site, field+".maintenanceWindow.timeZone", "invalid value %s: %s", quote(w.TimeZone), msg)
		}
	}
	if l.Network != "" && !m.bad["network"] {
		c.oneOf(m.at("network"), site, field+".network", l.Network, Networks)
	}
	if l.AgeRecipient != "" && !m.bad["ageRecipient"] {
		if msg := checkAgeRecipient(l.AgeRecipient); msg != "" {
			c.ps.add(m.at("ageRecipient"), site, field+".ageRecipient", "%s", msg)
		}
	}
	if l.ImageRegistry != "" && !m.bad["imageRegistry"] {
		if msg := checkRegistry(l.ImageRegistry); msg != "" {
			c.ps.add(m.at("imageRegistry"), site, field+".imageRegistry", "invalid value %s: %s", quote(l.ImageRegistry), msg)
		}
	}
}

// originPos turns a merged value's origin back into a problem position.
func (c *checker) originPos(s *Site, key string, fallback position) position {
	o, ok := s.Origins[key]
	if !ok || o.Line == 0 {
		return fallback
	}
	p := position{line: o.Line, col: o.Column}
	if o.File != c.inv.File {
		p.file = o.File
	}
	return p
}

// wiringSite checks a site's merged rollout and delivery fields.
func (c *checker) wiringSite(i int, s *Site) {
	m := c.src.site(i)
	field := index("sites", i)
	w := s.MaintenanceWindow
	if !w.IsZero() {
		for _, f := range []struct{ name, value, hint string }{
			{"schedule", w.Schedule, "a cron expression of 5 fields such as \"0 2 * * *\""},
			{"duration", w.Duration, "a duration such as \"2h\""},
		} {
			if f.value == "" {
				key := "maintenanceWindow.schedule"
				if w.Schedule == "" {
					key = "maintenanceWindow.duration"
				}
				c.ps.add(c.originPos(s, key, m.pos), s.Name, field+".maintenanceWindow."+f.name,
					"is not set by the site, its groups or defaults: a maintenance window needs a %s (%s)", f.name, f.hint)
			}
		}
	}
	if w.Schedule != "" && w.Duration != "" && c.inv.GitOps.Engine == EngineFlux && checkCron(w.Schedule) == "" && checkWindowDuration(w.Duration) == "" {
		if _, err := w.CloseSchedule(); err != nil {
			c.ps.add(c.originPos(s, "maintenanceWindow.schedule", m.pos), s.Name, field+".maintenanceWindow.schedule",
				"invalid value %s with duration %s: %v", quote(w.Schedule), quote(w.Duration), err)
		}
	}
	if s.Network == NetworkAirgapped && s.ImageRegistry == "" {
		c.ps.add(c.originPos(s, "network", m.pos), s.Name, field+".imageRegistry",
			"is not set by the site, its groups or defaults: an airgapped site pulls images from an in-site mirror, so it needs an imageRegistry (host[:port][/path])")
	}
}

// wiringFleet checks what concerns several sites: each site's secrets must
// be readable by that site only, so no two sites share an age recipient
// and no site uses an admin's.
func (c *checker) wiringFleet(f *Fleet) {
	admins := map[string]int{}
	for i, r := range c.inv.GitOps.AdminRecipients {
		if _, ok := admins[r]; !ok {
			admins[r] = i
		}
	}
	first := map[string]string{}
	for i := range f.Sites {
		s := &f.Sites[i]
		r := s.AgeRecipient
		if r == "" || checkAgeRecipient(r) != "" {
			continue
		}
		pos := c.originPos(s, "ageRecipient", position{})
		if j, ok := admins[r]; ok {
			c.ps.add(pos, s.Name, "ageRecipient", "is also gitops.adminRecipients[%d]: a site's key must be its own, or the site could read every other site's secrets", j)
			continue
		}
		if other, dup := first[r]; dup {
			c.ps.add(pos, s.Name, "ageRecipient", "is also the ageRecipient of site %q: each site needs its own key, or one could read the other's secrets (set it per site, not in defaults or a group)", other)
			continue
		}
		first[r] = s.Name
	}
	c.verifyFleet(f)
}

// checkAgeRecipient checks an age X25519 recipient ("age1" and 58 bech32
// characters, with a valid checksum). It returns why not, or "".
func checkAgeRecipient(s string) string {
	if !strings.HasPrefix(s, "age1") {
		return fmt.Sprintf("invalid age recipient %s: must be an age X25519 public key (age1...), as printed by age-keygen -y", quote(s))
	}
	if _, err := age.ParseX25519Recipient(s); err != nil {
		msg := strings.TrimPrefix(err.Error(), "malformed recipient \""+s+"\": ")
		return fmt.Sprintf("invalid age recipient %s: %s", quote(s), msg)
	}
	return ""
}

// checkGitURL accepts https://, http:// and ssh:// URLs without a password.
func checkGitURL(s string) string {
	if i := strings.Index(s, "@"); i > 0 && !strings.Contains(s, "://") && strings.Contains(s[i:], ":") {
		return "scp-like addresses are not accepted by Flux: write ssh://USER@HOST/PATH"
	}
	u, err := url.Parse(s)
	if err != nil {
		return "must be a URL such as https://git.example.com/org/fleet.git or ssh://git@git.example.com/org/fleet.git"
	}
	switch u.Scheme {
	case "https", "http", "ssh":
	default:
		return "must be an https://, http:// or ssh:// URL"
	}
	switch {
	case u.Host == "":
		return "has no host"
	case u.Path == "" || u.Path == "/":
		return "has no repository path"
	case u.RawQuery != "" || u.Fragment != "":
		return "must not have a query or fragment"
	}
	if _, hasPassword := u.User.Password(); hasPassword {
		return "must not carry a password: give sites their Git credentials as a secret"
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7F {
			return "must not contain spaces or control characters"
		}
	}
	return ""
}

// redactURL hides a password in a URL, so that messages never print it.
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		if _, ok := u.User.Password(); ok {
			return u.Redacted()
		}
	}
	return s
}

// checkBranch applies the rules of git check-ref-format to a branch name.
func checkBranch(s string) string {
	const rule = "must be a Git branch name (no spaces, '..', '~', '^', ':', '?', '*', '[', '\\', '@{', not starting with '-' or '/', not ending with '/', '.' or '.lock')"
	switch {
	case strings.HasPrefix(s, "-"), strings.HasPrefix(s, "/"), strings.HasSuffix(s, "/"),
		strings.HasSuffix(s, "."), strings.HasSuffix(s, ".lock"), strings.Contains(s, ".."),
		strings.Contains(s, "//"), strings.Contains(s, "@{"), s == "@",
		strings.ContainsAny(s, "~^:?*[\\"), strings.Contains(s, "/."), strings.HasPrefix(s, "."):
		return rule
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7F {
			return rule
		}
	}
	return ""
}

var repoPathRE = regexp.MustCompile(`^[A-Za-z0-9._-]+(?:/[A-Za-z0-9._-]+)*$`)

// checkRepoPath accepts "." or a clean relative directory.
func checkRepoPath(s string) string {
	const rule = "must be \".\" or a relative directory of the repository such as \"fleet\" or \"clusters/edge\" (letters, digits, '.', '_', '-'; no \"..\", no leading or trailing '/')"
	if s == "." {
		return ""
	}
	if !repoPathRE.MatchString(s) || path.Clean(s) != s || s == ".." || strings.HasPrefix(s, "../") || slices.Contains(strings.Split(s, "/"), "..") || slices.Contains(strings.Split(s, "/"), ".") {
		return rule
	}
	return ""
}

var registryRE = regexp.MustCompile(`^` +
	`(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*` +
	`(?::[0-9]{1,5})?` +
	`(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$`)

// checkRegistry accepts a registry host[:port] with an optional path.
func checkRegistry(s string) string {
	const rule = "must be a registry host[:port] with an optional path, such as \"mirror.site.local:5000\" or \"registry.example.com/edge\""
	if !registryRE.MatchString(s) {
		return rule
	}
	host, _, _ := strings.Cut(s, "/")
	if !isRegistryHost(host) {
		return rule + "; a host without '.' or ':' (other than localhost) would be read as a Docker Hub path"
	}
	return ""
}

// isRegistryHost reports whether the first component of an image name is a
// registry host, the way container runtimes decide it.
func isRegistryHost(s string) bool {
	return strings.ContainsAny(s, ".:") || s == "localhost"
}

// MirrorImage returns the image name (no tag or digest) with its registry
// replaced by registry: "registry.example.com/shop/app" with
// "mirror.local:5000" gives "mirror.local:5000/shop/app"; a Docker Hub name
// ("nginx", "library/nginx", "bitnami/redis") keeps its full path
// ("mirror.local:5000/library/nginx"). An empty registry returns name.
func MirrorImage(registry, name string) string {
	if registry == "" {
		return name
	}
	first, rest, hasSlash := strings.Cut(name, "/")
	switch {
	case hasSlash && isRegistryHost(first):
		name = rest
	case !hasSlash:
		name = "library/" + name
	}
	return registry + "/" + name
}

// ImageName returns an image name as the site pulls it: through the site's
// imageRegistry mirror when it has one (see MirrorImage).
func (s Site) ImageName(name string) string { return MirrorImage(s.ImageRegistry, name) }

// monthNames and dayNames are the names cron accepts besides numbers.
var (
	monthNames = []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}
	dayNames   = []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}
)

// checkCron checks a standard 5-field cron expression (minute hour
// day-of-month month day-of-week) as Argo CD's sync windows parse it.
func checkCron(s string) string {
	fields := strings.Fields(s)
	if len(fields) != 5 {
		return fmt.Sprintf("must be a cron expression of 5 fields (minute hour day-of-month month day-of-week), got %d", len(fields))
	}
	specs := []struct {
		name   string
		lo, hi int
		names  []string
		offset int
	}{
		{"minute", 0, 59, nil, 0},
		{"hour", 0, 23, nil, 0},
		{"day of month", 1, 31, nil, 0},
		{"month", 1, 12, monthNames, 1},
		{"day of week", 0, 6, dayNames, 0},
	}
	for i, f := range fields {
		sp := specs[i]
		if msg := checkCronField(f, sp.lo, sp.hi, sp.names, sp.offset); msg != "" {
			return fmt.Sprintf("%s field %s: %s", sp.name, quote(f), msg)
		}
	}
	return ""
}

func checkCronField(f string, lo, hi int, names []string, offset int) string {
	value := func(s string) (int, bool) {
		if n, err := strconv.Atoi(s); err == nil && s != "" && s[0] != '+' && s[0] != '-' {
			return n, n >= lo && n <= hi
		}
		if i := slices.Index(names, strings.ToUpper(s)); i >= 0 {
			return i + offset, true
		}
		return 0, false
	}
	for _, item := range strings.Split(f, ",") {
		rng, step, hasStep := strings.Cut(item, "/")
		if hasStep {
			n, err := strconv.Atoi(step)
			if err != nil || n < 1 || step[0] == '+' {
				return fmt.Sprintf("step %s must be a whole number of 1 or more", quote(step))
			}
		}
		if rng == "*" {
			continue
		}
		a, b, isRange := strings.Cut(rng, "-")
		x, ok := value(a)
		if !ok {
			return fmt.Sprintf("%s is not a value from %d to %d", quote(a), lo, hi)
		}
		if isRange {
			y, ok := value(b)
			if !ok {
				return fmt.Sprintf("%s is not a value from %d to %d", quote(b), lo, hi)
			}
			if y < x {
				return fmt.Sprintf("range %s ends before it starts", quote(rng))
			}
		}
	}
	return ""
}

// checkWindowDuration accepts a positive Go duration of at most a week.
func checkWindowDuration(s string) string {
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return "must be a duration such as \"2h\" or \"90m\" (units h, m, s)"
	case d <= 0:
		return "must be longer than zero"
	case d > 7*24*time.Hour:
		return "must be at most a week (168h)"
	}
	return ""
}

// checkTimeZone accepts an IANA time zone name.
func checkTimeZone(s string) string {
	if s == "Local" {
		return "must be an IANA time zone such as \"Europe/Berlin\" or \"UTC\"; \"Local\" depends on the machine"
	}
	if _, err := time.LoadLocation(s); err != nil {
		return "must be an IANA time zone such as \"Europe/Berlin\" or \"UTC\""
	}
	return ""
}

// mergeWiring merges one layer's rollout and delivery fields into s: each
// is a scalar where the last layer that sets it wins; the maintenance
// window's schedule, duration and time zone merge independently. scalar
// sets a string and records its origin; mark records the origin of wave.
func mergeWiring(s *Site, l *Layer, scalar func(dst *string, path, value string), mark func(path string)) {
	if l.Wave != nil {
		s.Wave = *l.Wave
		mark("wave")
	}
	scalar(&s.MaintenanceWindow.Schedule, "maintenanceWindow.schedule", l.MaintenanceWindow.Schedule)
	scalar(&s.MaintenanceWindow.Duration, "maintenanceWindow.duration", l.MaintenanceWindow.Duration)
	scalar(&s.MaintenanceWindow.TimeZone, "maintenanceWindow.timeZone", l.MaintenanceWindow.TimeZone)
	scalar(&s.Network, "network", l.Network)
	scalar(&s.AgeRecipient, "ageRecipient", l.AgeRecipient)
	scalar(&s.ImageRegistry, "imageRegistry", l.ImageRegistry)
}

// finishWiring fills in the defaults of a merged site: network online, and
// UTC for a maintenance window without a time zone.
func finishWiring(s *Site) {
	if s.Network == "" {
		s.Network = NetworkOnline
	}
	if s.MaintenanceWindow.Schedule != "" && s.MaintenanceWindow.TimeZone == "" {
		s.MaintenanceWindow.TimeZone = "UTC"
	}
}

var pinnedImageRE = regexp.MustCompile(`^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:(?::[0-9]+)?/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?@sha256:[0-9a-f]{64}$`)

// checkPinnedImage accepts an image reference pinned by digest
// (name[:tag]@sha256:<64 hex digits>).
func checkPinnedImage(s string) string {
	if !pinnedImageRE.MatchString(s) {
		return "must be an image pinned by digest, name[:tag]@sha256:<64 lowercase hex digits>, such as \"registry.k8s.io/kubectl:v1.31.2@sha256:d31d...\""
	}
	return ""
}

// CloseSchedule returns the cron schedule at which the window closes: its
// Schedule shifted by its Duration (rounded up to a whole minute). A shift
// is expressible in cron only when the minute and hour fields are single
// numbers; a shift across midnight also moves the day-of-week field (every
// value, ranges and lists included) and needs day of month and month to be
// "*". Other windows return an error saying so.
func (w MaintenanceWindow) CloseSchedule() (string, error) {
	f := strings.Fields(w.Schedule)
	d, err := time.ParseDuration(w.Duration)
	if len(f) != 5 || err != nil || d <= 0 {
		return "", fmt.Errorf("not a valid window")
	}
	mins := int((d + time.Minute - 1) / time.Minute)
	minute, err1 := strconv.Atoi(f[0])
	hour, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil {
		return "", fmt.Errorf("the window's end cannot be written as a cron schedule, which Flux needs to suspend the site at the window's end: use a single minute and hour (such as \"30 2 * * *\")")
	}
	total := hour*60 + minute + mins
	days := total / (24 * 60)
	total %= 24 * 60
	dow := f[4]
	if days > 0 {
		if f[2] != "*" || f[3] != "*" {
			return "", fmt.Errorf("the window ends on a later day, which a cron schedule can only express when day of month and month are \"*\"")
		}
		shifted, err := shiftWeekdays(dow, days)
		if err != nil {
			return "", err
		}
		dow = shifted
	}
	return fmt.Sprintf("%d %d %s %s %s", total%60, total/60, f[2], f[3], dow), nil
}

// shiftWeekdays moves every day of a day-of-week field forward by days.
func shiftWeekdays(field string, days int) (string, error) {
	if field == "*" {
		return field, nil
	}
	var set [7]bool
	for _, item := range strings.Split(field, ",") {
		rng, step, hasStep := strings.Cut(item, "/")
		n := 1
		if hasStep {
			var err error
			if n, err = strconv.Atoi(step); err != nil || n < 1 {
				return "", fmt.Errorf("day of week %q: bad step", item)
			}
		}
		lo, hi := 0, 6
		if rng != "*" {
			a, b, isRange := strings.Cut(rng, "-")
			var ok bool
			if lo, ok = weekday(a); !ok {
				return "", fmt.Errorf("day of week %q: not a day", a)
			}
			hi = lo
			if isRange {
				if hi, ok = weekday(b); !ok {
					return "", fmt.Errorf("day of week %q: not a day", b)
				}
			} else if hasStep {
				hi = 6
			}
		}
		for d := lo; d <= hi; d += n {
			set[(d+days)%7] = true
		}
	}
	var out []string
	for d, on := range set {
		if on {
			out = append(out, strconv.Itoa(d))
		}
	}
	return strings.Join(out, ","), nil
}

func weekday(s string) (int, bool) {
	if n, err := strconv.Atoi(s); err == nil && n >= 0 && n <= 7 {
		return n % 7, true
	}
	if i := slices.Index(dayNames, strings.ToUpper(s)); i >= 0 {
		return i, true
	}
	return 0, false
}
