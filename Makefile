# The two commands of the README: `make run` and `make test`.
BUILD_DIR ?= build
JOBS ?= 2

.PHONY: all deps configure build run test test-sanitize test-tsan bench crash-trials fuzz cluster-demo cluster-test cluster-trials clean

all: build

deps:
	./scripts/install-deps.sh

configure: deps
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	./$(BUILD_DIR)/kalamdb-server $(ARGS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

# The C++ unit tests and the integration suite (the real server included) built with
# AddressSanitizer and UndefinedBehaviorSanitizer, in build-asan: our code only (DuckDB and
# RocksDB are prebuilt). The first finding stops its process and fails its test. Several
# times slower than `make test`, so not part of it: run it before resolving an issue.
# alloc_dealloc_mismatch=0: common/allocation_limit.cpp's operator new allocates with
# malloc, which the library's operator delete frees with free. Warnings stay warnings: GCC
# warns falsely about instrumented code (array bounds in Boost.JSON).
SANITIZE ?= address,undefined
SANITIZE_ENV = ASAN_OPTIONS=alloc_dealloc_mismatch=0:detect_leaks=0:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
test-sanitize:
	cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKALAM_SANITIZE=$(SANITIZE) \
	  -DKALAMDB_WERROR=OFF
	cmake --build build-asan -j $(JOBS)
	cd build-asan && $(SANITIZE_ENV) ctest --output-on-failure -j $(JOBS) -R '^(unit_|integration$$)'

# ThreadSanitizer over the unit tests and the concurrency-heavy integration tests (group
# commit, the live hub and WebSocket delivery, flush and compaction, transactions), in
# build-tsan. Reports go to build-tsan/tsan-report.*; scripts/tsan_races.py then fails the
# run on any race whose two accesses both start in our code. DuckDB and RocksDB are not
# instrumented, so their own hand-overs between threads (atomics ThreadSanitizer cannot
# see) show as races with one access inside them: counted and listed, not failures.
TSAN_TESTS = ^(unit_|integration_tsan$$)
TSAN_ENV = TSAN_OPTIONS=halt_on_error=0:exitcode=0:second_deadlock_stack=1:history_size=4:suppressions=$(CURDIR)/tsan.supp:log_path=$(CURDIR)/build-tsan/tsan-report
test-tsan:
	cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKALAM_SANITIZE=thread \
	  -DKALAMDB_WERROR=OFF
	cmake --build build-tsan -j $(JOBS)
	rm -f build-tsan/tsan-report.*
	cd build-tsan && $(TSAN_ENV) ctest --output-on-failure -j $(JOBS) -R '$(TSAN_TESTS)'
	python3 scripts/tsan_races.py build-tsan/tsan-report.*

bench: build
	./bench/run.sh

# SIGKILL trials under concurrent transactions, writes, flushes, compactions and DDL.
TRIALS ?= 100
crash-trials: build
	KALAM_CRASH_TRIALS=$(TRIALS) ./$(BUILD_DIR)/integration_tests --gtest_filter='CrashTrials.*'

# Coverage-guided fuzzing of what clients send (fuzz/CMakeLists.txt), a clang build of its
# own in build-fuzz; each target runs FUZZ_SECONDS and keeps its corpus there. A finding
# stops with the crashing input saved as build-fuzz/crash-*. (`make test` runs each target
# briefly from its seeds: the ctest fuzz_brief.)
FUZZ_SECONDS ?= 60
fuzz: deps
	JOBS=$(JOBS) ./scripts/fuzz.sh build-fuzz $(FUZZ_SECONDS) build-fuzz/corpus

# A local three-node cluster with its etcd, for trying cluster mode (scripts/cluster-demo.sh).
cluster-demo: build
	./scripts/cluster-demo.sh $(BUILD_DIR)

# The cluster-mode tests alone: the etcd client against a real etcd, and real nodes with a
# three-member etcd (also part of `make test`).
cluster-test: build
	./$(BUILD_DIR)/unit_cluster && ./$(BUILD_DIR)/integration_tests --gtest_filter='Cluster*'

# The cluster's failure trials, TRIALS of each (tests/integration/cluster_trials_test.cpp):
# SIGKILL of a busy shard's leader, and its link cut (network namespaces: run as root).
# `make test` and `make cluster-test` run two of each.
cluster-trials: build
	KALAM_CLUSTER_TRIALS=$(TRIALS) ./$(BUILD_DIR)/integration_tests --gtest_filter='ClusterTrials.*'

clean:
	rm -rf $(BUILD_DIR) build-fuzz build-asan build-tsan
