/*
 * larson.c - a larson-like server (tools/libmm_bench, docs/bench-libmm.md).
 *
 *     larson THREADS [SCALE]
 *
 * Each thread keeps SLOTS blocks of MIN_SIZE .. MAX_SIZE bytes. At each
 * step it picks a slot at random and replaces its block by a new one of a
 * random size; one time in HANDOFF_ONE_IN (with more than one thread) the
 * old block is handed to another thread, chosen at random, through that
 * thread's mailbox, and that thread frees it: the frees of a server whose
 * requests are answered by other threads. Every block is checked where it
 * is freed (common.h). The steps are split among the threads: SCALE *
 * STEPS_PER_SCALE in all.
 */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>

enum {
    SLOTS = 1000,
    MIN_SIZE = 8,
    MAX_SIZE = 400,
    HANDOFF_ONE_IN = 4,
    MAILBOX = 256,
    DRAIN_EVERY = 64
};
static const long STEPS_PER_SCALE = 800000;

typedef struct {
    void *p;
    size_t n;
    uint64_t tag;
} block;

/* Blocks handed to a thread, which frees them. */
typedef struct {
    pthread_mutex_t lock;
    int n;
    block b[MAILBOX];
} __attribute__((aligned(64))) mailbox;

typedef struct {
    tally t; /* first: run_timed adds them up */
    int id, threads;
    long steps;
    block slot[SLOTS];
} __attribute__((aligned(64))) worker;

static mailbox boxes[BENCH_MAX_THREADS];
static pthread_barrier_t steps_done;

static void release(worker *w, block b)
{
    check_block(b.p, b.n, b.tag, &w->t);
    free(b.p);
}

/* Hands b to thread `to`; frees it here when that mailbox is full. */
static void post(worker *w, int to, block b)
{
    mailbox *box = &boxes[to];
    pthread_mutex_lock(&box->lock);
    bool posted = box->n < MAILBOX;
    if (posted)
        box->b[box->n++] = b;
    pthread_mutex_unlock(&box->lock);
    if (!posted)
        release(w, b);
}

/* Frees what other threads handed to w. */
static void drain(worker *w)
{
    block got[MAILBOX];
    mailbox *box = &boxes[w->id];
    pthread_mutex_lock(&box->lock);
    int n = box->n;
    for (int i = 0; i < n; i++)
        got[i] = box->b[i];
    box->n = 0;
    pthread_mutex_unlock(&box->lock);
    for (int i = 0; i < n; i++)
        release(w, got[i]);
}

static void replace(worker *w, rng_t *r, block *s, uint64_t tag)
{
    if (s->p != NULL && w->threads > 1 && rng_next(r) % HANDOFF_ONE_IN == 0) {
        uint64_t others = (uint64_t)w->threads - 1;
        post(w, (w->id + 1 + (int)(rng_next(r) % others)) % w->threads, *s);
    } else if (s->p != NULL) {
        release(w, *s);
    }
    s->n = rng_range(r, MIN_SIZE, MAX_SIZE);
    s->p = xmalloc(s->n);
    s->tag = tag;
    fill_block(s->p, s->n, tag);
}

static void *serve(void *arg)
{
    worker *w = arg;
    rng_t r = rng_seeded(15213, (uint64_t)w->id);
    for (long i = 0; i < w->steps; i++) {
        block *s = &w->slot[rng_next(&r) % SLOTS];
        replace(w, &r, s, ((uint64_t)w->id << 40) | (uint64_t)i);
        if (i % DRAIN_EVERY == 0)
            drain(w);
    }
    pthread_barrier_wait(&steps_done);
    drain(w);
    for (int i = 0; i < SLOTS; i++)
        if (w->slot[i].p != NULL)
            release(w, w->slot[i]);
    return NULL;
}

int main(int argc, char **argv)
{
    int threads;
    long scale;
    parse_args(argc, argv, &threads, &scale);
    static worker workers[BENCH_MAX_THREADS];
    for (int i = 0; i < threads; i++) {
        pthread_mutex_init(&boxes[i].lock, NULL);
        workers[i].id = i;
        workers[i].threads = threads;
        workers[i].steps = scale * STEPS_PER_SCALE / threads;
    }
    pthread_barrier_init(&steps_done, NULL, (unsigned)threads);
    bench_clock c;
    tally all = run_timed(threads, serve, workers, sizeof workers[0], &c);
    char extra[64];
    snprintf(extra, sizeof extra, "steps=%ld", scale * STEPS_PER_SCALE);
    return report("larson", threads, extra, all, &c);
}
