// Package benchfleet writes synthetic inventories for benchmarks: any number
// of sites over the default template set, with the variety of a real fleet
// (EU and GPU groups pulling in components, both architectures, per-site
// config, labels, waves, image digests), deterministic for a given size.
package benchfleet

import (
	"fmt"
	"io"
	"strings"
)

// Inventory writes an inventory of n sites to w. Site i is named
// SiteName(i). The output depends only on n.
func Inventory(w io.Writer, n int) error {
	var b strings.Builder
	b.WriteString(header)
	for i := 0; i < n; i++ {
		writeSite(&b, i)
		if b.Len() > 1<<20 {
			if _, err := io.WriteString(w, b.String()); err != nil {
				return err
			}
			b.Reset()
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// SiteName is the name of site i.
func SiteName(i int) string { return fmt.Sprintf("store-%06d", i) }

// EditSite returns inv with site i's config changed to carry rev, the
// smallest edit a person makes to one site. It panics if the site is not
// in inv (it was not written by Inventory).
func EditSite(inv []byte, i int, rev int) []byte {
	marker := "  - name: " + SiteName(i) + "\n"
	k := strings.Index(string(inv), marker)
	if k < 0 {
		panic("benchfleet: no site " + SiteName(i))
	}
	k += len(marker)
	edit := fmt.Sprintf("    labels:\n      bench.fleetgen.dev/rev: \"%d\"\n", rev)
	out := make([]byte, 0, len(inv)+len(edit))
	out = append(out, inv[:k]...)
	out = append(out, edit...)
	return append(out, inv[k:]...)
}

const header = `# Synthetic inventory for benchmarks (pkg/benchfleet).
apiVersion: fleetgen.dev/v1alpha1
kind: Inventory
fleet: bench

gitops:
  engine: flux
  repo: https://git.bench.example/edge-fleet.git
  branch: main

defaults:
  type: store
  region: us-east
  arch: arm64
  capacity:
    cpu: "2"
    memory: 2Gi
  images:
    app: registry.bench.example/retail/edge-app:1.4.2
  config:
    LOG_LEVEL: info
    PROTOCOL_VERSION: "1.10"
  labels:
    app.kubernetes.io/part-of: bench
  wave: 1
  maintenanceWindow:
    schedule: "0 2 * * *"
    duration: 2h
    timeZone: America/New_York

groups:
  - name: eu
    region: eu-west
    components: [eu-compliance]
    config:
      CURRENCY: EUR
    labels:
      bench.fleetgen.dev/legal-entity: bench-europe
    maintenanceWindow:
      timeZone: Europe/Berlin
  - name: gpu-sites
    arch: amd64
    components: [gpu]
    capacity:
      cpu: "8"
      memory: 16Gi
    config:
      INFERENCE_MODEL: shelf-detector-v3

sites:
`

var regions = []string{"us-east", "us-west", "us-central"}

func writeSite(b *strings.Builder, i int) {
	fmt.Fprintf(b, "  - name: %s\n", SiteName(i))
	switch {
	case i%10 == 3:
		b.WriteString("    groups: [gpu-sites]\n    type: factory\n")
	case i%4 == 1:
		b.WriteString("    groups: [eu]\n")
	case i%4 == 2:
		fmt.Fprintf(b, "    region: %s\n    arch: amd64\n", regions[i%len(regions)])
	}
	if i%7 == 0 {
		b.WriteString("    wave: 0\n")
	}
	if i%13 == 5 {
		b.WriteString("    images:\n      app: registry.bench.example/retail/edge-app@sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945\n")
	}
	fmt.Fprintf(b, "    config:\n      STORE_ID: \"%d\"\n      LANE_COUNT: \"%d\"\n", i, 2+i%9)
}
