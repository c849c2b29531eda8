/*
 * cache_scratch.c - Hoard's cache-scratch test of false sharing
 * (tools/libmm_bench, docs/bench-libmm.md).
 *
 *     cache_scratch THREADS [SCALE]
 *
 * The main thread allocates one OBJECT-byte object per thread, one after
 * the other (neighbours in memory under most allocators), and hands each
 * to its thread. Each thread frees the object it was given, then
 * SCALE * ROUNDS_PER_SCALE / THREADS times allocates an OBJECT-byte object,
 * writes every byte of it WRITES times and frees it. An allocator that
 * hands a thread back the object it freed (a neighbour of another thread's
 * object, in the same cache line) makes the threads write to one cache
 * line: false sharing, which only time shows. The checksum is the sum of
 * what was read back.
 */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>

enum { OBJECT = 8, WRITES = 50 };
static const long ROUNDS_PER_SCALE = 300000;

typedef struct {
    tally t; /* first: run_timed adds them up */
    int id;
    long rounds;
    unsigned char *given;
} __attribute__((aligned(64))) worker;

/* Writes the object's bytes `WRITES` times; returns what it holds then. */
static uint64_t scratch(volatile unsigned char *p, long round)
{
    for (int w = 0; w < WRITES; w++)
        for (int i = 0; i < OBJECT; i++)
            p[i] = (unsigned char)(p[i] * 3 + (unsigned)(round + w + i));
    uint64_t sum = 0;
    for (int i = 0; i < OBJECT; i++)
        sum = sum * 257 + p[i];
    return sum;
}

static void *work(void *arg)
{
    worker *w = arg;
    check_block(w->given, OBJECT, (uint64_t)w->id, &w->t);
    free(w->given);
    for (long r = 0; r < w->rounds; r++) {
        unsigned char *p = xmalloc(OBJECT);
        for (int i = 0; i < OBJECT; i++)
            p[i] = (unsigned char)(w->id + i);
        w->t.sum += scratch(p, r);
        free(p);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int threads;
    long scale;
    parse_args(argc, argv, &threads, &scale);
    static worker workers[BENCH_MAX_THREADS];
    for (int i = 0; i < threads; i++) {
        workers[i].id = i;
        workers[i].rounds = scale * ROUNDS_PER_SCALE / threads;
        workers[i].given = xmalloc(OBJECT);
        fill_block(workers[i].given, OBJECT, (uint64_t)i);
    }
    bench_clock c;
    tally all = run_timed(threads, work, workers, sizeof workers[0], &c);
    char extra[64];
    snprintf(extra, sizeof extra, "rounds=%ld", scale * ROUNDS_PER_SCALE);
    return report("cache-scratch", threads, extra, all, &c);
}
