# The two commands: `make run` and `make test`. Everything else is a step of those.
BUILD_TEST    ?= build/test
BUILD_RELEASE ?= build/release
BUILD_FUZZ    ?= build/fuzz
FUZZ_SECONDS  ?= 15
JOBS          ?= $(shell nproc)
CMAKE_COMMON  := -G Ninja -DCMAKE_EXPORT_COMPILE_COMMANDS=ON
# ccache keys relative to the checkout, so another clone of the repo (CI's) reuses the cache.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1

.PHONY: all deps deps-build deps-run deps-bench release test-build test run bench format clean \
	fuzz-build fuzz images

all: release

# scripts/install-deps.sh says what each installs: `deps` everything the tests use, `deps-run`
# node >= 20 and the pinned agent CLIs (deploy/agents) for `make run`, `deps-build` the compilers
# and libraries only.
deps:
	@scripts/install-deps.sh test

deps-build:
	@scripts/install-deps.sh build

deps-run:
	@scripts/install-deps.sh run

deps-bench:
	@scripts/install-deps.sh bench

# Release build of the outpost binary only (no tests).
release: deps-build
	@cmake -S . -B $(BUILD_RELEASE) $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=Release -DOUTPOST_TESTS=OFF >/dev/null
	@cmake --build $(BUILD_RELEASE) --target outpost -j $(JOBS)

# The container images of images/ (README "Container images") with the Release outpost, against
# the Docker daemon of DOCKER_HOST; BASE_IMAGE=local builds from a local Debian rootfs
# (debootstrap) where no registry is reachable. aider is skipped by name (PyPI).
images: release
	@OUTPOST_BIN=$(BUILD_RELEASE)/src/app/outpost $(if $(BASE_IMAGE),BASE_IMAGE=$(BASE_IMAGE)) \
	  scripts/build-images.sh

# Starts the control plane on 127.0.0.1:8080 with data in ./.outpost (embedded defaults), with
# claude, codex and gemini installed where the default config finds them.
run: deps-run release
	exec $(BUILD_RELEASE)/src/app/outpost serve

# Debug + ASan/UBSan build of everything, then every test through CTest. The preflight stops
# before the build when a tool the tests use is missing, naming it.
test-build: deps
	@scripts/test-preflight.sh
	@cmake -S . -B $(BUILD_TEST) $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=Debug -DOUTPOST_SANITIZE=ON >/dev/null
	@cmake --build $(BUILD_TEST) -j $(JOBS)

# The dependency check (scripts/check-deps.sh: every #include against scripts/deps.rules), ctest,
# the fuzzers and the skip report all run whatever the others did; the report
# (scripts/test-report.sh) ends the output: skipped tests by name, failing on any skip that is
# not on tests/skip-allowlist.txt.
test: test-build fuzz-build
	@rm -rf $(BUILD_TEST)/test-results
	@failed=""; \
	scripts/check-deps.sh || failed="$$failed deps"; \
	(cd $(BUILD_TEST) && ctest --output-on-failure --no-tests=error -j $(JOBS) --timeout 600) || failed="$$failed ctest"; \
	fuzz/run.sh $(BUILD_FUZZ) $(FUZZ_SECONDS) || failed="$$failed fuzz"; \
	scripts/test-report.sh --complete $(BUILD_TEST)/test-results || failed="$$failed skip-report"; \
	if [ -n "$$failed" ]; then echo "make test: FAILED:$$failed" >&2; exit 1; fi

# The libFuzzer targets of fuzz/ (clang, ASan + UBSan), only they and the libraries they link.
fuzz-build: deps
	@cmake -S . -B $(BUILD_FUZZ) $(CMAKE_COMMON) -DCMAKE_CXX_COMPILER=/usr/bin/clang++ \
	  -DCMAKE_BUILD_TYPE= "-DCMAKE_CXX_FLAGS=-O1 -gline-tables-only" -DOUTPOST_FUZZ=ON \
	  -DOUTPOST_TESTS=OFF >/dev/null
	@cmake --build $(BUILD_FUZZ) --target fuzzers -j $(JOBS)

# Every target for FUZZ_SECONDS (make fuzz FUZZ_SECONDS=600 for a longer run).
fuzz: fuzz-build
	@fuzz/run.sh $(BUILD_FUZZ) $(FUZZ_SECONDS)

# Benchmarks (not part of CI): figures go to docs/BENCHMARKS.md.
bench: deps-bench
	@cmake -S . -B $(BUILD_RELEASE) $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=Release -DOUTPOST_TESTS=OFF -DOUTPOST_BENCH=ON >/dev/null
	@cmake --build $(BUILD_RELEASE) --target outpost sandbox_latency ecs_bench $(if $(BENCH_ONLY),,minimal_beast_server dispatch_latency event_stream dispatch_throughput balancer_bench) -j $(JOBS)
	@BENCH_ONLY=$(BENCH_ONLY) bench/run.sh $(BUILD_RELEASE)

format:
	@find src tests bench fuzz -name '*.cc' -o -name '*.h' | xargs clang-format -i

clean:
	rm -rf build
