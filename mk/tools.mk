# The trace tools (docs/tools.md): the LD_PRELOAD recorder, the minimizer,
# and the benchmark over many seeds.
#   make recorder      build/mmrecord.so (tools/record also builds it on demand)
#   make seeds-bench   util/bound of the generated families over seeds 1-20,
#                      -DMM_LOW_SMALL=0 against the default build, paired
#                      differences (tools/seeds_bench.py, docs/bench-seeds.md)
# Paths are relative to the repo root (this file is included by ./Makefile).
recorder:
	$(MAKE) -s -C tools/recorder

TEST_DEPS += tools-test-deps
tools-test-deps: recorder

SEEDS_BENCH_SEEDS ?= 1-20

BENCHES += seeds-bench
seeds-bench:
	$(MAKE) -C malloc
	@mkdir -p build
	$(MAKE) -s -C malloc -B OUT=../build/mdriver-nolowsmall \
	    EXTRA_CFLAGS=-DMM_LOW_SMALL=0
	$(PYTHON) tools/seeds_bench.py --seeds $(SEEDS_BENCH_SEEDS) \
	    nolowsmall=build/mdriver-nolowsmall default=malloc/mdriver

.PHONY: recorder tools-test-deps seeds-bench
