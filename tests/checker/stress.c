/*
 * stress.c - randomized stress test of an allocator (mm.c + memlib.c).
 *
 * Usage: stress SEED [OPS] [SLOTS] [FOREIGN]
 * Runs OPS random malloc/calloc/realloc/free operations over SLOTS live
 * slots with a mix of tiny, small, medium and large sizes. With FOREIGN
 * > 0, every FOREIGN ops the harness itself moves the heap's break by 8
 * or 16 bytes (as another user of memlib would), so the allocator must
 * make new regions, some at a break that is not 16-byte aligned. Every payload
 * is filled with a pattern derived from its slot and checked before it is freed
 * or reallocated (realloc must keep the old prefix); calloc must return zeros;
 * payloads must be 16-byte aligned, inside the heap and never overlap another
 * live block. mm_checkheap runs after every operation. Prints one line "stress:
 * seed S: N ops ok" and exits 0, or prints what failed and exits 1.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../malloc/memlib.h"
#include "../../malloc/mm.h"

enum { DEFAULT_OPS = 4000, DEFAULT_SLOTS = 64, MAX_SLOTS = 1024 };

typedef struct slot {
    unsigned char *p;
    size_t size;
    unsigned tag;
} slot_t;

static slot_t slots[MAX_SLOTS];
static uint64_t rng_state;
static long op_index;

static uint64_t rng_next(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static size_t rng_below(size_t n)
{
    return (size_t)(rng_next() % n);
}

static void fail(const char *what, int slot)
{
    printf("stress: op %ld, slot %d: %s\n", op_index, slot, what);
    exit(1);
}

static size_t random_size(void)
{
    switch (rng_below(8)) {
    case 0:
    case 1:
    case 2:
        return 1 + rng_below(48);
    case 3:
    case 4:
        return 1 + rng_below(512);
    case 5:
    case 6:
        return 1 + rng_below(8192);
    default:
        return 1 + rng_below(100000);
    }
}

static unsigned char pattern(unsigned tag, size_t i)
{
    return (unsigned char)(tag * 31u + i * 7u + (i >> 8));
}

static void fill(slot_t *s, size_t from)
{
    for (size_t i = from; i < s->size; i++)
        s->p[i] = pattern(s->tag, i);
}

static void verify(slot_t *s, size_t upto, int k)
{
    for (size_t i = 0; i < upto; i++)
        if (s->p[i] != pattern(s->tag, i))
            fail("payload corrupted", k);
}

static void check_placement(int k, int nslots)
{
    slot_t *s = &slots[k];
    char *lo = mem_heap_lo(), *hi = mem_heap_hi();
    if ((uintptr_t)s->p % 16 != 0)
        fail("payload not 16-byte aligned", k);
    if ((char *)s->p < lo || (char *)s->p + s->size - 1 > hi)
        fail("payload outside the heap", k);
    for (int j = 0; j < nslots; j++) {
        slot_t *o = &slots[j];
        if (j == k || o->p == NULL)
            continue;
        if (s->p < o->p + o->size && o->p < s->p + s->size)
            fail("payloads overlap", k);
    }
}

static void do_alloc(int k, int nslots)
{
    slot_t *s = &slots[k];
    s->size = random_size();
    s->tag = (unsigned)rng_next();
    bool zeroed = rng_below(4) == 0;
    if (zeroed) {
        size_t n = 1 + rng_below(8);
        s->size = (s->size + n - 1) / n * n;
        s->p = mm_calloc(n, s->size / n);
    } else {
        s->p = mm_malloc(s->size);
    }
    if (s->p == NULL)
        fail("allocation returned NULL", k);
    check_placement(k, nslots);
    for (size_t i = 0; zeroed && i < s->size; i++)
        if (s->p[i] != 0)
            fail("calloc not zeroed", k);
    fill(s, 0);
}

static void do_realloc(int k, int nslots)
{
    slot_t *s = &slots[k];
    size_t old = s->size;
    verify(s, old, k);
    size_t size = rng_below(2) ? old + random_size() / 4 + 1 : random_size();
    unsigned char *p = mm_realloc(s->p, size);
    if (p == NULL)
        fail("realloc returned NULL", k);
    s->p = p;
    s->size = size;
    check_placement(k, nslots);
    verify(s, old < size ? old : size, k);
    fill(s, old < size ? old : size);
}

static void do_free(int k)
{
    slot_t *s = &slots[k];
    verify(s, s->size, k);
    if (rng_below(8) == 0) {
        if (mm_realloc(s->p, 0) != NULL)
            fail("realloc(p, 0) did not return NULL", k);
    } else {
        mm_free(s->p);
    }
    s->p = NULL;
}

static void run_op(int nslots)
{
    int k = (int)rng_below((size_t)nslots);
    if (slots[k].p == NULL)
        do_alloc(k, nslots);
    else if (rng_below(3) == 0)
        do_realloc(k, nslots);
    else
        do_free(k);
    if (!mm_checkheap(__LINE__))
        fail("mm_checkheap failed", k);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 5) {
        fprintf(stderr, "usage: stress SEED [OPS] [SLOTS] [FOREIGN]\n");
        return 2;
    }
    unsigned long seed = strtoul(argv[1], NULL, 10);
    long ops = argc > 2 ? atol(argv[2]) : DEFAULT_OPS;
    int nslots = argc > 3 ? atoi(argv[3]) : DEFAULT_SLOTS;
    long foreign = argc > 4 ? atol(argv[4]) : 0;
    if (ops <= 0 || nslots <= 0 || nslots > MAX_SLOTS) {
        fprintf(stderr, "stress: OPS must be > 0 and SLOTS in 1..%d\n",
                MAX_SLOTS);
        return 2;
    }
    rng_state = seed * 2654435761u + 88172645463325252u;
    if (!mem_init() || !mm_init() || !mm_checkheap(__LINE__))
        fail("init failed", -1);
    if (mm_malloc(0) != NULL || mm_calloc(SIZE_MAX / 2, 4) != NULL)
        fail("malloc(0) or overflowing calloc did not return NULL", -1);
    mm_free(NULL);
    for (op_index = 0; op_index < ops; op_index++) {
        run_op(nslots);
        if (foreign > 0 && op_index % foreign == foreign - 1 &&
            mem_sbrk(op_index / foreign % 2 ? 8 : 16) == (void *)-1)
            fail("the harness's own mem_sbrk failed", -1);
    }
    for (int k = 0; k < nslots; k++)
        if (slots[k].p != NULL)
            do_free(k);
    if (!mm_checkheap(__LINE__))
        fail("mm_checkheap failed at the end", -1);
    printf("stress: seed %lu: %ld ops ok\n", seed, ops);
    mem_deinit();
    return 0;
}
