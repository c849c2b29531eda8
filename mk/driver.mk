# mk/driver.mk - build rules of the trace driver's tests and benchmark.
#   make test-deps   builds build/broken/mdriver-<name> for every allocator of
#                    tests/broken/ (the driver's objects are compiled once)
#                    the ASan+UBSan driver malloc/mdriver-debug, the
#                    driver built by clang (build/driver-clang/mdriver), and
#                    build/broken-san/mdriver-ubsan (tests/broken/ubsan.c
#                    under ASan+UBSan, as `make mdriver-debug` builds)
#   make bench       runs bench-driver: the checking overhead (docs/bench-driver.md)

DRIVER_SRC_NAMES := mdriver driver_trace driver_api driver_check driver_result \
    driver_run driver_report driver_hint driver_heapmap memlib
DRIVER_OBJS := $(DRIVER_SRC_NAMES:%=build/driver-obj/%.o)
DRIVER_HDRS := $(wildcard malloc/*.h)
DRIVER_TEST_CFLAGS := -Imalloc -std=gnu99 -Wall -Wextra -Werror -O2 -g
BROKEN_NAMES := $(filter-out base,$(basename $(notdir $(wildcard tests/broken/*.c))))
BROKEN_BINS := $(BROKEN_NAMES:%=build/broken/mdriver-%)

TEST_DEPS += driver-test-deps
BENCHES += bench-driver

driver-test-deps: $(BROKEN_BINS) build/broken-san/mdriver-ubsan
	$(MAKE) -C malloc mdriver-debug
	@mkdir -p build/driver-clang
	$(MAKE) -C malloc OUT=../build/driver-clang/mdriver CC=clang \
	    MM=../tests/broken/ok.c EXTRA_CFLAGS=-I../tests/broken \
	    ../build/driver-clang/mdriver

# Keep the objects: they are shared by every broken driver.
.SECONDARY: $(DRIVER_OBJS) build/broken/base.o

build/driver-obj/%.o: malloc/%.c $(DRIVER_HDRS)
	@mkdir -p build/driver-obj
	$(CC) $(DRIVER_TEST_CFLAGS) -c -o $@ $<

# base.o holds the weak default of every mm.h function; <name>.c overrides
# the ones it breaks.
build/broken/base.o: tests/broken/base.c tests/broken/base.h $(DRIVER_HDRS)
	@mkdir -p build/broken
	$(CC) $(DRIVER_TEST_CFLAGS) -c -o $@ $<

build/broken/mdriver-%: tests/broken/%.c build/broken/base.o $(DRIVER_OBJS)
	@mkdir -p build/broken
	$(CC) $(DRIVER_TEST_CFLAGS) -o $@ $< build/broken/base.o $(DRIVER_OBJS) -lm -lpthread

# A broken allocator under the sanitizers of `make -C malloc mdriver-debug`.
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
    -fno-sanitize-recover=undefined
build/broken-san/mdriver-%: tests/broken/%.c tests/broken/base.c \
    $(DRIVER_SRC_NAMES:%=malloc/%.c) $(DRIVER_HDRS)
	@mkdir -p build/broken-san
	$(CC) $(DRIVER_TEST_CFLAGS:-O2=-O1) $(SAN_FLAGS) -o $@ $< \
	    tests/broken/base.c $(DRIVER_SRC_NAMES:%=malloc/%.c) -lm -lpthread

# The overhead benchmark: the big traces (generated into build/big-traces/ by
# mk/traces.mk's big-traces), then mdriver --overhead: checked / unchecked
# replay time, side by side in one run.
BENCH_DRIVER_TRACES := build/big-traces/big-10k-live.rep build/big-traces/big-1m-live.rep

bench-driver: big-traces
	$(MAKE) -C malloc
	malloc/mdriver --overhead -s 600 $(BENCH_DRIVER_TRACES:%=-f %)
