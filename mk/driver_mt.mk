# mk/driver_mt.mk - the multi-threaded driver's test builds (mdriver -T).
#   make test-deps   also builds, in build/mt/:
#     mdriver-locked   the driver with tests/mt/locked.c, a thread-safe test
#                      allocator (one lock), for mdriver -T and MT traces
#     mdriver-tsan     the same under ThreadSanitizer (-fsanitize=thread)
#     mdriver-tsan-mm  the plain mm.c (not thread safe) under ThreadSanitizer:
#                      the control, whose races TSan must report
#     mdriver-arenas   the driver with mm.c's arena mode (-DMM_ARENAS), built
#                      by malloc/Makefile: mdriver -v prints its mm_stats
#     count_threads.so an LD_PRELOAD library that logs every pthread_create
#                      (tests/mt/count_threads.c: the threads of a replay)
#     mdriver-bump     the driver with tests/mt/bump.c, the harness's ceiling:
#                      per-thread bump chunks and free lists, nothing shared
#                      but mem_sbrk (docs/bench-mt.md: its -T 2 scaling)
#     sbrk_mt, sbrk_mt-tsan  memlib's mem_sbrk from several threads, checked
#                      and in timing mode (tests/mt/sbrk_mt.c), gcc and TSan
#   make mt-bench    issue 11's MT benchmark (tools/bench_mt_suite.py,
#                    docs/bench-mt.md): mdriver -T 1/2/4 on the suite and the
#                    MT suite threaded and --serial, with glibc, and the
#                    goals met or not
#   The broken MT allocators, tests/broken/nolock.c (a free list with no
#   lock) and tests/broken/remotefree.c (a remote free onto the freeing
#   thread's list), are built by mk/driver.mk with every tests/broken/*.c:
#   build/broken/mdriver-nolock, build/broken/mdriver-remotefree.

MT_TEST_BINS := build/mt/mdriver-locked build/mt/mdriver-tsan \
    build/mt/mdriver-tsan-mm build/mt/mdriver-arenas build/mt/count_threads.so \
    build/mt/mdriver-bump build/mt/sbrk_mt build/mt/sbrk_mt-tsan
MT_DRIVER_SRCS := $(DRIVER_SRC_NAMES:%=malloc/%.c)
TSAN_CFLAGS := $(DRIVER_TEST_CFLAGS:-O2=-O1) -fsanitize=thread

TEST_DEPS += driver-mt-test-deps
BENCHES += mt-bench

driver-mt-test-deps: $(MT_TEST_BINS)

build/mt/mdriver-locked: tests/mt/locked.c $(DRIVER_OBJS)
	@mkdir -p build/mt
	$(CC) $(DRIVER_TEST_CFLAGS) -o $@ $< $(DRIVER_OBJS) -lm -lpthread

build/mt/mdriver-tsan: tests/mt/locked.c $(MT_DRIVER_SRCS) $(DRIVER_HDRS)
	@mkdir -p build/mt
	$(CC) $(TSAN_CFLAGS) -o $@ $< $(MT_DRIVER_SRCS) -lm -lpthread

build/mt/mdriver-tsan-mm: malloc/mm.c $(MT_DRIVER_SRCS) $(DRIVER_HDRS)
	@mkdir -p build/mt
	$(CC) $(TSAN_CFLAGS) -o $@ $< $(MT_DRIVER_SRCS) -lm -lpthread

build/mt/mdriver-bump: tests/mt/bump.c $(DRIVER_OBJS)
	@mkdir -p build/mt
	$(CC) $(DRIVER_TEST_CFLAGS) -o $@ $< $(DRIVER_OBJS) -lm -lpthread

build/mt/sbrk_mt: tests/mt/sbrk_mt.c malloc/memlib.c malloc/memlib.h
	@mkdir -p build/mt
	$(CC) $(DRIVER_TEST_CFLAGS) -o $@ $< malloc/memlib.c -lpthread

build/mt/sbrk_mt-tsan: tests/mt/sbrk_mt.c malloc/memlib.c malloc/memlib.h
	@mkdir -p build/mt
	$(CC) $(TSAN_CFLAGS) -o $@ $< malloc/memlib.c -lpthread

build/mt/count_threads.so: tests/mt/count_threads.c
	@mkdir -p build/mt
	$(CC) $(DRIVER_TEST_CFLAGS) -shared -fPIC -o $@ $< -ldl

build/mt/mdriver-arenas: malloc/mm.c malloc/mm.h $(MT_DRIVER_SRCS) $(DRIVER_HDRS)
	@mkdir -p build/mt
	$(MAKE) -C malloc OUT=../$@ EXTRA_CFLAGS=-DMM_ARENAS

mt-bench: build/mt/mdriver-arenas
	$(PYTHON) tools/bench_mt_suite.py
