/*
 * bench_mt.c - pthread throughput microbenchmark of mm.c's arena mode
 * against glibc malloc, in the same process (tools/bench_arenas.py runs it;
 * docs/bench-arenas.md has the figures).
 *
 * Usage: bench_mt THREADS OPS [CROSS]
 * THREADS = 0: the work of one thread, done by the main thread (the process
 * never has a second thread: mm.c's arena build takes no lock), timed in
 * CPU time (CLOCK_PROCESS_CPUTIME_ID: steadier than wall-clock time on a
 * loaded machine); this mode also runs with the plain mm.c.
 * Each of THREADS threads owns 1024 slots and does OPS/THREADS steps: pick
 * a random slot, free its block (if any) and allocate one of a random size
 * (16..512 bytes, a quarter of them up to 4 KiB), writing its first and
 * last byte. With CROSS = c > 0, every c-th step frees a block of the
 * neighbouring thread's slots instead (a remote free; the slot is taken
 * with an atomic exchange, so no lock of the benchmark's own). Runs the
 * same work with mm.c (after mm_init) and with glibc, each once to warm up
 * and once timed, and prints one line:
 * "threads T ops N cross C mm_kops X glibc_kops Y mm_cpu_kops X2
 * glibc_cpu_kops Y2" (thousands of ops per second, an op being a malloc or
 * a free: in wall-clock time, then per second of CPU time of the whole
 * process, which a loaded machine disturbs less: a thread that waits for
 * the CPU costs nothing; one that spins for a lock costs its spinning).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../malloc/memlib.h"
#include "../malloc/mm.h"

enum { SLOTS = 1024, MAX_THREADS = 64 };

typedef struct api {
    void *(*alloc)(size_t);
    void (*release)(void *);
} api_t;

typedef struct worker {
    pthread_t id;
    int index;
    long steps, cross;
    long ops;
    const api_t *api;
    unsigned char *slot[SLOTS];
} worker_t;

static worker_t workers[MAX_THREADS];
static int nthreads;

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static size_t random_size(uint64_t *rng)
{
    uint64_t r = rng_next(rng);
    return (r & 3) == 0 ? 16 + (r >> 8) % 4081 : 16 + (r >> 8) % 497;
}

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    uint64_t rng = 0x9e3779b97f4a7c15u * (uint64_t)(w->index + 1);
    worker_t *next = &workers[(w->index + 1) % (nthreads > 0 ? nthreads : 1)];
    for (long k = 0; k < w->steps; k++) {
        size_t i = (size_t)(rng_next(&rng) % SLOTS);
        worker_t *from = w->cross > 0 && k % w->cross == 0 ? next : w;
        unsigned char *p =
            __atomic_exchange_n(&from->slot[i], NULL, __ATOMIC_ACQ_REL);
        if (p != NULL) {
            w->api->release(p);
            w->ops++;
        }
        size_t n = random_size(&rng);
        unsigned char *q = w->api->alloc(n);
        if (q == NULL) {
            fprintf(stderr, "bench_mt: out of memory\n");
            exit(1);
        }
        q[0] = q[n - 1] = 1;
        w->ops++;
        p = __atomic_exchange_n(&w->slot[i], q, __ATOMIC_ACQ_REL);
        if (p != NULL) { /* a neighbour's refill raced: keep none */
            w->api->release(p);
            w->ops++;
        }
    }
    return NULL;
}

static double clock_secs(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double now(void)
{
    return clock_secs(nthreads == 0 ? CLOCK_PROCESS_CPUTIME_ID
                                    : CLOCK_MONOTONIC);
}

/* Thousands of ops per second of CPU time of the last run. */
static double cpu_kops;

/* Runs the work with api; returns thousands of ops per second. */
static double run(const api_t *api, long ops, long cross)
{
    if (nthreads == 0) { /* no thread: the main thread works */
        workers[0] = (worker_t){.steps = ops, .api = api};
        double start = now();
        worker_main(&workers[0]);
        double secs = now() - start;
        for (size_t i = 0; i < SLOTS; i++)
            api->release(workers[0].slot[i]);
        cpu_kops = (double)workers[0].ops / secs / 1000.0;
        return cpu_kops;
    }
    for (int t = 0; t < nthreads; t++) {
        workers[t] = (worker_t){
            .index = t, .steps = ops / nthreads, .cross = cross, .api = api};
    }
    double start = now(), cpu = clock_secs(CLOCK_PROCESS_CPUTIME_ID);
    for (int t = 0; t < nthreads; t++)
        if (pthread_create(&workers[t].id, NULL, worker_main, &workers[t]))
            exit(1);
    long done = 0;
    for (int t = 0; t < nthreads; t++) {
        pthread_join(workers[t].id, NULL);
        done += workers[t].ops;
    }
    double secs = now() - start;
    cpu = clock_secs(CLOCK_PROCESS_CPUTIME_ID) - cpu;
    cpu_kops = (double)done / cpu / 1000.0;
    for (int t = 0; t < nthreads; t++)
        for (size_t i = 0; i < SLOTS; i++)
            api->release(workers[t].slot[i]);
    return (double)done / secs / 1000.0;
}

static void mm_release(void *p)
{
    mm_free(p);
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4 || (nthreads = atoi(argv[1])) < 0 ||
        nthreads > MAX_THREADS || atol(argv[2]) < 1) {
        fprintf(stderr, "usage: bench_mt THREADS(0..64) OPS [CROSS]\n");
        return 2;
    }
    long ops = atol(argv[2]), cross = argc > 3 ? atol(argv[3]) : 0;
    mem_set_max_heap((size_t)1 << 30);
    mem_set_timing_mode(true); /* no garbage fill: time the allocator */
    if (!mem_init() || !mm_init())
        return 1;
    static const api_t mm = {mm_malloc, mm_release}, libc = {malloc, free};
    run(&mm, ops, cross); /* warm-up: the pages of the heap, the arenas */
    mem_reset_brk();
    if (!mm_init())
        return 1;
    double mm_kops = run(&mm, ops, cross), mm_cpu = cpu_kops;
    run(&libc, ops, cross);
    double libc_kops = run(&libc, ops, cross);
    printf("threads %d ops %ld cross %ld mm_kops %.0f glibc_kops %.0f "
           "mm_cpu_kops %.0f glibc_cpu_kops %.0f\n",
           nthreads, ops, cross, mm_kops, libc_kops, mm_cpu, cpu_kops);
    mem_deinit();
    return 0;
}
