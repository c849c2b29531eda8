/*
 * common.h - what the libmm benchmark's workload programs share
 * (tools/libmm_bench/, docs/bench-libmm.md).
 *
 * Every program allocates through plain malloc/free, so whatever malloc is
 * preloaded (LD_PRELOAD=build/libmm.so, jemalloc, ...) is the one measured.
 * Each is seeded: its random choices come from a per-thread generator, so
 * the set of blocks it allocates, their sizes and their contents do not
 * depend on the allocator nor on the schedule. Every block is filled with a
 * pattern derived from its tag when it is allocated and checked when it is
 * freed (by whichever thread frees it); the checksum is the sum of the
 * checked blocks' digests, a sum so that the order of the frees does not
 * matter. A wrong allocator changes the checksum or the error count.
 *
 * Output: stdout gets one line `NAME threads=T ... checksum=HEX errors=N`
 * (the same under every correct allocator); stderr gets one line
 * `bench: wall=SECONDS cpu=SECONDS`, the timed part only (what
 * tools/bench_libmm.py reads). Exit status 0, or 1 when a block was found
 * corrupted, 2 on bad usage.
 */
#ifndef LIBMM_BENCH_COMMON_H
#define LIBMM_BENCH_COMMON_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest thread count a program accepts. */
enum { BENCH_MAX_THREADS = 64 };

/* A seeded generator (splitmix64): one per thread. */
typedef struct {
    uint64_t state;
} rng_t;

rng_t rng_seeded(uint64_t seed, uint64_t stream);
uint64_t rng_next(rng_t *r);
/* A number in lo .. hi, both included. */
size_t rng_range(rng_t *r, size_t lo, size_t hi);

/* What a thread found: the sum of the digests of the blocks it checked
 * (the checksum), and how many were wrong. */
typedef struct {
    uint64_t sum, errors;
} tally;

/* The pattern of a block of n bytes named tag (every byte the same, never
 * 0, so that a prefix of a block is checked like a block): written at
 * allocation, checked at free. check_block adds the block's digest to t->sum,
 * or one to t->errors when a byte differs. */
void fill_block(void *p, size_t n, uint64_t tag);
void check_block(const void *p, size_t n, uint64_t tag, tally *t);

/* malloc that exits with a message instead of returning NULL. */
void *xmalloc(size_t n);

/* Wall and CPU time (all threads) of the timed part. */
typedef struct {
    double wall, cpu;
} bench_clock;

void clock_start(bench_clock *c);
void clock_stop(bench_clock *c);

/* The command line `NAME THREADS [SCALE]`: threads 1 .. BENCH_MAX_THREADS,
 * scale a positive integer (default 10: the default size, ~1-3 s). Exits 2
 * with a usage message on anything else. */
void parse_args(int argc, char **argv, int *threads, long *scale);

/* Runs fn(arg + i * stride) on n threads and joins them; exits on error. */
void run_threads(int n, void *(*fn)(void *), void *arg, size_t stride);

/* run_threads, timed into *c (started here); returns the sum of the
 * tallies of the threads: each thread's argument begins with its tally. */
tally run_timed(int n, void *(*fn)(void *), void *arg, size_t stride,
                bench_clock *c);

/* Adds a thread's tally to *all. */
void tally_add(tally *all, const tally *t);

/* Prints the result lines (stdout and stderr) and returns the exit status:
 * 0, or 1 when t->errors is non-zero. extra: more `key=value` words, or "".
 */
int report(const char *name, int threads, const char *extra, tally t,
           const bench_clock *c);

#endif
