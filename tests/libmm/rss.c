/*
 * rss.c - large blocks and resident memory over build/libmm.so: a large
 * calloc costs memory only where it is written (its fresh pages are not
 * cleared), yet always reads as zeros, also over memory used before; two
 * blocks that realloc grows in turn do not leave their old copies
 * resident.
 *
 * The peak is VmHWM less VmRSS at the start.
 *
 * Usage: rss NAME   (NAME: calloc_sparse calloc_zeroes realloc_grow
 *        realloc_move)
 * Prints `FAIL: ...` per failed check, exits 1 if any. tests/test_libmm.py
 * runs each under LD_PRELOAD=build/libmm.so and under glibc's malloc (the
 * control: glibc passes them too). The figures are in kB of
 * /proc/self/status (VmRSS, VmHWM); no timing.
 */
#include "check.h"

#include <unistd.h>

enum { MIB = 1 << 20 };

/* A line of /proc/self/status in kB (VmRSS, VmHWM), or -1. */
static long status_kb(const char *key)
{
    char line[256];
    long value = -1;
    size_t n = strlen(key);
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, key, n) == 0 && line[n] == ':')
            value = atol(line + n + 1);
    fclose(f);
    return value;
}

/* A 32 MiB table, calloc'd and written at one byte in 256 KiB: resident
 * memory grows by far less than the table (glibc: an mmapped block). */
static void test_calloc_sparse(void)
{
    enum { SIZE = 32 * MIB, STRIDE = 256 << 10 };
    long before = status_kb("VmRSS");
    unsigned char *t = calloc(SIZE, 1);
    if (!check(t != NULL, "calloc 32 MiB"))
        return;
    for (size_t i = 0; i < SIZE; i += STRIDE)
        t[i] = 1;
    long grown = status_kb("VmRSS") - before;
    printf("resident: +%ld kB for a 32 MiB calloc written every 256 KiB\n",
           grown);
    check(grown >= 0 && grown < 4 * 1024,
          "a sparse calloc'd table is resident only where written");
    size_t bad = 0;
    for (size_t i = 0; i < SIZE; i++)
        bad += t[i] != (i % STRIDE == 0);
    check(bad == 0, "the table reads as zeros where not written");
    free(t);
}

/* Whether the n bytes at p are all zero. */
static bool all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return false;
    return true;
}

/* Large callocs (60 KiB .. 1.5 MiB, odd sizes too) among large blocks
 * filled with 0xff and freed in random order, so that each calloc takes
 * memory used before, fresh memory, or both (a used free block at the
 * heap's end that grows): every one reads as zeros. */
static void test_calloc_zeroes(void)
{
    enum { SLOTS = 24, ROUNDS = 600 };
    unsigned char *slot[SLOTS] = {0};
    uint64_t state = 12345;
    size_t bad = 0;
    for (int r = 0; r < ROUNDS; r++) {
        size_t i = next_random(&state) % SLOTS;
        free(slot[i]);
        size_t n = (60 << 10) + next_random(&state) % (1536 << 10);
        bool zeroed = next_random(&state) % 2 == 0;
        slot[i] = zeroed ? calloc(1, n) : malloc(n);
        if (!check(slot[i] != NULL, "a large block"))
            break;
        if (zeroed && !all_zero(slot[i], n))
            bad++;
        memset(slot[i], 0xff, n);
    }
    printf("callocs not zeroed: %zu\n", bad);
    check(bad == 0, "every large calloc reads as zeros");
    for (size_t i = 0; i < SLOTS; i++)
        free(slot[i]);
}

/* Two blocks grown in turn by realloc to 32 MiB each, in 1 MiB steps,
 * every byte written: neither can always grow in place, so they move
 * (elsewhere, or down over a free block before them), and neither the
 * move nor what it leaves behind doubles the resident memory. */
static void test_realloc_grow(void)
{
    enum { STEP = MIB, TOP = 32 * MIB };
    long before = status_kb("VmRSS");
    unsigned char *a = NULL, *b = NULL;
    for (size_t n = STEP; n <= TOP; n += STEP) {
        unsigned char *a2 = realloc(a, n), *b2 = NULL;
        if (!check(a2 != NULL, "realloc grows a"))
            break;
        a = a2;
        memset(a + n - STEP, 0xa5, STEP);
        b2 = realloc(b, n);
        if (!check(b2 != NULL, "realloc grows b"))
            break;
        b = b2;
        memset(b + n - STEP, 0x5a, STEP);
    }
    long live = 2 * TOP / 1024, grown = status_kb("VmRSS") - before;
    long peak = status_kb("VmHWM") - before;
    printf("resident: +%ld kB for %ld kB live, at the peak +%ld kB\n", grown,
           live, peak);
    check(grown < live + live / 8,
          "old copies of moved blocks are not left resident");
    check(peak < live + live / 8, "a move does not copy the whole block "
                                  "while its old copy is resident");
    check(a != NULL && a[0] == 0xa5 && a[TOP - 1] == 0xa5 && b != NULL &&
              b[0] == 0x5a && b[TOP - 1] == 0x5a,
          "the grown blocks kept their bytes");
    free(a);
    free(b);
}

/* One block grown by realloc to 64 MiB in 1 MiB steps, a 200 KB block
 * allocated and written after each step, so that the block cannot always
 * grow in place and moves to fresh memory: its pages move (no copy), and
 * its bytes (a pattern that depends on the offset) stay in place. */
static void test_realloc_move(void)
{
    enum { STEP = MIB, TOP = 64 * MIB, OTHER = 200000, SEED = 77 };
    long before = status_kb("VmRSS");
    unsigned char *a = NULL, *other[TOP / STEP] = {0};
    size_t k = 0, bad = 0;
    for (size_t n = STEP; n <= TOP; n += STEP, k++) {
        unsigned char *a2 = realloc(a, n);
        if (!check(a2 != NULL, "realloc grows the block"))
            break;
        a = a2;
        bad += n > STEP && !verify(a + n - 2 * STEP, STEP, SEED + n - 2 * STEP);
        fill(a + n - STEP, STEP, SEED + n - STEP);
        other[k] = malloc(OTHER);
        if (other[k] != NULL)
            memset(other[k], 0x33, OTHER);
    }
    long live = (long)(TOP + k * OTHER) / 1024;
    long peak = status_kb("VmHWM") - before;
    printf("resident at the peak: +%ld kB for %ld kB live\n", peak, live);
    check(bad == 0 && a != NULL && verify(a, TOP, SEED),
          "a moved block keeps its bytes");
    check(peak < live + live / 8, "a move does not copy the whole block "
                                  "while its old copy is resident");
    free(a);
    for (size_t i = 0; i < k; i++)
        free(other[i]);
}

int main(int argc, char **argv)
{
    static const named_test tests[] = {
        {"calloc_sparse", test_calloc_sparse},
        {"calloc_zeroes", test_calloc_zeroes},
        {"realloc_grow", test_realloc_grow},
        {"realloc_move", test_realloc_move},
    };
    return run_named(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
