/*
 * xmalloc.c - an xmalloc-like producer/consumer (tools/libmm_bench,
 * docs/bench-libmm.md).
 *
 *     xmalloc THREADS [SCALE]
 *
 * Threads work in pairs: the even thread of a pair allocates batches of
 * BATCH blocks (MIN_SIZE .. MAX_SIZE bytes, filled) and queues them; the
 * odd one takes them off the queue, checks and frees every block and the
 * batch itself: every free is of a block another thread allocated. A
 * thread without a partner (one thread, or the last of an odd count) frees
 * its own batches as it makes them. The queue holds at most QUEUE batches.
 * SCALE * BATCHES_PER_SCALE batches in all, split among the producers.
 */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>

enum { BATCH = 256, QUEUE = 16, MIN_SIZE = 8, MAX_SIZE = 1024 };
static const long BATCHES_PER_SCALE = 1000;

typedef struct {
    void *p[BATCH];
    size_t n[BATCH];
    uint64_t tag[BATCH];
} batch;

/* The bounded queue of a pair. */
typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    batch *ring[QUEUE];
    int head, count;
} queue;

typedef enum { PRODUCER, CONSUMER, ALONE } role;

typedef struct {
    tally t; /* first: run_timed adds them up */
    int id;
    role role;
    long batches;
    queue *q;
} __attribute__((aligned(64))) worker;

static batch *make_batch(rng_t *r, int id, long index)
{
    batch *b = xmalloc(sizeof *b);
    for (int i = 0; i < BATCH; i++) {
        b->n[i] = rng_range(r, MIN_SIZE, MAX_SIZE);
        b->tag[i] = ((uint64_t)id << 40) | ((uint64_t)index * BATCH + i);
        b->p[i] = xmalloc(b->n[i]);
        fill_block(b->p[i], b->n[i], b->tag[i]);
    }
    return b;
}

static void free_batch(worker *w, batch *b)
{
    for (int i = 0; i < BATCH; i++) {
        check_block(b->p[i], b->n[i], b->tag[i], &w->t);
        free(b->p[i]);
    }
    free(b);
}

static void push(queue *q, batch *b)
{
    pthread_mutex_lock(&q->lock);
    while (q->count == QUEUE)
        pthread_cond_wait(&q->changed, &q->lock);
    q->ring[(q->head + q->count++) % QUEUE] = b;
    pthread_cond_broadcast(&q->changed);
    pthread_mutex_unlock(&q->lock);
}

static batch *pop(queue *q)
{
    pthread_mutex_lock(&q->lock);
    while (q->count == 0)
        pthread_cond_wait(&q->changed, &q->lock);
    batch *b = q->ring[q->head];
    q->head = (q->head + 1) % QUEUE;
    q->count--;
    pthread_cond_broadcast(&q->changed);
    pthread_mutex_unlock(&q->lock);
    return b;
}

static void *work(void *arg)
{
    worker *w = arg;
    rng_t r = rng_seeded(15213, (uint64_t)w->id);
    for (long i = 0; i < w->batches; i++) {
        if (w->role == PRODUCER)
            push(w->q, make_batch(&r, w->id, i));
        else if (w->role == CONSUMER)
            free_batch(w, pop(w->q));
        else
            free_batch(w, make_batch(&r, w->id, i));
    }
    return NULL;
}

/* Pairs the threads: 2k produces for 2k + 1 through queue k. */
static void assign(worker *workers, queue *queues, int threads, long scale)
{
    int producers = (threads + 1) / 2;
    for (int i = 0; i < threads; i++) {
        worker *w = &workers[i];
        w->id = i;
        w->role = i % 2 ? CONSUMER : i + 1 < threads ? PRODUCER : ALONE;
        w->batches = scale * BATCHES_PER_SCALE / producers;
        w->q = &queues[i / 2];
        pthread_mutex_init(&w->q->lock, NULL);
        pthread_cond_init(&w->q->changed, NULL);
    }
}

int main(int argc, char **argv)
{
    int threads;
    long scale;
    parse_args(argc, argv, &threads, &scale);
    static worker workers[BENCH_MAX_THREADS];
    static queue queues[BENCH_MAX_THREADS / 2];
    assign(workers, queues, threads, scale);
    bench_clock c;
    tally all = run_timed(threads, work, workers, sizeof workers[0], &c);
    long blocks = 0;
    for (int i = 0; i < threads; i++)
        blocks += workers[i].role != PRODUCER ? workers[i].batches * BATCH : 0;
    char extra[64];
    snprintf(extra, sizeof extra, "blocks=%ld", blocks);
    return report("xmalloc", threads, extra, all, &c);
}
