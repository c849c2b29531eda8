# mk/allocator.mk - the reference allocator's test binaries and benchmark
# (docs/design.md, docs/bench-allocator.md). Paths are relative to the root.
#   make allocator-test-deps  build/allocator/: the stress harness in every
#                             build variant, the checker's corruption harness,
#                             and mdriver with MM_DEBUG=2 and with ASan+UBSan
#                             (and the arena mode's: corrupt-arenas, stress_mt
#                             with gcc, ThreadSanitizer, per-call getcpu and
#                             for helgrind, cache_mt with gcc and TSan,
#                             regions_mt, mdriver-arenas)
#   make arenas-bench         the arena mode's cost and scaling
#                             (tools/bench_arenas.py, docs/bench-arenas.md)
#   make allocator-bench      the suite with each placement policy, coalescing
#                             on/off and footers on/off, side by side with
#                             glibc (tools/bench_allocator.py)
#   make libc-util            build/libc-util: glibc's util on traces
ALLOC_DIR := build/allocator
ALLOC_CFLAGS := -std=gnu99 -Wall -Wextra -Werror -O2 -g
ALLOC_SRCS := malloc/mm.c malloc/memlib.c
ALLOC_DEPS := $(ALLOC_SRCS) malloc/mm.h malloc/memlib.h
ALLOC_SAN := -fsanitize=address,undefined -fno-omit-frame-pointer \
             -fno-sanitize-recover=undefined

# One stress binary per build variant (name: flags).
ALLOC_VARIANT_best := -DMM_FIT=MM_FIT_BEST
ALLOC_VARIANT_first := -DMM_FIT=MM_FIT_FIRST
ALLOC_VARIANT_next := -DMM_FIT=MM_FIT_NEXT
ALLOC_VARIANT_nocoalesce := -DMM_NO_COALESCE
ALLOC_VARIANT_noquick := -DMM_NO_QUICK
ALLOC_VARIANT_footer := -DMM_ALLOC_FOOTER
ALLOC_VARIANT_debug2 := -DMM_DEBUG=2
ALLOC_VARIANT_sanitize := -DMM_DEBUG=1 $(ALLOC_SAN)
ALLOC_VARIANT_arenas := -DMM_ARENAS
ALLOC_VARIANT_arenas-debug2 := -DMM_ARENAS -DMM_DEBUG=2
ALLOC_VARIANTS := best first next nocoalesce noquick footer debug2 sanitize \
                  arenas arenas-debug2
ALLOC_STRESS := $(ALLOC_VARIANTS:%=$(ALLOC_DIR)/stress-%)

TEST_DEPS += allocator-test-deps
BENCHES += allocator-bench arenas-bench

# The arena mode's multi-threaded stress harness (name: compiler and flags).
ALLOC_MT_gcc := $(CC) $(ALLOC_CFLAGS) -DMM_ARENAS
ALLOC_MT_getcpu := $(CC) $(ALLOC_CFLAGS) -DMM_ARENAS -DMM_ARENA_GETCPU
ALLOC_MT_debug2 := $(ALLOC_MT_getcpu) -DMM_DEBUG=2
ALLOC_MT_tsan := clang $(ALLOC_CFLAGS:-O2=-O1) -DMM_ARENAS -fsanitize=thread
ALLOC_MT_tsan-getcpu := $(ALLOC_MT_tsan) -DMM_ARENA_GETCPU
# idle arenas first (a switch: docs/design.md, "Binding")
ALLOC_MT_idle := $(ALLOC_MT_gcc) -DMM_ARENA_IDLE
ALLOC_MT_tsan-idle := $(ALLOC_MT_tsan) -DMM_ARENA_IDLE
# helgrind takes the thread caches' lock-free stores (relaxed atomics) for
# races: its build has no cache (TSan checks the caches).
ALLOC_MT_helgrind := $(ALLOC_MT_getcpu) -DMM_NO_THREAD_CACHE
ALLOC_MT := $(addprefix $(ALLOC_DIR)/stress_mt-,gcc getcpu debug2 tsan \
                                          tsan-getcpu helgrind idle tsan-idle)

allocator-test-deps: $(ALLOC_STRESS) $(ALLOC_DIR)/corrupt \
                     $(ALLOC_DIR)/corrupt-clang-san build/libc-util \
                     $(ALLOC_DIR)/corrupt-arenas $(ALLOC_MT) \
                     $(ALLOC_DIR)/cache_mt $(ALLOC_DIR)/cache_mt-tsan \
                     $(ALLOC_DIR)/regions_mt $(ALLOC_DIR)/bind_mt
	$(MAKE) -s -C malloc -B OUT=../$(ALLOC_DIR)/mdriver-debug2 \
	    EXTRA_CFLAGS=-DMM_DEBUG=2
	$(MAKE) -s -C malloc -B OUT=../$(ALLOC_DIR)/mdriver-asan \
	    EXTRA_CFLAGS="$(ALLOC_SAN)"
	$(MAKE) -s -C malloc -B OUT=../$(ALLOC_DIR)/mdriver-noquick \
	    EXTRA_CFLAGS=-DMM_NO_QUICK
	$(MAKE) -s -C malloc -B OUT=../$(ALLOC_DIR)/mdriver-arenas \
	    EXTRA_CFLAGS=-DMM_ARENAS

$(ALLOC_DIR)/stress-%: tests/checker/stress.c $(ALLOC_DEPS)
	@mkdir -p $(@D)
	$(CC) $(ALLOC_CFLAGS) $(ALLOC_VARIANT_$*) -o $@ $< $(ALLOC_SRCS)

# corrupt.c includes mm.c to reach its static helpers.
$(ALLOC_DIR)/corrupt: tests/checker/corrupt.c $(ALLOC_DEPS)
	@mkdir -p $(@D)
	$(CC) $(ALLOC_CFLAGS) -Wno-unused-function -o $@ $< malloc/memlib.c

# The same with clang's ASan+UBSan, for the pointer checks of free/realloc
# (clang's UBSan also stops at arithmetic on a null pointer; gcc's does not).
$(ALLOC_DIR)/corrupt-clang-san: tests/checker/corrupt.c $(ALLOC_DEPS)
	@mkdir -p $(@D)
	clang $(ALLOC_CFLAGS) -Wno-unused-function $(ALLOC_SAN) -o $@ $< \
	    malloc/memlib.c

# corrupt.c in the arena build: invariants 15 and 16, and the others per arena.
$(ALLOC_DIR)/corrupt-arenas: tests/checker/corrupt.c $(ALLOC_DEPS)
	@mkdir -p $(@D)
	$(CC) $(ALLOC_CFLAGS) -Wno-unused-function -DMM_ARENAS -o $@ $< \
	    malloc/memlib.c -pthread

# The thread caches, case by case (cache_mt.c includes mm.c), and under
# ThreadSanitizer.
$(ALLOC_DIR)/cache_mt: tests/checker/cache_mt.c $(ALLOC_DEPS)
	@mkdir -p $(@D)
	$(ALLOC_MT_gcc) -Wno-unused-function -o $@ $< malloc/memlib.c -pthread
$(ALLOC_DIR)/cache_mt-tsan: tests/checker/cache_mt.c $(ALLOC_DEPS)
	@mkdir -p $(@D)
	$(ALLOC_MT_tsan) -Wno-unused-function -o $@ $< malloc/memlib.c -pthread

# Regions with threads of several arenas (regions_mt.c includes mm.c).
$(ALLOC_DIR)/regions_mt: tests/checker/regions_mt.c $(ALLOC_DEPS)
	@mkdir -p $(@D)
	$(ALLOC_MT_gcc) -Wno-unused-function -o $@ $< malloc/memlib.c -pthread

# The binding: a thread moves on contention (bind_mt.c includes mm.c).
$(ALLOC_DIR)/bind_mt: tests/checker/bind_mt.c $(ALLOC_DEPS)
	@mkdir -p $(@D)
	$(ALLOC_MT_gcc) -Wno-unused-function -o $@ $< malloc/memlib.c -pthread

$(ALLOC_DIR)/stress_mt-%: tests/checker/stress_mt.c $(ALLOC_DEPS)
	@mkdir -p $(@D)
	$(ALLOC_MT_$*) -o $@ $< $(ALLOC_SRCS) -pthread

arenas-bench:
	$(PYTHON) tools/bench_arenas.py

# glibc's util, measured like mdriver's (tools/libc_util.c).
libc-util: build/libc-util
build/libc-util: tools/libc_util.c malloc/driver_trace.c malloc/driver.h
	@mkdir -p $(@D)
	$(CC) $(ALLOC_CFLAGS) -o $@ tools/libc_util.c malloc/driver_trace.c

allocator-bench: build/libc-util
	$(PYTHON) tools/bench_allocator.py

.PHONY: allocator-test-deps allocator-bench arenas-bench libc-util
