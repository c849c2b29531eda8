/*
 * glibc_tests.c - the checks of glibc's own malloc tests (glibc 2.36's
 * malloc/tst-malloc.c, tst-calloc.c, tst-realloc.c, tst-memalign.c,
 * tst-posix_memalign.c, tst-aligned-alloc.c, tst-malloc-too-large.c,
 * tst-free-errno.c), re-implemented, plus `semantics`: the edge cases of
 * the API printed one per line, so that a run under build/libmm.so can be
 * compared with a run under glibc's malloc, line for line.
 *
 * Usage: glibc_tests NAME   (NAME: malloc calloc realloc memalign
 *        posix_memalign aligned_alloc too_large free_errno semantics)
 * `semantics` also frees p of `realloc(p, SIZE_MAX)` through the
 * reallocarray lines: p stays valid after each failure.
 * Prints `FAIL: ...` per failed check and exits 1 if any; prints the
 * allocator in use on stderr. tests/test_libmm.py runs each under both.
 */
#include "check.h"

#include <malloc.h>
#include <unistd.h>

/* Whether p is a usable block of n bytes aligned to align: written and
 * read back whole, its usable size at least n. */
static bool usable(void *p, size_t n, size_t align, uint64_t seed)
{
    if (p == NULL || (uintptr_t)p % align != 0)
        return false;
    fill(p, n, seed);
    return verify(p, n, seed) && malloc_usable_size(p) >= n;
}

static bool failed_with(const void *p, int err)
{
    return p == NULL && errno == err;
}

static void test_malloc(void)
{
    errno = 0;
    check(failed_with(malloc((size_t)-1), ENOMEM), "malloc(-1): ENOMEM");
    void *p = malloc(0), *q = malloc(0);
    check(p != NULL && q != NULL && p != q, "malloc(0): unique pointers");
    check(realloc(p, 0) == NULL, "realloc(p, 0) frees and returns NULL");
    free(q);
    p = malloc(513);
    check(usable(p, 513, 16, 1), "malloc(513)");
    errno = 0;
    check(failed_with(malloc((size_t)-512), ENOMEM), "malloc(-512): ENOMEM");
    errno = 0;
    check(failed_with(realloc(p, (size_t)-512), ENOMEM),
          "realloc(p, -512): ENOMEM");
    check(verify(p, 513, 1), "realloc failed: p intact");
    free(p);
    for (size_t n = 1; n < 100000; n = n * 3 + 1) {
        p = malloc(n);
        check(usable(p, n, 16, n), "malloc(n): 16-aligned, usable");
        free(p);
    }
}

static void test_calloc_random(void)
{
    uint64_t state = 42;
    void *held[64] = {0};
    for (int round = 0; round < 4000; round++) {
        size_t i = next_random(&state) % 64;
        size_t n = next_random(&state) % (round % 10 == 0 ? 300000 : 2000);
        free(held[i]);
        unsigned char *p = held[i] = calloc(n, 1);
        bool zero = p != NULL;
        for (size_t k = 0; zero && k < n; k++)
            zero = p[k] == 0;
        if (!check(zero, "calloc: zeroed, even reusing dirty memory"))
            break;
        memset(p, 0xa5, n);
    }
    for (int i = 0; i < 64; i++)
        free(held[i]);
}

static void test_calloc(void)
{
    test_calloc_random();
    void *p;
    check((p = calloc(0, 0)) != NULL, "calloc(0, 0) non-NULL");
    free(p);
    check((p = calloc(0, UINT32_MAX)) != NULL, "calloc(0, UINT_MAX)");
    free(p);
    check((p = calloc(UINT32_MAX, 0)) != NULL, "calloc(UINT_MAX, 0)");
    free(p);
    check((p = calloc(0, (size_t)-1)) != NULL, "calloc(0, ~0)");
    free(p);
    check((p = calloc((size_t)-1, 0)) != NULL, "calloc(~0, 0)");
    free(p);
    errno = 0;
    check(failed_with(calloc(SIZE_MAX / 2 + 1, 2), ENOMEM),
          "calloc overflow: ENOMEM");
}

static void test_realloc(void)
{
    errno = 0;
    check(failed_with(realloc(NULL, (size_t)-1), ENOMEM),
          "realloc(NULL, -1): ENOMEM");
    unsigned char *p = realloc(NULL, 10);
    check(usable(p, 10, 16, 7), "realloc(NULL, 10)");
    for (size_t n = 20; n < 4000000; n = n * 2 + 5) { /* grows, moves */
        p = realloc(p, n);
        check(p != NULL && verify(p, 10, 7), "realloc keeps the payload");
    }
    p = realloc(p, 5);
    check(p != NULL && verify(p, 5, 7), "realloc shrinking keeps the start");
    errno = 0;
    check(failed_with(realloc(p, (size_t)-1), ENOMEM),
          "realloc(p, -1): ENOMEM");
    check(verify(p, 5, 7), "failed realloc: p intact");
    check(realloc(p, 0) == NULL, "realloc(p, 0): NULL");
    p = realloc(NULL, 0);
    check(p != NULL, "realloc(NULL, 0): a unique pointer");
    free(p);
}

static void test_memalign(void)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    errno = 0;
    check(failed_with(memalign(sizeof(void *), (size_t)-1), ENOMEM),
          "memalign(8, -1): ENOMEM");
    errno = 0;
    check(failed_with(memalign(page, -page), ENOMEM),
          "memalign(page, -page): ENOMEM");
    void *p = memalign(0x100, 10);
    check(usable(p, 10, 0x100, 1), "memalign(0x100, 10)");
    free(p);
    p = memalign(0, 10); /* an illegal alignment that must not crash */
    check(usable(p, 10, 16, 2), "memalign(0, 10)");
    free(p);
    /* every power of two up to 4 MiB, every pointer whole (64 bits: a
     * truncated one faults in usable(), or fails its usable size; and
     * libmm's lie in its heap, within 64 GiB of malloc's) */
    void *base = malloc(1);
    for (size_t a = 1; a <= ((size_t)1 << 22); a *= 2) {
        for (size_t n = 1; n < 200000; n = n * 7 + 3) {
            p = memalign(a, n);
            check(usable(p, n, a < 16 ? 16 : a, a + n), "memalign(2^k, n)");
            check(!under_libmm ||
                      (uintptr_t)p - (uintptr_t)base < ((uintptr_t)1 << 36) ||
                      (uintptr_t)base - (uintptr_t)p < ((uintptr_t)1 << 36),
                  "memalign: the pointer is in malloc's heap (64 bits)");
            free(p);
        }
    }
    free(base);
}

static void test_posix_memalign(void)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    void *p = NULL;
    check(posix_memalign(&p, sizeof(void *), (size_t)-1) == ENOMEM && p == NULL,
          "posix_memalign(8, -1): ENOMEM, *p untouched");
    check(posix_memalign(&p, sizeof(void *), -page) == ENOMEM,
          "posix_memalign(8, -page): ENOMEM");
    check(posix_memalign(&p, 0x100, 10) == 0 && usable(p, 10, 0x100, 3),
          "posix_memalign(0x100, 10)");
    free(p);
    p = NULL;
    size_t bad[] = {0, 1, 3, 4, 12, 24, 0x101, SIZE_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errno = 1234;
        check(posix_memalign(&p, bad[i], 10) == EINVAL && errno == 1234 &&
                  p == NULL,
              "posix_memalign(bad alignment): EINVAL, errno untouched");
    }
    check(posix_memalign(&p, 64, 0) == 0 && p != NULL,
          "posix_memalign(64, 0): a pointer");
    free(p);
}

static void test_aligned_alloc(void)
{
    for (size_t a = 1; a <= ((size_t)1 << 20); a *= 2) {
        void *p = aligned_alloc(a, 3 * a);
        check(usable(p, 3 * a, a < 16 ? 16 : a, a), "aligned_alloc(2^k)");
        free(p);
    }
    errno = 0;
    check(failed_with(aligned_alloc(SIZE_MAX / 2 + 2, 1), EINVAL),
          "aligned_alloc(SIZE_MAX/2+2): EINVAL");
    errno = 0;
    check(failed_with(aligned_alloc(64, (size_t)-1), ENOMEM),
          "aligned_alloc(64, -1): ENOMEM");
}

/* Every allocating call with a size near SIZE_MAX or above PTRDIFF_MAX. */
static void too_large_one(size_t n)
{
    void *p = NULL, *q = malloc(1);
    errno = 0;
    check(failed_with(malloc(n), ENOMEM), "too large: malloc");
    errno = 0;
    check(failed_with(calloc(1, n), ENOMEM), "too large: calloc(1, n)");
    errno = 0;
    check(failed_with(calloc(n, 1), ENOMEM), "too large: calloc(n, 1)");
    errno = 0;
    check(failed_with(realloc(q, n), ENOMEM), "too large: realloc");
    errno = 0;
    check(failed_with(reallocarray(q, 1, n), ENOMEM),
          "too large: reallocarray");
    errno = 0;
    check(failed_with(valloc(n), ENOMEM), "too large: valloc");
    errno = 0;
    check(failed_with(pvalloc(n), ENOMEM), "too large: pvalloc");
    for (size_t a = 1; a <= 4096; a *= 4) {
        errno = 0;
        check(failed_with(memalign(a, n), ENOMEM), "too large: memalign");
        errno = 0;
        check(failed_with(aligned_alloc(a, n), ENOMEM),
              "too large: aligned_alloc");
        if (a >= sizeof(void *))
            check(posix_memalign(&p, a, n) == ENOMEM,
                  "too large: posix_memalign");
    }
    free(q);
}

static void test_too_large(void)
{
    for (size_t k = 0; k < 4096; k = k * 2 + 1) {
        too_large_one(SIZE_MAX - k);
        too_large_one((size_t)PTRDIFF_MAX + 1 + k);
    }
    void *q = malloc(16);
    errno = 0;
    check(failed_with(reallocarray(q, SIZE_MAX / 4, 8), ENOMEM),
          "reallocarray overflow: ENOMEM");
    free(q);
}

static void test_free_errno(void)
{
    size_t sizes[] = {0, 1, 100, 4096, 70000, 1 << 20, 100 << 20};
    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            void *p = malloc(sizes[i]);
            memset(p, 1, sizes[i]);
            errno = 1789;
            free(p);
            check(errno == 1789, "free preserves errno");
        }
    }
}

/* ---- semantics: one line per call, compared between allocators ---------*/

/* Prints what a call gave (a pointer, aligned to `align` or not, or NULL,
 * and errno, which was 0 before the call) and frees the pointer. */
static void show(const char *call, void *p, size_t align)
{
    int err = errno;
    if (p != NULL)
        printf("%s: pointer%s, errno %d\n", call,
               (uintptr_t)p % align == 0 ? "" : " NOT ALIGNED", err);
    else
        printf("%s: NULL, errno %d\n", call, err);
    free(p);
    errno = 0;
}

static void show_posix_memalign(const char *call, size_t align, size_t n)
{
    void *p = (void *)&p; /* must stay untouched on failure */
    errno = 0;
    int ret = posix_memalign(&p, align, n);
    int err = errno;
    printf("%s: returns %d, errno %d, %s\n", call, ret, err,
           p == (void *)&p ? "untouched"
           : p == NULL     ? "NULL"
                           : "pointer");
    if (ret == 0)
        free(p);
}

static void semantics_aligned(void)
{
    static const size_t aligns[] = {
        0, 1, 3, 8, 24, 32, 48, 4096, SIZE_MAX / 2 + 1, SIZE_MAX / 2 + 2};
    char call[96];
    for (size_t i = 0; i < sizeof aligns / sizeof aligns[0]; i++) {
        size_t a = aligns[i], want = a < 16 || (a & (a - 1)) ? 16 : a;
        snprintf(call, sizeof call, "memalign(%zu, 1)", a);
        show(call, memalign(a, 1), want);
        snprintf(call, sizeof call, "aligned_alloc(%zu, 1)", a);
        show(call, aligned_alloc(a, 1), want);
        snprintf(call, sizeof call, "posix_memalign(%zu, 1)", a);
        show_posix_memalign(call, a, 1);
    }
    show("memalign(64, 0)", memalign(64, 0), 64);
    show("aligned_alloc(64, 0)", aligned_alloc(64, 0), 64);
    show_posix_memalign("posix_memalign(64, 0)", 64, 0);
    show_posix_memalign("posix_memalign(16, SIZE_MAX)", 16, SIZE_MAX);
}

static void test_semantics(void)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    errno = 0;
    show("malloc(0)", malloc(0), 16);
    show("malloc(SIZE_MAX)", malloc(SIZE_MAX), 16);
    show("malloc(PTRDIFF_MAX)", malloc(PTRDIFF_MAX), 16);
    show("malloc(PTRDIFF_MAX + 1)", malloc((size_t)PTRDIFF_MAX + 1), 16);
    show("calloc(0, 0)", calloc(0, 0), 16);
    show("calloc(SIZE_MAX / 2 + 1, 2)", calloc(SIZE_MAX / 2 + 1, 2), 16);
    show("calloc(1, SIZE_MAX)", calloc(1, SIZE_MAX), 16);
    show("realloc(NULL, 0)", realloc(NULL, 0), 16);
    show("realloc(p, 0)", realloc(malloc(10), 0), 16);
    void *p = malloc(10);
    show("realloc(p, SIZE_MAX)", realloc(p, SIZE_MAX), 16);
    show("reallocarray(p, SIZE_MAX, 2)", reallocarray(p, SIZE_MAX, 2), 16);
    show("reallocarray(p, 0, 8)", reallocarray(p, 0, 8), 16);
    show("reallocarray(NULL, 0, 0)", reallocarray(NULL, 0, 0), 16);
    semantics_aligned();
    show("valloc(0)", valloc(0), page);
    show("valloc(SIZE_MAX)", valloc(SIZE_MAX), page);
    show("pvalloc(0)", pvalloc(0), page);
    show("pvalloc(SIZE_MAX)", pvalloc(SIZE_MAX), page);
    printf("malloc_usable_size(NULL): %zu\n", malloc_usable_size(NULL));
    errno = 77;
    free(NULL);
    printf("free(NULL): errno %d\n", errno);
}

int main(int argc, char **argv)
{
    static const named_test tests[] = {
        {"malloc", test_malloc},
        {"calloc", test_calloc},
        {"realloc", test_realloc},
        {"memalign", test_memalign},
        {"posix_memalign", test_posix_memalign},
        {"aligned_alloc", test_aligned_alloc},
        {"too_large", test_too_large},
        {"free_errno", test_free_errno},
        {"semantics", test_semantics},
    };
    return run_named(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
