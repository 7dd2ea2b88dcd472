// Command fleetgen turns a site inventory into a verified Kustomize fleet tree.
package main

import (
	"os"

	"github.com/fleetgen/fleetgen/pkg/cli"
)

func main() { os.Exit(cli.Main()) }
