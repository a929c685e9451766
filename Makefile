# The two commands of the README: `make run` and `make test`.
BUILD_DIR ?= build
JOBS ?= 2

.PHONY: all deps configure build run test bench crash-trials clean

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

bench: build
	./bench/run.sh

# SIGKILL trials under concurrent transactions, writes, flushes, compactions and DDL.
TRIALS ?= 100
crash-trials: build
	KALAM_CRASH_TRIALS=$(TRIALS) ./$(BUILD_DIR)/integration_tests --gtest_filter='CrashTrials.*'

clean:
	rm -rf $(BUILD_DIR)
