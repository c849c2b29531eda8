/*
 * sparse_copy.c - mem_memcpy, mem_memset and mem_memmove on giant blocks of
 * the sparse heap keep every sampled byte (tests/test_peer.py). Prints one
 * line per failure and exits 1; prints "ok" and exits 0 otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memlib.h"

static const size_t GIANT = ((size_t)3 << 30) + 1000; /* 3 GiB + 1000 */

static unsigned char expected(size_t off)
{
    return (unsigned char)((off * 2654435761u) >> 13);
}

static void fill(unsigned char *p, size_t n)
{
    size_t r[MEM_MAX_SAMPLES][2];
    size_t k = mem_sample_ranges(n, r);
    for (size_t i = 0; i < k; i++)
        for (size_t o = r[i][0]; o < r[i][1]; o++)
            p[o] = expected(o);
}

/* Failures among the sampled bytes of p, which should hold expected(). */
static int check(const unsigned char *p, size_t n, int c, const char *what)
{
    size_t r[MEM_MAX_SAMPLES][2];
    size_t k = mem_sample_ranges(n, r);
    for (size_t i = 0; i < k; i++)
        for (size_t o = r[i][0]; o < r[i][1]; o++)
            if (p[o] != (c < 0 ? expected(o) : (unsigned char)c)) {
                printf("%s: byte %zu is %d\n", what, o, p[o]);
                return 1;
            }
    return 0;
}

int main(void)
{
    mem_set_sparse(true);
    if (!mem_init())
        return 1;
    unsigned char *heap = mem_sbrk((intptr_t)(3 * GIANT));
    if (heap == (void *)-1)
        return 1;
    int bad = 0;
    unsigned char *a = heap, *b = heap + 2 * GIANT;
    fill(a, GIANT);
    bad += check(mem_memcpy(b, a, GIANT), GIANT, -1, "memcpy");
    bad += check(mem_memset(b, 7, GIANT), GIANT, 7, "memset");
    /* Overlapping moves by three windows (one window further than the gap
     * after the first ones), up then down. */
    bad += check(mem_memmove(a + 12288, a, GIANT), GIANT, -1, "memmove up");
    bad += check(mem_memmove(a, a + 12288, GIANT), GIANT, -1, "memmove down");
    mem_deinit();
    puts(bad ? "failed" : "ok");
    return bad ? 1 : 0;
}
