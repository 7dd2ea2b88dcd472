# fleetgen — see README.md. Every target works on a fresh machine with Go.
GO       ?= go
BIN      ?= bin/fleetgen
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X github.com/fleetgen/fleetgen/pkg/cli.version=$(VERSION)
DEMO_DIR ?= demo-fleet

# Linters, pinned, installed on first use into bin/tools/<tool>@<version>/
# (nothing outside the repository, no root). Bump a version here to upgrade.
STATICCHECK_VERSION ?= v0.8.2
DEADCODE_VERSION    ?= v0.53.0
TOOLS       := $(CURDIR)/bin/tools
STATICCHECK := $(TOOLS)/staticcheck@$(STATICCHECK_VERSION)/staticcheck
DEADCODE    := $(TOOLS)/deadcode@$(DEADCODE_VERSION)/deadcode
# The standalone kustomize CLI make bench compares against, installed the same way.
KUSTOMIZE_VERSION ?= v5.8.0
KUSTOMIZE   := $(TOOLS)/kustomize@$(KUSTOMIZE_VERSION)/kustomize

# Packages whose tests take -update (rewrite golden files, CLI script
# outputs, docs/reference, docs/inventory.schema.json). test/arch checks
# that this list names exactly the packages that define the flag.
GOLDEN_PKGS := ./cmd/fleetgen ./pkg/cli ./pkg/gitops ./pkg/inventory ./pkg/jsonschema ./pkg/k3s ./pkg/pipeline ./pkg/render ./pkg/report ./pkg/tree

.PHONY: all build test test-race fuzz bench accept lint verify golden demo docs clean tools

all: build

## build: the fleetgen binary, reproducibly (-trimpath, version from git)
build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/fleetgen

## install: fleetgen into $(go env GOBIN), else $(go env GOPATH)/bin, built as by build
.PHONY: install
install:
	$(GO) install -trimpath -ldflags '$(LDFLAGS)' ./cmd/fleetgen

## test: what CI runs (.ci/run): lint, then every test: unit, golden, CLI
## scripts, fuzz seed corpora, import rules, the kubectl and pre-commit
## end-to-end checks (each skips, with a note, when its tool is absent)
test: lint
	@command -v kubectl >/dev/null || echo "note: kubectl not on PATH: the kubectl kustomize cross-check (pkg/verify) is skipped"
	@command -v pre-commit >/dev/null || echo "note: pre-commit not on PATH: the pre-commit hook test (test/e2e) is skipped"
	$(GO) test -count=1 ./...

## test-race: the suite under the race detector
test-race:
	$(GO) test -race -count=1 ./...

## fuzz: run each fuzz target for FUZZTIME (default 30s)
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzLoad -fuzztime=$(FUZZTIME) ./pkg/inventory/
	$(GO) test -run='^$$' -fuzz=FuzzCSV -fuzztime=$(FUZZTIME) ./pkg/inventory/
	$(GO) test -run='^$$' -fuzz=FuzzRenderConfig -fuzztime=$(FUZZTIME) ./pkg/render/
	$(GO) test -run='^$$' -fuzz=FuzzConfigRoundTrip -fuzztime=$(FUZZTIME) ./pkg/verify/
	$(GO) test -run='^$$' -fuzz=FuzzValidate -fuzztime=$(FUZZTIME) ./pkg/schema/
	$(GO) test -run='^$$' -fuzz=FuzzSameAsInMemory -fuzztime=$(FUZZTIME) ./pkg/treefs/
	$(GO) test -run='^$$' -fuzz=FuzzParseLock -fuzztime=$(FUZZTIME) ./pkg/charts/
	$(GO) test -run='^$$' -fuzz=FuzzParse -fuzztime=$(FUZZTIME) ./pkg/charts/chartref/
	$(GO) test -run='^$$' -fuzz=FuzzSealUnmarshal -fuzztime=$(FUZZTIME) ./pkg/changes/
	$(GO) test -run='^$$' -fuzz=FuzzListDecode -fuzztime=$(FUZZTIME) ./pkg/index/
	$(GO) test -run='^$$' -fuzz=FuzzStatCacheUnmarshal -fuzztime=$(FUZZTIME) ./pkg/changes/
	$(GO) test -run='^$$' -fuzz=FuzzParseJournal -fuzztime=$(FUZZTIME) ./pkg/tree/

## bench: render and verify benchmarks, then the fleet benchmark (cmd/fleetbench)
## on a synthetic fleet of BENCH_SITES sites (default 1000; a comma-separated
## list runs each size, BENCH_SITES=1000,10000 make bench): generate cold,
## check right after / 2 s later / sealed, one-site edit then generate and
## check, component and base edits, the base edit on 1 and 2 cores, verify
## sharded N=1,2,4, and kubectl kustomize and the standalone kustomize CLI
## ($(KUSTOMIZE_VERSION)) once per overlay, with the ratios. BENCH_100K=1 adds
## generate, check and verify of 100,000 sites with their peak RSS (about an
## hour on 2 cores). With more than one size the run ends with one table,
## a column per size. The Go benchmarks that take a fleet size
## (BenchmarkCharts: a chart with three value sets, cold, one-site values
## edit, version bump; BenchmarkLedgerPerJob) run at the first of BENCH_SITES.
BENCH_SITES ?= 1000
BENCH_100K  ?=
comma := ,
BENCH_GO_SITES = $(firstword $(subst $(comma), ,$(BENCH_SITES)))
bench: build $(KUSTOMIZE)
	FLEETGEN_BENCH_SITES=$(BENCH_GO_SITES) $(GO) test -run='^$$' -bench=. -benchmem -timeout 2h ./pkg/pipeline/
	$(GO) test -run='^$$' -bench='EngineRender1000' -benchmem ./pkg/render/
	FLEETGEN_BENCH_SITES=$(BENCH_GO_SITES) $(GO) test -run='^$$' -bench=. -benchmem ./pkg/tree/ ./pkg/changes/ ./pkg/treefs/
	$(GO) run ./cmd/fleetbench -sites $(BENCH_SITES) $(if $(BENCH_100K),-cold-sites 100000) -bin $(BIN) -kustomize $(KUSTOMIZE)

$(KUSTOMIZE):
	GOBIN=$(dir $@) $(GO) install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)

## accept: the acceptance test of the per-site layout (test/accept) at
## ACCEPT_SITES sites (default 10000), both engines: size bounds, site-free
## files the same bytes as at 12 sites, one site's edit touching only its
## files, a clean git merge of two branches adding neighbouring sites
ACCEPT_SITES ?= 10000
accept:
	FLEETGEN_ACCEPT_SITES=$(ACCEPT_SITES) $(GO) test -count=1 -v -timeout 4h -run '^TestFleetScale$$' ./test/accept/

## lint: gofmt, go vet, staticcheck, and deadcode: no function unreachable
## from main and the tests, and no production function only tests call
lint: tools
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...
	@out=$$($(DEADCODE) -test ./...); if [ -n "$$out" ]; then echo "deadcode: unreachable functions:"; echo "$$out"; exit 1; fi
	@out=$$($(DEADCODE) ./...); \
	if [ -n "$$out" ]; then echo "deadcode: production functions only tests call (move them into a _test.go file):"; echo "$$out"; exit 1; fi

## tools: install the pinned linters into bin/tools
tools: $(STATICCHECK) $(DEADCODE)

$(STATICCHECK):
	GOBIN=$(dir $@) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

$(DEADCODE):
	GOBIN=$(dir $@) $(GO) install golang.org/x/tools/cmd/deadcode@$(DEADCODE_VERSION)

## verify: the same as test (kept for scripts that call it)
verify: test

## golden: rewrite every golden file and expected output from the code
## (review the diff before committing)
golden:
	$(GO) test -count=1 $(GOLDEN_PKGS) -update

## demo: build, then generate and verify a demo fleet from the embedded sample inventory
demo: build
	$(BIN) generate --sample -o $(DEMO_DIR)
	$(BIN) verify $(DEMO_DIR)

## docs: regenerate the command reference (docs/reference) and the inventory schema (docs/inventory.schema.json)
docs:
	$(GO) run ./cmd/fleetgen docs docs/reference
	$(GO) test ./pkg/jsonschema -run TestGolden -update

## clean: remove every build output (bin/ with the linters, the demo fleet,
## root binaries, benchmark scratch)
clean:
	rm -rf bin $(DEMO_DIR) .bench fleetgen fleetbench dist
