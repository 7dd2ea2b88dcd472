package charts

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"os"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	chartapi "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/engine"
	"sigs.k8s.io/yaml"
)

// KubeVersion is the Kubernetes version charts are rendered for: the one of
// the K3s release fleetgen pins (.Capabilities.KubeVersion, and what a
// chart's kubeVersion constraint is checked against).
const KubeVersion = "v1.33.5"

// HelmVersion is the Helm SDK release that renders charts
// (.Capabilities.HelmVersion.Version).
const HelmVersion = "v4.3.2"

// Chart is a loaded chart.
type Chart struct {
	c *chartapi.Chart
	// Source is where the chart was loaded from.
	Source string
	// Digest is the SHA-256 of the chart's files (names and contents, in
	// name order): it changes whenever any file of the chart does.
	Digest string
}

// Load reads a chart directory or a packaged chart (.tgz).
func Load(source string) (*Chart, error) {
	fi, err := os.Stat(source)
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", source, err)
	}
	var c *chartapi.Chart
	if fi.IsDir() {
		c, err = loader.LoadDir(source)
	} else {
		c, err = loader.LoadFile(source)
	}
	if err != nil {
		return nil, fmt.Errorf("loading chart %s: %w", source, err)
	}
	return &Chart{c: c, Source: source, Digest: digest(c)}, nil
}

// digest hashes every file of c and its dependencies.
func digest(c *chartapi.Chart) string {
	h := sha256.New()
	var walk func(c *chartapi.Chart, prefix string)
	walk = func(c *chartapi.Chart, prefix string) {
		files := slices.Clone(c.Raw)
		sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
		for _, f := range files {
			fmt.Fprintf(h, "%s%s\x00%d\x00", prefix, f.Name, len(f.Data))
			h.Write(f.Data)
		}
		for _, d := range c.Dependencies() {
			walk(d, prefix+"charts/"+d.Name()+"/")
		}
	}
	walk(c, "")
	return hex.EncodeToString(h.Sum(nil))
}

// Name is the chart's name (Chart.yaml).
func (c *Chart) Name() string { return c.c.Name() }

// Version is the chart's version (Chart.yaml).
func (c *Chart) Version() string { return c.c.Metadata.Version }

// Capabilities are what a chart sees as .Capabilities: KubeVersion, the
// API versions Helm knows to be built into Kubernetes, and HelmVersion.
func Capabilities() (*common.Capabilities, error) {
	kv, err := common.ParseKubeVersion(KubeVersion)
	if err != nil {
		return nil, err
	}
	caps := &common.Capabilities{KubeVersion: *kv, APIVersions: common.DefaultVersionSet}
	caps.HelmVersion.Version = HelmVersion
	return caps, nil
}

// SchemaError is one way the values break the chart's values.schema.json.
type SchemaError struct {
	// Path is the offending value's path in the values (keys and list
	// indexes); empty for the values as a whole.
	Path []string
	// Message says what is wrong.
	Message string
}

// SchemaErrors are every violation of a chart's values schema.
type SchemaErrors []SchemaError

func (e SchemaErrors) Error() string {
	msgs := make([]string, len(e))
	for i, s := range e {
		msgs[i] = "/" + strings.Join(s.Path, "/") + ": " + s.Message
	}
	return "values do not match the chart's values.schema.json: " + strings.Join(msgs, "; ")
}

// File is one rendered template of a release.
type File struct {
	// Template is the template's path in the chart, with the chart's name
	// first as Helm names it: "edge-agent/templates/deployment.yaml"
	// (a subchart's: "edge-agent/charts/sub/templates/x.yaml"); CRDs
	// from crds/ are "edge-agent/crds/x.yaml".
	Template string
	// Objects are the template's objects, in order.
	Objects []map[string]any
}

// Release is the rendered output of a chart.
type Release struct {
	Name, Namespace string
	// Files are sorted by Template; templates that render no object are
	// left out.
	Files []File
}

// Render renders the chart as release name in namespace with values
// (merged over the chart's own values.yaml, as Helm does). A values
// schema violation is returned as SchemaErrors.
func (c *Chart) Render(ctx context.Context, name, namespace string, values map[string]any) (*Release, error) {
	caps, err := Capabilities()
	if err != nil {
		return nil, err
	}
	if c.c.Metadata.KubeVersion != "" {
		if ok := chartutil.IsCompatibleRange(c.c.Metadata.KubeVersion, caps.KubeVersion.String()); !ok {
			return nil, fmt.Errorf("chart %s requires kubeVersion %s; charts are rendered for Kubernetes %s", c.Name(), c.c.Metadata.KubeVersion, KubeVersion)
		}
	}
	opts := common.ReleaseOptions{Name: name, Namespace: namespace, Revision: 1, IsInstall: true}
	vals, err := util.ToRenderValuesWithSchemaValidation(c.c, copyMap(values), opts, caps, true)
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", c.Name(), err)
	}
	if err := validateSchemas(c.c, vals["Values"].(common.Values).AsMap(), nil); err != nil {
		return nil, err
	}
	e := engine.Engine{CustomTemplateFuncs: hermeticFuncs()}
	out, err := e.RenderWithContext(ctx, c.c, vals)
	if err != nil {
		return nil, fmt.Errorf("rendering chart %s: %w", c.Name(), err)
	}
	rel := &Release{Name: name, Namespace: namespace}
	for _, crd := range c.c.CRDObjects() {
		out[path.Join(c.Name(), crd.Name)] = string(crd.File.Data)
	}
	for _, tpl := range slices.Sorted(maps.Keys(out)) {
		if !strings.HasSuffix(tpl, ".yaml") && !strings.HasSuffix(tpl, ".yml") && !strings.HasSuffix(tpl, ".json") {
			continue // NOTES.txt and other non-manifests, as Helm
		}
		if strings.HasPrefix(path.Base(tpl), "_") {
			continue
		}
		objs, err := splitObjects(out[tpl])
		if err != nil {
			return nil, fmt.Errorf("chart %s: template %s: %w", c.Name(), tpl, err)
		}
		objs = slices.DeleteFunc(objs, isTestHook)
		if len(objs) > 0 {
			rel.Files = append(rel.Files, File{Template: tpl, Objects: objs})
		}
	}
	return rel, nil
}

// splitObjects parses a rendered template into its objects, dropping
// empty documents.
func splitObjects(text string) ([]map[string]any, error) {
	var out []map[string]any
	for _, doc := range splitDocuments(text) {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			return nil, fmt.Errorf("the rendered output is not YAML: %w", err)
		}
		if len(obj) == 0 {
			continue
		}
		if _, ok := obj["kind"].(string); !ok {
			return nil, errors.New("a rendered object has no kind")
		}
		out = append(out, obj)
	}
	return out, nil
}

// splitDocuments splits YAML text at document separators ("---" lines).
func splitDocuments(text string) []string {
	var docs []string
	var cur bytes.Buffer
	for line := range strings.Lines(text) {
		if t := strings.TrimRight(line, " \t\r\n"); t == "---" || strings.HasPrefix(t, "--- ") {
			docs = append(docs, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteString(line)
	}
	return append(docs, cur.String())
}

// isTestHook reports whether obj is a Helm test hook, which `helm template`
// output carries but an installed release never applies.
func isTestHook(obj map[string]any) bool {
	md, _ := obj["metadata"].(map[string]any)
	ann, _ := md["annotations"].(map[string]any)
	hook, _ := ann["helm.sh/hook"].(string)
	for h := range strings.SplitSeq(hook, ",") {
		if strings.TrimSpace(h) == "test" || strings.TrimSpace(h) == "test-success" {
			return true
		}
	}
	return false
}

// validateSchemas checks values against the values.schema.json of c and of
// each dependency (with the dependency's part of the values), offline:
// a $ref outside the schema is an error rather than a download.
func validateSchemas(c *chartapi.Chart, values map[string]any, prefix []string) error {
	var all SchemaErrors
	if len(c.Schema) > 0 {
		errs, err := validateSchema(c.Schema, values)
		if err != nil {
			return fmt.Errorf("chart %s: values.schema.json: %w", c.Name(), err)
		}
		for _, e := range errs {
			e.Path = append(slices.Clone(prefix), e.Path...)
			all = append(all, e)
		}
	}
	for _, d := range c.Dependencies() {
		sub, ok := values[d.Name()].(map[string]any)
		if !ok {
			continue
		}
		if err := validateSchemas(d, sub, append(slices.Clone(prefix), d.Name())); err != nil {
			var se SchemaErrors
			if !errors.As(err, &se) {
				return err
			}
			all = append(all, se...)
		}
	}
	if len(all) > 0 {
		return all
	}
	return nil
}

func validateSchema(schemaJSON []byte, values map[string]any) ([]SchemaError, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
	if err != nil {
		return nil, err
	}
	comp := jsonschema.NewCompiler()
	comp.UseLoader(offlineLoader{})
	if err := comp.AddResource("file:///values.schema.json", doc); err != nil {
		return nil, err
	}
	sch, err := comp.Compile("file:///values.schema.json")
	if err != nil {
		return nil, err
	}
	// The validator reads JSON types: round-trip the values through JSON.
	data, err := yaml.Marshal(values)
	if err != nil {
		return nil, err
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		return nil, err
	}
	err = sch.Validate(inst)
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return nil, err
	}
	printer := message.NewPrinter(language.English)
	var out []SchemaError
	var leaves func(e *jsonschema.ValidationError)
	leaves = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			out = append(out, SchemaError{Path: slices.Clone(e.InstanceLocation), Message: e.ErrorKind.LocalizedString(printer)})
			return
		}
		for _, c := range e.Causes {
			leaves(c)
		}
	}
	leaves(ve)
	sort.SliceStable(out, func(i, j int) bool { return strings.Join(out[i].Path, "/") < strings.Join(out[j].Path, "/") })
	return out, nil
}

// offlineLoader refuses every reference outside the schema document.
type offlineLoader struct{}

func (offlineLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("schema reference %s: values schemas are checked offline; only references inside values.schema.json are allowed", url)
}

// hermeticFuncs replaces the template functions whose output depends on the
// clock or on randomness: a chart that uses them would render differently
// on every run.
func hermeticFuncs() map[string]any {
	refuse := func(name string) func(...any) (string, error) {
		return func(...any) (string, error) {
			return "", fmt.Errorf("%s is not allowed: fleetgen renders charts deterministically; set the value in the inventory instead", name)
		}
	}
	funcs := map[string]any{}
	for _, name := range []string{"randAlphaNum", "randAlpha", "randNumeric", "randAscii", "randBytes", "randInt", "uuidv4", "shuffle",
		"genPrivateKey", "genCA", "genCAWithKey", "genSelfSignedCert", "genSelfSignedCertWithKey", "genSignedCert", "genSignedCertWithKey",
		"now", "ago", "htmlDate"} {
		funcs[name] = refuse(name)
	}
	return funcs
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			v = copyMap(sub)
		}
		out[k] = v
	}
	return out
}
