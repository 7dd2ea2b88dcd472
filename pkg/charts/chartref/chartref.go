package chartref

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Kind is where a chart comes from.
type Kind string

const (
	// Local is a chart directory or packaged chart (.tgz) in the
	// repository, relative to the inventory file that names it.
	Local Kind = "local"
	// OCI is a chart in an OCI registry: chart: oci://HOST/REPO/NAME,
	// version the tag.
	OCI Kind = "oci"
	// HTTP is a chart in an HTTP(S) Helm chart repository (one serving
	// index.yaml): repo: https://HOST/PATH, chart: NAME.
	HTTP Kind = "http"
)

// OCIScheme is the prefix of an OCI chart reference.
const OCIScheme = "oci://"

// Ref is a parsed chart reference.
type Ref struct {
	Kind Kind
	// Path is a local chart's directory or .tgz as written (slash
	// separated, relative to the inventory file); "" for remote charts.
	Path string
	// URL is, for OCI, the chart's oci://HOST/REPO/NAME; for HTTP, the
	// chart repository's URL without a trailing slash (index.yaml is
	// under it); "" for local charts.
	URL string
	// Name is the chart's name: the last path segment of an OCI URL, the
	// chart field with a repository; "" for local charts (their name is
	// in their Chart.yaml).
	Name string
}

// Remote reports whether the chart must be pulled before it is rendered.
func (r Ref) Remote() bool { return r.Kind == OCI || r.Kind == HTTP }

// String is the reference for messages: the path, the OCI URL, or the
// chart name and its repository ("edge-agent (repo https://charts.example.com/stable)").
func (r Ref) String() string {
	switch r.Kind {
	case OCI:
		return r.URL
	case HTTP:
		return r.Name + " (repo " + r.URL + ")"
	}
	return r.Path
}

// OCIHost is an OCI chart's registry host (with its port, if any).
func (r Ref) OCIHost() string {
	if r.Kind != OCI {
		return ""
	}
	host, _, _ := strings.Cut(strings.TrimPrefix(r.URL, OCIScheme), "/")
	return host
}

// OCIReference is the registry reference of an OCI chart's version:
// HOST/REPO/NAME:TAG, the tag being the version with "+" written "_", as
// Helm pushes it (OCI tags cannot hold "+").
func (r Ref) OCIReference(version string) string {
	return strings.TrimPrefix(r.URL, OCIScheme) + ":" + OCITag(version)
}

// OCITag is the OCI tag Helm gives a chart version.
func OCITag(version string) string { return strings.ReplaceAll(version, "+", "_") }

var (
	// ociPathComponent is a repository path component of the OCI
	// distribution specification.
	ociPathComponent = regexp.MustCompile(`^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*$`)
	// hostPort is a registry host: a DNS name or IPv4 address, an
	// optional port.
	hostPort = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$`)
	// chartName is a chart's name in a Helm repository's index.
	chartName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
)

// Parse reads a release's merged chart and repo fields. repo is "" unless
// the chart comes from an HTTP(S) chart repository. The error says what is
// wrong and how to write it instead.
func Parse(chart, repo string) (Ref, error) {
	if repo != "" {
		u, err := ParseRepo(repo)
		if err != nil {
			return Ref{}, err
		}
		switch {
		case chart == "":
			return Ref{}, errors.New("repo is set but chart is not: with repo, chart is the chart's name in that repository")
		case strings.HasPrefix(chart, OCIScheme):
			return Ref{}, errors.New("an oci:// chart names its registry itself: remove repo (repo is for HTTP(S) chart repositories)")
		case strings.Contains(chart, "/") || !chartName.MatchString(chart):
			return Ref{}, fmt.Errorf("chart %q: with repo, chart is the chart's name in that repository (letters, digits, '.', '_', '-'), not a path or URL", chart)
		}
		return Ref{Kind: HTTP, URL: u, Name: chart}, nil
	}
	if chart == "" {
		return Ref{}, errors.New("chart is empty")
	}
	if strings.HasPrefix(chart, OCIScheme) {
		name, err := parseOCI(chart)
		if err != nil {
			return Ref{}, err
		}
		return Ref{Kind: OCI, URL: chart, Name: name}, nil
	}
	if err := CheckChart(chart); err != nil {
		return Ref{}, err
	}
	return Ref{Kind: Local, Path: chart}, nil
}

// CheckChart checks a chart field on its own (its repo may come from
// another layer): an OCI URL must be well formed, a chart repository URL
// goes in repo, a path must be relative.
func CheckChart(chart string) error {
	switch {
	case strings.HasPrefix(chart, OCIScheme):
		_, err := parseOCI(chart)
		return err
	case strings.HasPrefix(chart, "https://"), strings.HasPrefix(chart, "http://"):
		trimmed := strings.TrimSuffix(chart, "/")
		i := strings.LastIndex(trimmed, "/")
		if i <= strings.Index(trimmed, "://")+len("://") {
			return errors.New("a chart repository goes in repo and the chart's name in chart: write repo: https://HOST/PATH and chart: NAME")
		}
		return fmt.Errorf("a chart repository goes in repo and the chart's name in chart: write repo: %s and chart: %s", trimmed[:i], trimmed[i+1:])
	case strings.Contains(chart, "://"):
		return errors.New("must be a chart directory or .tgz relative to the inventory file, oci://HOST/REPO/CHART, or a chart name with repo: https://HOST/PATH")
	case strings.HasPrefix(chart, "/"), strings.HasPrefix(chart, `\`), len(chart) > 1 && chart[1] == ':':
		return errors.New("must be relative to the inventory file, so the fleet repository can move")
	}
	return nil
}

// parseOCI checks oci://HOST/REPO/NAME and returns NAME.
func parseOCI(chart string) (string, error) {
	const want = "must be oci://HOST/REPOSITORY/CHART, without a tag or digest (the version goes in version)"
	rest := strings.TrimPrefix(chart, OCIScheme)
	host, repoPath, ok := strings.Cut(rest, "/")
	if !ok || host == "" || repoPath == "" {
		return "", errors.New(want)
	}
	if !hostPort.MatchString(host) {
		return "", fmt.Errorf("registry host %q is not HOST or HOST:PORT; %s", host, want)
	}
	if strings.ContainsAny(repoPath, "@:") {
		return "", errors.New(want)
	}
	segs := strings.Split(repoPath, "/")
	for _, s := range segs {
		if !ociPathComponent.MatchString(s) {
			return "", fmt.Errorf("repository path %q: each part must be lowercase letters and digits separated by '.', '_' or '-' (OCI distribution); %s", repoPath, want)
		}
	}
	return segs[len(segs)-1], nil
}

// ParseRepo checks a chart repository URL and returns it without a
// trailing slash.
func ParseRepo(repo string) (string, error) {
	const want = "must be the URL of a Helm chart repository, http(s)://HOST[/PATH] (the directory holding index.yaml)"
	u, err := url.Parse(repo)
	if err != nil {
		return "", fmt.Errorf("%s: %w", want, err)
	}
	switch {
	case u.Scheme == "oci":
		return "", errors.New("an OCI registry is not a chart repository: remove repo and write chart: oci://HOST/REPO/CHART")
	case u.Scheme != "https" && u.Scheme != "http":
		return "", errors.New(want)
	case u.Host == "" || u.Opaque != "":
		return "", errors.New(want)
	case u.User != nil:
		return "", errors.New("credentials do not go in the inventory: remove them from the URL")
	case u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(repo, "?") || strings.HasSuffix(repo, "#"):
		return "", errors.New(want + ", without a query or fragment")
	case strings.HasSuffix(u.Path, "/index.yaml"):
		return "", fmt.Errorf("%s: give the directory, not index.yaml", want)
	}
	return strings.TrimSuffix(repo, "/"), nil
}

// CheckVersion checks that a chart version is one exact version, not a
// range: no comparison operators, no wildcards (1.2.x), no spaces.
func CheckVersion(v string) error {
	const want = "must be one exact chart version such as 0.3.1 (ranges are not pinned)"
	if strings.ContainsAny(v, " /\\*^~<>=|,") {
		return errors.New(want)
	}
	core, _, _ := strings.Cut(strings.TrimPrefix(v, "v"), "-")
	core, _, _ = strings.Cut(core, "+")
	for seg := range strings.SplitSeq(core, ".") {
		if seg == "x" || seg == "X" || seg == "" {
			return errors.New(want)
		}
	}
	return nil
}
