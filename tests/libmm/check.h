/*
 * check.h - what the tests of build/libmm.so share (tests/test_libmm.py
 * runs them, under LD_PRELOAD=build/libmm.so and, as the control, under
 * glibc's malloc).
 *   check(cond, what)   counts and prints a failure (`FAIL: what`)
 *   report_allocator()  prints `allocator: PATH` on stderr: the object
 *                       that defines the malloc the program calls, so
 *                       that a test knows which one it tested
 *   fill/verify         a payload pattern derived from a seed
 *   run_named           main of a program of tests chosen by name
 * The programs are built with -fno-builtin: gcc would otherwise drop a
 * malloc whose block is never used, and the call with it.
 */
#ifndef LIBMM_CHECK_H
#define LIBMM_CHECK_H

#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

static inline bool check(bool cond, const char *what)
{
    if (!cond) {
        failures++;
        printf("FAIL: %s\n", what);
        fflush(stdout);
    }
    return cond;
}

/* Set by report_allocator: malloc is build/libmm.so's. */
static bool under_libmm;

static inline void report_allocator(void)
{
    Dl_info info;
    void *(*m)(size_t) = malloc;
    const char *name = "unknown";
    if (dladdr(*(void **)&m, &info) != 0 && info.dli_fname != NULL)
        name = info.dli_fname;
    under_libmm = strstr(name, "libmm") != NULL;
    fprintf(stderr, "allocator: %s\n", name);
}

/* The byte at i of a block with this seed. */
static inline unsigned char pattern_byte(uint64_t seed, size_t i)
{
    uint64_t x = (seed + i) * 0x9e3779b97f4a7c15u;
    return (unsigned char)(x >> 56);
}

static inline void fill(void *p, size_t n, uint64_t seed)
{
    unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        b[i] = pattern_byte(seed, i);
}

/* Whether the first n bytes of p hold the pattern of seed. */
static inline bool verify(const void *p, size_t n, uint64_t seed)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != pattern_byte(seed, i))
            return false;
    return true;
}

/* A small, seeded generator (xorshift64*). */
static inline uint64_t next_random(uint64_t *state)
{
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * 0x2545f4914f6cdd1du;
}

static inline int finish(void)
{
    printf("%s: %d failures\n", failures == 0 ? "ok" : "FAILED", failures);
    return failures == 0 ? 0 : 1;
}

/* A program's tests, by name: `PROGRAM NAME` runs one. */
typedef struct named_test {
    const char *name;
    void (*run)(void);
} named_test;

/* main of a program of named tests: reports the allocator, runs the test
 * argv[1] names and returns finish()'s status, or 2 (with a usage line)
 * when there is no such test. */
static inline int run_named(int argc, char **argv, const named_test *tests,
                            size_t n)
{
    report_allocator();
    for (size_t i = 0; argc == 2 && i < n; i++) {
        if (strcmp(argv[1], tests[i].name) == 0) {
            tests[i].run();
            return finish();
        }
    }
    fprintf(stderr, "usage: %s NAME (the names: see the source)\n", argv[0]);
    return 2;
}

#endif /* LIBMM_CHECK_H */
