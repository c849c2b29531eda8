# mk/libmm.mk - build/libmm.so, mm.c's arena mode as a drop-in malloc
# (docs/libmm.md), and its tests. Paths are relative to the root.
#   make libmm             build/libmm.so: the unchanged malloc/mm.c
#                          (-DMM_ARENAS), the memlib backend over real memory
#                          (libmm/memlib_os.c) and the exported wrappers
#                          (libmm/preload.c); only the malloc API is exported
#                          (-fvisibility=hidden)
#   make libmm-test-deps   also, in build/libmm-tests/: the test programs of
#                          tests/libmm/ (run by tests/test_libmm.py), the
#                          library under UBSan (libmm-ubsan.so), and the
#                          t-test under ThreadSanitizer calling mm_* directly
#                          (ttest-tsan: TSan intercepts malloc, so it cannot
#                          be preloaded)
LIBMM := build/libmm.so
LIBMM_SRCS := malloc/mm.c libmm/memlib_os.c libmm/preload.c
LIBMM_DEPS := $(LIBMM_SRCS) malloc/mm.h malloc/memlib.h libmm/memlib_os.h
LIBMM_CFLAGS := -std=gnu99 -Wall -Wextra -Werror -O2 -g -fPIC \
    -fvisibility=hidden -ftls-model=initial-exec -Imalloc -Ilibmm -DMM_ARENAS
LIBMM_LDFLAGS := -shared -Wl,-z,defs -Wl,-z,nodelete -pthread
LIBMM_UBSAN := -fsanitize=undefined -fno-sanitize-recover=all

LIBMM_TEST_DIR := build/libmm-tests
LIBMM_TESTS := glibc_tests threads hardened mixing ttest rss
# -fno-builtin: gcc would drop a malloc whose block is unused; the glibc-style
# tests ask for absurd sizes and use a pointer after a failed realloc, on
# purpose.
LIBMM_TEST_CFLAGS := -std=gnu99 -Wall -Wextra -Werror -O1 -g -fno-builtin \
    -Wno-alloc-size-larger-than -Wno-use-after-free

TEST_DEPS += libmm-test-deps

libmm: $(LIBMM)

$(LIBMM): $(LIBMM_DEPS)
	@mkdir -p $(@D)
	$(CC) $(LIBMM_CFLAGS) -o $@ $(LIBMM_SRCS) $(LIBMM_LDFLAGS)

libmm-test-deps: $(LIBMM) $(LIBMM_TESTS:%=$(LIBMM_TEST_DIR)/%) \
                 $(LIBMM_TEST_DIR)/libmm-ubsan.so $(LIBMM_TEST_DIR)/ttest-tsan

$(LIBMM_TEST_DIR)/libmm-ubsan.so: $(LIBMM_DEPS)
	@mkdir -p $(@D)
	$(CC) $(LIBMM_CFLAGS) $(LIBMM_UBSAN) -o $@ $(LIBMM_SRCS) $(LIBMM_LDFLAGS)

$(LIBMM_TEST_DIR)/%: tests/libmm/%.c tests/libmm/check.h
	@mkdir -p $(@D)
	$(CC) $(LIBMM_TEST_CFLAGS) -o $@ $< -pthread -ldl

$(LIBMM_TEST_DIR)/ttest-tsan: tests/libmm/ttest.c tests/libmm/check.h \
                              $(LIBMM_DEPS)
	@mkdir -p $(@D)
	clang $(LIBMM_TEST_CFLAGS:-Wno-%=) -fsanitize=thread -DLIBMM_DIRECT \
	    -DMM_ARENAS -Imalloc -Ilibmm -o $@ $< malloc/mm.c \
	    libmm/memlib_os.c -pthread

.PHONY: libmm libmm-test-deps
