# A thin wrapper over CMake (see CMakeLists.txt for the options). Each target first makes sure the
# Debian packages it needs are present (scripts/deps.sh installs missing ones when run as root).
#
#   make demo            build and run examples/seed_demo
#   make check           build in build/ and run the test suite
#   make check-epoll     make check, then the suite again with CORIO_BACKEND=epoll for the tests
#                        that do not choose a backend themselves
#   make check-asan      the same with AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/)
#   make check-tsan      ThreadSanitizer (build-tsan/): tests/standalone_*.c and the examples only,
#                        since Criterion cannot start under TSan
#   make check-ucontext  the same with the portable ucontext switch (build-ucontext/)
#   make check-aarch64   the aarch64 build under qemu-user (build-aarch64/)
#   make valgrind        every test executable under memcheck, leaks included (build-valgrind/)
#   make coverage        line coverage of the test suite (build-coverage/, gcovr)
#   make bench           bench/run.sh on a Release build in build-bench/ (it builds what it runs)
#   make bench-net       bench/net/run.sh, the network benchmarks, the same way
#   make fuzz            the libFuzzer targets fuzz/*.c (clang, ASan+UBSan, build-fuzz/), each
#                        for FUZZ_SECONDS (default 60) on a copy of fuzz/corpus/<target>/
#   make install         build the library alone (build-install/) and install it into PREFIX
#                        (default /usr/local; DESTDIR is honoured)
#   make clean           remove every build directory
#
# Variables: WERROR=ON (CI), JOBS, CTEST_JOBS, PREFIX, CMAKE_FLAGS (extra -D options),
# FUZZ_SECONDS.

JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CTEST_JOBS ?= 2
WERROR     ?= OFF
PREFIX     ?= /usr/local
CMAKE      ?= cmake
CTEST      ?= ctest
CMAKE_FLAGS ?=
FUZZ_SECONDS ?= 60
DEPS       := bash scripts/deps.sh

MAKEFLAGS  += --no-print-directory

# Sanitizer and Valgrind builds keep asserts on (Debug) but optimise a little, so that deep
# recursion tests and stack sizes behave as in the plain build.
CHECKED_BUILD := -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_C_FLAGS_DEBUG=-O1 -g"

# $(call build,DIR,CMAKE OPTIONS[,TARGET]): configure DIR and build TARGET (default: all).
define build
	$(CMAKE) -S . -B $(1) -DCORIO_WERROR=$(WERROR) $(2) $(CMAKE_FLAGS)
	$(CMAKE) --build $(1) -j $(JOBS) $(if $(3),--target $(3))
endef

define ctest
	$(CTEST) --test-dir $(1) --output-on-failure -j $(CTEST_JOBS)
endef

.PHONY: all demo check check-epoll check-asan check-tsan check-ucontext check-aarch64 valgrind coverage fuzz bench bench-net install clean

all:
	@$(DEPS) demo
	$(call build,build)

demo:
	@$(DEPS) demo
	@test -f examples/seed_demo.c || { echo "corio: examples/seed_demo.c does not exist yet" >&2; exit 1; }
	$(call build,build,,seed_demo)
	./build/examples/seed_demo

check:
	@$(DEPS) check
	$(call build,build,-DCORIO_BUILD_TESTS=ON)
	$(call ctest,build)

check-asan:
	@$(DEPS) check
	$(call build,build-asan,-DCORIO_BUILD_TESTS=ON -DCORIO_SANITIZE=address$(,)undefined -DCORIO_STRESS_SCALE=0.2 $(CHECKED_BUILD))
	$(call ctest,build-asan)

check-tsan:
	@$(DEPS) check
	$(call build,build-tsan,-DCORIO_BUILD_TESTS=ON -DCORIO_SANITIZE=thread $(CHECKED_BUILD))
	CORIO_BACKEND=epoll $(call ctest,build-tsan)
	CORIO_BACKEND=io_uring $(call ctest,build-tsan)

# The tests that do no I/O of their own (the executor's wake-ups, the core) on the epoll backend
# too: ctest runs them on the default backend (io_uring where the kernel allows it), and the I/O
# tests on each backend already. Tests that name their backend (NAME_epoll, NAME_io_uring,
# NAME_sigchld, the TLS relay's NAME_tls) and the checks of the sources and headers would only
# repeat themselves: left out.
PINNED_TESTS := _(epoll|io_uring|sigchld|tls)$$|^check_|^install_check$$
check-epoll: check
	CORIO_BACKEND=epoll $(call ctest,build) -E '$(PINNED_TESTS)'


# The switch is the same under every backend: the I/O tests run on the default one only.
check-ucontext:
	@$(DEPS) check
	$(call build,build-ucontext,-DCORIO_BUILD_TESTS=ON -DCORIO_CONTEXT=ucontext -DCORIO_STRESS_SCALE=0.2 -DCORIO_TEST_BACKENDS=default)
	$(call ctest,build-ucontext)

# The aarch64 build under qemu-user, with Debian's arm64 Criterion unpacked into a private sysroot.
check-aarch64:
	@$(DEPS) aarch64
	bash scripts/aarch64-sysroot.sh build-aarch64-sysroot
	$(call build,build-aarch64,-DCORIO_BUILD_TESTS=ON -DCORIO_BUILD_BENCH=OFF -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake -DCORIO_AARCH64_SYSROOT=$(CURDIR)/build-aarch64-sysroot/root)
	$(call ctest,build-aarch64)

# Pools off, so that every object is its own allocation and a leaked one shows up.
valgrind:
	@$(DEPS) valgrind
	$(call build,build-valgrind,-DCORIO_BUILD_TESTS=ON -DCORIO_POOL=OFF -DCORIO_BUILD_BENCH=OFF $(CHECKED_BUILD))
	bash scripts/valgrind.sh build-valgrind

coverage:
	@$(DEPS) coverage
	$(call build,build-coverage,-DCORIO_BUILD_TESTS=ON -DCORIO_COVERAGE=ON -DCORIO_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=Debug)
	find build-coverage -name '*.gcda' -delete
	$(call ctest,build-coverage)
	mkdir -p build-coverage/html
	gcovr --root . --filter src/ --object-directory build-coverage \
	      --html-details build-coverage/html/index.html --print-summary
	@echo "corio: coverage report in build-coverage/html/index.html"

# Only the library and the targets: the sanitizers as check-asan, plus libFuzzer's coverage
# hooks in the library (fuzz/README.md).
fuzz:
	@$(DEPS) fuzz
	$(call build,build-fuzz,-DCMAKE_C_COMPILER=clang -DCORIO_FUZZ=ON -DCORIO_SANITIZE=address$(,)undefined -DCORIO_BUILD_TESTS=OFF -DCORIO_BUILD_EXAMPLES=OFF -DCORIO_BUILD_BENCH=OFF $(CHECKED_BUILD))
	bash scripts/fuzz.sh build-fuzz $(FUZZ_SECONDS)

bench:
	@$(DEPS) bench
	$(CMAKE) -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DCORIO_BUILD_TESTS=OFF $(CMAKE_FLAGS)
	BENCH_BUILD_DIR=build-bench bash bench/run.sh

bench-net:
	@$(DEPS) bench
	$(CMAKE) -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DCORIO_BUILD_TESTS=OFF $(CMAKE_FLAGS)
	BENCH_BUILD_DIR=build-bench bash bench/net/run.sh

# The library alone (no tests, examples or benchmarks), optimised, in its own build directory.
install:
	@$(DEPS) install
	$(call build,build-install,-DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=$(PREFIX) -DCORIO_BUILD_TESTS=OFF -DCORIO_BUILD_EXAMPLES=OFF -DCORIO_BUILD_BENCH=OFF)
	DESTDIR=$(DESTDIR) $(CMAKE) --install build-install

clean:
	rm -rf build build-install build-asan build-tsan build-ucontext build-aarch64 build-aarch64-sysroot \
	       build-valgrind build-coverage build-bench build-fuzz

# A comma inside $(call ...) arguments.
, := ,
