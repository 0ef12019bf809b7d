# Ranker — build, test and run. `make run` and `make test` do all the set-up
# on a fresh Debian machine with Swift installed.

SWIFT        ?= swift
DEB_PACKAGES := libopenblas-dev liblapacke-dev pkg-config zlib1g-dev libopenmpi-dev openmpi-bin
# Tools the tests run (headless Chromium renders report.html); `make test` installs them.
TEST_DEB_PACKAGES := chromium
# Release build with testing enabled: numeric tests run at full speed and
# `@testable import` still works.
TEST_FLAGS   := -c release -Xswiftc -enable-testing

.PHONY: all deps build test onnx-venv onnx-proto faults goldens run run-distributed data clean fuzz fuzz-build fuzz-seeds sanitize sanitize-asan sanitize-tsan help

all: build

## deps: install the Debian packages Ranker links (OpenBLAS, LAPACKE, pkg-config, zlib, Open MPI) when missing.
deps:
	@missing=""; \
	for p in $(DEB_PACKAGES) $(EXTRA_DEB_PACKAGES); do \
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
## The command-line tests run .build/release/ranker and the examples (their --help),
## built here with the same flags.
EXECUTABLES  := ranker census-mmoe aliccp-esmm weighting stability ranker-fault-inject
test:
	$(MAKE) deps EXTRA_DEB_PACKAGES="$(TEST_DEB_PACKAGES)"
	$(MAKE) onnx-venv
	$(SWIFT) build --build-tests $(TEST_FLAGS)
	for product in $(EXECUTABLES); do $(SWIFT) build $(TEST_FLAGS) --product $$product || exit 1; done
	$(SWIFT) test --skip-build $(TEST_FLAGS)

## faults: the fault-injection scripts of faults/ at full counts against .build/release/ranker
## (kill -9 during checkpointing, disk full on a tmpfs, corrupted state files, NaN/inf input rows,
## NaN/inf in an input, a loss and a gradient inside a step through the test program
## ranker-fault-inject, kill -9 of one MPI rank); `make test` runs them with small counts
## (FaultScriptTests). FAULT_KILLS (default 100), FAULT_RANK_KILLS (10), FAULT_DISK_SIZES (8),
## FAULT_SEED (14), FAULT_WORKDIR (/tmp/ranker-faults). Mounting needs root.
FAULT_KILLS ?= 100
FAULT_RANK_KILLS ?= 10
faults: deps
	$(SWIFT) build $(TEST_FLAGS) --product ranker
	$(SWIFT) build $(TEST_FLAGS) --product ranker-fault-inject
	python3 faults/kill_resume.py --kills $(FAULT_KILLS)
	python3 faults/disk_full.py
	python3 faults/corrupt.py
	python3 faults/nan_input.py
	python3 faults/nan_step.py
	python3 faults/kill_rank.py --kills $(FAULT_RANK_KILLS)

## goldens: only the golden runner (RANKER_GOLDENS=dir to check other case files).
goldens: deps
	$(SWIFT) build --build-tests $(TEST_FLAGS)
	$(SWIFT) test --skip-build $(TEST_FLAGS) --filter GoldenRunnerTests

## run: the main job: MMoE on the embedded synthetic click log with Clippy Adagrad.
run: deps
	$(SWIFT) build -c release --product ranker
	.build/release/ranker train --config configs/mmoe-synthetic.json

## run-distributed: the main job on 2 ranks (data parallel over MPI; `ranker train --ranks 2`
## re-runs itself under mpirun with the flags a root container needs).
run-distributed: deps
	$(SWIFT) build -c release --product ranker
	.build/release/ranker train --config configs/mmoe-synthetic.json --ranks 2

## data: download census-income.test.gz from its UCI home into data/census-income/ and check its md5.
## (Only for machines without shared/data; the loader also looks in data/.)
CENSUS_DIR      := data/census-income
CENSUS_GZ       := $(CENSUS_DIR)/census-income.test.gz
CENSUS_TEXT     := $(CENSUS_DIR)/census-income.test
CENSUS_URL      := https://archive.ics.uci.edu/ml/machine-learning-databases/census-income-mld/census-income.test.gz
CENSUS_ZIP_URL  := https://archive.ics.uci.edu/static/public/117/census+income+kdd.zip
CENSUS_GZ_MD5   := a8c39dce642efb4d17f28ebe74a3c271
CENSUS_TEXT_MD5 := b82952d217858365c8e597827e3e5468
data:
	@set -u; mkdir -p $(CENSUS_DIR); \
	if [ -f $(CENSUS_GZ) ] && echo "$(CENSUS_GZ_MD5)  $(CENSUS_GZ)" | md5sum -c --status; then \
	  echo "$(CENSUS_GZ) is present and its md5 matches"; exit 0; fi; \
	if [ -f $(CENSUS_TEXT) ] && echo "$(CENSUS_TEXT_MD5)  $(CENSUS_TEXT)" | md5sum -c --status; then \
	  echo "$(CENSUS_TEXT) is present and its md5 matches"; exit 0; fi; \
	fetch() { if command -v curl >/dev/null 2>&1; then curl -fsSL --connect-timeout 20 --retry 2 -o "$$2" "$$1"; \
	          elif command -v wget >/dev/null 2>&1; then wget -q -T 20 -O "$$2" "$$1"; \
	          else echo "error: neither curl nor wget is installed" >&2; return 1; fi; }; \
	tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	echo "downloading $(CENSUS_URL)"; \
	if fetch "$(CENSUS_URL)" "$$tmp/census-income.test.gz"; then \
	  if echo "$(CENSUS_GZ_MD5)  $$tmp/census-income.test.gz" | md5sum -c --status; then \
	    mv "$$tmp/census-income.test.gz" $(CENSUS_GZ); echo "saved $(CENSUS_GZ) (md5 $(CENSUS_GZ_MD5))"; exit 0; fi; \
	  echo "error: the download's md5 is $$(md5sum < $$tmp/census-income.test.gz | cut -d' ' -f1), expected $(CENSUS_GZ_MD5); not saved" >&2; exit 1; \
	fi; \
	echo "that failed; trying the newer UCI archive $(CENSUS_ZIP_URL)"; \
	if fetch "$(CENSUS_ZIP_URL)" "$$tmp/census.zip"; then \
	  if ! (cd "$$tmp" && unzip -q -o census.zip && tar -xzf census.tar.gz --wildcards -O '*census-income.test' > census-income.test); then \
	    echo "error: $(CENSUS_ZIP_URL) did not contain census.tar.gz with census-income.test" >&2; exit 1; fi; \
	  if echo "$(CENSUS_TEXT_MD5)  $$tmp/census-income.test" | md5sum -c --status; then \
	    mv "$$tmp/census-income.test" $(CENSUS_TEXT); echo "saved $(CENSUS_TEXT) (md5 $(CENSUS_TEXT_MD5))"; exit 0; fi; \
	  echo "error: census-income.test from the archive has md5 $$(md5sum < $$tmp/census-income.test | cut -d' ' -f1), expected $(CENSUS_TEXT_MD5); not saved" >&2; exit 1; \
	fi; \
	echo "error: could not download census-income from UCI (no network, or the server is unreachable)." >&2; \
	echo "       Copy census-income.test.gz (md5 $(CENSUS_GZ_MD5)) into $(CENSUS_DIR)/ by hand," >&2; \
	echo "       or point RANKER_DATA at a folder that has census-income/census-income.test.gz." >&2; \
	exit 1

## bench: SGEMM peak and training throughput of W1-W3 (1 thread and all cores); with
## TORCH_PYTHON=/path/to/python (a venv with torch) the PyTorch reference runs beside it.
bench: deps
	$(SWIFT) build -c release --product ranker
	.build/release/ranker bench --json $(if $(TORCH_PYTHON),--torch-python $(TORCH_PYTHON))

## fuzz: build the libFuzzer targets (fuzz/harnesses/: csv, checkpoint, config, telemetry) into
## .build/fuzz/ and run each for FUZZ_SECONDS (default 60), one after the other. A crash,
## leak, timeout or OOM fails the run and leaves its reproducer in .build/fuzz/crashes/<target>/;
## logs in .build/fuzz/logs/. FUZZ_RUNS=N runs N executions per target instead;
## FUZZ_TARGETS="csv config" picks targets; FUZZ_FLAGS adds libFuzzer flags (-detect_leaks=0).
## See RELIABILITY.md, "Fuzzing".
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
fuzz: fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_FLAGS="$(FUZZ_FLAGS)" fuzz/run.sh $(FUZZ_TARGETS)

## fuzz-build: only the build (swiftc -sanitize=fuzzer,address -parse-as-library: the library,
## RankerReport and the harnesses as one module, linked with -lopenblas -llapacke -lz).
fuzz-build: deps
	fuzz/build.sh $(FUZZ_TARGETS)

## fuzz-seeds: regenerate fuzz/corpus/ (hand-made seeds and library-written checkpoints).
fuzz-seeds: fuzz-build
	fuzz/seeds.sh

## sanitize: the test suite under AddressSanitizer, then ThreadSanitizer, each in its own
## scratch path (.build-asan, .build-tsan), with the flags of `make test` (release with
## -enable-testing: debug builds of the numeric tests are too slow on small machines;
## SANITIZE_FLAGS="-c debug" for a debug build). The executables the tests start (ranker,
## the examples, ranker-fault-inject) are built with the same sanitizer and found through
## RANKER_BUILD_DIR, so they run sanitized too. Two passes: every test but those that
## start MPI ranks (SANITIZE_MPI_TESTS), then those, with Open MPI's own allocations
## suppressed (Tests/lsan-mpi.supp; LeakSanitizer needs full stacks there, so
## fast_unwind_on_malloc=0 and MCA plugins kept loaded). LeakSanitizer suppresses only the
## toolchain leaks of Tests/lsan.supp (see there and RELIABILITY.md, "Sanitizers"). The XCTest
## process itself skips LeakSanitizer's exit check (RANKER_TEST_PROCESS_LEAK_CHECK=0, read by
## Tests/CTestProcessLeakCheck: the runtime's weak-reference side tables make XCTest's own objects
## look leaked); every program the tests start keeps it, and ASan's memory checks stay on everywhere.
## UndefinedBehaviorSanitizer is not available for Swift on Linux (swiftc has no
## -sanitize=undefined), so there is no UBSan run. SANITIZE_FILTER=Regex runs only the
## matching tests of the first pass; SANITIZE_MPI_TESTS= (empty) leaves out the second.
SANITIZE_FLAGS     ?= $(TEST_FLAGS)
SANITIZE_FILTER    ?=
SANITIZE_MPI_TESTS ?= DataParallelTrainingTests|BenchRanksTests|RankFailureTests|StabilityRanksTests|TwoHostTCPTests|FaultScriptTests.testKillNineOfOneMPIRank
sanitize: sanitize-asan sanitize-tsan

# $(call sanitized-tests,address|thread,scratch path,extra environment of the MPI pass)
define sanitized-tests
	$(MAKE) deps EXTRA_DEB_PACKAGES="$(TEST_DEB_PACKAGES)"
	$(MAKE) onnx-venv
	$(SWIFT) build --build-tests $(SANITIZE_FLAGS) --sanitize=$(1) --scratch-path $(2)
	for product in $(EXECUTABLES); do \
	  $(SWIFT) build $(SANITIZE_FLAGS) --sanitize=$(1) --scratch-path $(2) --product $$product || exit 1; done
	LSAN_OPTIONS="suppressions=$(CURDIR)/Tests/lsan.supp:print_suppressions=1" RANKER_BUILD_DIR=$(CURDIR)/$(2)/release \
	  RANKER_TEST_PROCESS_LEAK_CHECK=0 \
	  $(SWIFT) test --skip-build $(SANITIZE_FLAGS) --sanitize=$(1) --scratch-path $(2) \
	  $(if $(SANITIZE_FILTER),--filter '$(SANITIZE_FILTER)') $(if $(SANITIZE_MPI_TESTS),--skip '$(SANITIZE_MPI_TESTS)')
	$(if $(SANITIZE_MPI_TESTS),LSAN_OPTIONS="suppressions=$(CURDIR)/Tests/lsan-mpi.supp:print_suppressions=1" \
	  OMPI_MCA_mca_base_component_disable_dlclose=1 $(3) RANKER_BUILD_DIR=$(CURDIR)/$(2)/release RANKER_TEST_PROCESS_LEAK_CHECK=0 \
	  $(SWIFT) test --skip-build $(SANITIZE_FLAGS) --sanitize=$(1) --scratch-path $(2) --filter '$(SANITIZE_MPI_TESTS)')
endef

sanitize-asan:
	$(call sanitized-tests,address,.build-asan,ASAN_OPTIONS=fast_unwind_on_malloc=0)

sanitize-tsan:
	$(call sanitized-tests,thread,.build-tsan,)

## onnx-venv: the Python virtual environment of the ONNX export tests (.venv-onnx: onnx, onnxruntime,
## numpy at the versions of tools/onnx-requirements.txt), made once; `make test` runs it. The tests
## find it there (or at RANKER_ONNX_PYTHON); under CI=true a missing one fails them.
ONNX_VENV := .venv-onnx
onnx-venv: $(ONNX_VENV)/.installed
$(ONNX_VENV)/.installed: tools/onnx-requirements.txt
	@python3 -c 'import venv, ensurepip' 2>/dev/null || $(MAKE) deps EXTRA_DEB_PACKAGES="python3-venv"
	python3 -m venv $(ONNX_VENV)
	$(ONNX_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r tools/onnx-requirements.txt
	touch $@

## onnx-proto: regenerate Sources/RankerONNX/third_party/onnx/onnx.pb.swift from onnx.proto beside it with
## protoc (Debian protobuf-compiler) and protoc-gen-swift 1.39.0 built from swift-protobuf (see
## Sources/RankerONNX/third_party/onnx/README.md). Not part of the build: the generated file is committed.
PROTOC_GEN_SWIFT ?= $(shell command -v protoc-gen-swift)
onnx-proto:
	@test -n "$(PROTOC_GEN_SWIFT)" || { echo "set PROTOC_GEN_SWIFT=/path/to/protoc-gen-swift (see Sources/RankerONNX/third_party/onnx/README.md)"; exit 1; }
	$(MAKE) deps EXTRA_DEB_PACKAGES="protobuf-compiler"
	protoc --plugin=protoc-gen-swift=$(PROTOC_GEN_SWIFT) --swift_opt=Visibility=Public \
	  --proto_path=Sources/RankerONNX/third_party/onnx --swift_out=Sources/RankerONNX/third_party/onnx onnx.proto

clean:
	rm -rf .build .build-asan .build-tsan

## help: the targets and their notes (these ## lines).
help:
	@grep -E '^## ' $(firstword $(MAKEFILE_LIST)) | sed 's/^## //'
