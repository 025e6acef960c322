# Vigil's build and checks. `make test` is what CI runs (.ci/run).
#
#   make deps            install build and test dependencies (scripts/deps.sh all)
#   make build           bin/vigil, the full build with the Fyne app (cgo)
#   make build-headless  bin/vigil-headless: CGO_ENABLED=0, -tags headless (relays, servers)
#   make test            deps, gofmt, vet, race tests of the core packages, the other packages'
#                        tests, every fuzz target for FUZZTIME, each benchmark once
#   make bench           the benchmark suite: a table, bench/results.json, profiles (bench/README.md)
#   make bench-quick     every suite measurement once at tiny sizes (part of make test)
#   make run             build and start Vigil as a new user would (scripts/run.sh)
#   make fmt             gofmt -w the tree
#   make clean           remove build and test outputs
#
# Knobs: FUZZTIME=3s (per fuzz target; make fuzz FUZZTIME=1m for a longer run), SKIP_BENCH=1 (skip the benchmark
# smoke run in `make test`), SKIP_DEPS=1 (do not run scripts/deps.sh).

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := build

GO ?= go
override GOFLAGS := $(strip $(filter-out -buildvcs=%,$(GOFLAGS)) -buildvcs=false)
export GOFLAGS
export LANG := en_US.UTF-8

FUZZTIME ?= 3s
# Which packages `make fuzz` fuzzes (all by default). `make test` fuzzes the
# core ones: an instrumented build of the packages that link Fyne (cmd/vigil,
# app) costs minutes on 2 cores; their targets' seed inputs still run as
# tests in every `make test`, and `make fuzz` fuzzes them too.
FUZZPKGS ?= ./...
FUZZ_CORE = ./incident/... ./node/... ./sync/...
TEST_TIMEOUT ?= 15m

# Packages run under the race detector. Computed when used, through go list,
# so a layer that has no package yet simply is not in the list.
CORE_PKGS = $(shell $(GO) list ./incident/... ./node/... ./sync/... 2>/dev/null | grep -v /incident/demo)

# Every .go file that gofmt should keep tidy (testdata may hold deliberately
# odd sources; bin and .git are not ours).
GOFILES_CMD := find . -name '*.go' -not -path './.git/*' -not -path './bin/*' -not -path '*/testdata/*' -print0

.PHONY: check-mobile all deps build build-headless test test-deps fmt-check vet test-race test-all fuzz bench-smoke bench bench-quick bench-go run fmt clean

all: build

deps:
	bash scripts/deps.sh all
	$(GO) -C bench/negentropy mod download

build:
	@mkdir -p bin
	$(GO) build -o bin/vigil ./cmd/vigil

build-headless:
	@mkdir -p bin
	CGO_ENABLED=0 $(GO) build -tags headless -o bin/vigil-headless ./cmd/vigil

# Phones: the non-GUI packages cross-compile for Android (go-libp2p's
# Android interface listing needs -checklinkname=0 with this Go), and the
# app builds with Fyne's mobile layout (-tags mobile, simulated on desktop).
check-mobile:
	GOOS=android GOARCH=arm64 CGO_ENABLED=0 $(GO) build -ldflags=-checklinkname=0 ./incident/... ./node/... ./sync/... ./mobile/...
	$(GO) build -tags mobile -o /dev/null ./cmd/vigil

# Each step is its own target, so one can be run alone (make fuzz FUZZTIME=1m);
# `test` runs them in order even under make -j.
test:
	@$(MAKE) --no-print-directory test-deps
	@$(MAKE) --no-print-directory fmt-check
	@$(MAKE) --no-print-directory vet
	@$(MAKE) --no-print-directory test-race
	@$(MAKE) --no-print-directory test-all
	@$(MAKE) --no-print-directory fuzz FUZZPKGS="$(FUZZ_CORE)"
	@$(MAKE) --no-print-directory bench-smoke
	@echo "==> make test: PASS: gofmt, go vet, race tests ($(words $(CORE_PKGS)) core package(s)), the other packages' tests, fuzz ($(FUZZTIME) per target), benchmarks $(if $(filter 1,$(SKIP_BENCH)),skipped (SKIP_BENCH=1),run once)"

test-deps:
ifeq ($(SKIP_DEPS),1)
	@echo "==> deps: skipped (SKIP_DEPS=1)"
else
	@echo "==> deps (core, netns, gui, tools)"
	bash scripts/deps.sh core netns gui tools
endif

fmt-check:
	@echo "==> gofmt -l"
	@bad=$$($(GOFILES_CMD) | xargs -0 -r gofmt -l); \
	if [ -n "$$bad" ]; then \
		echo "gofmt: these files are not formatted (run make fmt):"; \
		echo "$$bad"; \
		exit 1; \
	fi

vet:
	@echo "==> go vet ./..."
	$(GO) vet ./...
	$(GO) -C bench/negentropy vet ./...
	$(GO) -C internal/localeenv vet ./...

test-race:
	@echo "==> go test -race (core packages)"
	@pkgs="$(CORE_PKGS)"; \
	if [ -z "$$pkgs" ]; then \
		echo "no core packages (incident, node, sync) yet; skipping"; \
	else \
		$(GO) test -race -timeout $(TEST_TIMEOUT) $$pkgs; \
	fi

# The core packages' tests ran under the race detector just before (the
# same tests, slower): they are not run a second time without it.
test-all:
	@echo "==> go test ./... (but the core packages: their tests ran under -race)"
	@pkgs=$$($(GO) list ./... | grep -vxF -f <(tr ' ' '\n' <<< "$(CORE_PKGS)")); \
	echo "$(GO) test -timeout $(TEST_TIMEOUT) $$(wc -w <<< "$$pkgs") package(s)"; \
	$(GO) test -timeout $(TEST_TIMEOUT) $$pkgs
	$(GO) -C bench/negentropy test ./...
	$(GO) -C internal/localeenv test ./...

# Fuzz targets are found, not listed: every package whose tests declare a
# Fuzz function is asked for its targets with go test -list, and each target
# runs alone, since go test -fuzz takes one target per run.
fuzz:
	@echo "==> fuzz ($(FUZZTIME) per target)"
	@pkgs=$$($(GO) list -f '{{.ImportPath}} {{.Dir}}' $(FUZZPKGS)); \
	n=0; \
	while read -r pkg dir; do \
		grep -qs '^func Fuzz' "$$dir"/*_test.go || continue; \
		listed=$$($(GO) test -list '^Fuzz' "$$pkg"); \
		for t in $$(printf '%s\n' "$$listed" | grep -E '^Fuzz[[:alnum:]_]*$$' || true); do \
			echo "--- $$pkg $$t"; \
			log=$$(mktemp); \
			if ! $(GO) test -run='^$$' -fuzz="^$$t\$$" -fuzztime=$(FUZZTIME) "$$pkg" >"$$log" 2>&1; then \
				cat "$$log"; \
				if grep -q 'context deadline exceeded' "$$log" && ! grep -q 'Failing input written' "$$log"; then \
					echo "(the fuzzing engine timed out winding down, a known go test -fuzz flake on a busy machine; once more)"; \
					$(GO) test -run='^$$' -fuzz="^$$t\$$" -fuzztime=$(FUZZTIME) "$$pkg" || { rm -f "$$log"; exit 1; }; \
				else rm -f "$$log"; exit 1; fi; \
			else tail -1 "$$log"; fi; \
			rm -f "$$log"; \
			n=$$((n+1)); \
		done; \
	done <<< "$$pkgs"; \
	echo "fuzzed $$n target(s)"

bench-smoke:
ifeq ($(SKIP_BENCH),1)
	@echo "==> benchmarks: skipped (SKIP_BENCH=1)"
else
	@echo "==> benchmarks, once each"
	$(GO) test -run='^$$' -bench=. -benchtime=1x -timeout $(TEST_TIMEOUT) ./...
	@$(MAKE) --no-print-directory bench-quick
endif

# The benchmark suite (bench/README.md): a table, bench/results.json and CPU
# profiles in bench/*.prof. On 2 cores about 5 minutes, and 40-90 more for the
# scale group's million records through a phone (bench/README.md).
bench:
	$(GO) run ./bench/cmd/vigil-bench -cpuprofile bench -out bench/results.json

# Every suite measurement once at tiny sizes (make test runs it).
bench-quick:
	$(GO) run ./bench/cmd/vigil-bench -quick -out bench/results-quick.json

# The per-package Go micro-benchmarks.
bench-go:
	$(GO) test -run='^$$' -bench=. -benchmem ./...

run:
	bash scripts/run.sh

fmt:
	@$(GOFILES_CMD) | xargs -0 -r gofmt -w

clean:
	rm -rf bin
	rm -f bench/results-quick.json
	find . \( -name '*.test' -o -name '*.out' -o -name '*.coverprofile' -o -name 'coverage.html' \) -not -path './.git/*' -not -path '*/testdata/*' -type f -delete
	rm -f bench/*.prof
