/*
 * memlib_os.c - memlib.h over real memory, for build/libmm.so.
 *
 * The heap is one range of address space, reserved once, at the first
 * mem_sbrk (there is no constructor): MEM_OS_CEILING bytes (64 GiB, the
 * span mm.c's 32-bit offsets reach; the environment variable
 * MM_HEAP_CEILING sets a lower one), or the largest power of two below it,
 * down to 1 MiB, that the system grants (ulimit -v, Valgrind). It is mapped
 * PROT_NONE and MAP_NORESERVE: it costs no memory. mem_sbrk moves the break
 * up inside it and makes the pages below the break readable and writable
 * (mprotect, in steps of MEM_OS_COMMIT_STEP); past the ceiling, or when
 * mprotect fails, it returns (void *)-1 and mm.c's malloc returns NULL
 * (the wrappers set ENOMEM). The pages past the break stay PROT_NONE: a
 * write past the heap faults. mem_discard gives whole pages back
 * (MADV_DONTNEED: they read as zeros afterwards). mem_move moves whole
 * pages from one place of the heap to another (mremap), up to a budget.
 * Fresh pages read as zeros (mem_sbrk_zeroes).
 *
 * Thread-safe: mem_sbrk runs under one lock (taken under mm.c's arena
 * locks, never the other way round; libmm/preload.c takes it last in its
 * fork handlers: mem_os_lock/mem_os_unlock/mem_os_reset_lock), and the
 * break is published with an atomic store. Nothing here allocates or
 * prints. mem_discard and mem_move keep errno (a failed madvise or mremap
 * would set it): free and realloc reach them, and the exported free
 * calls mm_free without saving errno (libmm/preload.c).
 */
#define _GNU_SOURCE /* mremap */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "memlib.h"
#include "memlib_os.h"

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4 /* Linux 5.7; older C libraries lack the name */
#endif

static const size_t MEM_OS_CEILING = (size_t)64 << 30;
static const size_t MEM_OS_MIN = (size_t)1 << 20;
static const size_t MEM_OS_COMMIT_STEP = (size_t)1 << 20;
static const size_t MEM_OS_MOVES_MAX = 1024; /* mem_move's page moves */

static char *heap_lo;        /* the reservation's first byte (NULL: none) */
static size_t heap_reserved; /* its size */
static char *heap_brk;       /* first byte past the heap (atomic) */
static char *heap_granted;   /* first byte past the writable pages */
static size_t page_size;
static size_t discarded_pages;
static size_t page_moves; /* mem_move's mremap calls (atomic) */
static pthread_mutex_t sbrk_lock = PTHREAD_MUTEX_INITIALIZER;

/* The ceiling: MEM_OS_CEILING, or MM_HEAP_CEILING (bytes, or with a K,
 * M or G suffix; at least MEM_OS_MIN, at most MEM_OS_CEILING; for tests of
 * running out of memory). getenv and strtoull allocate nothing. */
static size_t ceiling(void)
{
    const char *v = getenv("MM_HEAP_CEILING");
    if (v == NULL || *v == '\0')
        return MEM_OS_CEILING;
    char *end;
    unsigned long long n = strtoull(v, &end, 10);
    int shift = *end == 'K' ? 10 : *end == 'M' ? 20 : *end == 'G' ? 30 : 0;
    if (n > MEM_OS_CEILING >> shift)
        return MEM_OS_CEILING;
    size_t bytes = (size_t)n << shift;
    return bytes < MEM_OS_MIN ? MEM_OS_MIN : bytes;
}

/* Reserves the range: the ceiling, else the largest power of two below it
 * that the system grants. False when not even MEM_OS_MIN is granted. */
static bool reserve(void)
{
    page_size = (size_t)sysconf(_SC_PAGESIZE);
    for (size_t len = ceiling(); len >= MEM_OS_MIN; len /= 2) {
        void *p = mmap(NULL, len, PROT_NONE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p != MAP_FAILED) {
            heap_lo = heap_granted = p;
            heap_reserved = len;
            __atomic_store_n(&heap_brk, heap_lo, __ATOMIC_RELEASE);
            return true;
        }
    }
    return false;
}

/* Makes the pages up to new_brk writable, a step at a time. */
static bool grant_pages(char *new_brk)
{
    if (new_brk <= heap_granted)
        return true;
    size_t want = (size_t)(new_brk - heap_lo);
    size_t end = (want + MEM_OS_COMMIT_STEP - 1) / MEM_OS_COMMIT_STEP *
                 MEM_OS_COMMIT_STEP;
    if (end > heap_reserved)
        end = heap_reserved;
    if (mprotect(heap_granted, (size_t)(heap_lo + end - heap_granted),
                 PROT_READ | PROT_WRITE) != 0)
        return false;
    heap_granted = heap_lo + end;
    return true;
}

static void *sbrk_locked(intptr_t incr)
{
    if (heap_lo == NULL && !reserve())
        return (void *)-1;
    size_t used = (size_t)(heap_brk - heap_lo);
    if (incr < 0 || (size_t)incr > heap_reserved - used)
        return (void *)-1;
    char *old_brk = heap_brk;
    if (!grant_pages(old_brk + incr))
        return (void *)-1;
    __atomic_store_n(&heap_brk, old_brk + incr, __ATOMIC_RELEASE);
    return old_brk;
}

void *mem_sbrk(intptr_t incr)
{
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
    return __atomic_load_n(&heap_brk, __ATOMIC_ACQUIRE) - 1;
}

size_t mem_heapsize(void)
{
    return (size_t)(__atomic_load_n(&heap_brk, __ATOMIC_ACQUIRE) - heap_lo);
}

size_t mem_pagesize(void)
{
    return page_size != 0 ? page_size : (size_t)sysconf(_SC_PAGESIZE);
}

size_t mem_max_heap(void)
{
    return heap_reserved;
}

void mem_discard(void *addr, size_t len)
{
    size_t page = mem_pagesize();
    uintptr_t from = ((uintptr_t)addr + page - 1) / page * page;
    uintptr_t to = ((uintptr_t)addr + len) / page * page;
    if (to <= from)
        return;
    int saved = errno;
    if (madvise((void *)from, (size_t)(to - from), MADV_DONTNEED) == 0)
        __atomic_add_fetch(&discarded_pages, (to - from) / page,
                           __ATOMIC_RELAXED);
    errno = saved;
}

size_t mem_discarded_pages(void)
{
    return __atomic_load_n(&discarded_pages, __ATOMIC_RELAXED);
}

/* Moves the len bytes of whole pages at `from` to `to` (same offset in a
 * page, no overlap): the pages at `to` are replaced, those at `from` stay
 * mapped and read as zeros (MREMAP_DONTUNMAP, Linux 5.7). False when the
 * kernel refuses (an older kernel, Valgrind, or a range that crosses two
 * mappings after earlier moves) or after MEM_OS_MOVES_MAX moves: nothing
 * moved. Each move splits the heap's mapping (the moved pages become a
 * mapping of their own that cannot merge with their neighbours): up to 4
 * more lines in /proc/PID/maps, which a process has at most
 * vm.max_map_count (65530) of; 40,000 reallocs of 256 KiB..4 MiB blocks
 * made 7,500 of them. The budget keeps the heap's share small. */
static bool move_pages(uintptr_t to, uintptr_t from, size_t len)
{
    if (__atomic_add_fetch(&page_moves, 1, __ATOMIC_RELAXED) > MEM_OS_MOVES_MAX)
        return false;
    int saved = errno;
    void *p =
        mremap((void *)from, len, len,
               MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP, (void *)to);
    errno = saved;
    return p == (void *)to;
}

void *mem_move(void *dst, void *src, size_t n)
{
    size_t page = mem_pagesize();
    uintptr_t s = (uintptr_t)src, d = (uintptr_t)dst;
    uintptr_t from = (s + page - 1) / page * page, to = (s + n) / page * page;
    if ((d - s) % page != 0 || to <= from ||
        !move_pages(d + (from - s), from, (size_t)(to - from))) {
        memcpy(dst, src, n);
        mem_discard(src, n);
        return dst;
    }
    memcpy(dst, src, (size_t)(from - s));
    memcpy((char *)dst + (to - s), (const char *)to, (size_t)(s + n - to));
    __atomic_add_fetch(&discarded_pages, (to - from) / page, __ATOMIC_RELAXED);
    return dst;
}

/* Pages past the break were never written (mem_sbrk writes nothing, nor
 * does mm.c past its end fence): they read as zeros. */
bool mem_sbrk_zeroes(void)
{
    return true;
}

/* The heap is dense here: no sampled windows. */
void *mem_memcpy(void *dst, const void *src, size_t n)
{
    return memcpy(dst, src, n);
}

void *mem_memset(void *dst, int c, size_t n)
{
    return memset(dst, c, n);
}

void *mem_memmove(void *dst, const void *src, size_t n)
{
    return memmove(dst, src, n);
}

void mem_os_lock(void)
{
    pthread_mutex_lock(&sbrk_lock);
}

void mem_os_unlock(void)
{
    pthread_mutex_unlock(&sbrk_lock);
}

void mem_os_reset_lock(void)
{
    pthread_mutex_init(&sbrk_lock, NULL);
}
