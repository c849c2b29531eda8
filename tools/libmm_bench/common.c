/*
 * common.c - the helpers of the libmm benchmark's workload programs
 * (common.h says what they share and what they print).
 */
#include "common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static const long DEFAULT_SCALE = 10;
static const long MAX_SCALE = 1000000;

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

rng_t rng_seeded(uint64_t seed, uint64_t stream)
{
    rng_t r = {mix64(seed * 0x9e3779b97f4a7c15ULL + stream + 1)};
    return r;
}

uint64_t rng_next(rng_t *r)
{
    r->state += 0x9e3779b97f4a7c15ULL;
    return mix64(r->state);
}

size_t rng_range(rng_t *r, size_t lo, size_t hi)
{
    return lo + (size_t)(rng_next(r) % (hi - lo + 1));
}

/* The byte that fills a block (never 0, so a zeroed block is caught). */
static unsigned char fill_byte(uint64_t tag)
{
    return (unsigned char)(mix64(tag) | 1);
}

void fill_block(void *p, size_t n, uint64_t tag)
{
    memset(p, fill_byte(tag), n);
}

void check_block(const void *p, size_t n, uint64_t tag, tally *t)
{
    const unsigned char *b = p;
    unsigned char want = fill_byte(tag), bad = 0;
    for (size_t i = 0; i < n; i++)
        bad |= (unsigned char)(b[i] ^ want);
    if (bad)
        t->errors += 1;
    else
        t->sum += mix64(tag * 31 + n);
}

void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (p == NULL) {
        fprintf(stderr, "malloc(%zu) failed: %s\n", n, strerror(errno));
        exit(1);
    }
    return p;
}

static double now(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void clock_start(bench_clock *c)
{
    c->wall = now(CLOCK_MONOTONIC);
    c->cpu = now(CLOCK_PROCESS_CPUTIME_ID);
}

void clock_stop(bench_clock *c)
{
    c->wall = now(CLOCK_MONOTONIC) - c->wall;
    c->cpu = now(CLOCK_PROCESS_CPUTIME_ID) - c->cpu;
}

/* A decimal in 1 .. max, or -1. */
static long positive(const char *s, long max)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 1 || v > max)
        return -1;
    return v;
}

void parse_args(int argc, char **argv, int *threads, long *scale)
{
    long t = argc >= 2 ? positive(argv[1], BENCH_MAX_THREADS) : -1;
    *scale = argc >= 3 ? positive(argv[2], MAX_SCALE) : DEFAULT_SCALE;
    if (argc < 2 || argc > 3 || t < 0 || *scale < 0) {
        fprintf(stderr,
                "usage: %s THREADS [SCALE]\n"
                "  THREADS 1 .. %d; SCALE 1 .. %ld, the amount of work "
                "(default %ld)\n",
                argv[0], BENCH_MAX_THREADS, MAX_SCALE, DEFAULT_SCALE);
        exit(2);
    }
    *threads = (int)t;
}

void run_threads(int n, void *(*fn)(void *), void *arg, size_t stride)
{
    pthread_t tid[BENCH_MAX_THREADS];
    for (int i = 0; i < n; i++) {
        int err = pthread_create(&tid[i], NULL, fn, (char *)arg + i * stride);
        if (err != 0) {
            fprintf(stderr, "pthread_create: %s\n", strerror(err));
            exit(1);
        }
    }
    for (int i = 0; i < n; i++)
        pthread_join(tid[i], NULL);
}

tally run_timed(int n, void *(*fn)(void *), void *arg, size_t stride,
                bench_clock *c)
{
    clock_start(c);
    run_threads(n, fn, arg, stride);
    clock_stop(c);
    tally all = {0, 0};
    for (int i = 0; i < n; i++)
        tally_add(&all, (const tally *)((char *)arg + i * stride));
    return all;
}

void tally_add(tally *all, const tally *t)
{
    all->sum += t->sum;
    all->errors += t->errors;
}

int report(const char *name, int threads, const char *extra, tally t,
           const bench_clock *c)
{
    printf("%s threads=%d%s%s checksum=%016llx errors=%llu\n", name, threads,
           *extra ? " " : "", extra, (unsigned long long)t.sum,
           (unsigned long long)t.errors);
    fflush(stdout);
    fprintf(stderr, "bench: wall=%.6f cpu=%.6f\n", c->wall, c->cpu);
    if (t.errors != 0)
        fprintf(stderr, "%s: %llu error(s): corrupted blocks or failed calls\n",
                name, (unsigned long long)t.errors);
    return t.errors != 0;
}
