/*
 * regions_mt.c - how mm.c's arena build (-DMM_ARENAS) gets, grows and
 * reuses its regions when threads of different arenas share the break.
 *
 * Usage: regions_mt growing THREADS STEPS [MIN_UTIL]
 *   THREADS threads, pinned round-robin to the CPUs they may run on and
 *   bound by hand round-robin to the arenas (a new thread would join the
 *   arena made already: docs/design.md, "Binding"),
 *   each grow one block by realloc (from 512 bytes, 144 bytes a step, as
 *   traces/growing-block.rep does) and, at each step, allocate a small
 *   block and free the one of the step before. The threads take their
 *   steps in turn (thread 0's step 1, thread 1's step 1, ...): every
 *   growth finds the break moved by another arena, the worst case.
 *   Payloads are checked, mm_checkheap runs every 64 rounds and at the
 *   end. Prints util (peak of the live bytes of all the threads over the
 *   heap's size), the regions of each arena and the regions reused; with
 *   MIN_UTIL (a percentage), exits 1 when util is below it.
 * Exits 0 when every check held, 1 otherwise, 2 on bad usage.
 */
#define _GNU_SOURCE
#include "../../malloc/mm.c"

#include <pthread.h>
#include <sched.h>

enum { THREADS_MAX = 16, FIRST = 512, STEP = 144 };

static size_t nthreads, nsteps;
static size_t turn;       /* atomic: whose step it is (round * n + i) */
static size_t live, peak; /* bytes of all threads, changed in turn */
static bool failed;

static void fail(const char *what, size_t thread, size_t step)
{
    printf("regions_mt: FAIL: %s (thread %zu, step %zu)\n", what, thread, step);
    failed = true;
}

static void pin(size_t i)
{
    cpu_set_t allowed, one;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0)
        return;
    int cpus = CPU_COUNT(&allowed), k = (int)(i % (size_t)cpus);
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &allowed) && k-- == 0) {
            CPU_ZERO(&one);
            CPU_SET(c, &one);
            pthread_setaffinity_np(pthread_self(), sizeof one, &one);
            return;
        }
}

static void wait_turn(size_t t)
{
    while (__atomic_load_n(&turn, __ATOMIC_ACQUIRE) != t)
        sched_yield();
}

static void fill(unsigned char *p, size_t from, size_t to, size_t tag)
{
    for (size_t k = from; k < to; k++)
        p[k] = (unsigned char)(tag + k * 7);
}

static bool intact(const unsigned char *p, size_t n, size_t tag)
{
    for (size_t k = 0; k < n; k++)
        if (p[k] != (unsigned char)(tag + k * 7))
            return false;
    return true;
}

static void count(long bytes)
{
    live += (size_t)bytes;
    if (live > peak)
        peak = live;
}

/* One step of thread i: the block grows to `size`, a small block comes,
 * the one before goes. */
static void step(size_t i, size_t s, unsigned char **grow,
                 unsigned char **small, size_t *small_size)
{
    size_t size = FIRST + s * STEP, old = s == 0 ? 0 : size - STEP;
    unsigned char *p = mm_realloc(*grow, size);
    if (p == NULL || !intact(p, old, i)) {
        fail(p == NULL ? "realloc returned NULL" : "realloc lost data", i, s);
        return;
    }
    fill(p, old, size, i);
    *grow = p;
    count((long)(size - old));
    size_t n = 16 + (s * 37 + i * 11) % 241;
    unsigned char *q = mm_malloc(n);
    if (q == NULL) {
        fail("malloc returned NULL", i, s);
        return;
    }
    count((long)n);
    mm_free(*small);
    count(-(long)*small_size);
    *small = q;
    *small_size = n;
}

static void *worker(void *arg)
{
    size_t i = (size_t)arg;
    pin(i);
#ifndef MM_ARENA_GETCPU
    thread_arena = (uint32_t)(1 + i % heap->table->count);
#endif
    unsigned char *grow = NULL, *small = NULL;
    size_t small_size = 0;
    for (size_t s = 0; s < nsteps && !failed; s++) {
        wait_turn(s * nthreads + i);
        step(i, s, &grow, &small, &small_size);
        if (i == nthreads - 1 && s % 64 == 63 && !mm_checkheap(__LINE__))
            fail("mm_checkheap", i, s);
        __atomic_store_n(&turn, s * nthreads + i + 1, __ATOMIC_RELEASE);
    }
    /* the blocks stay live: the heap is measured at its peak */
    return NULL;
}

static void print_arena(const mm_arena_stats *st, void *arg)
{
    (void)arg;
    printf("  arena %u: regions %zu, in use %zu B, free %zu B, cached %zu B\n",
           st->arena, (size_t)st->regions, (size_t)st->in_use_bytes,
           (size_t)st->free_bytes, (size_t)st->cached_bytes);
}

static int growing(size_t threads, size_t steps, double min_util)
{
    pthread_t tid[THREADS_MAX];
    nthreads = threads;
    nsteps = steps;
    for (size_t i = 0; i < threads; i++)
        if (pthread_create(&tid[i], NULL, worker, (void *)i) != 0) {
            printf("regions_mt: pthread_create failed\n");
            return 1;
        }
    for (size_t i = 0; i < threads; i++)
        pthread_join(tid[i], NULL);
    if (!failed && !mm_checkheap(__LINE__))
        fail("mm_checkheap at the end", 0, steps);
    double util = 100.0 * (double)peak / (double)mem_heapsize();
    printf("regions_mt: growing %zu threads %zu steps: util %.1f%% (peak "
           "live %zu B, heap %zu B)\n",
           threads, steps, util, peak, mem_heapsize());
    mm_stats(print_arena, NULL);
    if (min_util > 0 && util < min_util) {
        printf("regions_mt: FAIL: util %.1f%% below %.1f%%\n", util, min_util);
        return 1;
    }
    return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 5 || strcmp(argv[1], "growing") != 0) {
        fprintf(stderr, "usage: regions_mt growing THREADS STEPS [MIN_UTIL]\n");
        return 2;
    }
    size_t threads = strtoul(argv[2], NULL, 10);
    size_t steps = strtoul(argv[3], NULL, 10);
    double min_util = argc == 5 ? strtod(argv[4], NULL) : 0;
    if (threads < 1 || threads > THREADS_MAX || steps < 1) {
        fprintf(stderr, "regions_mt: THREADS 1..%d, STEPS >= 1\n", THREADS_MAX);
        return 2;
    }
    if (!mem_init() || !mm_init())
        return 1;
    int rc = growing(threads, steps, min_util);
    mem_deinit();
    return rc;
}
