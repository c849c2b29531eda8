# mk/libmm.mk - build/libmm.so, mm.c's arena mode as a drop-in malloc
# (docs/libmm.md). Paths are relative to the root.
#   make libmm   build/libmm.so: the unchanged malloc/mm.c (-DMM_ARENAS), the
#                memlib backend over real memory (libmm/memlib_os.c) and the
#                exported wrappers (libmm/preload.c); only the malloc API is
#                exported (-fvisibility=hidden)
LIBMM := build/libmm.so
LIBMM_SRCS := malloc/mm.c libmm/memlib_os.c libmm/preload.c
LIBMM_DEPS := $(LIBMM_SRCS) malloc/mm.h malloc/memlib.h libmm/memlib_os.h
LIBMM_CFLAGS := -std=gnu99 -Wall -Wextra -Werror -O2 -g -fPIC \
    -fvisibility=hidden -ftls-model=initial-exec -Imalloc -Ilibmm -DMM_ARENAS
LIBMM_LDFLAGS := -shared -Wl,-z,defs -Wl,-z,nodelete -pthread

libmm: $(LIBMM)

$(LIBMM): $(LIBMM_DEPS)
	@mkdir -p $(@D)
	$(CC) $(LIBMM_CFLAGS) -o $@ $(LIBMM_SRCS) $(LIBMM_LDFLAGS)

.PHONY: libmm
