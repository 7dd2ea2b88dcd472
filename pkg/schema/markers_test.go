package schema

import (
	"bytes"
	"os"
	"os/exec"
	"testing"

	"github.com/fleetgen/fleetgen/pkg/schema/internal/markers"
)

// TestGeneratedMarkersUpToDate fails when zz_generated_markers.go no longer
// matches the comment markers of the k8s.io/api in go.mod: run go generate.
func TestGeneratedMarkersUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("reads the k8s.io/api source")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go tool")
	}
	ovs, err := markers.Scan(".", markers.Packages...)
	if err != nil {
		t.Fatal(err)
	}
	want, err := markers.Render("schema", ovs)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("zz_generated_markers.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("zz_generated_markers.go is stale: run go generate ./pkg/schema/")
	}
}
