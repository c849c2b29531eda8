/*
 * stress_mt.c - multi-threaded stress test of an allocator built with
 * mm.c's arena mode (-DMM_ARENAS), with memlib.c.
 *
 * Usage: stress_mt SEED THREADS [OPS] [ROUNDS] [SLOTS]
 * Runs ROUNDS rounds; each starts THREADS threads that do OPS random
 * malloc/calloc/realloc/free operations in all, then exit, while their
 * blocks live on in a table of SLOTS slots shared by every thread (a slot
 * has its own mutex). A thread that finds a slot full checks its payload,
 * then frees or reallocates it, whoever allocated it: frees and reallocs
 * of another thread's block (and of blocks of threads that have exited)
 * are the common case. Every payload is filled with a pattern derived
 * from its slot and checked before it is freed or reallocated (realloc
 * must keep the old prefix); calloc must return zeros; payloads must be
 * 16-byte aligned and inside the heap. Between rounds (a quiescent point:
 * every thread joined), the main thread runs mm_checkheap, checks that no
 * two live blocks overlap, and checks mm_stats against the table. Prints
 * "stress_mt: seed S, T threads: N ops ok (F cross-thread frees, R
 * cross-thread reallocs)" and exits 0, or prints what failed and exits 1
 * (2 on bad usage).
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../malloc/memlib.h"
#include "../../malloc/mm.h"

enum {
    DEFAULT_OPS = 20000,
    DEFAULT_ROUNDS = 4,
    DEFAULT_SLOTS = 256,
    MAX_SLOTS = 4096,
    MAX_THREADS = 64,
};

typedef struct slot {
    pthread_mutex_t lock;
    unsigned char *p;
    size_t size;
    unsigned tag;
    int thread; /* the thread that allocated it last */
} slot_t;

typedef struct worker {
    pthread_t id;
    int index;
    uint64_t rng;
    long ops;
    long cross_frees, cross_reallocs;
} worker_t;

static slot_t slots[MAX_SLOTS];
static size_t nslots;

static uint64_t rng_next(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

static size_t rng_below(uint64_t *state, size_t n)
{
    return (size_t)(rng_next(state) % n);
}

/* Fails the whole run (from any thread): the report, then exit 1. */
static void fail(const char *what, size_t slot, int thread)
{
    printf("stress_mt: thread %d, slot %zu: %s\n", thread, slot, what);
    fflush(stdout);
    exit(1);
}

static size_t random_size(uint64_t *rng)
{
    switch (rng_below(rng, 8)) {
    case 0:
    case 1:
    case 2:
        return 1 + rng_below(rng, 48);
    case 3:
    case 4:
        return 1 + rng_below(rng, 512);
    case 5:
    case 6:
        return 1 + rng_below(rng, 4096);
    default:
        return 1 + rng_below(rng, 40000);
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

static void check_payload(const slot_t *s, size_t n, size_t slot, int thread)
{
    for (size_t i = 0; i < n; i++)
        if (s->p[i] != pattern(s->tag, i))
            fail("payload overwritten", slot, thread);
}

/* Alignment and heap bounds of a fresh block of n bytes. */
static void check_fresh(const void *p, size_t n, size_t slot, int thread)
{
    const char *lo = mem_heap_lo(), *hi = mem_heap_hi();
    if ((uintptr_t)p % 16 != 0)
        fail("payload not 16-byte aligned", slot, thread);
    if ((const char *)p < lo || (const char *)p + n - 1 > hi)
        fail("payload outside the heap", slot, thread);
}

/* One operation on slot i (its lock held). */
static void slot_op(worker_t *w, size_t i)
{
    slot_t *s = &slots[i];
    if (s->p == NULL) {
        size_t n = random_size(&w->rng);
        bool zero = rng_below(&w->rng, 4) == 0;
        s->p = zero ? mm_calloc(1, n) : mm_malloc(n);
        if (s->p == NULL)
            fail("malloc returned NULL", i, w->index);
        check_fresh(s->p, n, i, w->index);
        for (size_t k = 0; zero && k < n; k++)
            if (s->p[k] != 0)
                fail("calloc returned a non-zero byte", i, w->index);
        s->size = n;
        s->tag = (unsigned)rng_next(&w->rng);
        s->thread = w->index;
        fill(s, 0);
        return;
    }
    check_payload(s, s->size, i, w->index);
    bool cross = s->thread != w->index;
    if (rng_below(&w->rng, 3) == 0) {
        size_t n = random_size(&w->rng);
        unsigned char *q = mm_realloc(s->p, n);
        if (q == NULL)
            fail("realloc returned NULL", i, w->index);
        check_fresh(q, n, i, w->index);
        s->p = q;
        size_t kept = n < s->size ? n : s->size;
        check_payload(s, kept, i, w->index);
        s->size = n;
        fill(s, kept);
        w->cross_reallocs += cross;
        return;
    }
    mm_free(s->p);
    s->p = NULL;
    w->cross_frees += cross;
}

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    for (long k = 0; k < w->ops; k++) {
        size_t i = rng_below(&w->rng, nslots);
        pthread_mutex_lock(&slots[i].lock);
        slot_op(w, i);
        pthread_mutex_unlock(&slots[i].lock);
    }
    return NULL;
}

static int by_address(const void *a, const void *b)
{
    const slot_t *x = *(slot_t *const *)a, *y = *(slot_t *const *)b;
    return (x->p > y->p) - (x->p < y->p);
}

/* The quiescent-point checks: the checker, no overlap, mm_stats. */
static void check_quiescent(int round)
{
    if (!mm_checkheap(__LINE__))
        fail("mm_checkheap failed at a quiescent point", 0, -1 - round);
    static slot_t *live[MAX_SLOTS];
    size_t n = 0;
    for (size_t i = 0; i < nslots; i++)
        if (slots[i].p != NULL)
            live[n++] = &slots[i];
    qsort(live, n, sizeof live[0], by_address);
    for (size_t k = 1; k < n; k++)
        if (live[k - 1]->p + live[k - 1]->size > live[k]->p)
            fail("two live blocks overlap", (size_t)(live[k] - slots),
                 -1 - round);
}

/* mm_stats: the in-use bytes of every arena hold the live payloads. */
typedef struct totals {
    size_t in_use;
    unsigned long long ops, remote;
    int arenas;
    bool print;
} totals_t;

static void add_stats(const mm_arena_stats *a, void *arg)
{
    totals_t *t = arg;
    t->in_use += a->in_use_bytes;
    t->ops += a->ops;
    t->remote += a->remote_frees;
    t->arenas++;
    if (t->print)
        printf("stress_mt: arena %u: %llu ops, %zu bytes in use, %zu free, "
               "%zu cached, %zu regions, %llu remote frees\n",
               a->arena, a->ops, a->in_use_bytes, a->free_bytes,
               a->cached_bytes, a->regions, a->remote_frees);
}

static void check_stats(bool print)
{
    totals_t t = {0, 0, 0, 0, print};
    mm_stats(add_stats, &t);
    size_t payload = 0;
    for (size_t i = 0; i < nslots; i++)
        payload += slots[i].p != NULL ? slots[i].size : 0;
    if (t.arenas == 0 || t.in_use < payload)
        fail("mm_stats: fewer bytes in use than live payloads", 0, -1);
}

static long run_round(worker_t *w, int threads, long ops, uint64_t seed,
                      int round)
{
    long done = 0;
    for (int k = 0; k < threads; k++) {
        w[k].index = round * threads + k;
        w[k].rng = seed * 0x9e3779b97f4a7c15u + (uint64_t)w[k].index + 1;
        w[k].ops = ops / threads;
        done += w[k].ops;
        if (pthread_create(&w[k].id, NULL, worker_main, &w[k]) != 0)
            fail("pthread_create failed", 0, k);
    }
    for (int k = 0; k < threads; k++)
        pthread_join(w[k].id, NULL);
    return done;
}

static long parse(const char *s, long lo, long hi)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*end != '\0' || v < lo || v > hi) {
        fprintf(stderr, "stress_mt: bad argument '%s' (expected %ld..%ld)\n", s,
                lo, hi);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 6) {
        fprintf(stderr, "usage: stress_mt SEED THREADS [OPS] [ROUNDS] "
                        "[SLOTS]\n");
        return 2;
    }
    uint64_t seed = (uint64_t)parse(argv[1], 0, 1L << 40);
    int threads = (int)parse(argv[2], 1, MAX_THREADS);
    long ops = argc > 3 ? parse(argv[3], 1, 1L << 30) : DEFAULT_OPS;
    int rounds = argc > 4 ? (int)parse(argv[4], 1, 1000) : DEFAULT_ROUNDS;
    nslots = argc > 5 ? (size_t)parse(argv[5], 1, MAX_SLOTS) : DEFAULT_SLOTS;
    for (size_t i = 0; i < nslots; i++)
        pthread_mutex_init(&slots[i].lock, NULL);
    if (!mem_init() || !mm_init())
        return 2;
    static worker_t w[MAX_THREADS];
    long total = 0, frees = 0, reallocs = 0;
    for (int r = 0; r < rounds; r++) {
        total += run_round(w, threads, ops / rounds, seed, r);
        for (int k = 0; k < threads; k++) {
            frees += w[k].cross_frees;
            reallocs += w[k].cross_reallocs;
            w[k].cross_frees = w[k].cross_reallocs = 0;
        }
        check_quiescent(r);
        check_stats(false);
    }
    check_stats(getenv("STRESS_MT_STATS") != NULL);
    for (size_t i = 0; i < nslots; i++)
        mm_free(slots[i].p);
    if (!mm_checkheap(__LINE__))
        fail("mm_checkheap failed after freeing everything", 0, -1);
    printf("stress_mt: seed %llu, %d threads: %ld ops ok (%ld cross-thread "
           "frees, %ld cross-thread reallocs)\n",
           (unsigned long long)seed, threads, total, frees, reallocs);
    mem_deinit();
    return 0;
}
