# The trace tools (docs/tools.md): the LD_PRELOAD recorder, the minimizer,
# and the benchmark over many seeds.
#   make recorder      build/mmrecord.so (tools/record also builds it on demand)
#   make seeds-bench   util/bound of the generated families over seeds 1-20
#                      and the reference allocator's goals, per driver;
#                      paired differences when there are several
#                      (tools/seeds_bench.py, docs/tools.md, docs/bench-seeds.md)
# Paths are relative to the repo root (this file is included by ./Makefile).
recorder:
	$(MAKE) -s -C tools/recorder

TEST_DEPS += tools-test-deps
tools-test-deps: recorder

# What make seeds-bench compares; the first driver is the baseline.
#   SEEDS_BENCH_DRIVERS  NAME=MDRIVER words: mdrivers already built
#   SEEDS_BENCH_BUILDS   NAME=FLAG[,FLAG...] words: each is built first, as
#                        build/mdriver-seeds-NAME with EXTRA_CFLAGS=FLAG...
#                        (commas become spaces), and compared after the
#                        drivers, e.g.
#   make seeds-bench SEEDS_BENCH_BUILDS='mine=-DMY_SWITCH=0,-DMY_OTHER=1'
SEEDS_BENCH_SEEDS ?= 1-20
SEEDS_BENCH_DRIVERS ?= default=malloc/mdriver
SEEDS_BENCH_BUILDS ?=
comma := ,
seeds_bench_name = $(firstword $(subst =, ,$(1)))
seeds_bench_flags = $(subst $(comma), ,$(patsubst $(call seeds_bench_name,$(1))=%,%,$(1)))

BENCHES += seeds-bench
seeds-bench:
	$(MAKE) -C malloc
	@mkdir -p build
	$(foreach b,$(SEEDS_BENCH_BUILDS),$(MAKE) -s -C malloc -B \
	    OUT=../build/mdriver-seeds-$(call seeds_bench_name,$(b)) \
	    EXTRA_CFLAGS='$(call seeds_bench_flags,$(b))' &&) true
	$(PYTHON) tools/seeds_bench.py --seeds $(SEEDS_BENCH_SEEDS) \
	    $(SEEDS_BENCH_DRIVERS) \
	    $(foreach b,$(SEEDS_BENCH_BUILDS),$(call seeds_bench_name,$(b))=build/mdriver-seeds-$(call seeds_bench_name,$(b)))

.PHONY: recorder tools-test-deps seeds-bench
