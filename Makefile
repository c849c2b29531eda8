# malloclab: the two commands of the README, and the rest.
#   make run     build, then replay the default trace suite and print the scores,
#                then the multi-threaded suite (traces/mt/)
#   make test    every test; the last line is `N passed, N failed`
#   make bench   benchmarks (figures recorded in docs/)
#   make traces  regenerate the generated traces from their seeds
#   make format  clang-format the kit's C sources
#   make handout build/malloclab-handout.tar.gz, the student handout (docs/grading.md)
PYTHON ?= python3

all:
	@tools/setup.sh
	$(MAKE) -C malloc

# Then the multi-threaded suite (traces/mt/). The plain mm.c is not thread
# safe: it replays those traces on one thread, in file order (--serial).
# An allocator that is (mm.c's arena build: make -C malloc -B OUT=...
# EXTRA_CFLAGS=-DMM_ARENAS) replays them with ./mdriver -t ../traces/mt.
run: all
	cd malloc && ./mdriver
	@echo; echo "The multi-threaded suite (traces/mt/), on one thread (--serial: mm.c is not thread safe):"
	cd malloc && ./mdriver -t ../traces/mt --serial

# Each area adds its test prerequisites to TEST_DEPS and benchmarks to BENCHES.
TEST_DEPS :=
BENCHES :=
-include mk/*.mk

# The test programs build in parallel (one job per core): they are
# independent, each written by one rule.
TEST_JOBS ?= $(shell nproc 2>/dev/null || echo 1)

test:
	@tools/setup.sh --test
	$(MAKE) -C malloc
	$(MAKE) -j$(TEST_JOBS) test-deps
	$(PYTHON) tests/run.py

test-deps: $(TEST_DEPS)

bench: all $(BENCHES)

C_SOURCES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)

format:
	clang-format -i $(C_SOURCES)

clean:
	$(MAKE) -C malloc clean
	rm -rf build

.PHONY: all run test test-deps bench format clean $(TEST_DEPS) $(BENCHES)
