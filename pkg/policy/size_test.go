package policy

import (
	"strings"
	"testing"
)

// configMap returns a ConfigMap whose JSON encoding is exactly n bytes.
func configMap(t *testing.T, n int) Object {
	t.Helper()
	o := Object{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "big", "namespace": "edge-app"}, "data": map[string]any{"k": ""}}
	base, err := ObjectJSONSize(o)
	if err != nil {
		t.Fatal(err)
	}
	o["data"] = map[string]any{"k": strings.Repeat("x", n-base)}
	if got, _ := ObjectJSONSize(o); got != n {
		t.Fatalf("built %d bytes, want %d", got, n)
	}
	return o
}

func TestObjectSize(t *testing.T) {
	for _, tc := range []struct {
		name    string
		size    int
		waivers []Waiver
		want    string // "" no finding; "waived"; else a substring
	}{
		{"at the bound", MaxObjectBytes, nil, ""},
		{"one byte over", MaxObjectBytes + 1, nil, "262145 bytes as JSON, over the 262144-byte (256 KiB) bound"},
		{"over, waived", MaxObjectBytes + 1, []Waiver{{Policy: ObjectSize, Reason: "one site's firmware blob", Source: "inventory.yaml:9:5"}}, "waived"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs, err := Evaluate([]Object{configMap(t, tc.size)}, Facts{Site: "s"}, tc.waivers)
			if err != nil {
				t.Fatal(err)
			}
			var got []Finding
			for _, f := range fs {
				if f.Policy == ObjectSize {
					got = append(got, f)
				}
			}
			switch {
			case tc.want == "" && len(got) > 0:
				t.Errorf("findings %v, want none", got)
			case tc.want == "":
			case len(got) != 1:
				t.Fatalf("findings %v, want one", got)
			case tc.want == "waived":
				if !got[0].Waived {
					t.Errorf("%v not waived", got[0])
				}
			case !strings.Contains(got[0].String(), tc.want) || got[0].Object != "ConfigMap/edge-app/big":
				t.Errorf("finding %v, want %q on ConfigMap/edge-app/big", got[0], tc.want)
			}
		})
	}
	if FileTooBig(MaxFileBytes) != "" || FileTooBig(MaxFileBytes+1) == "" {
		t.Error("FileTooBig bound is not 1 MiB inclusive")
	}
}
