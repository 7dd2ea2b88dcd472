package inventory

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const csvBase = `apiVersion: fleetgen.dev/v1alpha1
kind: Inventory
fleet: acme
defaults:
  arch: arm64
  region: us-east
  config: {LOG_LEVEL: info}
groups:
  - name: eu
    region: eu-west
  - name: gpu
    arch: amd64
`

// writeFiles writes name → content into a fresh directory and returns the
// paths in the order given.
func writeFiles(t *testing.T, files ...string) []string {
	t.Helper()
	dir := t.TempDir()
	var paths []string
	for i := 0; i+1 < len(files); i += 2 {
		p := filepath.Join(dir, files[i])
		if err := os.WriteFile(p, []byte(files[i+1]), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

// relErr strips the directory from file names in err.
func relErr(err error, dir string) string {
	return strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "")
}

func TestLoadFilesCSV(t *testing.T) {
	paths := writeFiles(t,
		"base.yaml", csvBase,
		"sites.csv", "\xef\xbb\xbfname,type,groups,config.STORE_ID,labels.acme.example/zone,capacity.cpu,images.app\r\n"+
			"store-1,store,eu,001,north,,\r\n"+
			"factory-1,factory,eu;gpu,,,4,registry.example.com/app:1.2\r\n"+
			"\"store-2\",store,eu,\"a, \"\"quoted\"\"\nvalue\",,,\r\n",
	)
	inv, err := LoadFiles(paths, nil)
	if err != nil {
		t.Fatal(err)
	}
	fleet, err := inv.Resolve(ResolveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(fleet.Sites) != 3 {
		t.Fatalf("got %d sites, want 3", len(fleet.Sites))
	}
	byName := map[string]Site{}
	for _, s := range fleet.Sites {
		byName[s.Name] = s
	}
	f1 := byName["factory-1"]
	if f1.Arch != "amd64" || f1.Region != "eu-west" || f1.Capacity.CPU != "4" || !reflect.DeepEqual(f1.Groups, []string{"eu", "gpu"}) {
		t.Errorf("factory-1 = %+v", f1)
	}
	if f1.Images["app"] != "registry.example.com/app:1.2" {
		t.Errorf("factory-1 images = %v", f1.Images)
	}
	if _, ok := f1.Config["STORE_ID"]; ok {
		t.Errorf("an empty cell must leave config.STORE_ID unset, got %q", f1.Config["STORE_ID"])
	}
	s1 := byName["store-1"]
	if s1.Config["STORE_ID"] != "001" || s1.Labels["acme.example/zone"] != "north" || s1.Config["LOG_LEVEL"] != "info" {
		t.Errorf("store-1 = %+v", s1)
	}
	if got := byName["store-2"].Config["STORE_ID"]; got != "a, \"quoted\"\nvalue" {
		t.Errorf("quoted cell = %q", got)
	}
	o := s1.Origins["config.STORE_ID"]
	if filepath.Base(o.File) != "sites.csv" || o.Line != 2 || o.Column != 4 || o.Layer != "site" {
		t.Errorf("origin of store-1 config.STORE_ID = %+v, want sites.csv:2:4", o)
	}
	o = s1.Origins["region"]
	if filepath.Base(o.File) != "base.yaml" || o.Line != 10 || o.Layer != "group/eu" {
		t.Errorf("origin of store-1 region = %+v, want base.yaml:10", o)
	}
	o = byName["store-2"].Origins["config.STORE_ID"]
	if o.Line != 4 {
		t.Errorf("a row after a multi-line cell: origin %+v, want line 4", o)
	}
}

func TestLoadFilesErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files []string
		want  []string
	}{{
		name:  "unknown column with suggestion",
		files: []string{"base.yaml", csvBase, "s.csv", "name,type,regoin\nstore-1,store,eu\n"},
		want:  []string{`s.csv:1:3: unknown column "regoin" (did you mean "region"?)`},
	}, {
		name:  "map column without key",
		files: []string{"base.yaml", csvBase, "s.csv", "name,config\nstore-1,x\n"},
		want:  []string{`s.csv:1:2: column "config" needs a key`},
	}, {
		name:  "scalar column with a key",
		files: []string{"base.yaml", csvBase, "s.csv", "name,type.x\nstore-1,x\n"},
		want:  []string{`s.csv:1:2: unknown column "type.x": type is not a mapping`},
	}, {
		name:  "unknown sub-field",
		files: []string{"base.yaml", csvBase, "s.csv", "name,capacity.cpus\nstore-1,2\n"},
		want:  []string{`s.csv:1:2: unknown column "capacity.cpus" (did you mean "capacity.cpu"?)`},
	}, {
		name:  "duplicate and empty columns",
		files: []string{"base.yaml", csvBase, "s.csv", "name,type,,type\nstore-1,store,,store\n"},
		want:  []string{`s.csv:1:3: empty column name`, `s.csv:1:4: column "type" is given twice (first as column 2)`},
	}, {
		name:  "no name column",
		files: []string{"base.yaml", csvBase, "s.csv", "type,region\nstore,eu\n"},
		want:  []string{`s.csv:1:1: the header row has no name column`},
	}, {
		name:  "wrong field count",
		files: []string{"base.yaml", csvBase, "s.csv", "name,type,region\nstore-1,store\nstore-2,store,eu,x\n"},
		want:  []string{`s.csv:2:1: row has 2 fields, the header has 3`, `s.csv:3:1: row has 4 fields, the header has 3`},
	}, {
		name:  "bad quoting",
		files: []string{"base.yaml", csvBase, "s.csv", "name,type,region\nstore-1,st\"ore,eu\n"},
		want:  []string{`s.csv:2:11: invalid CSV: bare " in non-quoted-field`},
	}, {
		name:  "unterminated quote",
		files: []string{"base.yaml", csvBase, "s.csv", "name,type,region\n\"store-1,store,eu\n"},
		want:  []string{`s.csv:`, `invalid CSV: extraneous or missing " in quoted-field`},
	}, {
		name:  "empty CSV",
		files: []string{"base.yaml", csvBase, "s.csv", ""},
		want:  []string{`s.csv: empty CSV file`},
	}, {
		name:  "bad values name row and column, CRLF and BOM",
		files: []string{"base.yaml", csvBase, "s.csv", "\xef\xbb\xbfname,type,region,arch\r\nStore_1,store,eu,arm64\r\nstore-2,shop,eu,sparc\r\n"},
		want: []string{
			`s.csv:2:1: site "Store_1": sites[0].name: invalid value "Store_1": must be a DNS-1123 label`,
			`s.csv:3:2: site "store-2": sites[1].type: invalid value "shop": must be one of factory, store`,
			`s.csv:3:4: site "store-2": sites[1].arch: invalid value "sparc"`,
		},
	}, {
		name:  "unknown group in a list cell",
		files: []string{"base.yaml", csvBase, "s.csv", "name,type,groups\nstore-1,store,eu;gpx\n"},
		want:  []string{`s.csv:2:3: site "store-1": sites[0].groups[1]: unknown group "gpx" (did you mean "gpu"?)`},
	}, {
		name:  "duplicate site across files",
		files: []string{"base.yaml", csvBase + "sites:\n  - name: store-1\n    type: store\n", "s.csv", "name,type,groups\nstore-1,store,eu\n"},
		want:  []string{`s.csv:2:1: site "store-1": sites[1].name: duplicate site name "store-1": first used by sites[0] at base.yaml:14:11`},
	}, {
		name: "later YAML may not set fleet or defaults; duplicate group",
		files: []string{"base.yaml", csvBase + "sites:\n  - name: store-1\n    type: store\n    groups: [eu]\n",
			"more.yaml", "apiVersion: fleetgen.dev/v1alpha1\nkind: Inventory\nfleet: other\ndefaults: {arch: amd64}\ngroups:\n  - name: eu\n"},
		want: []string{
			`more.yaml:3:8: fleet: only the first inventory file`,
			`more.yaml:4:11: defaults: only the first inventory file`,
			`more.yaml:6:11: groups[2].name: duplicate group name "eu": first used by groups[0] at base.yaml:9:11`,
		},
	}, {
		name:  "first file CSV",
		files: []string{"s.csv", "name\nstore-1\n", "base.yaml", csvBase},
		want:  []string{`s.csv: the first inventory file must be YAML`},
	}, {
		name:  "no sites anywhere",
		files: []string{"base.yaml", csvBase, "s.csv", "name,type\n"},
		want:  []string{`base.yaml:1:1: sites: no sites`},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			paths := writeFiles(t, tc.files...)
			inv, err := LoadFiles(paths, nil)
			if err == nil {
				_, err = inv.Resolve(ResolveOptions{})
			}
			if err == nil {
				t.Fatal("no error")
			}
			got := relErr(err, filepath.Dir(paths[0]))
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("error does not contain %q:\n%s", w, got)
				}
			}
		})
	}
}

func TestLoadFilesYAMLParts(t *testing.T) {
	paths := writeFiles(t,
		"base.yaml", csvBase,
		"more.yaml", "apiVersion: fleetgen.dev/v1alpha1\nkind: Inventory\ngroups:\n  - name: us\n    region: us-east\nsites:\n  - name: store-9\n    type: store\n    groups: [us]\n",
	)
	inv, err := LoadFiles(paths, nil)
	if err != nil {
		t.Fatal(err)
	}
	fleet, err := inv.Resolve(ResolveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s := fleet.Sites[0]
	if s.Region != "us-east" || filepath.Base(s.Origins["region"].File) != "more.yaml" || s.Origins["region"].Layer != "group/us" {
		t.Errorf("site = %+v, origins %+v", s, s.Origins)
	}
	if filepath.Base(s.Origins["arch"].File) != "base.yaml" {
		t.Errorf("arch origin = %+v", s.Origins["arch"])
	}
}

func TestLoadFilesSingleIsLoadFile(t *testing.T) {
	paths := writeFiles(t, "inv.yaml", csvBase+"sites:\n  - name: Bad_1\n")
	_, err1 := LoadFile(paths[0])
	_, err2 := LoadFiles(paths, nil)
	if err1 == nil || err2 == nil || err1.Error() != err2.Error() {
		t.Errorf("LoadFile: %v\nLoadFiles: %v", err1, err2)
	}
	inv, err := LoadFiles([]string{"-"}, strings.NewReader(csvBase+"sites:\n  - name: s-1\n    type: store\n"))
	if err != nil || inv.File != "<stdin>" {
		t.Errorf("stdin: %v, %v", inv, err)
	}
}

func TestCSVColumns(t *testing.T) {
	cols := CSVColumns()
	for _, want := range []string{"name", "groups", "type", "region", "arch", "capacity.cpu", "capacity.memory", "capacity.reserve.cpu", "config.KEY", "images.KEY", "labels.KEY", "components"} {
		found := false
		for _, c := range cols {
			found = found || c == want
		}
		if !found {
			t.Errorf("CSVColumns() = %v, missing %q", cols, want)
		}
	}
}

func FuzzCSV(f *testing.F) {
	f.Add("name,type,region,arch\nstore-1,store,eu,arm64\n")
	f.Add("name,config.A,groups\n\"x\ny\",\"\"\"\",a;b\n")
	f.Add("\xef\xbb\xbfname\r\ns\r\n")
	f.Fuzz(func(t *testing.T, s string) {
		ps := &problems{file: "f.csv"}
		inv := decodeCSV(ps, "f.csv", []byte(s), 0)
		if inv == nil && ps.empty() {
			t.Fatal("nil inventory without a problem")
		}
	})
}
