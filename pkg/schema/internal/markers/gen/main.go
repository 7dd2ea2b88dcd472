// Command gen writes pkg/schema/zz_generated_markers.go from the comment
// markers of the k8s.io/api version in go.mod. Run it with go generate in
// pkg/schema after changing that version.
package main

import (
	"fmt"
	"os"

	"github.com/fleetgen/fleetgen/pkg/schema/internal/markers"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) != 2 {
		return fmt.Errorf("usage: gen OUTPUT.go")
	}
	ovs, err := markers.Scan(".", markers.Packages...)
	if err != nil {
		return err
	}
	src, err := markers.Render("schema", ovs)
	if err != nil {
		return err
	}
	return os.WriteFile(os.Args[1], src, 0o644)
}
