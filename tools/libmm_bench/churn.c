/*
 * churn.c - thread churn (tools/libmm_bench, docs/bench-libmm.md).
 *
 *     churn THREADS [SCALE]
 *
 * SCALE * WAVES_PER_SCALE / THREADS waves: each wave creates THREADS
 * threads and joins them. Each thread allocates BLOCKS blocks of
 * MIN_SIZE .. MAX_SIZE bytes, frees every other one as it goes, and
 * leaves the rest to the main thread, which checks and frees them after
 * the thread has exited (a thread's exit must leave its blocks valid).
 * An allocator that keeps per-thread state pays for its setup and
 * teardown at every thread.
 */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>

enum { BLOCKS = 500, MIN_SIZE = 16, MAX_SIZE = 512 };
static const long WAVES_PER_SCALE = 400;

typedef struct {
    tally t;
    int id;
    long wave;
    void *kept[BLOCKS / 2];
    size_t n[BLOCKS / 2];
    uint64_t tag[BLOCKS / 2];
} __attribute__((aligned(64))) worker;

static void *work(void *arg)
{
    worker *w = arg;
    rng_t r = rng_seeded((uint64_t)w->wave, (uint64_t)w->id);
    void *prev = NULL;
    size_t prev_n = 0;
    uint64_t base = ((uint64_t)w->wave << 32) | ((uint64_t)w->id << 20);
    for (int i = 0; i < BLOCKS; i++) {
        size_t n = rng_range(&r, MIN_SIZE, MAX_SIZE);
        void *p = xmalloc(n);
        fill_block(p, n, base + (uint64_t)i);
        if (i % 2 == 0) {
            prev = p;
            prev_n = n;
            continue;
        }
        check_block(prev, prev_n, base + (uint64_t)i - 1, &w->t);
        free(prev);
        w->kept[i / 2] = p;
        w->n[i / 2] = n;
        w->tag[i / 2] = base + (uint64_t)i;
    }
    return NULL;
}

/* The main thread frees what a finished thread left. */
static void reap(worker *w, tally *all)
{
    tally_add(all, &w->t);
    for (int i = 0; i < BLOCKS / 2; i++) {
        check_block(w->kept[i], w->n[i], w->tag[i], all);
        free(w->kept[i]);
    }
}

int main(int argc, char **argv)
{
    int threads;
    long scale;
    parse_args(argc, argv, &threads, &scale);
    static worker workers[BENCH_MAX_THREADS];
    long waves = scale * WAVES_PER_SCALE / threads;
    tally all = {0, 0};
    bench_clock c;
    clock_start(&c);
    for (long wave = 0; wave < waves; wave++) {
        for (int i = 0; i < threads; i++)
            workers[i] = (worker){.id = i, .wave = wave};
        run_threads(threads, work, workers, sizeof workers[0]);
        for (int i = 0; i < threads; i++)
            reap(&workers[i], &all);
    }
    clock_stop(&c);
    char extra[64];
    snprintf(extra, sizeof extra, "threads_made=%ld", waves * threads);
    return report("churn", threads, extra, all, &c);
}
