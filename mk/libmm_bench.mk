# mk/libmm_bench.mk - the libmm benchmark and its real-program tests
# (tools/bench_libmm.py, tests/test_libmm_programs.py, docs/bench-libmm.md).
# Paths are relative to the root.
#   make libmm-bench-deps  build/libmm_bench/: the workload programs of
#                          tools/libmm_bench/ (larson, xmalloc,
#                          cache_scratch, churn), the trace replay tool
#                          (replay), built with plain gcc: they call the
#                          malloc that is preloaded when they run; and
#                          runner, which runs and measures one of them;
#                          and scribble.so, a broken malloc for the tests
#                          (tests/libmm_bench/scribble.c)
#   make libmm-bench       tools/bench_libmm.py --lib $(LIBMM_BENCH_LIB):
#                          ours against glibc, jemalloc, tcmalloc and
#                          mimalloc (it installs them); build/libmm.so is
#                          made first (make libmm, mk/libmm.mk)
#   LIBMM_BENCH_LIB=PATH   measures another library as ours, e.g. a
#                          stand-in (not LIBMM: mk/libmm.mk's rule makes
#                          $(LIBMM), which must stay build/libmm.so)
#   LIBMM_BENCH_FLAGS      more options for it (--rounds N, --quick, --only)
# The tests (tests/test_libmm_programs.py) need build/libmm.so: make test
# makes it once mk/libmm.mk exists.
LIBMM_BENCH_LIB ?= build/libmm.so
LIBMM_BENCH_FLAGS ?=
LIBMM_BENCH_DIR := build/libmm_bench
LIBMM_BENCH_CFLAGS := -std=gnu99 -Wall -Wextra -Werror -O2 -g
LIBMM_BENCH_PROGS := larson xmalloc cache_scratch churn runner
LIBMM_BENCH_COMMON := tools/libmm_bench/common.c tools/libmm_bench/common.h
LIBMM_BENCH_BINS := $(LIBMM_BENCH_PROGS:%=$(LIBMM_BENCH_DIR)/%) \
                    $(LIBMM_BENCH_DIR)/replay $(LIBMM_BENCH_DIR)/scribble.so

TEST_DEPS += libmm-bench-deps $(if $(wildcard mk/libmm.mk),libmm)
BENCHES += libmm-bench

libmm-bench-deps: $(LIBMM_BENCH_BINS)

$(LIBMM_BENCH_DIR)/%: tools/libmm_bench/%.c $(LIBMM_BENCH_COMMON)
	@mkdir -p $(@D)
	$(CC) $(LIBMM_BENCH_CFLAGS) -o $@ $< tools/libmm_bench/common.c -pthread

# The replay tool reads traces with mdriver's own parser.
$(LIBMM_BENCH_DIR)/replay: tools/libmm_bench/replay.c $(LIBMM_BENCH_COMMON) \
                           malloc/driver_trace.c malloc/driver.h
	@mkdir -p $(@D)
	$(CC) $(LIBMM_BENCH_CFLAGS) -Imalloc -o $@ $< \
	    tools/libmm_bench/common.c malloc/driver_trace.c -pthread

$(LIBMM_BENCH_DIR)/scribble.so: tests/libmm_bench/scribble.c
	@mkdir -p $(@D)
	$(CC) $(LIBMM_BENCH_CFLAGS) -shared -fPIC -o $@ $< -ldl

libmm-bench: libmm-bench-deps
	$(if $(filter build/libmm.so,$(LIBMM_BENCH_LIB)),$(MAKE) libmm)
	$(PYTHON) tools/bench_libmm.py --lib $(LIBMM_BENCH_LIB) $(LIBMM_BENCH_FLAGS)

.PHONY: libmm-bench-deps libmm-bench
