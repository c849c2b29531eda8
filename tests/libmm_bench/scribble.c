/*
 * scribble.c - a broken malloc for tests/test_libmm_programs.py: it
 * overwrites one byte of a live block, as an allocator that writes its
 * metadata into a payload would, to show that the libmm benchmark's
 * programs catch it (their checksum changes and they exit 1).
 *
 *     LD_PRELOAD=build/libmm_bench/scribble.so build/libmm_bench/larson 1 1
 *
 * glibc's malloc does the work. The block returned by the SCRIBBLE_AT-th
 * call (with at least MIN_BYTES bytes) has its first byte flipped at the
 * next malloc call, unless it has been freed by then.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>

enum { SCRIBBLE_AT = 5000, MIN_BYTES = 16 };

static unsigned long calls;
static unsigned char *victim;

void *malloc(size_t n)
{
    static void *(*real_malloc)(size_t);
    if (real_malloc == NULL)
        real_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
    if (victim != NULL) {
        victim[0] ^= 0x5a;
        victim = NULL;
    }
    void *p = real_malloc(n);
    if (++calls >= SCRIBBLE_AT && calls < 2 * SCRIBBLE_AT && n >= MIN_BYTES &&
        p != NULL) {
        victim = p;
        calls = 2 * SCRIBBLE_AT;
    }
    return p;
}

void free(void *p)
{
    static void (*real_free)(void *);
    if (real_free == NULL)
        real_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
    if (p != NULL && p == victim)
        victim = NULL;
    real_free(p);
}
