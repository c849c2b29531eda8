/*
 * sbrk_mt.c - memlib's mem_sbrk from several threads at once.
 *
 * Usage: sbrk_mt THREADS GROWTHS
 *
 * Round 1 (checked mode: every growth under memlib's lock) and round 2
 * (timing mode after mem_reset_brk: growths inside the pages granted in
 * round 1 take no lock, those past them take it and mprotect) each start
 * THREADS threads (1..64) at a barrier; each thread calls mem_sbrk
 * GROWTHS times (1..100000) with sizes of its own (1..4096 bytes, round 2
 * twice as many of them as round 1, so that it grows past the pages
 * granted) and writes the first and the last byte of each range. Then the
 * ranges must be disjoint, inside the heap, and add up to
 * mem_heapsize(). Prints "sbrk_mt: T threads, N growths ok" and exits 0,
 * or names the first bad range and exits 1; exit 2 on bad usage.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "memlib.h"

enum { MAX_THREADS = 64, MAX_GROWTHS = 100000 };

typedef struct {
    char *at;
    size_t size;
} range;

typedef struct {
    int thread, growths;
    range *ranges;
    int *arrived, threads;
} worker;

static int cmp_range(const void *a, const void *b)
{
    const range *x = a, *y = b;
    return (x->at > y->at) - (x->at < y->at);
}

/* The thread's k-th size: 1..4096 bytes, from its number. */
static size_t size_of(int thread, int k)
{
    uint64_t x = (uint64_t)(thread + 1) * 0x9e3779b97f4a7c15u + (uint64_t)k;
    x ^= x >> 29;
    x *= 0xbf58476d1ce4e5b9u;
    x ^= x >> 32;
    return 1 + (size_t)(x % 4096);
}

static void *grow(void *arg)
{
    worker *w = arg;
    __atomic_add_fetch(w->arrived, 1, __ATOMIC_ACQ_REL);
    while (__atomic_load_n(w->arrived, __ATOMIC_ACQUIRE) < w->threads)
        continue;
    for (int k = 0; k < w->growths; k++) {
        size_t n = size_of(w->thread, k);
        char *p = mem_sbrk((intptr_t)n);
        w->ranges[k] = (range){p, n};
        if (p == (void *)-1)
            return NULL;
        p[0] = (char)k;
        p[n - 1] = (char)k;
    }
    return NULL;
}

/* Round `round` with threads x growths ranges into r; false on failure. */
static bool run_round(int round, int threads, int growths, range *r)
{
    pthread_t tid[MAX_THREADS];
    worker w[MAX_THREADS];
    int arrived = 0;
    for (int t = 0; t < threads; t++) {
        w[t] = (worker){t, growths, r + (size_t)t * growths, &arrived, threads};
        if (pthread_create(&tid[t], NULL, grow, &w[t]) != 0) {
            printf("sbrk_mt: round %d: pthread_create failed\n", round);
            return false;
        }
    }
    for (int t = 0; t < threads; t++)
        pthread_join(tid[t], NULL);
    size_t n = (size_t)threads * growths, total = 0;
    qsort(r, n, sizeof *r, cmp_range);
    char *lo = mem_heap_lo(), *hi = (char *)mem_heap_hi() + 1;
    for (size_t i = 0; i < n; i++) {
        const char *bad = r[i].at == (void *)-1 ? "mem_sbrk failed"
                          : r[i].at < lo || r[i].at + r[i].size > hi
                              ? "outside the heap"
                          : i > 0 && r[i - 1].at + r[i - 1].size > r[i].at
                              ? "overlaps the one before"
                              : NULL;
        if (bad != NULL) {
            printf("sbrk_mt: round %d: range %zu (%zu bytes at %p): %s\n",
                   round, i, r[i].size, (void *)r[i].at, bad);
            return false;
        }
        total += r[i].size;
    }
    if (total != mem_heapsize()) {
        printf("sbrk_mt: round %d: the ranges add up to %zu bytes, the heap "
               "is %zu\n",
               round, total, mem_heapsize());
        return false;
    }
    return true;
}

static long arg(const char *s, long lo, long hi)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < lo || v > hi) {
        fprintf(stderr, "sbrk_mt: bad argument '%s' (expected %ld..%ld)\n", s,
                lo, hi);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: sbrk_mt THREADS GROWTHS\n");
        return 2;
    }
    int threads = (int)arg(argv[1], 1, MAX_THREADS);
    int growths = (int)arg(argv[2], 1, MAX_GROWTHS);
    range *r = calloc((size_t)threads * growths * 2, sizeof *r);
    bool ok = r != NULL && mem_init() && run_round(1, threads, growths, r);
    if (ok) {
        mem_set_timing_mode(true);
        mem_reset_brk();
        ok = run_round(2, threads, 2 * growths, r);
    }
    if (ok)
        printf("sbrk_mt: %d threads, %d growths ok\n", threads, 3 * growths);
    free(r);
    return ok ? 0 : 1;
}
