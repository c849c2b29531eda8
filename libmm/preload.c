/*
 * preload.c - build/libmm.so's exports: glibc's malloc API over mm.c's
 * arena mode (docs/libmm.md). LD_PRELOAD=build/libmm.so puts them before
 * glibc's, so that every malloc and free of the program, of libc and of
 * ld.so (after its start-up) is ours.
 *
 * Initialization is lazy, at the first call (there is no constructor: the
 * library is safe when ld.so or dlsym allocates before main, and across
 * exec): mm_init, then pthread_atfork with mm.c's fork handlers. A call
 * that the initialization itself makes (on the initializing thread) is
 * served from a small static bootstrap buffer, whose blocks are never
 * freed; other threads wait for the initialization to end.
 *
 * The semantics are glibc 2.36's (tests/libmm/semantics.c runs the same
 * calls against both): malloc(0) is a unique pointer, realloc(p, 0) frees
 * p and returns NULL, every failure sets ENOMEM, a bad alignment gives
 * EINVAL, free preserves errno. The only destructor prints the statistics
 * (malloc_stats) when MM_STATS_AT_EXIT=1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "memlib.h"
#include "memlib_os.h"
#include "mm.h"

#define EXPORT __attribute__((visibility("default")))

/* ---- Lazy initialization -------------------------------------------------*/

enum { INIT_NONE, INIT_RUNNING, INIT_DONE };
enum { BOOT_BYTES = 64 * 1024, BOOT_HEADER = 16 };

static int init_state;          /* INIT_*, atomic */
static __thread bool init_here; /* this thread runs the initialization */
static size_t boot_used;        /* bytes of boot_heap handed out */
static _Alignas(16) unsigned char boot_heap[BOOT_BYTES];

static void fork_prepare(void)
{
    mm_fork_prepare();
    mem_os_lock();
}

static void fork_parent(void)
{
    mem_os_unlock();
    mm_fork_parent();
}

static void fork_child(void)
{
    mem_os_reset_lock();
    mm_fork_child();
}

/* ---- Where the statistics go ----------------------------------------------*/

/* With MM_STATS_AT_EXIT=1, a copy of stderr made at the initialization
 * (close-on-exec, at fd 900 or above), because some programs close
 * stderr before exit (coreutils' close_stdout); used only while it is
 * still the same file as at the initialization (a program may have
 * reused the number), else stderr. */
enum { STATS_FD_MIN = 900 };
static int stats_fd = -1;
static struct stat stats_file;

static bool stats_at_exit_wanted(void)
{
    const char *v = getenv("MM_STATS_AT_EXIT");
    return v != NULL && strcmp(v, "1") == 0;
}

static void keep_stats_fd(void)
{
    if (!stats_at_exit_wanted())
        return;
    int fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, STATS_FD_MIN);
    if (fd >= 0 && fstat(fd, &stats_file) == 0)
        stats_fd = fd;
}

/* The fd the statistics go to. */
static int stats_out(void)
{
    struct stat now;
    if (stats_fd >= 0 && fstat(stats_fd, &now) == 0 &&
        now.st_dev == stats_file.st_dev && now.st_ino == stats_file.st_ino)
        return stats_fd;
    return STDERR_FILENO;
}

/* The first call: initializes (or, on another thread, waits until the
 * initializing thread is done). False when the heap cannot be made, or
 * when the call comes from the initialization itself. */
static bool init_slow(void)
{
    int expected = INIT_NONE;
    if (__atomic_compare_exchange_n(&init_state, &expected, INIT_RUNNING, false,
                                    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        init_here = true;
        bool ok = mm_init();
        init_here = false;
        __atomic_store_n(&init_state, ok ? INIT_DONE : INIT_NONE,
                         __ATOMIC_RELEASE);
        if (ok) {
            pthread_atfork(fork_prepare, fork_parent, fork_child);
            keep_stats_fd();
        }
        return ok;
    }
    if (init_here)
        return false;
    while (__atomic_load_n(&init_state, __ATOMIC_ACQUIRE) == INIT_RUNNING)
        sched_yield();
    return __atomic_load_n(&init_state, __ATOMIC_ACQUIRE) == INIT_DONE;
}

static inline bool ready(void)
{
    return __atomic_load_n(&init_state, __ATOMIC_ACQUIRE) == INIT_DONE ||
           init_slow();
}

/* A block of the bootstrap buffer (its size in the 16 bytes before it), or
 * NULL when the buffer is used up. */
static void *boot_alloc(size_t size)
{
    size_t need = BOOT_HEADER + (size + 15) / 16 * 16;
    if (size > BOOT_BYTES || need > BOOT_BYTES - boot_used)
        return NULL;
    unsigned char *p = boot_heap + boot_used + BOOT_HEADER;
    memcpy(p - BOOT_HEADER, &size, sizeof size);
    boot_used += need;
    return p;
}

static bool in_boot(const void *p)
{
    return (const unsigned char *)p >= boot_heap &&
           (const unsigned char *)p < boot_heap + BOOT_BYTES;
}

static size_t boot_size(const void *p)
{
    size_t size;
    memcpy(&size, (const unsigned char *)p - BOOT_HEADER, sizeof size);
    return size;
}

/* ---- The calls -----------------------------------------------------------*/

__attribute__((cold, noinline)) static void *enomem(void)
{
    errno = ENOMEM;
    return NULL;
}

/* alloc before the initialization is done: it runs (on this thread), or a
 * call of its own gets the bootstrap buffer. Out of line, so that alloc's
 * path saves no register. */
__attribute__((noinline)) static void *alloc_first(size_t size)
{
    if (!init_slow())
        return init_here ? boot_alloc(size) : enomem();
    void *p = mm_malloc(size + (size == 0));
    return p != NULL ? p : enomem();
}

/* malloc: a unique pointer for 0 bytes; NULL and ENOMEM on failure. */
static inline void *alloc(size_t size)
{
    if (__atomic_load_n(&init_state, __ATOMIC_ACQUIRE) != INIT_DONE)
        return alloc_first(size);
    void *p = mm_malloc(size + (size == 0));
    return p != NULL ? p : enomem();
}

/* memalign as glibc 2.36's: an alignment of at most 16 is malloc's, one
 * that is not a power of two is rounded up to the next, one above
 * SIZE_MAX / 2 + 1 is EINVAL. */
static void *alloc_aligned(size_t align, size_t size)
{
    if (align <= 16)
        return alloc(size);
    if (align > SIZE_MAX / 2 + 1) {
        errno = EINVAL;
        return NULL;
    }
    size_t pow2 = 32;
    while (pow2 < align)
        pow2 *= 2;
    if (!ready())
        return enomem();
    void *p = mm_memalign(pow2, size != 0 ? size : 1);
    return p != NULL ? p : enomem();
}

EXPORT void *malloc(size_t size)
{
    return alloc(size);
}

/* free keeps errno without saving it: mm_free calls nothing that sets it
 * (the memlib calls that make a system call keep it: memlib_os.c), so
 * that this is a tail call. */
EXPORT void free(void *ptr)
{
    if (!in_boot(ptr))
        mm_free(ptr);
}

EXPORT void *calloc(size_t nmemb, size_t size)
{
    size_t bytes;
    if (__builtin_mul_overflow(nmemb, size, &bytes))
        return enomem();
    if (!ready()) { /* alloc: the bootstrap buffer, or ENOMEM */
        void *p = alloc(bytes);
        if (p != NULL)
            memset(p, 0, bytes);
        return p;
    }
    /* mm_calloc: a large block clears only what was used before */
    void *p = mm_calloc(bytes != 0 ? bytes : 1, 1);
    return p != NULL ? p : enomem();
}

/* realloc of a bootstrap block: a new block, the old one copied. */
static void *realloc_boot(void *ptr, size_t size)
{
    void *p = alloc(size);
    size_t old = boot_size(ptr);
    if (p != NULL)
        memcpy(p, ptr, old < size ? old : size);
    return p;
}

EXPORT void *realloc(void *ptr, size_t size)
{
    if (ptr == NULL)
        return alloc(size);
    if (size == 0) {
        free(ptr);
        return NULL;
    }
    if (in_boot(ptr))
        return realloc_boot(ptr, size);
    void *p = mm_realloc(ptr, size);
    return p != NULL ? p : enomem();
}

EXPORT void *reallocarray(void *ptr, size_t nmemb, size_t size)
{
    size_t bytes;
    if (__builtin_mul_overflow(nmemb, size, &bytes))
        return enomem();
    return realloc(ptr, bytes);
}

EXPORT void *memalign(size_t align, size_t size)
{
    return alloc_aligned(align, size);
}

EXPORT void *aligned_alloc(size_t align, size_t size)
{
    return alloc_aligned(align, size);
}

/* EINVAL (returned, errno untouched) unless align is a power of two
 * multiple of sizeof(void *); ENOMEM when there is no memory (returned,
 * and in errno too, as glibc 2.36 does). */
EXPORT int posix_memalign(void **out, size_t align, size_t size)
{
    if (align % sizeof(void *) != 0 || (align & (align - 1)) != 0 || align == 0)
        return EINVAL;
    void *p = alloc_aligned(align, size);
    if (p == NULL)
        return ENOMEM;
    *out = p;
    return 0;
}

EXPORT void *valloc(size_t size)
{
    return alloc_aligned((size_t)sysconf(_SC_PAGESIZE), size);
}

/* valloc of size rounded up to whole pages (one page for 0). */
EXPORT void *pvalloc(size_t size)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE), rounded;
    if (__builtin_add_overflow(size, page - 1, &rounded))
        return enomem();
    rounded = rounded / page * page;
    return alloc_aligned(page, rounded != 0 ? rounded : page);
}

EXPORT size_t malloc_usable_size(void *ptr)
{
    if (ptr != NULL && in_boot(ptr))
        return boot_size(ptr);
    return mm_usable_size(ptr);
}

/* ---- The other names of the same calls ------------------------------------*/

/* glibc exports these too: a program (or an old binary: cfree) that calls
 * them would otherwise take or free glibc's blocks and mix the two heaps
 * (tests/libmm/mixing.c calls each and checks that glibc's heap stays
 * empty). mallopt, malloc_trim and malloc_info stay glibc's: they act on
 * glibc's heap, which stays empty, and hand out no block. */
void cfree(void *ptr);
void *__libc_malloc(size_t size);
void __libc_free(void *ptr);
void *__libc_calloc(size_t nmemb, size_t size);
void *__libc_realloc(void *ptr, size_t size);
void *__libc_memalign(size_t align, size_t size);
void *__libc_valloc(size_t size);
void *__libc_pvalloc(size_t size);

EXPORT void cfree(void *ptr)
{
    free(ptr);
}
EXPORT void *__libc_malloc(size_t size)
{
    return malloc(size);
}
EXPORT void __libc_free(void *ptr)
{
    free(ptr);
}
EXPORT void *__libc_calloc(size_t nmemb, size_t size)
{
    return calloc(nmemb, size);
}
EXPORT void *__libc_realloc(void *ptr, size_t size)
{
    return realloc(ptr, size);
}
EXPORT void *__libc_memalign(size_t align, size_t size)
{
    return memalign(align, size);
}
EXPORT void *__libc_valloc(size_t size)
{
    return valloc(size);
}
EXPORT void *__libc_pvalloc(size_t size)
{
    return pvalloc(size);
}

/* ---- Statistics ----------------------------------------------------------*/

/* Appends s to the line buf (of BUF bytes), at *len. */
enum { LINE_BYTES = 256 };
static void put_str(char *buf, size_t *len, const char *s)
{
    while (*s != '\0' && *len < LINE_BYTES - 1)
        buf[(*len)++] = *s++;
}

static void put_num(char *buf, size_t *len, unsigned long long n)
{
    char digits[24];
    size_t k = sizeof digits;
    digits[--k] = '\0';
    do {
        digits[--k] = (char)('0' + n % 10);
        n /= 10;
    } while (n != 0);
    put_str(buf, len, digits + k);
}

/* One line per arena, written with write(2) from a stack buffer: nothing
 * is allocated, so it never recurses through stdio. */
static void print_arena(const mm_arena_stats *st, void *arg)
{
    char buf[LINE_BYTES];
    size_t len = 0;
    (void)arg;
    put_str(buf, &len, "mm: arena ");
    put_num(buf, &len, st->arena);
    put_str(buf, &len, ": ops ");
    put_num(buf, &len, st->ops);
    put_str(buf, &len, ", in use ");
    put_num(buf, &len, st->in_use_bytes);
    put_str(buf, &len, " bytes, free ");
    put_num(buf, &len, st->free_bytes);
    put_str(buf, &len, " bytes, cached ");
    put_num(buf, &len, st->cached_bytes);
    put_str(buf, &len, " bytes, regions ");
    put_num(buf, &len, st->regions);
    put_str(buf, &len, ", remote frees ");
    put_num(buf, &len, st->remote_frees);
    put_str(buf, &len, ", pid ");
    put_num(buf, &len, (unsigned long long)getpid());
    put_str(buf, &len, "\n");
    ssize_t ignored = write(stats_out(), buf, len);
    (void)ignored;
}

/* mm_stats at a quiescent point: every lock held (the fork handlers'). */
static void stats_locked(mm_stats_fn *visit, void *arg)
{
    if (__atomic_load_n(&init_state, __ATOMIC_ACQUIRE) != INIT_DONE)
        return;
    mm_fork_prepare();
    mm_stats(visit, arg);
    mm_fork_parent();
}

EXPORT void malloc_stats(void)
{
    stats_locked(print_arena, NULL);
}

static void add_arena(const mm_arena_stats *st, void *arg)
{
    struct mallinfo2 *mi = arg;
    mi->ordblks += st->regions;
    mi->uordblks += st->in_use_bytes;
    mi->fordblks += st->free_bytes + st->cached_bytes;
}

/* arena: the heap's bytes; uordblks: in use; fordblks: free or cached;
 * ordblks: regions; the rest 0 (no mmapped blocks, no fastbins). */
EXPORT struct mallinfo2 mallinfo2(void)
{
    struct mallinfo2 mi;
    memset(&mi, 0, sizeof mi);
    stats_locked(add_arena, &mi);
    if (__atomic_load_n(&init_state, __ATOMIC_ACQUIRE) == INIT_DONE)
        mi.arena = mem_heapsize();
    return mi;
}

/* mallinfo2's figures, cut to int (glibc's deprecated call). */
EXPORT struct mallinfo mallinfo(void)
{
    struct mallinfo2 m2 = mallinfo2();
    struct mallinfo mi = {
        .arena = (int)m2.arena,
        .ordblks = (int)m2.ordblks,
        .uordblks = (int)m2.uordblks,
        .fordblks = (int)m2.fordblks,
    };
    return mi;
}

/* MM_STATS_AT_EXIT=1: malloc_stats when the process exits (exit or the
 * end of main; not _exit). It only prints. */
__attribute__((destructor)) static void stats_at_exit(void)
{
    if (stats_at_exit_wanted())
        malloc_stats();
}
