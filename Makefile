# fleetgen — see README.md. Every target works on a fresh machine with Go.
GO       ?= go
BIN      ?= bin/fleetgen
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X github.com/fleetgen/fleetgen/pkg/cli.version=$(VERSION)
DEMO_DIR ?= demo-fleet

.PHONY: all build test test-race fuzz bench lint verify demo docs clean

all: build

## build: the fleetgen binary, reproducibly (-trimpath, version from git)
build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/fleetgen

## install: fleetgen into $(go env GOBIN), else $(go env GOPATH)/bin, built as by build
.PHONY: install
install:
	$(GO) install -trimpath -ldflags '$(LDFLAGS)' ./cmd/fleetgen

## test: the whole suite: vet, unit, golden, CLI scripts, fuzz seed corpora
test:
	$(GO) vet ./...
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
	$(GO) test -run='^$$' -fuzz=FuzzSealUnmarshal -fuzztime=$(FUZZTIME) ./pkg/tree/
	$(GO) test -run='^$$' -fuzz=FuzzListDecode -fuzztime=$(FUZZTIME) ./pkg/index/
	$(GO) test -run='^$$' -fuzz=FuzzStatCacheUnmarshal -fuzztime=$(FUZZTIME) ./pkg/tree/
	$(GO) test -run='^$$' -fuzz=FuzzParseJournal -fuzztime=$(FUZZTIME) ./pkg/tree/

## bench: render and verify benchmarks, then the fleet benchmark (cmd/fleetbench):
## generate cold, check right after / 2 s later / sealed, one-site edit then
## generate and check, component and base edits, kubectl kustomize per overlay, on a synthetic fleet of BENCH_SITES sites (default 1000;
## BENCH_SITES=10000 make bench for the large fleet)
BENCH_SITES ?= 1000
bench: build
	$(GO) test -run='^$$' -bench=. -benchmem ./pkg/pipeline/
	$(GO) test -run='^$$' -bench='EngineRender1000' -benchmem ./pkg/render/
	$(GO) test -run='^$$' -bench=. -benchmem ./pkg/tree/ ./pkg/treefs/
	$(GO) run ./cmd/fleetbench -sites $(BENCH_SITES) -bin $(BIN)

## lint: formatting and vet
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

## verify: lint and test, what CI runs
verify: lint test

## demo: build, then generate and verify a demo fleet from the embedded sample inventory
demo: build
	$(BIN) generate --sample -o $(DEMO_DIR)
	$(BIN) verify $(DEMO_DIR)

## docs: regenerate the command reference (docs/reference) and the inventory schema (docs/inventory.schema.json)
docs:
	$(GO) run ./cmd/fleetgen docs docs/reference
	$(GO) test ./pkg/jsonschema -run TestGolden -update

clean:
	rm -rf bin $(DEMO_DIR)
