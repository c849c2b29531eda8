# mk/driver_mt.mk - the multi-threaded driver's test builds (mdriver -T).
#   make test-deps   also builds build/mt/mdriver-locked: the driver with
#                    tests/mt/locked.c, a thread-safe test allocator (one lock)

MT_TEST_BINS := build/mt/mdriver-locked

TEST_DEPS += driver-mt-test-deps

driver-mt-test-deps: $(MT_TEST_BINS)

build/mt/mdriver-%: tests/mt/%.c $(DRIVER_OBJS)
	@mkdir -p build/mt
	$(CC) $(DRIVER_TEST_CFLAGS) -o $@ $< $(DRIVER_OBJS) -lm -lpthread
