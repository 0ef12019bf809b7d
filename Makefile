# Ranker — build, test and run. `make run` and `make test` do all the set-up
# on a fresh Debian machine with Swift installed.

SWIFT        ?= swift
DEB_PACKAGES := libopenblas-dev liblapacke-dev pkg-config zlib1g-dev
# Release build with testing enabled: numeric tests run at full speed and
# `@testable import` still works.
TEST_FLAGS   := -c release -Xswiftc -enable-testing

.PHONY: all deps build test goldens run clean

all: build

## deps: install the Debian packages Ranker links (OpenBLAS, LAPACKE, pkg-config) when missing.
deps:
	@missing=""; \
	for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    echo "installing:$$missing"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get install -y --no-install-recommends $$missing >/dev/null 2>&1 || \
	    { apt-get update -qq && apt-get install -y --no-install-recommends $$missing; } || exit 1; \
	  else \
	    echo "missing Debian packages:$$missing"; \
	    echo "run: sudo apt-get update && sudo apt-get install -y$$missing"; \
	    exit 1; \
	  fi; \
	fi

## build: release build of the library, the `ranker` command and the examples.
build: deps
	$(SWIFT) build -c release

## test: every test (unit, gradient checks, goldens, end-to-end), release mode.
test: deps
	$(SWIFT) build --build-tests $(TEST_FLAGS)
	$(SWIFT) test --skip-build $(TEST_FLAGS)

## goldens: only the golden runner (RANKER_GOLDENS=dir to check other case files).
goldens: deps
	$(SWIFT) build --build-tests $(TEST_FLAGS)
	$(SWIFT) test --skip-build $(TEST_FLAGS) --filter GoldenRunnerTests

## run: the main job on the embedded default data.
run: deps
	$(SWIFT) run -c release ranker --help

clean:
	rm -rf .build
