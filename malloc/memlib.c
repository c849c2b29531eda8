/*
 * memlib.c - the simulated heap.
 *
 * The region is reserved once with no access rights; mem_sbrk() grants
 * read/write access page by page as the break moves up, so a write far
 * past the break faults at once. Fresh bytes are filled with garbage
 * (a fixed pseudo-random sequence restarted at every reset, so runs are
 * reproducible). When Valgrind's headers are available, memcheck is told
 * that bytes past the break are off limits and fresh bytes are undefined.
 *
 * Sparse mode (memlib.h) reserves a huge region instead; its pages are
 * given back to the system at every reset, and only the sampled windows of
 * a giant increment are filled with garbage.
 */
#include "memlib.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/helgrind.h>
#include <valgrind/memcheck.h>
#define MEM_HAVE_VALGRIND 1
#endif
#endif

#ifndef MEM_HAVE_VALGRIND
static inline void mem_vg_noaccess(void *p, size_t n)
{
    (void)p, (void)n;
}
static inline void mem_vg_undefined(void *p, size_t n)
{
    (void)p, (void)n;
}
static inline void mem_hg_atomic(void *p, size_t n)
{
    (void)p, (void)n;
}
#else
static inline void mem_vg_noaccess(void *p, size_t n)
{
    (void)VALGRIND_MAKE_MEM_NOACCESS(p, n);
}
static inline void mem_vg_undefined(void *p, size_t n)
{
    (void)VALGRIND_MAKE_MEM_UNDEFINED(p, n);
}
/* Helgrind does not model atomics: a variable only accessed atomically is
 * not checked. */
static inline void mem_hg_atomic(void *p, size_t n)
{
    VALGRIND_HG_DISABLE_CHECKING(p, n);
}
#endif

/* Upper bound on -m: 64 GiB of address space is plenty for a lab. */
static const size_t MEM_LIMIT_CEILING = (size_t)64 << 30;
static const uint64_t MEM_GARBAGE_SEED = 0x9e3779b97f4a7c15u;

static size_t max_heap = MEM_DEFAULT_MAX_HEAP;
static char *heap_lo;      /* first byte of the region */
static char *heap_brk;     /* first byte past the heap */
static char *heap_granted; /* first byte past the read/write pages */
static size_t heap_peak;   /* high-water mark of the break, in bytes */
static size_t page_size;
static uint64_t garbage_state;
static bool limit_reached;
static bool timing_mode;
static bool sparse_mode;
static size_t reserved; /* bytes of the region, guard page included */
/* mem_sbrk is thread-safe (mm.c's arena mode grows from several threads):
 * it runs under this lock, and heap_brk is published with an atomic store
 * that mem_heap_hi and mem_heapsize read with an atomic load. In timing
 * mode, a growth inside the pages already granted takes no lock: one
 * compare-and-swap of heap_brk (sbrk_granted). */
static pthread_mutex_t sbrk_lock = PTHREAD_MUTEX_INITIALIZER;

static void mem_error(const char *what)
{
    fflush(stdout);
    fprintf(stderr, "ERROR: %s\n", what);
}

static size_t round_up_to_page(size_t n)
{
    return (n + page_size - 1) / page_size * page_size;
}

/* The next word of garbage (xorshift64*). */
static uint64_t next_garbage(void)
{
    garbage_state ^= garbage_state >> 12;
    garbage_state ^= garbage_state << 25;
    garbage_state ^= garbage_state >> 27;
    return garbage_state * 0x2545f4914f6cdd1du;
}

static void fill_garbage(char *p, size_t n)
{
    while (n >= sizeof(uint64_t)) {
        uint64_t w = next_garbage();
        memcpy(p, &w, sizeof w);
        p += sizeof w;
        n -= sizeof w;
    }
    if (n > 0) {
        uint64_t w = next_garbage();
        memcpy(p, &w, n);
    }
}

/* Garbage in fresh heap bytes: all of them, or on the sparse heap the
 * first and last window of a giant increment. */
static void fill_fresh(char *p, size_t n)
{
    if (!sparse_mode || n <= MEM_GIANT_BYTES) {
        fill_garbage(p, n);
        return;
    }
    fill_garbage(p, MEM_SAMPLE_BYTES);
    fill_garbage(p + n - MEM_SAMPLE_BYTES, MEM_SAMPLE_BYTES);
}

bool mem_set_max_heap(size_t bytes)
{
    if (bytes == 0 || bytes > MEM_LIMIT_CEILING)
        return false;
    max_heap = bytes;
    return true;
}

size_t mem_max_heap(void)
{
    return max_heap;
}

/* Reserves `bytes` (+ a guard page) with no access; NULL on failure. */
static char *reserve_region(size_t bytes)
{
    reserved = round_up_to_page(bytes) + page_size;
    void *p = mmap(NULL, reserved, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* The sparse region: MEM_SPARSE_MAX_HEAP, halved until the system grants
 * it (an ASan build or a small address space may refuse the largest). */
static char *reserve_sparse(void)
{
    static const size_t SPARSE_MIN_HEAP = (size_t)1 << 36;
    for (size_t bytes = MEM_SPARSE_MAX_HEAP; bytes >= SPARSE_MIN_HEAP;
         bytes /= 2) {
        char *p = reserve_region(bytes);
        if (p != NULL) {
            max_heap = bytes;
            return p;
        }
    }
    return NULL;
}

bool mem_init(void)
{
    page_size = (size_t)sysconf(_SC_PAGESIZE);
    char *p = sparse_mode ? reserve_sparse() : reserve_region(max_heap);
    if (p == NULL) {
        mem_error("mem_init: could not reserve the simulated heap");
        return false;
    }
    heap_lo = p;
    heap_granted = heap_lo;
    heap_peak = 0;
    mem_hg_atomic(&heap_brk, sizeof heap_brk); /* load_brk, mem_sbrk */
    mem_reset_brk();
    return true;
}

void mem_deinit(void)
{
    if (heap_lo == NULL)
        return;
    munmap(heap_lo, reserved);
    heap_lo = heap_brk = heap_granted = NULL;
}

void mem_set_sparse(bool on)
{
    sparse_mode = on;
}

bool mem_sparse(void)
{
    return sparse_mode;
}

void mem_set_timing_mode(bool on)
{
    timing_mode = on;
}

void mem_reset_brk(void)
{
    if (timing_mode) {
        heap_brk = heap_lo;
        limit_reached = false;
        return;
    }
    if (heap_granted > heap_lo && sparse_mode)
        madvise(heap_lo, (size_t)(heap_granted - heap_lo), MADV_DONTNEED);
    if (heap_granted > heap_lo)
        mprotect(heap_lo, (size_t)(heap_granted - heap_lo), PROT_NONE);
    heap_brk = heap_granted = heap_lo;
    garbage_state = MEM_GARBAGE_SEED;
    limit_reached = false;
    mem_vg_noaccess(heap_lo, round_up_to_page(max_heap));
}

/* Gives read/write access to the pages up to new_brk. */
static bool grant_pages(char *new_brk)
{
    if (new_brk <= heap_granted)
        return true;
    char *end = heap_lo + round_up_to_page((size_t)(new_brk - heap_lo));
    if (mprotect(heap_granted, (size_t)(end - heap_granted),
                 PROT_READ | PROT_WRITE) != 0)
        return false;
    __atomic_store_n(&heap_granted, end, __ATOMIC_RELEASE); /* sbrk_granted */
    return true;
}

/* The break, as another thread may read it while mem_sbrk moves it. */
static char *load_brk(void)
{
    return __atomic_load_n(&heap_brk, __ATOMIC_ACQUIRE);
}

/* Whether mem_sbrk may run at all: after mem_init, a growth. */
static bool sbrk_allowed(intptr_t incr)
{
    char msg[160];
    if (heap_lo == NULL) {
        mem_error("mem_sbrk: called before mem_init");
        return false;
    }
    if (incr < 0) {
        snprintf(msg, sizeof msg,
                 "mem_sbrk failed: negative increment %ld (the heap "
                 "cannot shrink)",
                 (long)incr);
        mem_error(msg);
        return false;
    }
    return true;
}

static void raise_peak(size_t used);

/* Moves the break (the lock held) by incr bytes from old_brk, unless a
 * timing-mode growth without the lock (sbrk_granted) moved it first
 * (false: *old_brk is the new break, try again); (void *)-1 in *old_brk
 * past the limit or when mprotect refuses. */
static bool move_brk(char **old_brk, intptr_t incr)
{
    char msg[160];
    size_t used = (size_t)(*old_brk - heap_lo);
    if ((size_t)incr > max_heap - used) {
        __atomic_store_n(&limit_reached, true, __ATOMIC_RELAXED);
        snprintf(msg, sizeof msg,
                 "mem_sbrk failed: ran out of memory: %zu + %ld bytes is "
                 "past the heap limit of %zu bytes",
                 used, (long)incr, max_heap);
        mem_error(msg);
        *old_brk = (void *)-1;
        return true;
    }
    if (!grant_pages(*old_brk + incr)) {
        mem_error("mem_sbrk failed: mprotect refused to grow the heap");
        *old_brk = (void *)-1;
        return true;
    }
    return __atomic_compare_exchange_n(&heap_brk, old_brk, *old_brk + incr,
                                       false, __ATOMIC_ACQ_REL,
                                       __ATOMIC_ACQUIRE);
}

static void *sbrk_locked(intptr_t incr)
{
    if (!sbrk_allowed(incr))
        return (void *)-1;
    char *old_brk = load_brk();
    while (!move_brk(&old_brk, incr))
        continue;
    if (old_brk == (void *)-1)
        return old_brk;
    mem_vg_undefined(old_brk, (size_t)incr); /* before memlib writes it */
    if (!timing_mode)
        fill_fresh(old_brk, (size_t)incr);
    mem_vg_undefined(old_brk, (size_t)incr); /* garbage, not defined bytes */
    raise_peak((size_t)(old_brk - heap_lo) + (size_t)incr);
    /* mprotect made whole pages accessible: the bytes past the break in its
     * last page stay off limits for memcheck (not in timing mode, where
     * sbrk_granted may meanwhile hand them out without the lock). */
    if (!timing_mode)
        mem_vg_noaccess(heap_brk, (size_t)(heap_granted - heap_brk));
    return old_brk;
}

/* The peak is at least `used` bytes (an atomic max: sbrk_granted runs
 * without the lock). */
static void raise_peak(size_t used)
{
    size_t peak = __atomic_load_n(&heap_peak, __ATOMIC_RELAXED);
    while (used > peak &&
           !__atomic_compare_exchange_n(&heap_peak, &peak, used, true,
                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        continue;
}

/*
 * Timing mode's growth inside the pages granted already (every timed
 * replay's but the first's), without the lock: one compare-and-swap of
 * the break, so that the threads of a timed replay, which grow at once
 * (their arenas' first regions), never sleep on the lock (a mutex that
 * the kernel parks a waiter on: microseconds each time, against replays of
 * tens of microseconds). No garbage fill and no memcheck annotation of the
 * bytes past the break (both need the lock); the checked replays keep
 * both. Returns the old break, or NULL when the locked path must run: out
 * of timing mode, a negative increment, past the granted pages (an
 * mprotect) or past the limit (an error).
 */
static void *sbrk_granted(intptr_t incr)
{
    if (!__atomic_load_n(&timing_mode, __ATOMIC_RELAXED) || incr < 0 ||
        heap_lo == NULL)
        return NULL;
    char *old_brk = load_brk();
    for (;;) {
        size_t used = (size_t)(old_brk - heap_lo);
        if ((size_t)incr > max_heap - used ||
            (size_t)incr >
                (size_t)(__atomic_load_n(&heap_granted, __ATOMIC_ACQUIRE) -
                         old_brk))
            return NULL;
        if (__atomic_compare_exchange_n(&heap_brk, &old_brk, old_brk + incr,
                                        true, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE)) {
            raise_peak(used + (size_t)incr);
            mem_vg_undefined(old_brk, (size_t)incr);
            return old_brk;
        }
    }
}

void *mem_sbrk(intptr_t incr)
{
    void *fast = sbrk_granted(incr);
    if (fast != NULL)
        return fast;
    pthread_mutex_lock(&sbrk_lock);
    void *old_brk = sbrk_locked(incr);
    pthread_mutex_unlock(&sbrk_lock);
    return old_brk;
}

void *mem_heap_lo(void)
{
    return heap_lo;
}
void *mem_heap_hi(void)
{
    return load_brk() - 1;
}
size_t mem_heapsize(void)
{
    return (size_t)(load_brk() - heap_lo);
}
size_t mem_pagesize(void)
{
    return (size_t)sysconf(_SC_PAGESIZE);
}
/* Simulated: the pages are counted, not given back (mdriver's replays
 * must not depend on it), and memcheck learns that their bytes are
 * undefined, so that an mm.c that reads a discarded page is reported. */
static size_t discarded_pages;

void mem_discard(void *addr, size_t len)
{
    size_t page = page_size != 0 ? page_size : mem_pagesize();
    uintptr_t from = ((uintptr_t)addr + page - 1) / page * page;
    uintptr_t to = ((uintptr_t)addr + len) / page * page;
    if (to <= from)
        return;
    mem_vg_undefined((void *)from, (size_t)(to - from));
    __atomic_add_fetch(&discarded_pages, (to - from) / page, __ATOMIC_RELAXED);
}
size_t mem_discarded_pages(void)
{
    return __atomic_load_n(&discarded_pages, __ATOMIC_RELAXED);
}
/* Copies (the sampled windows of a giant block), then discards. */
void *mem_move(void *dst, void *src, size_t n)
{
    mem_memcpy(dst, src, n);
    mem_discard(src, n);
    return dst;
}

/* Fresh bytes hold garbage here (mem_sbrk fills them). */
bool mem_sbrk_zeroes(void)
{
    return false;
}
bool mem_limit_reached(void)
{
    return __atomic_load_n(&limit_reached, __ATOMIC_RELAXED);
}

/* ---- the sampled windows of giant blocks, and mm.c's memcpy/memset ---- */

static size_t add_range(size_t r[][2], size_t k, size_t from, size_t n)
{
    size_t to = n - from < MEM_SAMPLE_BYTES ? n : from + MEM_SAMPLE_BYTES;
    r[k][0] = from;
    r[k][1] = to;
    return k + 1;
}

size_t mem_sample_ranges(size_t n, size_t r[][2])
{
    if (!sparse_mode || n <= MEM_GIANT_BYTES) {
        r[0][0] = 0;
        r[0][1] = n;
        return 1;
    }
    size_t k = add_range(r, 0, 0, n);
    for (size_t at = MEM_SAMPLE_BYTES; at < n && at != 0; at *= 2)
        k = add_range(r, k, at, n);
    return add_range(r, k, (n - MEM_SAMPLE_BYTES) & ~(size_t)7, n);
}

void *mem_memcpy(void *dst, const void *src, size_t n)
{
    size_t r[MEM_MAX_SAMPLES][2];
    size_t k = mem_sample_ranges(n, r);
    for (size_t i = 0; i < k; i++)
        memcpy((char *)dst + r[i][0], (const char *)src + r[i][0],
               r[i][1] - r[i][0]);
    return dst;
}

void *mem_memset(void *dst, int c, size_t n)
{
    size_t r[MEM_MAX_SAMPLES][2];
    size_t k = mem_sample_ranges(n, r);
    for (size_t i = 0; i < k; i++)
        memset((char *)dst + r[i][0], c, r[i][1] - r[i][0]);
    return dst;
}

/* The sampled windows of n as disjoint ranges, ascending; their number. */
static size_t disjoint_ranges(size_t n, size_t r[][2])
{
    size_t k = mem_sample_ranges(n, r), m = 0;
    for (size_t i = 0; i < k; i++) {
        if (m > 0 && r[i][0] <= r[m - 1][1]) {
            r[m - 1][1] = r[i][1] > r[m - 1][1] ? r[i][1] : r[m - 1][1];
            continue;
        }
        r[m][0] = r[i][0];
        r[m][1] = r[i][1];
        m++;
    }
    return m;
}

/* Disjoint windows, copied in the direction that reads each source window
 * before any other window's copy can overwrite it. */
void *mem_memmove(void *dst, const void *src, size_t n)
{
    size_t r[MEM_MAX_SAMPLES][2];
    size_t k = disjoint_ranges(n, r);
    bool down = (uintptr_t)dst < (uintptr_t)src;
    for (size_t j = 0; j < k; j++) {
        size_t i = down ? j : k - 1 - j;
        memmove((char *)dst + r[i][0], (const char *)src + r[i][0],
                r[i][1] - r[i][0]);
    }
    return dst;
}
size_t mem_heap_peak(void)
{
    return heap_peak;
}
void mem_reset_peak(void)
{
    heap_peak = mem_heapsize();
}
