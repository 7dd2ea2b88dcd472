package gitops

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"

	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/runtime/schema"

	fleetschema "github.com/fleetgen/fleetgen/pkg/schema"
)

// ArgoCDVersion is the Argo CD release whose published CRDs
// (crds/argocd/<version>/, see the README there) Argo CD objects are
// validated against.
const ArgoCDVersion = "v3.5.1"

//go:embed crds/argocd/v3.5.1/*-crd.yaml.gz
var argoCRDFiles embed.FS

// SiteParamsFile is the base name of a site's ApplicationSet parameter
// file, overlays/<site>/argocd-site.json, read by the ApplicationSet's git
// files generator.
const SiteParamsFile = "argocd-site.json"

// argoCRDs are the embedded CRDs by kind. Each is compiled on first use,
// once per process (compiling the ApplicationSet CRD, 1.4 MB of schema,
// takes a few hundred milliseconds), and is read-only afterwards.
var argoCRDs = map[schema.GroupVersionKind]func() (*fleetschema.CRD, error){
	{Group: "argoproj.io", Version: "v1alpha1", Kind: "Application"}:    compileOnce("application-crd.yaml", "v1alpha1"),
	{Group: "argoproj.io", Version: "v1alpha1", Kind: "ApplicationSet"}: compileOnce("applicationset-crd.yaml", "v1alpha1"),
	{Group: "argoproj.io", Version: "v1alpha1", Kind: "AppProject"}:     compileOnce("appproject-crd.yaml", "v1alpha1"),
}

func compileOnce(file, version string) func() (*fleetschema.CRD, error) {
	return sync.OnceValues(func() (*fleetschema.CRD, error) {
		return compileCRD(argoCRDFiles, path.Join("crds/argocd", ArgoCDVersion, file), version)
	})
}

// compileCRD compiles the schema of one served version of the CRD in
// file, stored gzipped as name+".gz" (the ApplicationSet CRD is 1.4 MB of
// YAML), with the validator package schema shares with the cert-manager
// CRDs.
func compileCRD(fsys embed.FS, name, version string) (*fleetschema.CRD, error) {
	data, err := readCRD(fsys, name)
	if err != nil {
		return nil, err
	}
	crd, err := fleetschema.CompileCRD(data, version)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return crd, nil
}

// SiteParams is the content of a site's ApplicationSet parameter file,
// overlays/<site>/argocd-site.json. Every field is a string, as the
// Application template's labels need them.
type SiteParams struct {
	// Site is the site's name; it must be the name of the file's
	// directory, which is what the ApplicationSet uses.
	Site string `json:"site"`
	// Wave is the site's rollout wave, a non-negative integer.
	Wave string `json:"wave"`
	// Network selects the retry profile: online, intermittent or
	// airgapped.
	Network string `json:"network"`
	// Project is the AppProject of the site's Application.
	Project string `json:"project"`
}

var waveRE = regexp.MustCompile(`^(0|[1-9][0-9]{0,8})$`)

// checkSiteParams decodes and checks one parameter file strictly; p is its
// path in the tree, overlays/<site>/argocd-site.json.
func checkSiteParams(p string, data []byte) (SiteParams, []error) {
	dir := path.Base(path.Dir(p))
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var sp SiteParams
	if err := dec.Decode(&sp); err != nil {
		return sp, []error{fmt.Errorf("%s: site %q: %w", p, dir, err)}
	}
	if dec.More() {
		return sp, []error{fmt.Errorf("%s: site %q: more than one JSON value", p, dir)}
	}
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: site %q: %s: %s", p, dir, field, fmt.Sprintf(format, args...)))
	}
	if sp.Site != dir {
		bad("site", "is %s, but the file is in the directory of site %q (the ApplicationSet names the Application after the directory)", strconv.Quote(sp.Site), dir)
	}
	if !waveRE.MatchString(sp.Wave) {
		bad("wave", "%s is not a wave (a non-negative integer written as a string)", strconv.Quote(sp.Wave))
	}
	switch sp.Network {
	case "online", "intermittent", "airgapped":
	default:
		bad("network", "%s has no retry profile (online, intermittent, airgapped)", strconv.Quote(sp.Network))
	}
	if msgs := apimachineryvalidation.NameIsDNSSubdomain(sp.Project, false); len(msgs) > 0 {
		bad("project", "%s is not an AppProject name: %s", strconv.Quote(sp.Project), strings.Join(msgs, "; "))
	}
	return sp, errs
}

// errNoArgoCRDs is wrapped when an embedded CRD cannot be compiled, which
// only a broken build can cause.
var errNoArgoCRDs = errors.New("the embedded Argo CD CRD does not compile")

// readCRD returns the published CRD file name, embedded gzipped as
// name+".gz".
func readCRD(fsys embed.FS, name string) ([]byte, error) {
	return fleetschema.ReadGzip(fsys, name+".gz")
}
