/*
 * mm.c - the kit's reference allocator: segregated explicit free lists with
 * boundary tags, 16-byte aligned payloads, 8-byte headers, no footer in
 * allocated blocks, 16-byte "mini" free blocks, and small blocks of a size
 * in demand carved in runs of their own. docs/design.md explains every choice;
 * the measurements behind them are in docs/experiments.md.
 *
 * ALLOCATED BLOCK (size >= 16; the payload is 16-byte aligned)
 *
 *     +--------------------------------+ <- block_t *b (address = 8 mod 16)
 *     | header: size | bits            |  8 bytes
 *     +--------------------------------+ <- payload (address = 0 mod 16)
 *     | payload (size - 8 bytes)       |
 *     | ... (no footer)                |
 *     +--------------------------------+ <- next block's header
 *
 * ALLOCATED BLOCK with -DMM_ALLOC_FOOTER (the textbook layout; size >= 32)
 *
 *     +--------------------------------+ <- block_t *b (address = 8 mod 16)
 *     | header: size | bits            |  8 bytes
 *     +--------------------------------+ <- payload (address = 0 mod 16)
 *     | payload (size - 16 bytes)      |
 *     +--------------------------------+
 *     | footer == header               |  8 bytes
 *     +--------------------------------+ <- next block's header
 *
 * FREE BLOCK (size >= 32)                FREE MINI BLOCK (size == 16)
 *
 *     +-------------------------+            +-------------------------+
 *     | header: size | bits     |            | header: 16 | bits       |
 *     +------------+------------+            +------------+------------+
 *     | next (u32) | prev (u32) |            | next (u32) | prev (u32) |
 *     +------------+------------+            +------------+------------+
 *     | (unused)                |            (no room for a footer: the
 *     +-------------------------+             next block's header says
 *     | footer == header        |             PREV_MINI instead)
 *     +-------------------------+
 *
 * next/prev are offsets of the neighbouring list nodes from the heap struct
 * in 16-byte units (0 is null): 32 bits cover a 64 GiB heap. A free block
 * sits in one of 40 doubly linked lists by size class: one class per size
 * 16, 32, ..., 128; four per power of two up to 8 KiB; then one per power
 * of two (the last holds everything above 1 MiB).
 *
 * CACHED ("QUICK") BLOCK: a freed block of at most QUICK_MAX (256) bytes
 * first goes to the singly linked quick list of its exact size, unchanged
 * but for the Q bit and `next` in its payload. For the heap it is still
 * allocated (no coalescing); a malloc of that size takes it back in O(1);
 * the quick lists are flushed (freed for real) before the heap would grow,
 * and before a request above QUICK_MAX whose best fit is the heap's last
 * block when the freed blocks they hold could hold it (flush_first).
 *
 * RUNS: a small request (at most QUICK_MAX bytes) that finds no cached
 * block carves a run of blocks of its size from the best fit (or from the
 * heap's growth): it takes the first, and the others wait, fresh and
 * marked Q, on the run list of that size, which malloc uses after the
 * quick list. A size carved again within RUN_AGAIN runs of its previous
 * carve, twice in a row, is in demand, and its next run is twice as long
 * as its last (up to RUN_BYTES); any other size gets a run of one block,
 * which is plain best fit (a size that repeats once by chance among
 * random sizes does not cut a run into the holes). Small blocks of a size in
 * demand so sit together, away from the large ones, whose holes can then
 * merge; a block that realloc grows at the end of the heap is not hemmed
 * in by the small blocks allocated meanwhile. The fresh blocks of a size
 * not carved within the last RUN_HOT runs are flushed with the quick lists;
 * the others only when the heap cannot grow.
 *
 * HEADER WORD (64 bits)
 *
 *     63     48 47 46   41  40  39                  4   3   2   1   0
 *     +--------+--+-------+---+----------------------+---+---+---+---+
 *     | owner  |0 | class | Q |  size / 16           | 0 | M | P | A |
 *     +--------+--+-------+---+----------------------+---+---+---+---+
 *     A = this block is allocated      P = the previous block is allocated
 *     M = the previous block is a free mini block (so it has no footer)
 *     Q = this allocated block is cached in a quick list
 *     class = a free block's size class, its list (0 in allocated blocks:
 *     unlinking a block needs no class computation)
 *     owner = the arena whose region holds the block (0: one heap); bit 3
 *     and bit 47 are 0
 *
 * THE HEAP: the heap struct, then one or more regions
 *
 *     first break  h (16-aligned)   region 0                 heap_brk(h)
 *     v            v                v                                 v
 *     +------------+--------+-------+-------+------ ... -------+------+
 *     | pad 0..15  | heap_t | desc. | start | blocks           | end  |
 *     | (0: memlib | (lists,| next, | fence |                  | fence|
 *     | pages)     | ...)   | units | 0|A   |                  | 0|A  |
 *     +------------+--------+-------+-------+------ ... -------+------+
 *
 *     A REGION is one chunk of memory from mem_sbrk: a 16-byte descriptor
 *     (the next region's offset, the region's size), a start fence (a
 *     header of size 0, allocated: the textbook's prologue) and, as its
 *     last word, an end fence (size 0, allocated: the epilogue). Fences
 *     stop coalescing at a region's ends. When the heap grows at its own
 *     break, the last region grows (its end fence moves up); memory that
 *     is not contiguous with it (someone else moved the break) becomes a
 *     new region, linked after the last.
 *
 * INVARIANTS (mm_checkheap reports them by number; 4 to 7 hold per region)
 *   1. A free block of 32 bytes or more has a footer equal to its header.
 *   2. Every payload is 16-byte aligned (every header is at 8 mod 16).
 *   3. Every block's size is at least 16 and a multiple of 16 (bit 3 of
 *      the header is 0).
 *   4. The blocks tile each region: from its start fence, stepping by
 *      size, the walk lands exactly on the region's end fence.
 *   5. Each region has a descriptor and a start fence at its start and an
 *      end fence (size 0, allocated) as its last word; the regions lie in
 *      the heap in address order without overlapping, and the last one
 *      ends at heap_brk(h), at or below the heap's break.
 *   6. Each block's P and M bits tell the truth about the previous block.
 *   7. No two free blocks are adjacent (unless built with MM_NO_COALESCE).
 *   8. Every free-list node lies inside the heap and is a free block.
 *   9. In each list, next->prev == self (and the head's prev is null).
 *  10. No list has a cycle (every walk is bounded by the number of blocks).
 *  11. Every free block is in the list of its size class, its header's
 *      class field names that class (and is 0 in an allocated block), and
 *      bit c of `nonempty` is set exactly when list c is not empty.
 *  12. The heap walk and the free lists count the same free blocks.
 *  13. Every quick-list and run-list node is inside the heap, allocated,
 *      marked Q and of its list's exact size; the heap walk and those lists
 *      (with the thread caches' bins, 17) count the same Q blocks (and no
 *      free block is marked Q).
 *  14. Bit 47 of every header is 0 and its owner field (bits 48..63)
 *      names the heap's owner (0: the one heap of the plain build).
 *  15. (MM_ARENAS) Every region's descriptor, and every block's and
 *      fence's owner field, name the arena whose region list holds it
 *      (arena index + 1); the arena table names count arenas that lie in
 *      the heap above the root.
 *  16. (MM_ARENAS) No arena's lock is held when mm_checkheap runs: it
 *      runs at quiescent points (with MM_DEBUG=2, each call checks only
 *      its own arena, under its lock).
 *  17. (MM_ARENAS) Every thread cache is an allocated block of its arena,
 *      on the root's list of caches (which ends), and names that arena;
 *      each of its bins holds as many blocks as its count (at most
 *      CACHE_FILL), each inside the arena, allocated, marked Q, of the
 *      bin's exact size and owned by the arena; its byte count is its
 *      lists' bytes, and its cap lies within CACHE_CAP_MIN ..
 *      CACHE_CAP_MAX. A block in a cache is allocated for the heap and Q:
 *      a free of it is a double free.
 *  18. (MM_ARENAS) Each thread cache's remote batch for arena a (blocks of
 *      a that the cache's thread freed, a not its own arena) holds as
 *      many blocks as its count (fewer than REMOTE_BATCH), each inside a,
 *      allocated, marked Q, owned by a and of at most CACHE_MAX bytes;
 *      they count among a's Q blocks (13). A free of one is a double free.
 *  19. (MM_ARENAS) Each arena's inbox (remote batches that other threads
 *      pushed, not taken yet) ends, and holds blocks of that arena,
 *      allocated, marked Q, of at most CACHE_MAX bytes; they count among
 *      its Q blocks (13). A free of one is a double free.
 *  Invariants 1 to 14 hold per arena.
 *
 * ARENA MODE (-DMM_ARENAS; docs/design.md draws it)
 *
 *     first break                            (chunks taken later)
 *     v
 *     +-----------+-------+-----------+-----------+-----+----------+----
 *     | root heap | arena | arena 1:  | arena 2:  | ... | a region | ...
 *     | heap_t,   | table | heap_t +  | heap_t +  |     | of arena |
 *     | region 0  |       | region 0  | region 0  |     | 2 (64K+) |
 *     +-----------+-------+-----------+-----------+-----+----------+----
 *
 *     One arena per CPU (sysconf(_SC_NPROCESSORS_CONF) at mm_init, at most
 *     ARENA_MAX), each a heap_t with its own lock, lists, counters and
 *     regions, owner = index + 1; the root (owner 0) holds no blocks. An
 *     arena grows its last region when the break is still its own, and
 *     otherwise takes a new region of twice the request, at least
 *     ARENA_CHUNK bytes doubled every REGION_DOUBLING regions of the arena
 *     (region_room); realloc never takes a region that cannot hold the
 *     block it grows (grow_forward). Link
 *     offsets are relative to each arena's heap_t, below all its regions.
 *     Heap structs and regions start on a 64-byte cache line
 *     (LAYOUT_ALIGN), so that no line holds two arenas' state.
 *     A thread is bound, at its first call, to a made arena that no live
 *     thread is bound to, else to its CPU's (first_arena), and moves to its
 * CPU's arena when it finds its arena's lock held (rebind_on_contention); free
 * and realloc go to the block's owner (header bits 48..63), under the owner's
 * lock, but for a small block: freed by a thread with a cache, it waits in the
 *     cache's remote batch for its owner, and REMOTE_BATCH of them go
 *     onto the owner's inbox with one compare-and-swap, no lock
 *     (flush_remote; also at the thread's exit, and before the owner
 *     grows when the growing thread holds such a batch); freed by a
 *     thread without one (a thread that only frees), it goes onto the
 *     inbox alone (free_to_inbox). The owner takes its inbox whole at its
 *     next refill or before it grows (collect_inbox). Locks are taken only once
 * the process has a second thread (glibc's __libc_single_threaded); an arena's
 * lock is a test-and-test-and-set spinlock that yields the CPU after a short
 *     spin (MM_ARENA_MUTEX: a pthread mutex).
 *
 *     THREAD CACHE: each thread has one, an allocated block of its arena,
 *     with one bin per block size 16 .. CACHE_MAX = 1024 (offset lists, like
 * the quick lists). A small malloc pops its bin and a free of a small block of
 * the thread's arena pushes it, with no lock and no atomic read-modify-write;
 * an empty bin refills, a full one spills half (a full cache: half of every
 * bin), in one batch under the arena's lock. A cache's cap follows demand:
 * it doubles (up to CACHE_CAP_MAX) for a thread that refills what it
 * spilled, halves when the arena runs short; an arena that must grow asks
 * its threads' caches to drain (its drain epoch). Cached blocks stay allocated
 * and marked Q: the thread sets and clears Q by a store of the header's byte 5,
 * the arena changes an allocated neighbour's P and M bits by a store of its
 * byte 0. At a thread's exit (a pthread key's destructor) its blocks go back to
 * the arena.
 *
 * BUILD SWITCHES (the one place they are documented)
 *   MM_DEBUG=0  no checks (default); 1 = O(1) contracts on helpers and
 *               poisoning of freed and fresh payloads; 2 = also a full
 *               mm_checkheap on entry and exit of every public call.
 *   MM_FIT=MM_FIT_FIRST | MM_FIT_NEXT | MM_FIT_BEST (default)
 *   MM_NO_COALESCE   never merge free blocks (the lab's phase 3)
 *   MM_NO_QUICK      no quick lists and no runs: every free coalesces at
 *                    once, every request takes one best-fitting block
 *   MM_ALLOC_FOOTER  allocated blocks keep a footer (the textbook layout),
 *                    to measure what dropping it buys
 *   MM_ARENAS        one arena per CPU, thread-safe (above)
 *   MM_ARENA_GETCPU  with MM_ARENAS: sched_getcpu() on every call picks the
 *                    arena, instead of binding a thread at its first call
 *   MM_ARENA_FIRST   with MM_ARENAS: a thread stays in the arena it was
 *                    bound to at its first call (no move on contention;
 *                    kept to measure the default against)
 *   MM_ARENA_IDLE    with MM_ARENAS: a new thread claims an arena no live
 *                    thread is bound to (made, else made now), else its
 *                    CPU's (threads that start together are put apart:
 *                    lower util, docs/design.md)
 *   MM_ARENA_MUTEX   with MM_ARENAS: a pthread mutex per arena instead of
 *                    the spinlock (measured against it)
 *   MM_NO_THREAD_CACHE  with MM_ARENAS: no thread caches (helgrind takes
 *                    their lock-free stores for races); also off with
 *                    MM_ALLOC_FOOTER or MM_NO_QUICK
 */
#ifdef MM_ARENAS
#define _GNU_SOURCE /* sched_getcpu */
#endif
#include "mm.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memlib.h"

#ifdef MM_ARENAS
#include <pthread.h>
#include <sched.h>
#include <sys/single_threaded.h>
#include <unistd.h>
enum { ARENAS = 1 };
#ifdef MM_ARENA_MUTEX
typedef pthread_mutex_t arena_lock_t;
#else
typedef uint32_t arena_lock_t; /* 0: free, 1: held (spin_acquire) */
#endif
#else
enum { ARENAS = 0 };
#endif
/* The thread caches: arena build only, and not with the switches whose
 * blocks they do not fit (a footer to keep, or no quick lists). */
#if defined(MM_ARENAS) && !defined(MM_NO_THREAD_CACHE) &&                      \
    !defined(MM_ALLOC_FOOTER) && !defined(MM_NO_QUICK)
#define MM_THREAD_CACHE 1
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "the thread cache writes the Q bit as byte 5 of a header");
#endif

#define MM_FIT_FIRST 1
#define MM_FIT_NEXT  2
#define MM_FIT_BEST  3
#ifndef MM_FIT
#define MM_FIT MM_FIT_BEST
#endif
#ifndef MM_DEBUG
#define MM_DEBUG 0
#endif
#ifdef MM_NO_COALESCE
enum { COALESCE = 0 };
#else
enum { COALESCE = 1 };
#endif
#ifdef MM_NO_QUICK
enum { QUICK = 0 };
#else
enum { QUICK = 1 };
#endif
#ifdef MM_ALLOC_FOOTER
enum { ALLOC_FOOTER = 1 };
#else
enum { ALLOC_FOOTER = 0 };
#endif

/* ---- Debug contracts: they type-check even when compiled out ---------- */

#if MM_DEBUG >= 1
static void contract_failed(const char *expr, const char *func, int line)
{
    fflush(stdout);
    fprintf(stderr, "mm.c:%d: %s: contract broken: %s\n", line, func, expr);
    abort();
}

#define dbg_requires(expr)                                                     \
    ((expr) ? (void)0 : contract_failed(#expr, __func__, __LINE__))
#else
#define dbg_requires(expr) ((void)sizeof(expr))
#endif
#define dbg_assert(expr)  dbg_requires(expr)
#define dbg_ensures(expr) dbg_requires(expr)

/* ---- Types and constants ----------------------------------------------- */

typedef uint64_t word_t;

typedef struct block {
    word_t header;
    union {
        struct {
            uint32_t next;
            uint32_t prev;
        } links;
        unsigned char payload[0];
    };
} block_t;

enum {
    WSIZE = sizeof(word_t), /* header, footer, fence */
    ALIGNMENT = 16,
    MIN_BLOCK = 16,    /* header + two 32-bit links */
    SMALL_CLASSES = 8, /* one class per size 16, 32, ..., 128 */
    SMALL_CLASS_LOG2 = 7,
    SUBCLASS_BITS = 2, /* then 4 classes per power of two ... */
    SUBCLASSES = 1 << SUBCLASS_BITS,
    FINE_OCTAVES = 6,  /* ... from 128 up to 8 KiB ... */
    NUM_CLASSES = 40,  /* ... then one per power of two, the last > 1 MiB */
    RUN_MAX = 256,     /* requests of at most this block size come in runs */
    RUN_BYTES = 1024,  /* a run's size, at most */
    RUN_HOT = 2,       /* a size carved this recently keeps its run list */
    RUN_AGAIN = 3,     /* carved again this soon, twice in a row: longer runs */
    RUN_STREAK = 0x80, /* heap_t.run_len: the bit of run_length's streak */
    QUICK_CLASSES = RUN_MAX / 16, /* quick lists: one per size 16 .. RUN_MAX */
    QUICK_MAX = QUICK_CLASSES * ALIGNMENT,
    SMALL_CLASS_MAX = SMALL_CLASSES * ALIGNMENT,
    BEST_FIT_SCAN = 16, /* nodes examined after the first fit */
    LOW_SCAN = 4,       /* nodes examined for a small carve kept low */
    GROWER_WINDOW = 16, /* small carves kept low after a grower's step */
    ALLOC_OVERHEAD = ALLOC_FOOTER ? 2 * WSIZE : WSIZE,
    DEBUG_POISON_FREE = 0xdb,
    DEBUG_POISON_FRESH = 0xab,
    ARENA_MAX = 64,          /* arenas at most (one per CPU) */
    ARENA_CHUNK = 64 * 1024, /* an arena's new region, at least */
    ARENA_CHUNK_SHIFTS = 6,  /* ... doubled up to 64 times that: */
    ARENA_CHUNK_MAX = ARENA_CHUNK << ARENA_CHUNK_SHIFTS, /* 4 MiB */
    REGION_DOUBLING = 4, /* once every 4 regions of the arena */
};

static const word_t ALLOC_BIT = 0x1;
static const word_t PREV_ALLOC_BIT = 0x2;
static const word_t PREV_MINI_BIT = 0x4;
static const word_t PREV_BITS = 0x6;
static const word_t RESERVED_BIT = 0x8;
static const word_t SIZE_MASK = 0x000000fffffffff0; /* sizes < 1 TiB */
static const word_t QUICK_BIT = (word_t)1 << 40;
static const int CLASS_SHIFT = 41; /* a free block's size class: 6 bits */
static const word_t CLASS_MASK = (word_t)0x3f << 41;
static const word_t ZERO_BIT = (word_t)1 << 47;
static const int OWNER_SHIFT = 48; /* the owning arena: 16 bits */
static const word_t OWNER_MASK = (word_t)0xffff << 48;
static const size_t MAX_REQUEST = (size_t)1 << 36; /* 64 GiB of offsets */

/* A region's descriptor and start fence (REGION_HEAD bytes: the first
 * block's header then sits at 8 mod 16), and its end fence. */
typedef struct region {
    uint32_t next;  /* offset of the next region (0: this is the last) */
    uint32_t units; /* size in 16-byte units, descriptor to end fence */
    uint32_t owner; /* the arena that owns the region (0: one heap) */
    uint32_t spare;
    word_t start_fence;
} region_t;

enum {
    REGION_HEAD = sizeof(region_t),        /* 24 */
    REGION_OVERHEAD = REGION_HEAD + WSIZE, /* + the end fence: 32 */
};

/* The allocator's state: it lives inside the heap, at its start, and is
 * passed to every helper that reads or writes it. */
typedef struct heap {
    uint64_t nonempty;                /* bit c set <=> list c not empty */
    uint32_t free_heads[NUM_CLASSES]; /* list heads, offsets (0 = null) */
    /* cached blocks, one size each: freed ones (q), then the fresh ones
     * of runs (QUICK_CLASSES + q) */
    uint32_t quick_heads[2 * QUICK_CLASSES];
    uint8_t run_len[QUICK_CLASSES]; /* per size: its last run's length,
                                       | RUN_STREAK (run_length) */
    uint32_t recent_runs;   /* the sizes of the last RUN_AGAIN runs, q + 1 in
                               a byte each (0: none), the newest lowest */
    uint32_t cached_units;  /* the freed quick lists' bytes / 16 */
    uint32_t last_region;   /* offset (16-byte units) */
    uint32_t regions;       /* how many */
    uint32_t rover;         /* next fit: where a search starts */
    word_t owner;           /* owner bits of every header */
    block_t *tail;          /* the last region's end fence */
    uint32_t grower;        /* the block realloc last grew with room (a hint) */
    uint32_t grower_window; /* small carves left that keep clear of it */
#ifdef MM_ARENAS
    uint64_t ops;              /* public calls (mm_stats) */
    uint64_t remote_frees;     /* frees, reallocs from other arenas' threads */
    struct arena_table *table; /* the root's: the arenas (NULL in arenas) */
    struct thread_cache *caches; /* the root's: every live thread cache */
    arena_lock_t lock;           /* an arena's lock (arena_lock) */
    uint32_t bound;              /* threads bound to it, a hint (count_bound) */
    uint32_t drain_epoch; /* an arena's: bumped when it is short of memory
                             (drain_my_cache); its threads' caches drain */
    /* The remote side, on a cache line of its own: the other threads'
     * pushes do not take the owner's lock and lists' lines from it. */
    char remote_pad[64];
    uint32_t remote_inbox; /* remote batches pushed by other threads (an
                              offset chain, 0: empty; invariant 19) */
    char remote_pad_end[60];
#endif
} heap_t;

/* The arena table (arena build): it lives in the heap, after the root. An
 * arena is made at the first call of a thread bound to it (arena_at reads
 * an entry, open_arena writes it). */
typedef struct arena_table {
    uint32_t count;  /* arenas, 1 .. ARENA_MAX */
    heap_t *arena[]; /* count entries; NULL: not made yet */
} arena_table_t;

/* Where a heap struct or a region starts (the arena build: a cache line,
 * so that two arenas, whose threads run on different cores, share no line
 * of their heap structs, locks, regions and thread caches: a region's
 * first line holds its owner's blocks only, and the pad of up to 63 bytes
 * before it belongs to no one), and the bytes of a heap struct (a whole
 * number of those). */
#ifdef MM_ARENAS
enum { LAYOUT_ALIGN = 64 };
#else
enum { LAYOUT_ALIGN = ALIGNMENT };
#endif
enum {
    HEAP_BYTES =
        (sizeof(heap_t) + LAYOUT_ALIGN - 1) / LAYOUT_ALIGN * LAYOUT_ALIGN
};
_Static_assert(RUN_AGAIN <= 4 && RUN_HOT <= RUN_AGAIN,
               "heap_t.recent_runs: one byte per run");
_Static_assert(RUN_BYTES / ALIGNMENT < RUN_STREAK,
               "heap_t.run_len: a run's length below the streak bit");

/* ---- The allocator's only static: static data is limited to 256 bytes -- */

static heap_t *heap; /* NULL before mm_init (arena build: the root) */

/* ---- Threads: every lock and atomic of the allocator (arena build) ------*/

#ifdef MM_ARENAS
#if !defined(MM_ARENA_FIRST) && !defined(MM_ARENA_GETCPU)
#define MM_ARENA_REBIND 1 /* a thread moves on contention (the default) */
#endif
#ifndef MM_ARENA_GETCPU
/* The arena a thread is bound to: index + 1 (0: not bound yet). It is
 * thread-local, 4 bytes of .tbss (nm shows it as 'b', counted as static);
 * initial-exec: one %fs-relative access, also in a preloaded library. */
static __thread uint32_t thread_arena
    __attribute__((tls_model("initial-exec")));
#endif
/* The arena of the process's one thread, until a second one starts: then
 * no call needs the binding or the owner's lookup (NULL: not known yet,
 * or after mm_init). */
static heap_t *solo;
/* sysconf(_SC_NPROCESSORS_CONF), read at the first mm_init (it reads
 * /sys: too slow for every mm_init of mdriver's replays); 0 before. */
static uint32_t cpus_configured;

/* Whether the process has (had) a second thread: locks are taken only
 * then. glibc clears the flag in pthread_create, before the new thread
 * runs, and never sets it again, so a call that took no lock is never
 * concurrent with another. */
static inline bool threads_running(void)
{
    return !__libc_single_threaded;
}

#ifdef MM_ARENA_MUTEX
/* MM_ARENA_MUTEX: the arena's lock is a pthread mutex (helgrind knows it;
 * it does not see atomics as synchronization). */
static inline void lock_acquire(arena_lock_t *l)
{
    pthread_mutex_lock(l);
}
static inline void lock_release(arena_lock_t *l)
{
    pthread_mutex_unlock(l);
}
static inline bool lock_try(arena_lock_t *l)
{
    return pthread_mutex_trylock(l) == 0;
}
static void lock_init(arena_lock_t *l)
{
    pthread_mutex_init(l, NULL);
}
#else
enum { SPIN_TRIES = 64 };      /* reads of a held lock before sched_yield */

/* A hint to the CPU that this is a spin-wait loop. */
static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Waits until lock l looks free: reads only (the test of test-and-test-
 * and-set), a short spin, then yielding the CPU to the holder. */
__attribute__((noinline)) static void lock_wait(arena_lock_t *l)
{
    for (int i = 0; __atomic_load_n(l, __ATOMIC_RELAXED) != 0; i++) {
        if (i < SPIN_TRIES)
            cpu_relax();
        else
            sched_yield();
    }
}

/* The arena's lock (default): test-and-test-and-set, one atomic exchange
 * when free (docs/bench-arenas.md measures it against the mutex). The
 * acquire and release orders are what TSan reads as synchronization. */
static inline void lock_acquire(arena_lock_t *l)
{
    while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE) != 0)
        lock_wait(l);
}
static inline void lock_release(arena_lock_t *l)
{
    __atomic_store_n(l, 0, __ATOMIC_RELEASE);
}
static inline bool lock_try(arena_lock_t *l)
{
    return __atomic_load_n(l, __ATOMIC_RELAXED) == 0 &&
           __atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE) == 0;
}
static void lock_init(arena_lock_t *l)
{
    __atomic_store_n(l, 0, __ATOMIC_RELAXED);
}
#endif

/* Takes h's lock when threads run; returns whether it did (for unlock). */
static inline bool arena_lock(heap_t *h)
{
    if (!threads_running())
        return false;
    lock_acquire(&h->lock);
    return true;
}

static void rebind_on_contention(heap_t *h);

/* Takes the lock of h, the calling thread's own arena, when threads run;
 * returns whether it did. If another thread holds it, the thread is bound
 * anew (rebind_on_contention), for its next calls, before it waits. */
static inline bool arena_lock_mine(heap_t *h)
{
    if (!threads_running())
        return false;
    if (!lock_try(&h->lock)) {
        rebind_on_contention(h);
        lock_acquire(&h->lock);
    }
    return true;
}

static inline void arena_unlock(heap_t *h, bool locked)
{
    if (locked)
        lock_release(&h->lock);
}

/* Whether h's lock is free now (invariant 16); leaves it free. */
static bool arena_lock_free(heap_t *h)
{
    if (!lock_try(&h->lock))
        return false;
    lock_release(&h->lock);
    return true;
}

static void arena_lock_init(heap_t *h)
{
    lock_init(&h->lock);
}

/* The CPU the thread runs on, or (sched_getcpu failing) a hash of its id;
 * an id beyond the table wraps. */
static uint32_t arena_index_of_cpu(const arena_table_t *t)
{
    int cpu = sched_getcpu();
    uint64_t key = cpu >= 0
                       ? (uint64_t)cpu
                       : (uint64_t)pthread_self() * 0x9e3779b97f4a7c15u >> 32;
    return (uint32_t)(key % t->count);
}

/* Arena i of the table, or NULL if not made yet (an acquire load: it pairs
 * with the release store of open_arena). */
static inline heap_t *arena_at(const arena_table_t *t, size_t i)
{
    return __atomic_load_n(&t->arena[i], __ATOMIC_ACQUIRE);
}

static heap_t *new_heap(unsigned owner);

/* Makes arena i (under the root's lock when threads run), or NULL when the
 * heap is full. */
static heap_t *open_arena(heap_t *root, size_t i)
{
    arena_table_t *t = root->table;
    bool locked = arena_lock(root);
    heap_t *h = arena_at(t, i);
    if (h == NULL) {
        h = new_heap((unsigned)i + 1);
        __atomic_store_n(&t->arena[i], h, __ATOMIC_RELEASE);
    }
    arena_unlock(root, locked);
    return h;
}

#if defined(MM_ARENA_IDLE) && defined(MM_ARENA_GETCPU)
#error "MM_ARENA_IDLE binds a thread; MM_ARENA_GETCPU binds none"
#endif
#ifndef MM_ARENA_GETCPU
/* Counts a thread more (n = 1) or less (n = -1) bound to arena h, never
 * below 0. A hint, not an invariant: a thread bound before mm_init made a
 * new heap is not counted in it, nor is a thread without a cache uncounted
 * at its exit. */
static void count_bound(heap_t *h, int n)
{
    uint32_t v = __atomic_load_n(&h->bound, __ATOMIC_RELAXED);
    while ((n > 0 || v > 0) &&
           !__atomic_compare_exchange_n(&h->bound, &v, v + (uint32_t)n, true,
                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        continue;
}

/* Arena a (index + 1), counted one thread more (made if it is not yet:
 * the caller holds no lock); a, or 0 when the heap is full. */
static uint32_t count_into(heap_t *root, uint32_t a)
{
    heap_t *h = arena_at(root->table, a - 1);
    if (h == NULL && (h = open_arena(root, a - 1)) == NULL)
        return 0;
    count_bound(h, 1);
    return a;
}

/* Whether arena i (made: made, else made now) had no thread bound to it
 * and now counts the caller's (its count's exchange 0 -> 1: two threads
 * that start together cannot both take it). */
static bool claim_idle(heap_t *root, uint32_t i, bool made)
{
    heap_t *h = arena_at(root->table, i);
    if (made ? h == NULL : h != NULL || (h = open_arena(root, i)) == NULL)
        return false;
    uint32_t idle = 0;
    return __atomic_compare_exchange_n(&h->bound, &idle, 1, false,
                                       __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

#ifdef MM_ARENA_IDLE
/* A new thread's arena (MM_ARENA_IDLE), like glibc's reuse of an exited
 * thread's arena: one that no live thread is bound to, made already (its
 * free memory is reused), else made now; else its CPU's. */
static uint32_t first_arena(heap_t *root)
{
    const arena_table_t *t = root->table;
    for (int made = 1; made >= 0; made--)
        for (uint32_t i = 0; i < t->count; i++)
            if (claim_idle(root, i, made))
                return i + 1;
    uint32_t a = count_into(root, 1 + arena_index_of_cpu(t));
    return a != 0 ? a : 1 + arena_index_of_cpu(t);
}
#else
/* A new thread's arena (the default): one made already that no live
 * thread is bound to (its last thread exited: its free memory is reused,
 * as glibc reuses an exited thread's arena), else its CPU's (made now if
 * it is not). Replays on new threads one after another keep one arena's
 * peak, not one per arena; threads that live together stay on their
 * CPUs' arenas (joining a made arena instead put two threads' small
 * blocks on shared cache lines: cache-scratch/2 went from 0.57x to 2.35x
 * glibc's time, docs/bench-libmm.md). */
static uint32_t first_arena(heap_t *root)
{
    const arena_table_t *t = root->table;
    for (uint32_t i = 0; i < t->count; i++)
        if (claim_idle(root, i, /*made=*/true))
            return i + 1;
    uint32_t cpu = 1 + arena_index_of_cpu(t), a = count_into(root, cpu);
    return a != 0 ? a : cpu;
}
#endif

#ifdef MM_THREAD_CACHE
/* The calling thread's exit (its cache's destructor): its arena counts it
 * no more. (A thread without a cache stays counted.) */
static inline void unbind_thread(void)
{
    uint32_t a = thread_arena;
    heap_t *h =
        a != 0 && a <= heap->table->count ? arena_at(heap->table, a - 1) : NULL;
    if (h != NULL)
        count_bound(h, -1);
}
#endif
#elif defined(MM_THREAD_CACHE)
static inline void unbind_thread(void) {}
#endif

#ifndef MM_ARENA_REBIND
static void rebind_on_contention(heap_t *h)
{
    (void)h;
}
#else
#ifdef MM_THREAD_CACHE
static void leave_cache_behind(void); /* in the thread caches' section */
#else
static void leave_cache_behind(void) {}
#endif

/* The calling thread met contention on h, the arena it is bound to: it is
 * bound to the arena of the CPU it runs on now, if that is another one
 * (glibc's arena_get2 also moves a thread on contention). A new thread's
 * first call mostly runs on its creator's CPU, so two busy threads start
 * in one arena; the one that waits for the other's lock runs on the other
 * CPU and moves there. Its thread cache follows at its next malloc
 * (leave_cache_behind). No rebinding with MM_ARENA_FIRST or
 * MM_ARENA_GETCPU. */
__attribute__((noinline)) static void rebind_on_contention(heap_t *h)
{
    uint32_t a = 1 + arena_index_of_cpu(heap->table);
    if (a == (uint32_t)(h->owner >> OWNER_SHIFT))
        return;
    if ((a = count_into(heap, a)) == 0)
        return;
    count_bound(h, -1);
    thread_arena = a;
    leave_cache_behind();
}
#endif

/* The calling thread's arena: bound at its first call, to its CPU's arena,
 * and moved on contention (rebind_on_contention); with MM_ARENA_GETCPU,
 * the current CPU's at every call. */
static inline uint32_t my_arena_number(heap_t *root)
{
    const arena_table_t *t = root->table;
#ifdef MM_ARENA_GETCPU
    return 1 + arena_index_of_cpu(t);
#else
    uint32_t a = thread_arena;
    if (a == 0 || a > t->count)
        thread_arena = a = first_arena(root);
    return a;
#endif
}

/* The arena the calling thread is bound to (index + 1), 0 if none yet;
 * it does not bind (count_remote calls it under an arena's lock). */
static inline uint32_t bound_arena_number(heap_t *root)
{
#ifdef MM_ARENA_GETCPU
    return 1 + arena_index_of_cpu(root->table);
#else
    (void)root;
    return thread_arena;
#endif
}

static inline heap_t *my_arena(heap_t *root)
{
    uint32_t a = my_arena_number(root);
    heap_t *h = arena_at(root->table, a - 1);
    return h != NULL ? h : open_arena(root, a - 1);
}

/* The arena of the calling thread: the solo arena while the process has
 * one thread. */
static inline heap_t *caller_arena(heap_t *root)
{
    if (!threads_running() && solo != NULL)
        return solo;
    heap_t *h = my_arena(root);
    if (!threads_running())
        solo = h;
    return h;
}

/* The header of a block that the calling thread may not own (free and
 * realloc read it to find the owner before taking its lock): an atomic
 * load, because the owner may meanwhile change its P and M bits. */
static inline word_t load_header_remote(const void *b)
{
    return __atomic_load_n((const word_t *)b, __ATOMIC_RELAXED);
}
#else
static inline bool threads_running(void)
{
    return false;
}
static inline bool arena_lock(heap_t *h)
{
    (void)h;
    return false;
}
static inline bool arena_lock_mine(heap_t *h)
{
    (void)h;
    return false;
}
static inline void arena_unlock(heap_t *h, bool locked)
{
    (void)h, (void)locked;
}
static inline heap_t *caller_arena(heap_t *root)
{
    return root;
}
#endif

/* Writes the header of a block that may be allocated and held by another
 * thread (only its P and M bits change): an atomic store, so that
 * load_header_remote never races with it. A plain mov on x86-64. With
 * thread caches, only the header's low byte (A, P, M, size bits 4..7) is
 * stored: the holder's cache may meanwhile write its byte 5 (the Q bit,
 * set_cached) without a lock. */
static inline void store_neighbour_header(void *b, word_t w)
{
#ifdef MM_THREAD_CACHE
    __atomic_store_n((uint8_t *)b, (uint8_t)w, __ATOMIC_RELAXED);
#else
    __atomic_store_n((word_t *)b, w, __ATOMIC_RELAXED);
#endif
}

/* Reads a header that another thread's cache may be writing (the arena
 * build: the Q bit of a block that is not the arena's to change); a plain
 * load in the plain build. */
static inline word_t header_of(const block_t *b)
{
#ifdef MM_ARENAS
    return __atomic_load_n(&b->header, __ATOMIC_RELAXED);
#else
    return b->header;
#endif
}

/* Writes the header of a block that the caller owns (under its arena's
 * lock, or its own allocated block): an atomic store in the arena build,
 * since a thread cache may meanwhile read it without a lock (cache_free
 * reads the next block's P bit); a plain store in the plain build. */
static inline void store_header(block_t *b, word_t w)
{
#ifdef MM_ARENAS
    __atomic_store_n(&b->header, w, __ATOMIC_RELAXED);
#else
    b->header = w;
#endif
}

/* ---- Header words --------------------------------------------------------*/

/* The one function that composes a header: size, the A/P/M flags, a free
 * block's size class and the owner's bits. */
static inline word_t pack(size_t size, word_t flags, size_t cls, word_t owner)
{
    dbg_requires(size % ALIGNMENT == 0 &&
                 (flags & ~(ALLOC_BIT | PREV_BITS | QUICK_BIT)) == 0);
    return (word_t)size | flags | ((word_t)cls << CLASS_SHIFT) | owner;
}

/* The A/P/M flags as pack takes them. */
static inline word_t flags_of(bool alloc, bool prev_alloc, bool prev_mini)
{
    return (alloc ? ALLOC_BIT : 0) | (prev_alloc ? PREV_ALLOC_BIT : 0) |
           (prev_mini ? PREV_MINI_BIT : 0);
}

static inline size_t extract_size(word_t w)
{
    return (size_t)(w & SIZE_MASK);
}
static inline bool extract_alloc(word_t w)
{
    return (w & ALLOC_BIT) != 0;
}
static inline size_t get_size(const block_t *b)
{
    return extract_size(header_of(b));
}
static inline bool get_alloc(const block_t *b)
{
    return extract_alloc(header_of(b));
}
static inline bool get_prev_alloc(const block_t *b)
{
    return (b->header & PREV_ALLOC_BIT) != 0;
}
static inline bool get_prev_mini(const block_t *b)
{
    return (b->header & PREV_MINI_BIT) != 0;
}
static inline bool get_quick(const block_t *b)
{
    return (header_of(b) & QUICK_BIT) != 0;
}

/* Whether b is cached (Q): in a quick list, a run list or a thread cache.
 * It is allocated for the heap but not the user's: a free of it is a
 * double free. The hardened free's test (a relaxed load: b may sit in
 * another thread's cache). */
static inline bool block_is_cached(const block_t *b)
{
    return get_quick(b);
}

/* The size class a free block's header records (0 in allocated blocks). */
static inline size_t extract_class(word_t w)
{
    return (size_t)((w & CLASS_MASK) >> CLASS_SHIFT);
}

/* A block carries a footer when it is free and not mini (or, with
 * MM_ALLOC_FOOTER, allocated and not mini). */
static inline bool has_footer(word_t w)
{
    size_t size = extract_size(w);
    return size > MIN_BLOCK && (!extract_alloc(w) || ALLOC_FOOTER);
}

static inline size_t round_up(size_t n, size_t to)
{
    return (n + to - 1) / to * to;
}

/* The block size that holds a request of `size` payload bytes. */
static inline size_t adjust_size(size_t size)
{
    size_t asize = round_up(size + ALLOC_OVERHEAD, ALIGNMENT);
    return asize < MIN_BLOCK ? MIN_BLOCK : asize;
}

/* ---- Navigation ---------------------------------------------------------*/

static inline block_t *payload_to_header(void *bp)
{
    return (block_t *)((char *)bp - offsetof(block_t, payload));
}

static inline void *header_to_payload(block_t *b)
{
    return b->payload;
}

static inline word_t *header_to_footer(block_t *b)
{
    dbg_requires(get_size(b) > MIN_BLOCK && "a mini block has no footer");
    return (word_t *)((char *)b + get_size(b) - WSIZE);
}

static inline block_t *find_next(block_t *b)
{
    dbg_requires(get_size(b) != 0 && "a fence has no successor");
    return (block_t *)((char *)b + get_size(b));
}

/* The previous block; only defined when it is free (P bit clear). */
static inline block_t *find_prev(block_t *b)
{
    dbg_requires(!get_prev_alloc(b) && "an allocated block has no footer");
    if (get_prev_mini(b))
        return (block_t *)((char *)b - MIN_BLOCK);
    word_t *footer = (word_t *)b - 1;
    return (block_t *)((char *)b - extract_size(*footer));
}

/* A fence: a header of size 0, allocated, that stops every walk and merge
 * (its P and M bits describe the block before it, if any). */
static inline word_t fence_word(const heap_t *h, bool prev_alloc,
                                bool prev_mini)
{
    return pack(0, flags_of(/*alloc=*/true, prev_alloc, prev_mini), 0,
                h->owner);
}

/* The owner field of arena `arena`'s headers (0: the one heap). */
static inline word_t owner_bits(unsigned arena)
{
    return ((word_t)arena << OWNER_SHIFT) & OWNER_MASK;
}

/* The owner bits of every header of h: h->owner, which the plain build's
 * one heap sets to 0 (mm_init), folded to the constant there, so that the
 * hot paths do not load it. */
static inline word_t heap_owner(const heap_t *h)
{
    return ARENAS ? h->owner : 0;
}

/* ---- Offsets: list links and region links --------------------------------*/

static inline uint32_t to_offset(const heap_t *h, const block_t *b)
{
    uintptr_t bytes = (uintptr_t)b - (uintptr_t)h + WSIZE;
    return b == NULL ? 0 : (uint32_t)(bytes / ALIGNMENT);
}

static inline block_t *from_offset(const heap_t *h, uint32_t off)
{
    if (off == 0)
        return NULL;
    return (block_t *)((char *)h + (size_t)off * ALIGNMENT - WSIZE);
}

/* The block at offset off, computed without the null test: off must not be
 * 0, or the result must only be compared or selected, never dereferenced
 * (the branchless list updates below choose between it and another
 * address). */
static inline block_t *node_at(const heap_t *h, uint32_t off)
{
    return (block_t *)((uintptr_t)h + (uintptr_t)off * ALIGNMENT - WSIZE);
}

static inline uint32_t region_offset(const heap_t *h, const region_t *r)
{
    return (uint32_t)(((uintptr_t)r - (uintptr_t)h) / ALIGNMENT);
}

static inline region_t *region_at(const heap_t *h, uint32_t off)
{
    return off == 0 ? NULL : (region_t *)((char *)h + (size_t)off * ALIGNMENT);
}

static inline block_t *region_first(region_t *r)
{
    return (block_t *)((char *)r + REGION_HEAD);
}

static inline char *region_end(const region_t *r)
{
    return (char *)r + (size_t)r->units * ALIGNMENT;
}

static inline block_t *region_end_fence(const region_t *r)
{
    return (block_t *)(region_end(r) - WSIZE);
}

/* Region 0 of heap h: right after its struct (make_heap). */
static inline region_t *region_zero(const heap_t *h)
{
    return (region_t *)((char *)h + HEAP_BYTES);
}

/* The address of h's first block, region 0's: no block of h lies below. */
static inline uintptr_t heap_lo(const heap_t *h)
{
    return (uintptr_t)h + HEAP_BYTES + REGION_HEAD;
}

/* The end of h's last region, just past its end fence h->tail. */
static inline char *heap_brk(const heap_t *h)
{
    return (char *)h->tail + WSIZE;
}

/* ---- Writing blocks -----------------------------------------------------*/

/* Writes b's header (with the heap's owner bits), and its footer when it
 * has one. */
static inline void write_block(const heap_t *h, block_t *b, size_t size,
                               bool alloc, bool prev_alloc, bool prev_mini)
{
    store_header(b, pack(size, flags_of(alloc, prev_alloc, prev_mini), 0,
                         heap_owner(h)));
    if (has_footer(b->header))
        *header_to_footer(b) = b->header;
}

/* Replaces b's header word (and footer, if it has one) with w. */
static inline void rewrite_header(block_t *b, word_t w)
{
    store_header(b, w);
    if (has_footer(w))
        *header_to_footer(b) = w;
}

/* Tells the block after b what b now is (invariant 6), changing only the
 * P and M bits of its header (and footer). */
static inline void sync_next(block_t *b)
{
    block_t *next = find_next(b);
    word_t w = header_of(next) & ~PREV_BITS;
    if (get_alloc(b))
        w |= PREV_ALLOC_BIT;
    else if (get_size(b) == MIN_BLOCK)
        w |= PREV_MINI_BIT;
    store_neighbour_header(next, w);
    if (has_footer(w))
        *header_to_footer(next) = w;
}

/* ---- Free lists ---------------------------------------------------------*/

/* The size class. It branches on the size (exact classes up to 128
 * bytes): a branchless version was slower (docs/experiments.md). */
static inline size_t size_class(size_t size)
{
    if (size <= SMALL_CLASS_MAX)
        return size / ALIGNMENT - 1;
    size_t log2 = (size_t)(63 - __builtin_clzll((unsigned long long)size));
    size_t octave = log2 - SMALL_CLASS_LOG2;
    if (octave < FINE_OCTAVES) {
        size_t sub = (size >> (log2 - SUBCLASS_BITS)) & (SUBCLASSES - 1);
        return SMALL_CLASSES + octave * SUBCLASSES + sub;
    }
    size_t c =
        SMALL_CLASSES + FINE_OCTAVES * SUBCLASSES + octave - FINE_OCTAVES;
    return c < NUM_CLASSES ? c : NUM_CLASSES - 1;
}

/* a if cond, else b, without a branch: gcc turns a ?: of two addresses
 * (or sizes) into a branch that random sizes mispredict (scan_best's
 * choice of a node, select_word). */
static inline uintptr_t select_bits(bool cond, uintptr_t a, uintptr_t b)
{
    uintptr_t mask = (uintptr_t)0 - (uintptr_t)cond;
    return (a & mask) | (b & ~mask);
}

/* The word to write, a if cond, else b, without a branch (the list
 * updates below). */
static inline uint32_t *select_word(bool cond, uint32_t *a, uint32_t *b)
{
    return (uint32_t *)select_bits(cond, (uintptr_t)a, (uintptr_t)b);
}

/* Pushes free block b on the front of list c. Branchless: when the list is
 * empty, the old head's prev link that would take b's offset is b's own,
 * which is then cleared. */
static inline void push_free(heap_t *h, block_t *b, size_t c)
{
    uint32_t self = to_offset(h, b), head = h->free_heads[c];
    uint32_t *back =
        select_word(head != 0, &node_at(h, head)->links.prev, &b->links.prev);
    b->links.next = head;
    *back = self;
    b->links.prev = 0;
    h->free_heads[c] = self;
    h->nonempty |= (uint64_t)1 << c;
}

/* Pushes free block b on the front of its class's list. */
static inline void insert_free(heap_t *h, block_t *b)
{
    dbg_requires(!get_alloc(b));
    size_t c = size_class(get_size(b));
    rewrite_header(b, (b->header & ~CLASS_MASK) | ((word_t)c << CLASS_SHIFT));
    push_free(h, b, c);
}

/* Unlinks free block b from list c (its class's, which the caller knows:
 * find_fit's class or the header's class field). */
static inline void unlink_free(heap_t *h, block_t *b, size_t c)
{
    dbg_requires(!get_alloc(b) && size_class(get_size(b)) == c);
    uint32_t next = b->links.next, prev = b->links.prev;
    if (prev != 0) {
        node_at(h, prev)->links.next = next;
    } else {
        h->free_heads[c] = next;
        if (next == 0)
            h->nonempty &= ~((uint64_t)1 << c);
    }
    if (next != 0)
        node_at(h, next)->links.prev = prev;
    if (MM_FIT == MM_FIT_NEXT && h->rover == to_offset(h, b))
        h->rover = next;
}

static inline void remove_free(heap_t *h, block_t *b)
{
    unlink_free(h, b, extract_class(b->header));
}

/* ---- Quick lists: freed small blocks, cached without coalescing ---------*/

static inline size_t quick_class(size_t size)
{
    return size / ALIGNMENT - 1;
}

/* Links allocated block b, marked Q already (at most QUICK_MAX bytes), on
 * its size's quick list (a freed block) or run list (fresh). */
static inline void link_quick(heap_t *h, block_t *b, bool fresh)
{
    dbg_requires(get_alloc(b) && get_quick(b) && get_size(b) <= QUICK_MAX);
    size_t q = quick_class(get_size(b)) + (fresh ? QUICK_CLASSES : 0);
    b->links.next = h->quick_heads[q];
    h->quick_heads[q] = to_offset(h, b);
    h->cached_units += fresh ? 0 : (uint32_t)(get_size(b) / ALIGNMENT);
}

/* Caches allocated block b (at most QUICK_MAX bytes) on its size's quick
 * list (a freed block) or run list (fresh): it stays allocated for the
 * heap, marked Q, until a malloc of its size or a flush. */
static inline void push_quick(heap_t *h, block_t *b, bool fresh)
{
    dbg_requires(get_alloc(b) && !get_quick(b) && get_size(b) <= QUICK_MAX);
    if (ALLOC_FOOTER)
        rewrite_header(b, b->header | QUICK_BIT);
    else /* allocated: no footer */
        store_header(b, header_of(b) | QUICK_BIT);
    link_quick(h, b, fresh);
}

/* A cached block of exactly asize bytes, back in use, or NULL: a freed
 * one first, else a fresh one of a run. */
static inline block_t *pop_quick(heap_t *h, size_t asize)
{
    size_t q = quick_class(asize);
    bool freed = h->quick_heads[q] != 0;
    h->cached_units -= freed ? (uint32_t)(asize / ALIGNMENT) : 0;
    q += freed ? 0 : QUICK_CLASSES;
    block_t *b = from_offset(h, h->quick_heads[q]);
    if (b != NULL) {
        h->quick_heads[q] = b->links.next;
        if (ALLOC_FOOTER)
            rewrite_header(b, b->header & ~QUICK_BIT);
        else /* allocated: no footer */
            store_header(b, header_of(b) & ~QUICK_BIT);
    }
    return b;
}

static block_t *free_block(heap_t *h, block_t *b);
static block_t *discard_inside(heap_t *h, size_t freed, block_t *b);

/* Whether size class q (quick list q) carved a run within the last
 * `runs` runs (at most RUN_AGAIN). */
static inline bool carved_within(const heap_t *h, size_t q, unsigned runs)
{
    /* x has a zero byte where recent_runs holds q + 1 (the bytes past the
     * window are set); the test for a zero byte is exact, no branch */
    uint32_t ones = 0x01010101u, window = ((uint32_t)1 << (8 * runs)) - 1;
    uint32_t x = (h->recent_runs ^ (ones * (uint32_t)(q + 1))) | ~window;
    return ((x - ones) & ~x & 0x80808080u) != 0;
}

/* Whether size class q carved a run within the last RUN_HOT runs: its
 * fresh blocks stay on their run list when the heap would grow. */
static inline bool run_hot(const heap_t *h, size_t q)
{
    return carved_within(h, q, RUN_HOT);
}

static bool drain_my_cache(heap_t *h, bool all);

/* Frees the blocks of cached list q (a freed quick list, q <
 * QUICK_CLASSES, or a run list) for real, coalescing, in list order. True
 * if there was one. */
static bool flush_list(heap_t *h, size_t q)
{
    bool any = false;
    block_t *b;
    while ((b = from_offset(h, h->quick_heads[q])) != NULL) {
        h->quick_heads[q] = b->links.next;
        h->cached_units -= q < QUICK_CLASSES ? quick_class(get_size(b)) + 1 : 0;
        /* allocated: free_block rewrites the header */
        store_header(b, header_of(b) & ~QUICK_BIT);
        free_block(h, b);
        any = true;
    }
    return any;
}

/* Frees cached blocks for real, coalescing: every freed one, and the fresh
 * ones of the runs of sizes not carved within RUN_HOT runs (all, if
 * fresh_too), list by list in the order of quick_heads. True if there was
 * one. (The arena build: the calling thread's cache first gives its blocks
 * back to the quick lists.) The freed lists hold cached_units (invariant
 * 13): once it is 0, the rest of them are empty and not visited; an empty
 * run list is skipped before recent_runs is read. */
static bool flush_quick(heap_t *h, bool fresh_too)
{
    bool any = drain_my_cache(h, fresh_too);
    for (size_t q = 0; q < QUICK_CLASSES && h->cached_units != 0; q++)
        any |= flush_list(h, q);
    for (size_t q = 0; q < QUICK_CLASSES; q++)
        if (h->quick_heads[QUICK_CLASSES + q] != 0 &&
            (fresh_too || !run_hot(h, q)))
            any |= flush_list(h, QUICK_CLASSES + q);
    return any;
}

/* ---- Placement policies -------------------------------------------------*/

/* The first node from `from` up to `stop` (exclusive; 0 = end) that fits. */
static block_t *scan_first(const heap_t *h, uint32_t from, uint32_t stop,
                           size_t asize)
{
    for (uint32_t o = from; o != 0 && o != stop;) {
        block_t *b = from_offset(h, o);
        if (get_size(b) >= asize)
            return b;
        o = b->links.next;
    }
    return NULL;
}

/* The smallest fitting node among the first BEST_FIT_SCAN from the first
 * fit on (ties: the first found); an exact fit stops the scan. The choice
 * of each node is a select by mask (select_bits), not a branch that random
 * sizes mispredict: gcc made the ?: of the two a branch. The loop tests
 * the node's own size for the exact fit, not best_size. */
static inline block_t *scan_best(const heap_t *h, uint32_t o, size_t asize)
{
    block_t *b;
    do { /* the first fit */
        if (o == 0)
            return NULL;
        b = node_at(h, o);
        o = b->links.next;
    } while (get_size(b) < asize);
    block_t *best = b;
    size_t best_size = get_size(b);
    if (best_size == asize)
        return best;
    for (int budget = BEST_FIT_SCAN - 1; o != 0 && budget > 0; budget--) {
        b = node_at(h, o);
        size_t size = get_size(b);
        /* asize <= size < best_size, as one unsigned compare */
        bool better = size - asize < best_size - asize;
        best = (block_t *)select_bits(better, (uintptr_t)b, (uintptr_t)best);
        best_size = select_bits(better, size, best_size);
        if (size == asize) /* it is the best now: none can beat it */
            break;
        o = b->links.next;
    }
    return best;
}

/* Next fit in the request's own class: from the rover to the end, then from
 * the head up to the rover. */
static block_t *scan_next(const heap_t *h, size_t c, size_t asize)
{
    block_t *r = from_offset(h, h->rover);
    if (r == NULL || get_alloc(r) || size_class(get_size(r)) != c)
        return scan_first(h, h->free_heads[c], 0, asize);
    block_t *b = scan_first(h, h->rover, 0, asize);
    return b != NULL ? b : scan_first(h, h->free_heads[c], h->rover, asize);
}

/* A free block of at least asize bytes, and its class in *cls, or NULL. */
static inline block_t *find_fit(heap_t *h, size_t asize, size_t *cls)
{
    uint64_t classes = h->nonempty & ~(((uint64_t)1 << size_class(asize)) - 1);
    for (; classes != 0; classes &= classes - 1) {
        size_t c = (size_t)__builtin_ctzll(classes);
        block_t *b;
        if (MM_FIT != MM_FIT_NEXT && c < SMALL_CLASSES)
            b = node_at(h, h->free_heads[c]); /* one size: the head fits best */
        else if (MM_FIT == MM_FIT_BEST)
            b = scan_best(h, h->free_heads[c], asize);
        else if (MM_FIT == MM_FIT_NEXT)
            b = scan_next(h, c, asize);
        else
            b = scan_first(h, h->free_heads[c], 0, asize);
        if (b != NULL) {
            if (MM_FIT == MM_FIT_NEXT)
                h->rover = to_offset(h, b);
            *cls = c;
            dbg_ensures(!get_alloc(b) && get_size(b) >= asize &&
                        extract_class(b->header) == c);
            return b;
        }
    }
    return NULL;
}

/* ---- Coalescing, splitting ----------------------------------------------*/

/* Merges free block b (not in a list) with its free neighbours, puts the
 * result in its list and returns it. The four cases: neither neighbour
 * free, only the next, only the previous, both. Fences are allocated, so a
 * merge never leaves its region. */
static inline block_t *coalesce(heap_t *h, block_t *b)
{
    dbg_requires(!get_alloc(b));
    word_t w = b->header;
    size_t size = extract_size(w);
    block_t *next = (block_t *)((char *)b + size);
    word_t next_w = header_of(next);
    if (COALESCE && !extract_alloc(next_w)) {
        unlink_free(h, next, extract_class(next_w));
        size += extract_size(next_w);
    }
    if (COALESCE && !(w & PREV_ALLOC_BIT)) {
        b = find_prev(b);
        w = b->header;
        unlink_free(h, b, extract_class(w));
        size += extract_size(w);
    }
    size_t c = size_class(size);
    w = pack(size, w & PREV_BITS, c, heap_owner(h));
    store_header(b, w);
    if (COALESCE && !ALLOC_FOOTER) {
        /* The block after is allocated (invariant 7 held before): it has
         * no footer, only its P and M bits change. The footer is written
         * even for a mini block, where it is the links push_free writes. */
        block_t *after = (block_t *)((char *)b + size);
        *((word_t *)after - 1) = w;
        store_neighbour_header(after, (header_of(after) & ~PREV_BITS) |
                                          (size == MIN_BLOCK) * PREV_MINI_BIT);
    } else {
        rewrite_header(b, w);
        sync_next(b);
    }
    push_free(h, b, c);
    dbg_ensures(!COALESCE || (get_prev_alloc(b) && get_alloc(find_next(b))));
    return b;
}

/* Marks allocated block b free and coalesces it. */
static block_t *free_block(heap_t *h, block_t *b)
{
    dbg_requires(get_alloc(b) && !get_quick(b));
    store_header(
        b, header_of(b) &
               ~ALLOC_BIT); /* coalesce writes the final header and footer */
    if (MM_DEBUG >= 1 && get_size(b) > MIN_BLOCK)
        mem_memset(b->payload + sizeof b->links, DEBUG_POISON_FREE,
                   get_size(b) - MIN_BLOCK - WSIZE);
    size_t freed = get_size(b);
    return discard_inside(h, freed, coalesce(h, b)); /* see the end */
}

/* Marks b (out of any list) allocated with exactly `size` bytes; the rest,
 * if it can hold a block, becomes a free block (coalesced with the next). */
static inline void split_block(heap_t *h, block_t *b, size_t size)
{
    size_t total = get_size(b);
    dbg_requires(size <= total && size % ALIGNMENT == 0);
    if (total - size < MIN_BLOCK)
        size = total;
    write_block(h, b, size, /*alloc=*/true, get_prev_alloc(b),
                get_prev_mini(b));
    if (size == total) {
        sync_next(b);
        return;
    }
    block_t *rest = find_next(b);
    write_block(h, rest, total - size, /*alloc=*/false, /*prev_alloc=*/true,
                /*prev_mini=*/false);
    if (get_alloc(find_next(rest))) { /* the usual case: nothing to merge */
        sync_next(rest);
        insert_free(h, rest);
    } else {
        coalesce(h, rest);
    }
    dbg_ensures(get_size(b) == size && get_alloc(b));
}

/* split_block for a free block b (out of its list) that malloc or realloc
 * takes: its next block is allocated (invariant 7), so the rest merges
 * with nothing and only the P and M bits of the next block change. */
static inline void split_free(heap_t *h, block_t *b, size_t size)
{
    if (!COALESCE || ALLOC_FOOTER) {
        split_block(h, b, size);
        return;
    }
    dbg_requires(!get_alloc(b) && get_alloc(find_next(b)));
    word_t w = b->header;
    size_t total = extract_size(w), rest = total - size;
    dbg_requires(size <= total && size % ALIGNMENT == 0);
    word_t bits = w & PREV_BITS;
    block_t *next = (block_t *)((char *)b + total);
    word_t next_w = header_of(next) & ~PREV_BITS;
    if (rest < MIN_BLOCK) {
        store_header(b, pack(total, bits | ALLOC_BIT, 0, heap_owner(h)));
        store_neighbour_header(next, next_w | PREV_ALLOC_BIT);
        return;
    }
    store_header(b, pack(size, bits | ALLOC_BIT, 0, heap_owner(h)));
    block_t *r = (block_t *)((char *)b + size);
    size_t c = size_class(rest);
    word_t rest_w = pack(rest, PREV_ALLOC_BIT, c, heap_owner(h));
    store_header(r, rest_w);
    *((word_t *)next - 1) = rest_w; /* mini: the links, written next */
    store_neighbour_header(next, next_w | (rest == MIN_BLOCK) * PREV_MINI_BIT);
    push_free(h, r, c);
    dbg_ensures(get_size(b) == size && get_alloc(find_next(r)));
}

/* ---- Growing the heap: the one path -------------------------------------*/

/* The one call of mem_sbrk: `bytes` more bytes at the break. Returns the
 * old break, or NULL. */
static char *take_memory(size_t bytes)
{
    if (bytes > MAX_REQUEST)
        return NULL;
    void *p = mem_sbrk((intptr_t)bytes);
    return p == (void *)-1 ? NULL : (char *)p;
}

/* The free block at the end of the last region, or NULL. */
static block_t *last_free_block(const heap_t *h)
{
    if (!COALESCE || get_prev_alloc(h->tail))
        return NULL;
    return find_prev(h->tail);
}

/* Grows the last region by `bytes` taken at its end: the end fence becomes
 * the header of a free block. Returns that block, coalesced. */
static block_t *extend_region(heap_t *h, size_t bytes)
{
    block_t *b = h->tail;
    write_block(h, b, bytes, /*alloc=*/false, get_prev_alloc(b),
                get_prev_mini(b));
    block_t *fence = find_next(b);
    store_header(fence,
                 fence_word(h, /*prev_alloc=*/false, bytes == MIN_BLOCK));
    h->tail = fence;
    region_at(h, h->last_region)->units += (uint32_t)(bytes / ALIGNMENT);
    return coalesce(h, b);
}

/* Makes the `len` bytes at p (not contiguous with the last region) a new
 * region holding one free block, linked after the last. Returns the free
 * block (in its list), or NULL when len is too small. */
static block_t *add_region(heap_t *h, char *p, size_t len)
{
    size_t pad = round_up((uintptr_t)p, LAYOUT_ALIGN) - (uintptr_t)p;
    if (len < pad + REGION_OVERHEAD + MIN_BLOCK)
        return NULL;
    region_t *r = (region_t *)(p + pad);
    size_t units = (len - pad) / ALIGNMENT;
    *r = (region_t){.units = (uint32_t)units,
                    .owner = (uint32_t)(h->owner >> OWNER_SHIFT)};
    r->start_fence = fence_word(h, /*prev_alloc=*/true, /*prev_mini=*/false);
    region_at(h, h->last_region)->next = region_offset(h, r);
    h->last_region = region_offset(h, r);
    h->regions++;
    block_t *b = region_first(r);
    size_t size = units * ALIGNMENT - REGION_OVERHEAD;
    write_block(h, b, size, /*alloc=*/false, /*prev_alloc=*/true,
                /*prev_mini=*/false);
    h->tail = region_end_fence(r);
    store_header(h->tail,
                 fence_word(h, /*prev_alloc=*/false, size == MIN_BLOCK));
    insert_free(h, b);
    return b;
}

/* Whether the break is still the end of h's last region, which can then
 * grow in place (always so while one heap uses memlib). */
static inline bool break_is_mine(const heap_t *h)
{
    return (char *)mem_heap_hi() + 1 == heap_brk(h);
}

/* The room of a new region of h for a request of asize bytes, when another
 * arena's region ends at the break: exactly the request while the process
 * has one thread; once threads run, twice the request and at least
 * ARENA_CHUNK, doubled every REGION_DOUBLING regions of h up to
 * ARENA_CHUNK_MAX. So a block that realloc keeps growing grows in place
 * in its new region, and an arena that keeps growing takes few regions
 * (coalescing never crosses a region: each one left behind is a hole). */
static size_t region_room(const heap_t *h, size_t asize)
{
    if (!threads_running())
        return asize;
    size_t doublings = h->regions / REGION_DOUBLING;
    size_t chunk = doublings < ARENA_CHUNK_SHIFTS ? ARENA_CHUNK << doublings
                                                  : ARENA_CHUNK_MAX;
    return 2 * asize > chunk ? 2 * asize : chunk;
}

/* A new region of h with a free block of at least asize bytes (room
 * bytes, or asize if those cannot be had), from a break that may not be
 * aligned (the region starts at LAYOUT_ALIGN). Returns the block (in its
 * list), or NULL. */
static block_t *new_region(heap_t *h, size_t asize, size_t room)
{
    uintptr_t brk = (uintptr_t)mem_heap_hi() + 1;
    size_t bytes = round_up(brk, LAYOUT_ALIGN) - brk + REGION_OVERHEAD + room;
    char *p = take_memory(bytes);
    if (p == NULL && room > asize)
        return new_region(h, asize, asize);
    block_t *b = p != NULL ? add_region(h, p, bytes) : NULL;
    if (b != NULL && get_size(b) < asize) /* the break moved meanwhile */
        return new_region(h, asize, room);
    return b;
}

/* Grows the heap so that a free block of at least asize bytes ends its last
 * region, and returns that block (in its list), or NULL. At the heap's own
 * break the last region grows (merging with its last free block);
 * elsewhere the memory becomes a new region (region_room). */
static block_t *grow_heap(heap_t *h, size_t asize)
{
    dbg_requires(asize % ALIGNMENT == 0 && asize >= MIN_BLOCK);
    if (break_is_mine(h)) {
        block_t *last = last_free_block(h);
        size_t bytes = asize - (last != NULL ? get_size(last) : 0);
        char *p = take_memory(bytes);
        if (p == heap_brk(h))
            return extend_region(h, bytes);
        if (p == NULL)
            return NULL;
        add_region(h, p, bytes); /* someone moved the break meanwhile */
        return grow_heap(h, asize);
    }
    block_t *b = new_region(h, asize, region_room(h, asize));
    dbg_ensures(b == NULL || get_size(b) >= asize);
    return b;
}

/* Whether a request of asize bytes that no quick list serves, whose best
 * fit b is the heap's last block, should flush the quick lists and look
 * again: when the freed blocks they hold add up to the request. The end of
 * the heap is the one free block that can grow; freed blocks merged back
 * with their free neighbours may hold the request instead (glibc's malloc
 * consolidates its fastbins before a large request for the same reason). */
static inline bool flush_first(const heap_t *h, block_t *b, size_t asize)
{
    return QUICK && asize > QUICK_MAX &&
           (size_t)h->cached_units * ALIGNMENT >= asize &&
           find_next(b) == h->tail;
}

/* ---- Small carves while a block grows -----------------------------------*/

/* Whether the block realloc last grew by a small step (h->grower, a hint:
 * it may have been freed, merged or moved since, so its header is read
 * without contracts) is still allocated and above QUICK_MAX bytes. Never
 * once threads run (the arena build): a stale hint may then point into a
 * payload that another thread writes. */
static inline bool grower_alive(const heap_t *h)
{
    const block_t *g = from_offset(h, h->grower);
    if (g == NULL || threads_running() ||
        (const char *)g >= (const char *)h->tail)
        return false;
    word_t w = g->header;
    return extract_alloc(w) && !(w & QUICK_BIT) && extract_size(w) > QUICK_MAX;
}

/* Whether a small carve of asize bytes keeps clear of a growing block:
 * while a block that realloc grows by small steps lives, and for the next
 * GROWER_WINDOW small carves after its last step (a block that stopped
 * growing is not kept clear of). Each carve kept low uses up one. */
static inline bool keeps_clear(heap_t *h, size_t asize)
{
    if (h->grower_window == 0 || asize > QUICK_MAX || !grower_alive(h))
        return false;
    h->grower_window--;
    return true;
}

/* The lowest-addressed free block of at least asize bytes among b (the
 * best fit) and the first LOW_SCAN list nodes from asize's class up, its
 * class in *cls. Small blocks carved low leave the space higher up, where
 * the growing blocks are, in large pieces: the holes a moved grower leaves
 * merge instead of being split by the small blocks allocated meanwhile. */
static __attribute__((noinline)) block_t *low_fit(const heap_t *h, size_t asize,
                                                  block_t *b, size_t *cls)
{
    uint64_t classes = h->nonempty & ~(((uint64_t)1 << size_class(asize)) - 1);
    int budget = LOW_SCAN;
    for (; classes != 0 && budget > 0; classes &= classes - 1) {
        size_t c = (size_t)__builtin_ctzll(classes);
        for (uint32_t o = h->free_heads[c]; o != 0 && budget > 0; budget--) {
            block_t *f = node_at(h, o);
            if (f < b && get_size(f) >= asize) {
                b = f;
                *cls = c;
            }
            o = f->links.next;
        }
    }
    return b;
}

/* A free block of at least asize bytes, out of its list, or NULL. When the
 * heap must grow, it grows by enough for `want` bytes (want >= asize). */
static block_t *take_block(heap_t *h, size_t asize, size_t want)
{
    size_t c = 0;
    block_t *b = find_fit(h, asize, &c);
    if (b != NULL && keeps_clear(h, asize))
        b = low_fit(h, asize, b, &c);
    if ((b == NULL || flush_first(h, b, asize)) && QUICK &&
        flush_quick(h, /*fresh_too=*/false))
        b = find_fit(h, asize, &c);
    if (b == NULL)
        b = grow_heap(h, want);
    if (b == NULL && QUICK && flush_quick(h, /*fresh_too=*/true)) {
        b = find_fit(h, asize, &c); /* the last resort: the runs' blocks */
        if (b == NULL)
            b = grow_heap(h, asize);
    }
    if (b != NULL)
        remove_free(h, b);
    return b;
}

/* ---- Runs of small blocks -----------------------------------------------*/

/* Cuts allocated block b into n blocks of asize bytes: returns the first,
 * the others go to the quick list of their size (the lowest on top). */
static block_t *cut_run(heap_t *h, block_t *b, size_t asize, size_t n)
{
    dbg_requires(get_size(b) == n * asize && get_alloc(b));
    for (size_t i = n - 1; i > 0; i--) {
        block_t *q = (block_t *)((char *)b + i * asize);
        store_header(q,
                     pack(asize, ALLOC_BIT | PREV_ALLOC_BIT, 0, heap_owner(h)));
        if (ALLOC_FOOTER && asize > MIN_BLOCK)
            *header_to_footer(q) = q->header;
        push_quick(h, q, /*fresh=*/true);
    }
    rewrite_header(
        b, pack(asize, (b->header & PREV_BITS) | ALLOC_BIT, 0, heap_owner(h)));
    return b;
}

/* How many blocks of asize bytes (class q) the next run holds: for a size
 * in demand, carved again within RUN_AGAIN runs now and at its previous
 * carve too, twice as many as last time, up to RUN_BYTES; one for any other
 * size (once alone is what random sizes do by chance). */
static inline size_t run_length(heap_t *h, size_t q, size_t asize)
{
    size_t most = RUN_BYTES / asize, last = h->run_len[q];
    bool again = carved_within(h, q, RUN_AGAIN);
    size_t len = again && (last & RUN_STREAK) ? 2 * (last & ~RUN_STREAK) : 1;
    len = len < most ? len : most;
    h->run_len[q] = (uint8_t)(len | (again ? RUN_STREAK : 0));
    uint32_t window = ((uint32_t)1 << (8 * RUN_AGAIN)) - 1;
    h->recent_runs = ((h->recent_runs << 8) | (uint32_t)(q + 1)) & window;
    return len;
}

/* A block for a small request that found no cached block: a free block of
 * exactly its size if there is one, else the first of a run of blocks of
 * its size carved from the best fit (up to RUN_BYTES, at least one). When
 * the heap must grow, it grows by the run's bytes, or by grow_min if more
 * (a thread cache's refill: refill_growth; mm_malloc's passes 0). */
static block_t *take_run(heap_t *h, size_t asize, size_t grow_min)
{
    size_t q = quick_class(asize), most = run_length(h, q, asize);
    size_t want = most * asize;
    block_t *b = take_block(h, asize, want > grow_min ? want : grow_min);
    if (b == NULL)
        return NULL;
    size_t size = get_size(b);
    size_t n = size / asize < most ? size / asize : most;
    if (size - n * asize != 0 && size - n * asize < MIN_BLOCK)
        n--; /* no rest too small to be a block */
    if (n <= 1) {
        split_free(h, b, asize);
        return b;
    }
    split_free(h, b, n * asize);
    return cut_run(h, b, asize, n);
}

/* ---- Checking arguments (on in every build: one path to failure) --------*/

/* One line, `mm: free(): invalid pointer 0x...: why` (mm_free reports as
 * free(), the call the program made), then abort. */
static void fail_pointer(const char *func, const void *p, const char *why)
{
    if (strncmp(func, "mm_", 3) == 0)
        func += 3;
    fflush(stdout);
    fprintf(stderr, "mm: %s(): invalid pointer %p: %s\n", func, p, why);
    abort();
}

/* The block of payload p, after checking that p is one we handed out and
 * that it is still allocated. */
static inline block_t *checked_block(const heap_t *h, const char *func, void *p)
{
    char *cp = p;
    if ((uintptr_t)cp % ALIGNMENT != 0)
        fail_pointer(func, p, "not 16-byte aligned");
    /* lo < cp <= tail, as one unsigned compare; in integers, because
     * before mm_init h is NULL */
    if (h == NULL ||
        (uintptr_t)cp - heap_lo(h) - 1 >= (uintptr_t)h->tail - heap_lo(h))
        fail_pointer(func, p, "not inside the heap");
    block_t *b = payload_to_header(p);
    if ((b->header & (ALLOC_BIT | QUICK_BIT | OWNER_MASK | ZERO_BIT)) !=
        (ALLOC_BIT | heap_owner(h)))
        fail_pointer(func, p, "not allocated (double free?)");
    return b;
}

/* The owner of the block of payload p, found without its lock (the arena
 * build; the plain build has one heap): after the checks of checked_block
 * that need no lock, the owner field of the header, loaded atomically.
 * checked_block checks the block again under the owner's lock. (While the
 * process has one thread, the calls use the solo arena: lockless_heap.) */
#ifdef MM_ARENAS
static heap_t *owner_of_remote(heap_t *root, const char *func, void *p)
{
    char *cp = p;
    if ((uintptr_t)cp % ALIGNMENT != 0)
        fail_pointer(func, p, "not 16-byte aligned");
    if (root == NULL || (uintptr_t)cp - heap_lo(root) - 1 >=
                            (uintptr_t)mem_heap_hi() + 1 - heap_lo(root))
        fail_pointer(func, p, "not inside the heap");
    word_t w = load_header_remote(payload_to_header(p));
    size_t owner = (size_t)(w >> OWNER_SHIFT);
    heap_t *h = owner == 0 || owner > root->table->count
                    ? NULL
                    : arena_at(root->table, owner - 1);
    if ((w & (ALLOC_BIT | QUICK_BIT | ZERO_BIT)) != ALLOC_BIT || h == NULL)
        fail_pointer(func, p, "not allocated (double free?)");
    return h;
}

static inline heap_t *owner_of(heap_t *root, const char *func, void *p)
{
    return owner_of_remote(root, func, p);
}
#else
static inline heap_t *owner_of(heap_t *root, const char *func, void *p)
{
    (void)func, (void)p;
    return root;
}
#endif

static inline void free_check(const char *func, void *ptr);

/* The block of payload p that free or realloc works on, in h: free_check
 * has checked p already (mm_free, mm_realloc); the arena build checks it
 * again under h's lock (checked_block), since another thread may have
 * changed the block in between. The plain build has one thread: the check
 * would say what free_check said. */
static inline block_t *block_to_free(const heap_t *h, const char *func, void *p)
{
    if (ARENAS)
        return checked_block(h, func, p);
    return payload_to_header(p);
}

/* Cached blocks of an arena that sit in thread caches: unknown to the
 * check of MM_DEBUG=2 in each call, which reads no other thread's cache. */
static const size_t CACHED_UNKNOWN = SIZE_MAX;

/* With MM_DEBUG=2, a full check of h (the arena build: of h alone, whose
 * lock the caller holds; the others may be changing). */
static void debug_check(const heap_t *h, int line);
#if MM_DEBUG >= 2
static bool check_heap(int line, const heap_t *h, size_t cached);
static void debug_check(const heap_t *h, int line)
{
    if (!(ARENAS ? check_heap(line, h, CACHED_UNKNOWN) : mm_checkheap(line)))
        abort();
}
#else
static void debug_check(const heap_t *h, int line)
{
    (void)h, (void)line;
}
#endif

/* ---- Thread caches (arena build): the fast path, with no lock -----------*/

#ifdef MM_THREAD_CACHE
enum { THREAD_CACHE = 1 };
/* The paths past the cache, out of line: a hit saves no registers. */
#define PAST_CACHE __attribute__((noinline))
#else
enum { THREAD_CACHE = 0 };
#define PAST_CACHE inline
#endif
enum {
    CACHE_MAX = 1024,            /* the largest block a cache holds */
    CACHE_BINS = CACHE_MAX / 16, /* freed blocks: one per size */
    CACHE_LISTS = CACHE_BINS + QUICK_CLASSES, /* + the runs' fresh ones */
    CACHE_FILL = 32,                          /* blocks in a bin, at most ... */
    CACHE_BIN_BYTES = 8192,                   /* ... and their bytes */
    CACHE_CAP_FIRST = 32768, /* a cache's bytes at most (its cap), at first */
    CACHE_CAP_MIN = 8192,    /* the cap halves down to this ... */
    CACHE_CAP_MAX = 262144,  /* ... and doubles up to this (grow_cap) */
    CACHE_BATCH = 16,  /* blocks a refill takes, a spill returns, at most */
    REMOTE_BATCH = 32, /* another arena's blocks that go back in one lock */
    REFILL_GROW_SHARE = 32,      /* a refill grows the heap by this ... */
    REFILL_GROW_MAX = 64 * 1024, /* ... share of it, at most this */
    CACHE_REQUEST_MAX = CACHE_MAX - ALLOC_OVERHEAD, /* the largest request */
    Q_BYTE = 5, /* the header's byte that holds the Q bit (bit 40) */
};

#ifdef MM_THREAD_CACHE
_Static_assert(CACHE_LISTS % 8 == 0, "drain_cache reads 8 counts at once");

/* A thread's cache of small blocks of its arena (docs/design.md draws it):
 * an allocated block of that arena, on the root's list of caches. Only its
 * thread reads or writes it (mm_checkheap and mm_stats also do, at
 * quiescent points). Its lists are like the arena's quick lists: bin q
 * holds freed blocks of (q + 1) * 16 bytes, list CACHE_BINS + q (q < 16)
 * fresh ones of a run. Blocks of at most QUICK_MAX bytes move between the
 * cache and the arena's quick and run lists without a header write,
 * marked Q in both; larger ones come from the arena one at a time and go
 * back freed for real (invariant 17). */
typedef struct thread_cache {
    heap_t *arena;              /* where its blocks come from and go back */
    struct thread_cache *next;  /* the root's list of caches */
    word_t want;                /* ALLOC_BIT | the arena's owner bits */
    uintptr_t lo, hi;           /* the heap's span as last seen: a free
                                   checks a pointer against it */
    uint64_t ops;               /* calls served, not yet in arena->ops */
    size_t bytes;               /* in its lists (at most cap) */
    size_t cap;                 /* its bytes at most: follows demand */
    size_t refill_bytes;        /* brought in by refills since it was full */
    uint32_t drain_epoch;       /* the arena's, when the cache last drained */
    uint32_t head[CACHE_LISTS]; /* offsets from the arena's heap_t */
    uint8_t count[CACHE_LISTS]; /* (drain_cache reads 8 at a time) */
    uint8_t limit[CACHE_BINS];  /* bin q's most blocks */
    /* remote batches: blocks of arena i (not this cache's) freed by this
     * thread, offsets from arena i's heap_t (invariant 18) */
    uint32_t remote_head[ARENA_MAX];
    uint8_t remote_count[ARENA_MAX]; /* below REMOTE_BATCH */
} thread_cache_t;

/* The calling thread's cache, valid while gen == generation (mm_init bumps
 * it: the heap is new, every cache is gone); none once the thread's exit
 * ran close_cache. Initial-exec: one %fs-relative load, also in a
 * preloaded shared library. */
static __thread struct {
    thread_cache_t *cache;
    uint32_t gen;
    bool exited;
} my_cache __attribute__((tls_model("initial-exec")));
static uint32_t generation = 1; /* never 0: a thread's gen starts at 0 */
static pthread_key_t cache_key; /* its destructor: close_cache */
static pthread_once_t cache_key_once = PTHREAD_ONCE_INIT;
static bool cache_key_made;

static inline thread_cache_t *my_thread_cache(void)
{
    return my_cache.gen == generation ? my_cache.cache : NULL;
}

/* The calling thread's cache that a rebinding left in its old arena, or
 * NULL: marked by gen == ~generation, no longer the thread's cache for
 * my_thread_cache, until open_cache (at the thread's next malloc) or its
 * exit (close_cache) retires it. So no path of the cache checks the
 * binding. */
static inline thread_cache_t *cache_left_behind(void)
{
    return my_cache.gen == ~generation ? my_cache.cache : NULL;
}

#ifdef MM_ARENA_REBIND
/* The calling thread was bound to another arena (rebind_on_contention):
 * its cache, of the old arena, is left behind (above). */
static void leave_cache_behind(void)
{
    if (my_cache.gen == generation && my_cache.cache != NULL)
        my_cache.gen = ~generation;
}

/* open_cache's end: if the thread was bound anew while it opened its
 * cache in arena h (it met h's lock held), that cache is left behind. */
static void follow_binding(const heap_t *h)
{
    uint32_t a = thread_arena;
    if (a != 0 && a != (uint32_t)(h->owner >> OWNER_SHIFT))
        leave_cache_behind();
}
#else
static void follow_binding(const heap_t *h)
{
    (void)h;
}
#endif

/* Sets or clears the Q bit of b, which the calling thread holds, without a
 * lock: a store of the header's byte 5 alone (Q; the class bits and bit 47
 * are 0 in an allocated block). The arena's stores into the header of an
 * allocated block are of its low byte (store_neighbour_header). */
static inline void set_cached(block_t *b, bool cached)
{
    __atomic_store_n((uint8_t *)&b->header + Q_BYTE, (uint8_t)cached,
                     __ATOMIC_RELAXED);
}

/* Moves up to n nodes from the front of list *from to the front of list
 * *to (lists of arena h's offsets); returns how many. */
static size_t move_nodes(const heap_t *h, uint32_t *from, uint32_t *to,
                         size_t n)
{
    uint32_t first = *from, last = 0, o = first;
    size_t k = 0;
    for (; o != 0 && k < n; k++) {
        last = o;
        o = node_at(h, o)->links.next;
    }
    if (k != 0) {
        node_at(h, last)->links.next = *to;
        *to = first;
        *from = o;
    }
    return k;
}

/* Adds c's ops to its arena's, and looks at the heap's span again (the
 * arena's lock held). */
static void settle_cache(heap_t *h, thread_cache_t *c)
{
    h->ops += c->ops;
    c->ops = 0;
    c->hi = (uintptr_t)mem_heap_hi() + 1;
}

/* The size of the blocks of a cache's list l (bin l, or the fresh ones of
 * size class l - CACHE_BINS). */
static inline size_t list_size(size_t l)
{
    return ((l < CACHE_BINS ? l : l - CACHE_BINS) + 1) * ALIGNMENT;
}

/* Counts n more blocks (n < 0: fewer) in c's list l. */
static inline void bin_add(thread_cache_t *c, size_t l, long n)
{
    c->count[l] = (uint8_t)(c->count[l] + n);
    c->bytes += (size_t)n * list_size(l);
}

/* The arena's quick or run list that takes c's list l (l < QUICK_CLASSES
 * or l >= CACHE_BINS: a list of blocks of at most QUICK_MAX bytes). */
static inline size_t arena_list(size_t l)
{
    return l < CACHE_BINS ? l : l - CACHE_BINS + QUICK_CLASSES;
}

/* Counts n blocks of c's list l more (n < 0: fewer) in the arena's
 * freed quick lists' bytes, when l's arena list is a freed one. */
static inline void count_freed(heap_t *h, size_t l, long n)
{
    if (l < QUICK_CLASSES)
        h->cached_units += (uint32_t)(n * (long)(l + 1));
}

/* Frees up to n blocks of c's bin q (of more than QUICK_MAX bytes) for
 * real into arena h (its lock held); returns how many. */
static size_t free_bin(heap_t *h, thread_cache_t *c, size_t q, size_t n)
{
    size_t k = 0;
    for (uint32_t o = c->head[q]; o != 0 && k < n; k++) {
        block_t *b = node_at(h, o);
        o = c->head[q] = b->links.next;
        set_cached(b, false);
        free_block(h, b);
    }
    bin_add(c, q, -(long)k);
    return k;
}

/* Every block of c back to its arena h (h's lock held): to its quick and
 * run lists, or freed for real (above QUICK_MAX bytes). True if there was
 * one. */
static bool drain_cache(heap_t *h, thread_cache_t *c)
{
    bool any = false;
    for (size_t l = 0; l < CACHE_LISTS; l++) {
        uint64_t counts; /* eight lists at once: most are empty */
        if (l % 8 == 0 && (memcpy(&counts, &c->count[l], 8), counts == 0))
            l += 7;
        if (c->count[l] == 0)
            continue;
        any = true;
        if (l >= QUICK_CLASSES && l < CACHE_BINS)
            free_bin(h, c, l, CACHE_FILL);
        else
            count_freed(h, l,
                        (long)move_nodes(h, &c->head[l],
                                         &h->quick_heads[arena_list(l)],
                                         CACHE_FILL));
        bin_add(c, l, -(long)c->count[l]);
    }
    settle_cache(h, c);
    return any;
}

/* Block b (Q) into the bin of its size of c, the calling thread's cache
 * of b's arena, if the bin and the cache have room. */
static inline bool bin_take(thread_cache_t *c, block_t *b)
{
    size_t size = get_size(b), q = quick_class(size);
    if (c->count[q] >= c->limit[q] || c->bytes + size > c->cap)
        return false;
    b->links.next = c->head[q];
    c->head[q] = to_offset(c->arena, b);
    bin_add(c, q, 1);
    return true;
}

/* The blocks of the chain from offset o (a remote batch of arena h, h's
 * lock held) back to h: into c's bins while they have room (c: NULL, or
 * the calling thread's cache of h: its next mallocs take them with no
 * lock, unsplit), else as free_in puts them: to the quick list of their
 * size (they are Q already), or freed for real (above QUICK_MAX). Each is
 * a remote free of h (mm_stats). Returns how many. */
static size_t return_chain(heap_t *h, thread_cache_t *c, uint32_t o)
{
    size_t n = 0;
    for (; o != 0; n++) {
        block_t *b = node_at(h, o);
        o = b->links.next;
        if (c != NULL && bin_take(c, b)) {
            continue;
        } else if (get_size(b) <= QUICK_MAX) {
            link_quick(h, b, /*fresh=*/false);
        } else {
            set_cached(b, false);
            free_block(h, b);
        }
    }
    h->ops += n;
    h->remote_frees += n;
    return n;
}

/* c's remote batch for arena h (arena index i; h's lock held) back to h
 * (return_chain). Returns how many. */
static size_t return_remote(heap_t *h, thread_cache_t *c, size_t i)
{
    uint32_t o = c->remote_head[i];
    c->remote_head[i] = 0;
    c->remote_count[i] = 0;
    return return_chain(h, NULL, o);
}

/* Arena h's inbox (h's lock held): the remote batches that other threads
 * pushed (flush_remote), taken whole with one exchange (no ABA: nothing
 * but h's lock holder takes nodes off it) and returned to h, into c's bins
 * first (return_chain). Returns how many. The plain load first: an empty
 * inbox costs no write of its line. */
static size_t collect_inbox(heap_t *h, thread_cache_t *c)
{
    if (__atomic_load_n(&h->remote_inbox, __ATOMIC_RELAXED) == 0)
        return 0;
    return return_chain(
        h, c, __atomic_exchange_n(&h->remote_inbox, 0, __ATOMIC_ACQUIRE));
}

/* The chain of arena h's blocks from offset first to block last onto h's
 * inbox, with one compare-and-swap and no lock (the release pairs with
 * collect_inbox's acquire: the chain's links are seen). The owner takes
 * it at its next refill, or before it grows. */
static void push_chain(heap_t *h, uint32_t first, block_t *last)
{
    uint32_t old = __atomic_load_n(&h->remote_inbox, __ATOMIC_RELAXED);
    do
        last->links.next = old;
    while (!__atomic_compare_exchange_n(&h->remote_inbox, &old, first,
                                        /*weak=*/true, __ATOMIC_RELEASE,
                                        __ATOMIC_RELAXED));
}

/* c's remote batch for arena index i onto that arena's inbox (push_chain):
 * one compare-and-swap for up to REMOTE_BATCH remote frees. */
__attribute__((noinline)) static void flush_remote(thread_cache_t *c, size_t i)
{
    heap_t *h = arena_at(heap->table, i);
    uint32_t first = c->remote_head[i];
    block_t *last = node_at(h, first);
    while (last->links.next != 0)
        last = node_at(h, last->links.next);
    push_chain(h, first, last);
    c->remote_head[i] = 0;
    c->remote_count[i] = 0;
}

static void spill_halves(heap_t *h, thread_cache_t *c);

/* The calling thread's cache back to arena h (h's lock held), before the
 * heap grows (flush_quick; `all`: its last resort, when it cannot grow):
 * h's inbox (collect_inbox, whatever thread grows h), the calling thread's
 * remote batch for h, and, if it is h's cache, all of it (as without
 * the cache, its freed blocks are then freed for real), but half of each
 * bin once threads run and its cap grew (a thread that refills what it
 * spills: all of it cost xmalloc/1 and larson/1 a refill of every size
 * after each growth, docs/bench-libmm.md). The other threads' caches of h
 * drain at their next refill or spill (h's drain epoch, heed_drain).
 * True if it held a block. */
static bool drain_my_cache(heap_t *h, bool all)
{
    thread_cache_t *c = my_thread_cache();
    size_t a = (size_t)(h->owner >> OWNER_SHIFT);
    if (threads_running())
        h->drain_epoch++; /* the other threads' caches: heed_drain */
    if (a == 0)
        return false;
    bool any = collect_inbox(h, NULL) != 0;
    if (c == NULL)
        return any;
    any |= c->remote_count[a - 1] != 0 && return_remote(h, c, a - 1) != 0;
    if (c->arena != h)
        return any;
    c->drain_epoch = h->drain_epoch;
    if (threads_running() && !all && c->cap > CACHE_CAP_FIRST) {
        size_t before = c->bytes;
        spill_halves(h, c);
        return c->bytes != before || any;
    }
    return drain_cache(h, c) || any;
}

/* Moves up to CACHE_BATCH blocks of arena h's list for c's list l (h's
 * lock held) to l. */
static inline size_t fill_from(heap_t *h, thread_cache_t *c, size_t l)
{
    size_t most = c->limit[l < CACHE_BINS ? l : l - CACHE_BINS] / 2u + 1;
    size_t n = move_nodes(h, &h->quick_heads[arena_list(l)], &c->head[l],
                          most < CACHE_BATCH ? most : CACHE_BATCH);
    bin_add(c, l, (long)n);
    c->refill_bytes += n * list_size(l);
    count_freed(h, l, -(long)n);
    return n;
}

/* The bytes by which a refill of a block of asize bytes grows the heap,
 * when no free block holds it: while the process has one thread, a share
 * of the heap (a REFILL_GROW_SHARE-th, up to REFILL_GROW_MAX), or asize if
 * more. Growing by one block at a time, each next refill found no fit
 * again, and flushed the quick lists and drained the cache (take_block)
 * before it grew again: a program whose heap grows paid that on most
 * refills (python's start-up: 15,000 flushes, docs/bench-libmm.md). The
 * rest of the step is the heap's last free block, whose pages are not
 * touched until blocks are carved from them. Once threads run, a refill
 * grows by asize (regions already come in chunks: region_room; the share
 * cost mdriver -T 2 util about 3 points). */
static size_t refill_growth(size_t asize)
{
    if (threads_running())
        return asize;
    size_t share = mem_heapsize() / REFILL_GROW_SHARE;
    share = share < REFILL_GROW_MAX ? share : REFILL_GROW_MAX;
    return share > asize ? share / ALIGNMENT * ALIGNMENT : asize;
}

/* Fills c's lists of size class q from arena h (its lock held): its freed
 * blocks, else the fresh ones of its run. With neither, carves a new run:
 * returns its first block (not cached), or NULL when the heap is full.
 * Above QUICK_MAX: one block, found like mm_malloc's. */
static block_t *fill_bins(heap_t *h, thread_cache_t *c, size_t q)
{
    size_t asize = (q + 1) * ALIGNMENT;
    if (q >= QUICK_CLASSES) {
        /* may drain c */
        block_t *b = take_block(h, asize, refill_growth(asize));
        if (b != NULL)
            split_free(h, b, asize);
        return b;
    }
    if (fill_from(h, c, q) != 0 || fill_from(h, c, CACHE_BINS + q) != 0)
        return NULL;
    block_t *b = take_run(h, asize, refill_growth(asize)); /* may drain c */
    fill_from(h, c, CACHE_BINS + q);
    return b;
}

/* Drains c into its arena h (h's lock held) when h ran short of memory
 * since c last did (another thread's drain_my_cache bumped h's epoch), and
 * halves c's cap: the blocks that a thread's cache holds then fill its
 * arena's holes before the arena grows again (a cache cannot be drained
 * by another thread: only its own reads and writes it without a lock). */
static inline void heed_drain(heap_t *h, thread_cache_t *c)
{
    if (c->drain_epoch != h->drain_epoch) {
        c->drain_epoch = h->drain_epoch;
        drain_cache(h, c);
        c->cap = c->cap / 2 >= CACHE_CAP_MIN ? c->cap / 2 : CACHE_CAP_MIN;
    }
}

/* The first block of bin l, taken out of the cache, or NULL. */
static inline block_t *pop_bin(thread_cache_t *c, size_t l)
{
    uint32_t o = c->head[l];
    if (o == 0)
        return NULL;
    block_t *b = node_at(c->arena, o);
    c->head[l] = b->links.next;
    bin_add(c, l, -1);
    set_cached(b, false);
    return b;
}

/* cache_malloc's slow path: bin q (freed blocks) is empty. A fresh block of
 * the bin's run, else the bins filled under the arena's lock. Returns a
 * block, or NULL when the heap is full. */
__attribute__((noinline)) static block_t *refill_bin(thread_cache_t *c,
                                                     size_t q)
{
    block_t *b = q < QUICK_CLASSES ? pop_bin(c, CACHE_BINS + q) : NULL;
    if (b != NULL)
        return b;
    heap_t *h = c->arena;
    bool locked = arena_lock_mine(h);
    debug_check(h, __LINE__);
    heed_drain(h, c);
    collect_inbox(h, c); /* may fill bin q: then no refill */
    b = c->count[q] == 0 ? fill_bins(h, c, q) : NULL;
    c->refill_bytes += b != NULL ? (q + 1) * ALIGNMENT : 0;
    settle_cache(h, c);
    debug_check(h, __LINE__);
    arena_unlock(h, locked);
    if (b == NULL && (b = pop_bin(c, q)) == NULL && q < QUICK_CLASSES)
        b = pop_bin(c, CACHE_BINS + q);
    return b;
}

/* Half of c's bin q (rounded up) back to its arena h (h's lock held): to
 * the quick list of its size, or freed for real (above QUICK_MAX). */
static void spill_half(heap_t *h, thread_cache_t *c, size_t q)
{
    size_t half = (c->count[q] + 1u) / 2;
    if (q >= QUICK_CLASSES)
        free_bin(h, c, q, half);
    else {
        long n = (long)move_nodes(h, &c->head[q], &h->quick_heads[q], half);
        bin_add(c, q, -n);
        count_freed(h, q, n);
    }
}

/* Half of every bin of c's freed blocks back to arena h (its lock held). */
static void spill_halves(heap_t *h, thread_cache_t *c)
{
    for (size_t l = 0; l < CACHE_BINS; l++)
        if (c->count[l] != 0)
            spill_half(h, c, l);
}

/* cache_free's slow path: bin q is full (or, all, the cache: every bin);
 * half of it goes back to the arena, under its lock. */
__attribute__((noinline)) static void spill_bin(thread_cache_t *c, size_t q,
                                                bool all)
{
    heap_t *h = c->arena;
    bool locked = arena_lock_mine(h);
    debug_check(h, __LINE__);
    heed_drain(h, c);
    if (all)
        spill_halves(h, c);
    else
        spill_half(h, c, q);
    settle_cache(h, c);
    debug_check(h, __LINE__);
    arena_unlock(h, locked);
}

static void close_cache(void *arg);
static void retire_cache(thread_cache_t *c);

static void make_cache_key(void)
{
    /* a key below 32 (the first of the process) lives in glibc's static
     * array: pthread_setspecific does not allocate through us */
    cache_key_made = pthread_key_create(&cache_key, close_cache) == 0;
}

/* The calling thread's first cache (after mm_init: a new one), carved from
 * its arena and put on the root's list; NULL when it cannot be made (no
 * heap, no key, a full heap, or the thread is exiting). */
__attribute__((noinline)) static thread_cache_t *open_cache(void)
{
    thread_cache_t *old = cache_left_behind();
    if (old != NULL) { /* back to its arena: the new one is the thread's */
        my_cache.cache = NULL;
        my_cache.gen = 0;
        pthread_setspecific(cache_key, NULL);
        retire_cache(old);
    }
    heap_t *root = heap, *h;
    if (my_cache.exited || root == NULL || (h = caller_arena(root)) == NULL)
        return NULL;
    pthread_once(&cache_key_once, make_cache_key);
    size_t asize = adjust_size(sizeof(thread_cache_t));
    bool locked = arena_lock_mine(h);
    block_t *b = cache_key_made ? take_block(h, asize, asize) : NULL;
    if (b != NULL)
        split_free(h, b, asize);
    uint32_t epoch = h->drain_epoch; /* read under h's lock */
    arena_unlock(h, locked);
    if (b == NULL)
        return NULL;
    thread_cache_t *c = (thread_cache_t *)b->payload;
    *c = (thread_cache_t){.arena = h,
                          .want = ALLOC_BIT | h->owner,
                          .drain_epoch = epoch,
                          .cap = CACHE_CAP_FIRST,
                          .lo = heap_lo(root),
                          .hi = (uintptr_t)mem_heap_hi() + 1};
    for (size_t q = 0; q < CACHE_BINS; q++) {
        size_t most = CACHE_BIN_BYTES / ((q + 1) * ALIGNMENT);
        c->limit[q] = (uint8_t)(most < CACHE_FILL ? most : CACHE_FILL);
    }
    locked = arena_lock(root);
    c->next = root->caches;
    root->caches = c;
    arena_unlock(root, locked);
    pthread_setspecific(cache_key, c);
    my_cache.cache = c;
    my_cache.gen = generation;
    follow_binding(h);
    return c;
}

/* The key's destructor, at the thread's exit: its cached blocks go back to
 * the arena (they live on for the other threads), and so does the cache.
 * Nothing when mm_init made a new heap meanwhile. */
static void close_cache(void *arg)
{
    thread_cache_t *c = arg;
    bool live = my_thread_cache() == c || cache_left_behind() == c;
    my_cache.cache = NULL;
    my_cache.gen = 0;
    my_cache.exited = true; /* later calls (other destructors) use locks */
    if (live) {
        unbind_thread();
        retire_cache(c);
    }
}

/* Cache c, off the root's list, back to its arena with its blocks and the
 * arena's inbox, and its remote batches to theirs (at its thread's exit,
 * or when the thread's binding moved to another arena). */
static void retire_cache(thread_cache_t *c)
{
    bool locked = arena_lock(heap);
    thread_cache_t **link = &heap->caches;
    while (*link != c)
        link = &(*link)->next;
    *link = c->next;
    arena_unlock(heap, locked);
    for (size_t i = 0; i < heap->table->count; i++)
        if (c->remote_count[i] != 0)
            flush_remote(c, i);
    heap_t *h = c->arena;
    locked = arena_lock(h);
    collect_inbox(h, NULL); /* its arena may have no other thread */
    drain_cache(h, c);
    free_block(h, payload_to_header(c));
    arena_unlock(h, locked);
}

static void *malloc_heap(size_t size);

/* Block b, taken from cache c, handed out for a request of size bytes. */
static inline void *cache_hand_out(thread_cache_t *c, block_t *b, size_t size)
{
    c->ops++;
    if (MM_DEBUG >= 1)
        mem_memset(b->payload, DEBUG_POISON_FRESH, size);
    return b->payload;
}

/* cache_malloc's slow path: no cache yet (it is opened), or an empty bin
 * (refilled under the arena's lock); else the arena's path. */
__attribute__((noinline)) static void *cache_malloc_slow(thread_cache_t *c,
                                                         size_t size)
{
    if (c == NULL && (c = open_cache()) == NULL)
        return malloc_heap(size);
    size_t q = quick_class(adjust_size(size));
    block_t *b = pop_bin(c, q);
    if (b == NULL && (b = refill_bin(c, q)) == NULL)
        return malloc_heap(size);
    return cache_hand_out(c, b, size);
}

/* mm_malloc of 1 .. CACHE_REQUEST_MAX bytes from the calling thread's
 * cache, with no lock; the rest out of line, so that a hit calls nothing
 * (and saves no register). */
static inline void *cache_malloc(size_t size)
{
    thread_cache_t *c = my_thread_cache();
    block_t *b = c != NULL ? pop_bin(c, quick_class(adjust_size(size))) : NULL;
    return b != NULL ? cache_hand_out(c, b, size) : cache_malloc_slow(c, size);
}

/* The header bits a block that a cache takes must have (with the owner's
 * bits): allocated, not cached, a plausible header (bit 3, the class field
 * and bit 47 clear). */
static const word_t CACHE_MASK =
    ALLOC_BIT | RESERVED_BIT | QUICK_BIT | CLASS_MASK | ZERO_BIT | OWNER_MASK;

/* Whether the block b of size bytes, at most CACHE_MAX, ends inside c's
 * view of the heap and the next block's P bit says b is allocated (a
 * corrupted size points elsewhere: the arena's path names it). The owner
 * may rewrite that header meanwhile, never its P bit while b lives. */
static inline bool next_says_allocated(const thread_cache_t *c,
                                       const block_t *b, size_t size)
{
    const block_t *next = (const block_t *)((const char *)b + size);
    return (uintptr_t)next->payload <= c->hi &&
           (header_of(next) & PREV_ALLOC_BIT) != 0;
}

/* Pushes b, a block of c's arena, on c's bin q. True. */
static inline bool bin_push(thread_cache_t *c, block_t *b, size_t q)
{
    set_cached(b, true);
    b->links.next = c->head[q];
    c->head[q] = to_offset(c->arena, b);
    bin_add(c, q, 1);
    c->ops++;
    return true;
}

/* bin_push on a full bin q: half of it goes back to the arena first. Out of
 * line, so that cache_free calls nothing (and saves no register) on its
 * fast path. */
__attribute__((noinline)) static bool spill_and_push(thread_cache_t *c,
                                                     block_t *b, size_t q)
{
    spill_bin(c, q, /*all=*/false);
    return bin_push(c, b, q);
}

/* The cap follows demand (c full): it doubles, up to CACHE_CAP_MAX, when
 * the thread's refills since it was last full brought in at least half
 * the cap (it takes back what it gives: a thread that allocates batches
 * larger than its cache, xmalloc/1's pattern). It halves when its arena
 * runs short of memory (heed_drain). True if it grew. */
static bool grow_cap(thread_cache_t *c)
{
    bool grow = c->refill_bytes >= c->cap / 2 && c->cap < CACHE_CAP_MAX;
    c->refill_bytes = 0;
    if (grow)
        c->cap *= 2;
    return grow;
}

/* bin_push into a full cache (its cap): unless the cap grows (grow_cap),
 * half of every bin of freed blocks goes back to the arena first, under
 * one lock (one block at a time under the lock cost xmalloc/1 a lock per
 * free). False when the cache is still full (its fresh blocks of runs
 * fill it). */
__attribute__((noinline)) static bool spill_all_and_push(thread_cache_t *c,
                                                         block_t *b, size_t q)
{
    if (!grow_cap(c)) {
        spill_bin(c, q, /*all=*/true);
        if (c->bytes + (q + 1) * ALIGNMENT > c->cap)
            return false;
    }
    return c->count[q] >= c->limit[q] ? spill_and_push(c, b, q)
                                      : bin_push(c, b, q);
}

/* Pushes b, of size bytes, a block of c's arena, on c's bin (cache_free's
 * fast path, also its slow path's end). False when the arena must take
 * it. */
static inline bool cache_push(thread_cache_t *c, block_t *b, size_t size)
{
    size_t q = quick_class(size);
    if (c->bytes + size > c->cap)
        return spill_all_and_push(c, b, q);
    if (c->count[q] >= c->limit[q])
        return spill_and_push(c, b, q);
    return bin_push(c, b, q);
}

/* A remote free: b (header w, of size bytes, at most CACHE_MAX) belongs to
 * arena a (index + 1), not c's; it joins c's remote batch for a, marked Q
 * (a second free of it is a double free), and the batch goes back to a
 * under a's lock once it holds REMOTE_BATCH blocks (flush_remote). False
 * when a is no arena. */
static bool push_remote(thread_cache_t *c, block_t *b, size_t size, size_t a)
{
    const arena_table_t *t = heap->table;
    heap_t *h = a != 0 && a <= t->count ? arena_at(t, a - 1) : NULL;
    if (h == NULL || h == c->arena || !next_says_allocated(c, b, size))
        return false;
    set_cached(b, true);
    b->links.next = c->remote_head[a - 1];
    c->remote_head[a - 1] = to_offset(h, b);
    if (++c->remote_count[a - 1] >= REMOTE_BATCH)
        flush_remote(c, a - 1);
    return true;
}

static bool free_to_inbox(void *p);

/* cache_free's slow path: no cache (free_to_inbox), a pointer past the
 * heap's span as c last saw it (it looks again), or a block of another
 * arena (push_remote). False: the caller takes the arena's path (which
 * also reports a bad pointer). */
__attribute__((noinline)) static bool cache_free_slow(thread_cache_t *c,
                                                      void *p)
{
    if (c == NULL)
        return free_to_inbox(p);
    if ((uintptr_t)p % ALIGNMENT != 0)
        return false;
    if ((uintptr_t)p - c->lo - 1 >= c->hi - c->lo)
        c->hi = (uintptr_t)mem_heap_hi() + 1;
    if ((uintptr_t)p - c->lo - 1 >= c->hi - c->lo)
        return false;
    block_t *b = payload_to_header(p);
    word_t w = header_of(b);
    size_t size = extract_size(w);
    if ((w & CACHE_MASK & ~OWNER_MASK) != ALLOC_BIT ||
        size - MIN_BLOCK > CACHE_MAX - MIN_BLOCK)
        return false;
    if ((w & OWNER_MASK) != (c->want & OWNER_MASK))
        return push_remote(c, b, size, (size_t)(w >> OWNER_SHIFT));
    return next_says_allocated(c, b, size) && cache_push(c, b, size);
}

/* The free of p by a thread without a cache (a thread that only frees,
 * or one whose cache is gone), once threads run: a small allocated block
 * goes onto its owner's inbox alone, marked Q, with one compare-and-swap
 * and no lock (mimalloc's remote free). It opens no cache: a thread that
 * only frees would keep blocks from the thread that allocates them (its
 * bins: mt-producer-consumer's util fell from 87% to 48%; a remote batch
 * of 32: to 61%, docs/bench-libmm.md). False: the caller takes the
 * arena's path (which also reports a bad pointer). */
static bool free_to_inbox(void *p)
{
    heap_t *root = heap;
    uintptr_t hi = (uintptr_t)mem_heap_hi() + 1;
    if (!threads_running() || root == NULL || (uintptr_t)p % ALIGNMENT != 0 ||
        (uintptr_t)p - heap_lo(root) - 1 >= hi - heap_lo(root))
        return false;
    block_t *b = payload_to_header(p);
    word_t w = load_header_remote(b);
    size_t size = extract_size(w), a = (size_t)(w >> OWNER_SHIFT);
    const arena_table_t *t = root->table;
    heap_t *h = a != 0 && a <= t->count ? arena_at(t, a - 1) : NULL;
    if ((w & CACHE_MASK & ~OWNER_MASK) != ALLOC_BIT ||
        size - MIN_BLOCK > CACHE_MAX - MIN_BLOCK || h == NULL)
        return false;
    const block_t *next = (const block_t *)((const char *)b + size);
    if ((uintptr_t)next->payload > hi ||
        (load_header_remote(next) & PREV_ALLOC_BIT) == 0)
        return false;
    set_cached(b, true);
    push_chain(h, to_offset(h, b), b);
    return true;
}

/* mm_free into the calling thread's cache, with no lock: a small block of
 * its arena, allocated and not cached (invariant 17), or (the slow path)
 * of another arena, into the remote batch (18). False: the caller takes
 * the arena's path (which also reports a bad pointer). */
static inline bool cache_free(void *p)
{
    thread_cache_t *c = my_thread_cache();
    if (c == NULL || (uintptr_t)p % ALIGNMENT != 0 ||
        (uintptr_t)p - c->lo - 1 >= c->hi - c->lo)
        return cache_free_slow(c, p);
    block_t *b = payload_to_header(p);
    word_t w = header_of(b);
    size_t size = extract_size(w);
    if ((w & CACHE_MASK) != c->want || size - MIN_BLOCK > CACHE_MAX - MIN_BLOCK)
        return cache_free_slow(c, p);
    return next_says_allocated(c, b, size) && cache_push(c, b, size);
}
#else
static bool drain_my_cache(heap_t *h, bool all)
{
    (void)h, (void)all;
    return false;
}
static inline void *cache_malloc(size_t size)
{
    (void)size; /* no thread cache: mm_malloc never calls this */
    return NULL;
}
static inline bool cache_free(void *p)
{
    (void)p;
    return false;
}
#endif

/* ---- The public interface -----------------------------------------------*/

/* Lays out the heap struct of arena `owner` (0: the one heap, or the
 * root) and its region 0 (no blocks yet) at p, len bytes from the break. */
static heap_t *make_heap(char *p, size_t len, unsigned owner)
{
    size_t pad = round_up((uintptr_t)p, LAYOUT_ALIGN) - (uintptr_t)p;
    if (len < pad + HEAP_BYTES + REGION_OVERHEAD)
        return NULL;
    heap_t *h = (heap_t *)(p + pad);
    /* region 0 holds no block: the bytes past it (a break that another
     * thread moved to another alignment: a smaller pad) are lost */
    size_t units = REGION_OVERHEAD / ALIGNMENT;
    memset(h, 0, HEAP_BYTES);
#ifdef MM_ARENAS
    arena_lock_init(h);
#endif
    h->owner = owner_bits(owner);
    region_t *r = (region_t *)((char *)h + HEAP_BYTES);
    *r = (region_t){.units = (uint32_t)units, .owner = owner};
    r->start_fence = fence_word(h, /*prev_alloc=*/true, /*prev_mini=*/false);
    h->last_region = region_offset(h, r);
    h->regions = 1;
    h->tail = region_end_fence(r);
    store_header(h->tail,
                 fence_word(h, /*prev_alloc=*/true, /*prev_mini=*/false));
    dbg_ensures(h->tail == (block_t *)region_first(r));
    return h;
}

/* A heap struct and its region 0 at the break, for arena `owner`. If
 * another thread moved the break to another alignment meanwhile, the
 * bytes taken are lost and it takes LAYOUT_ALIGN - 1 bytes more (then
 * region 0 is rounded down: the break is no longer its end). */
static heap_t *new_heap(unsigned owner)
{
    char *brk = take_memory(0);
    if (brk == NULL)
        return NULL;
    size_t len = round_up((uintptr_t)brk, LAYOUT_ALIGN) - (uintptr_t)brk +
                 HEAP_BYTES + REGION_OVERHEAD;
    char *p = take_memory(len);
    heap_t *h = p != NULL ? make_heap(p, len, owner) : NULL;
    if (h == NULL && p != NULL) {
        p = take_memory(len + LAYOUT_ALIGN - 1);
        h = p != NULL ? make_heap(p, len + LAYOUT_ALIGN - 1, owner) : NULL;
    }
    return h;
}

#ifdef MM_ARENAS
/* The arena table after the root, with room for one arena per CPU (at most
 * ARENA_MAX); the arenas are made as threads bind to them. */
static bool make_arenas(heap_t *root)
{
    if (cpus_configured == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_CONF);
        cpus_configured = cpus < 1           ? 1
                          : cpus > ARENA_MAX ? ARENA_MAX
                                             : (uint32_t)cpus;
    }
    size_t count = cpus_configured;
    size_t bytes = sizeof(arena_table_t) + count * sizeof(heap_t *);
    arena_table_t *t = (arena_table_t *)take_memory(round_up(bytes, ALIGNMENT));
    if (t == NULL)
        return false;
    t->count = (uint32_t)count;
    for (size_t i = 0; i < count; i++)
        t->arena[i] = NULL;
    root->table = t;
    return true;
}
#else
static bool make_arenas(heap_t *root)
{
    (void)root;
    return true;
}
#endif

bool mm_init(void)
{
#ifdef MM_ARENAS
    solo = NULL;
#endif
#ifdef MM_THREAD_CACHE
    generation = generation + 1 != 0 ? generation + 1 : 1; /* no cache */
#endif
    heap = new_heap(0);
    if (heap == NULL || (ARENAS && !make_arenas(heap))) {
        heap = NULL;
        return false;
    }
    debug_check(heap, __LINE__);
    return true;
}

/* Counts a public call on h (the arena build's mm_stats). */
static inline void count_op(heap_t *h)
{
#ifdef MM_ARENAS
    h->ops++;
#else
    (void)h;
#endif
}

/* A fresh block for a request of `size` (asize) bytes, out of line: a
 * small request that no cached block serves (a run), or a larger one (a
 * fit, split). Returns its payload, or NULL. */
__attribute__((noinline)) static void *malloc_miss(heap_t *h, size_t size,
                                                   size_t asize)
{
    block_t *b = NULL;
    if (QUICK && asize <= QUICK_MAX) {
        b = take_run(h, asize, 0);
    } else {
        b = take_block(h, asize, asize);
        if (b != NULL)
            split_free(h, b, asize);
    }
    if (b == NULL)
        return NULL;
    if (MM_DEBUG >= 1)
        mem_memset(b->payload, DEBUG_POISON_FRESH, size);
    debug_check(h, __LINE__);
    return header_to_payload(b);
}

/* mm_malloc on heap h (its lock held when threads run). A block of a quick
 * list is handed out here; the rest is malloc_miss's, a tail call, so that
 * the hit saves and restores no register. */
static inline void *malloc_in(heap_t *h, size_t size)
{
    debug_check(h, __LINE__);
    count_op(h);
    if (size == 0 || size > MAX_REQUEST)
        return NULL;
    size_t asize = adjust_size(size);
    block_t *b = QUICK && asize <= QUICK_MAX ? pop_quick(h, asize) : NULL;
    if (b == NULL)
        return malloc_miss(h, size, asize);
    if (MM_DEBUG >= 1)
        mem_memset(b->payload, DEBUG_POISON_FRESH, size);
    debug_check(h, __LINE__);
    return header_to_payload(b);
}

/* The heap a call works on without a lock: the one heap (the plain
 * build), or the solo arena while the process has one thread. NULL: the
 * call finds its arena (or the block's owner) and takes its lock. */
static inline heap_t *lockless_heap(void)
{
#ifdef MM_ARENAS
    return threads_running() ? NULL : solo;
#else
    return heap;
#endif
}

/* mm_malloc in the calling thread's arena, under its lock. */
__attribute__((noinline)) static void *malloc_locked(size_t size)
{
    heap_t *h = heap != NULL ? caller_arena(heap) : NULL;
    if (h == NULL)
        return NULL;
    bool locked = arena_lock_mine(h);
    void *p = malloc_in(h, size);
    arena_unlock(h, locked);
    return p;
}

/* mm_malloc past the thread cache: the lockless heap, or the caller's
 * arena under its lock. */
static PAST_CACHE void *malloc_heap(size_t size)
{
    heap_t *h = lockless_heap();
    return h != NULL ? malloc_in(h, size) : malloc_locked(size);
}

void *mm_malloc(size_t size)
{
    if (THREAD_CACHE && size - 1 < CACHE_REQUEST_MAX)
        return cache_malloc(size);
    return malloc_heap(size);
}

/* Counts a free or realloc of h's block by a thread bound to another
 * arena (h's lock held). */
static inline void count_remote(heap_t *h)
{
#ifdef MM_ARENAS
    if (threads_running() && owner_bits(bound_arena_number(heap)) != h->owner)
        h->remote_frees++;
#else
    (void)h;
#endif
}

/* mm_free on the block's owner h (its lock held when threads run). */
static inline void free_in(heap_t *h, void *ptr)
{
    debug_check(h, __LINE__);
    block_t *b = block_to_free(h, "mm_free", ptr);
    count_op(h);
    if (QUICK && get_size(b) <= QUICK_MAX)
        push_quick(h, b, /*fresh=*/false);
    else
        free_block(h, b);
    debug_check(h, __LINE__);
}

/* mm_free on the block's owner, under its lock. */
__attribute__((noinline)) static void free_locked(void *ptr)
{
    heap_t *h = owner_of(heap, "mm_free", ptr);
    bool locked = arena_lock(h);
    free_in(h, ptr);
    count_remote(h);
    arena_unlock(h, locked);
}

/* mm_free past the thread cache: on the lockless heap, or on the block's
 * owner under its lock. */
static PAST_CACHE void free_heap(void *ptr)
{
    free_check("free", ptr);
    heap_t *h = lockless_heap();
    if (h != NULL)
        free_in(h, ptr);
    else
        free_locked(ptr);
}

void mm_free(void *ptr)
{
    if (ptr == NULL || (THREAD_CACHE && cache_free(ptr)))
        return;
    free_heap(ptr);
}

/* ---- Realloc: room for a block that keeps growing ----------------------*/

/* A block that realloc grows by a step that is small against its size
 * (ROOM_STEPS more such steps fit in a ROOM_SHARE-th of it) is likely to
 * be grown again: when it grows in place, it keeps up to a ROOM_SHARE-th
 * of its size more than asked from the free block it grows into, instead
 * of splitting that off for the next small request to take; and a realloc
 * that shrinks a block (above QUICK_MAX bytes) by at most that share
 * leaves it whole, so that the room survives the next steps. */
enum { ROOM_SHARE = 4, ROOM_STEPS = 4 };

/* The size to give a block of `size` bytes that realloc grows to asize:
 * asize and its room, or asize alone for a large step. */
static inline size_t grow_room(size_t size, size_t asize)
{
    size_t room = asize / ROOM_SHARE;
    if ((asize - size) * ROOM_STEPS > room)
        return asize;
    return round_up(asize + room, ALIGNMENT);
}

/* What a block that realloc grows to asize (wanting `want`, asize <= want)
 * keeps of the `avail` bytes (avail >= asize) it may take. */
static inline size_t room_taken(size_t avail, size_t asize, size_t want)
{
    return want == asize ? asize : avail < want ? avail : want;
}

/* Whether a realloc to asize bytes leaves block b whole: a shrink by at
 * most its room (a grower's room is not given back between its steps). */
static inline bool keeps_room(const block_t *b, size_t asize)
{
    size_t size = get_size(b);
    return size > QUICK_MAX && size - asize <= size / ROOM_SHARE;
}

/* Grows b in place to asize (up to `want` bytes, grow_room) using a free
 * next block and, if extend, the end of the heap. Returns false (changing
 * nothing) when it cannot. */
static bool grow_forward(heap_t *h, block_t *b, size_t asize, size_t want,
                         bool extend)
{
    block_t *next = find_next(b);
    size_t avail = get_size(b) + (get_alloc(next) ? 0 : get_size(next));
    if (avail < asize) {
        bool at_end =
            next == h->tail || (!get_alloc(next) && find_next(next) == h->tail);
        if (!extend || !at_end || (ARENAS && !break_is_mine(h)))
            return false;
        /* the last region grows under b (when another arena's region ends
         * at the break, a new region could not: the caller's fallback
         * takes one for the whole block, with room to grow) */
        next = grow_heap(h, asize - get_size(b));
        if (next == NULL || next != find_next(b))
            return false;
        avail = get_size(b) + get_size(next);
    }
    if (!get_alloc(next))
        remove_free(h, next);
    write_block(h, b, avail, /*alloc=*/true, get_prev_alloc(b),
                get_prev_mini(b));
    split_block(h, b, room_taken(avail, asize, want));
    return true;
}

static void slide_down(char *dst, char *src, size_t n);

/* Grows b to asize (up to `want` bytes) by sliding it down into a free
 * previous block (and a free next block). Returns the moved block, or NULL
 * when it cannot. */
static block_t *grow_backward(heap_t *h, block_t *b, size_t asize, size_t want)
{
    if (!COALESCE || get_prev_alloc(b))
        return NULL;
    block_t *prev = find_prev(b), *next = find_next(b);
    size_t avail = get_size(prev) + get_size(b);
    if (!get_alloc(next))
        avail += get_size(next);
    if (avail < asize)
        return NULL;
    size_t keep = get_size(b) - ALLOC_OVERHEAD;
    remove_free(h, prev);
    if (!get_alloc(next))
        remove_free(h, next);
    write_block(h, prev, avail, /*alloc=*/true, get_prev_alloc(prev),
                get_prev_mini(prev));
    slide_down((char *)prev->payload, (char *)b->payload, keep);
    split_block(h, prev, room_taken(avail, asize, want));
    return prev;
}

/* Makes the first `gap` bytes of b (out of its list; 0 or at least 16
 * bytes, a multiple of 16) a free block of their own, whose previous block
 * is allocated (b was free: invariant 7), and the rest an allocated block,
 * which it returns: an aligned block's or a page-moved block's place. */
static block_t *cut_front(heap_t *h, block_t *b, size_t gap)
{
    size_t total = get_size(b);
    if (gap == 0) {
        write_block(h, b, total, /*alloc=*/true, get_prev_alloc(b),
                    get_prev_mini(b));
        return b;
    }
    write_block(h, b, gap, /*alloc=*/false, get_prev_alloc(b),
                get_prev_mini(b));
    insert_free(h, b);
    block_t *c = (block_t *)((char *)b + gap);
    write_block(h, c, total - gap, /*alloc=*/true, /*prev_alloc=*/false,
                /*prev_mini=*/gap == MIN_BLOCK);
    return c;
}

/* A large block that realloc moves (arena build) keeps its payload's offset
 * in a page, so that memlib can move its whole pages instead of copying
 * them (mem_move: mremap in build/libmm.so's backend, as glibc's realloc of
 * an mmapped block), and the old pages go back: it is placed in a free
 * block of up to a page more (move_need). From MOVE_PAGES_MIN bytes. */
static const size_t MOVE_PAGES_MIN = 256 << 10;

static inline bool moves_pages(const block_t *b)
{
    return ARENAS && get_size(b) >= MOVE_PAGES_MIN;
}

/* The free block that realloc needs to move b to asize bytes. */
static inline size_t move_need(const block_t *b, size_t asize)
{
    return moves_pages(b) ? asize + mem_pagesize() - ALIGNMENT : asize;
}

/* Moves large block b into free block `to` (out of its list, of at least
 * move_need bytes) at b's offset in a page, sized asize, and frees b. */
static block_t *move_pages(heap_t *h, block_t *b, block_t *to, size_t asize)
{
    uintptr_t from = (uintptr_t)b->payload, at = (uintptr_t)to->payload;
    size_t gap = (size_t)((from - at) % mem_pagesize()); /* 0 mod 16 */
    block_t *c = cut_front(h, to, gap);
    split_block(h, c, asize);
    mem_move(c->payload, b->payload, get_size(b) - ALLOC_OVERHEAD);
    free_block(h, b);
    return c;
}

/* Copies b's payload into the free block `to` (out of its list), sized
 * asize, and frees b (a large one: move_pages). */
static block_t *move_block(heap_t *h, block_t *b, block_t *to, size_t asize)
{
    if (moves_pages(b))
        return move_pages(h, b, to, asize);
    split_free(h, to, asize);
    mem_memcpy(to->payload, b->payload, get_size(b) - ALLOC_OVERHEAD);
    free_block(h, b);
    return to;
}

/* Realloc, cheapest for the heap first: in place without growing the heap
 * (with room, grow_room), then a free block elsewhere, then growing the
 * heap under b, then a new block at the end of the heap. */
static block_t *realloc_block(heap_t *h, block_t *b, size_t asize)
{
    if (asize <= get_size(b)) {
        if (!keeps_room(b, asize))
            split_block(h, b, asize);
        return b;
    }
    size_t want = grow_room(get_size(b), asize);
    if (grow_forward(h, b, asize, want, /*extend=*/false))
        return b;
    block_t *to = grow_backward(h, b, asize, want);
    if (to != NULL)
        return to;
    size_t c, need = move_need(b, asize);
    to = find_fit(h, need, &c);
    if (to != NULL) {
        unlink_free(h, to, c);
        return move_block(h, b, to, asize);
    }
    if (grow_forward(h, b, asize, want, /*extend=*/true))
        return b;
    to = take_block(h, need, need);
    return to != NULL ? move_block(h, b, to, asize) : NULL;
}

/* Remembers `moved`, which realloc grew from size_was to asize bytes, as
 * the growing block that small carves keep clear of (keeps_clear), when
 * its step is small against it: the step that grow_room gives room to. */
static inline void note_grower(heap_t *h, block_t *moved, size_t size_was,
                               size_t asize)
{
    if (grow_room(size_was, asize) == asize)
        return;
    h->grower = to_offset(h, moved);
    h->grower_window = GROWER_WINDOW;
}

/* mm_realloc on the block's owner h (its lock held when threads run):
 * the block stays in its owner's arena. */
static inline void *realloc_in(heap_t *h, void *ptr, size_t size)
{
    block_t *b = block_to_free(h, "mm_realloc", ptr);
    if (size > MAX_REQUEST)
        return NULL;
    debug_check(h, __LINE__);
    count_op(h);
    size_t size_was = get_size(b), asize = adjust_size(size);
    block_t *moved = realloc_block(h, b, asize);
    if (moved != NULL && asize > size_was)
        note_grower(h, moved, size_was, asize);
    debug_check(h, __LINE__);
    return moved != NULL ? header_to_payload(moved) : NULL;
}

/* mm_realloc on the block's owner, under its lock. */
__attribute__((noinline)) static void *realloc_locked(void *ptr, size_t size)
{
    heap_t *h = owner_of(heap, "mm_realloc", ptr);
    bool locked = arena_lock(h);
    void *p = realloc_in(h, ptr, size);
    count_remote(h);
    arena_unlock(h, locked);
    return p;
}

void *mm_realloc(void *ptr, size_t size)
{
    if (ptr == NULL)
        return mm_malloc(size);
    free_check("realloc", ptr);
    if (size == 0) {
        mm_free(ptr);
        return NULL;
    }
    heap_t *h = lockless_heap();
    return h != NULL ? realloc_in(h, ptr, size) : realloc_locked(ptr, size);
}

/* A large calloc clears only the bytes that were used before: its block's
 * bytes above the break as it was before the block was taken came from
 * mem_sbrk during the call, and read as zeros where memlib says so
 * (mem_sbrk_zeroes: the real-memory backend), but for the words mm.c wrote
 * into them as a free block: its links (the payload's first 16 bytes) and
 * its footer (the last 8 bytes of the block, in the payload's last 16 when
 * the request reaches it). So a table that a program callocs and writes
 * sparsely costs memory only where it writes, as under glibc (git commit's
 * 512 KiB hash table: docs/bench-libmm.md). From CALLOC_FRESH_MIN bytes:
 * smaller blocks seldom come from the break. The arena build only. */
static const size_t CALLOC_FRESH_MIN = 64 << 10;

/* Clears the `size` bytes of payload p but those at or above `fresh`
 * (zeros: taken from mem_sbrk by this call) other than mm.c's free-block
 * words. */
static void clear_used(char *p, size_t size, char *fresh)
{
    char *end = p + size;
    char *clean = fresh < p + 2 * WSIZE ? p + 2 * WSIZE : fresh;
    if (clean >= end) {
        mem_memset(p, 0, size);
        return;
    }
    mem_memset(p, 0, (size_t)(clean - p));
    char *footer = end - 2 * WSIZE < clean ? clean : end - 2 * WSIZE;
    mem_memset(footer, 0, (size_t)(end - footer));
}

/* calloc on heap h (its lock held when threads run), for at least
 * CALLOC_FRESH_MIN bytes. */
static void *calloc_in(heap_t *h, size_t size)
{
    debug_check(h, __LINE__);
    count_op(h);
    if (size > MAX_REQUEST)
        return NULL;
    size_t asize = adjust_size(size);
    char *fresh = (char *)mem_heap_hi() + 1; /* read under the lock */
    block_t *b = take_block(h, asize, asize);
    if (b == NULL)
        return NULL;
    split_free(h, b, asize);
    clear_used((char *)b->payload, size, fresh);
    debug_check(h, __LINE__);
    return header_to_payload(b);
}

static void *calloc_fresh(size_t size);

void *mm_calloc(size_t nmemb, size_t size)
{
    if (size != 0 && nmemb > SIZE_MAX / size)
        return NULL;
    if (ARENAS && nmemb * size >= CALLOC_FRESH_MIN && mem_sbrk_zeroes())
        return calloc_fresh(nmemb * size);
    void *p = mm_malloc(nmemb * size);
    if (p != NULL)
        mem_memset(p, 0, nmemb * size);
    return p;
}

/* ---- The heap checker ---------------------------------------------------*/

/* The one reporting path: one line per violation. Returns false. */
static bool report(int line, int invariant, const char *what, const void *at)
{
    printf("mm_checkheap (called from line %d): invariant %d broken: %s at "
           "block %p\n",
           line, invariant, what, at);
    fflush(stdout);
    return false;
}

static bool check_footer(int line, block_t *b)
{
    if (!has_footer(b->header) || *header_to_footer(b) == b->header)
        return true;
    return report(line, 1, "footer differs from header", b);
}

static bool check_alignment(int line, block_t *b)
{
    if ((uintptr_t)header_to_payload(b) % ALIGNMENT == 0)
        return true;
    return report(line, 2, "payload not 16-byte aligned", b);
}

/* The header holds size/16 above four bits, so a size written without
 * rounding to 16 shows up as bit 3 set (or as a wrong flag). */
static bool check_size(int line, block_t *b)
{
    size_t size = get_size(b);
    if (size >= MIN_BLOCK && (b->header & RESERVED_BIT) == 0)
        return true;
    return report(line, 3, "size below 16 or not a multiple of 16", b);
}

/* The class field: a free block's size class, 0 in an allocated block. */
static bool check_class(int line, block_t *b)
{
    size_t want = get_alloc(b) ? 0 : size_class(get_size(b));
    if (extract_class(b->header) == want)
        return true;
    return report(line, 11, "class field disagrees with the block", b);
}

/* Bit 47 and the owner field (bits 48..63) of a header or fence: in the
 * arena build, a wrong owner breaks invariant 15. */
static bool check_high_bits(int line, const heap_t *h, const void *at, word_t w)
{
    if ((w & ZERO_BIT) != 0)
        return report(line, 14, "bit 47 set", at);
    if ((w & OWNER_MASK) == h->owner)
        return true;
    if (ARENAS)
        return report(line, 15,
                      "owner field does not name the arena whose "
                      "region holds the block",
                      at);
    return report(line, 14, "owner field is not the heap's", at);
}

/* P and M of b against the block before it (NULL: the start fence). */
static bool check_prev_bits(int line, block_t *prev, block_t *b)
{
    bool alloc = prev == NULL || get_alloc(prev);
    bool mini = !alloc && get_size(prev) == MIN_BLOCK;
    if (get_prev_alloc(b) != alloc)
        return report(line, 6, "prev-allocated bit disagrees", b);
    if (get_prev_mini(b) != mini)
        return report(line, 6, "prev-mini bit disagrees", b);
    return true;
}

static bool check_coalesced(int line, block_t *prev, block_t *b)
{
    if (!COALESCE || prev == NULL || get_alloc(prev) || get_alloc(b))
        return true;
    return report(line, 7, "two adjacent free blocks", prev);
}

/* What the heap walk counted. */
typedef struct heap_counts {
    size_t blocks;
    size_t free;
    size_t quick;
} heap_counts_t;

/* One block of the walk (all but the tiling, checked by the caller). */
static bool check_block(int line, const heap_t *h, block_t *prev, block_t *b,
                        heap_counts_t *counts)
{
    bool ok = check_footer(line, b);
    ok &= check_class(line, b);
    ok &= check_high_bits(line, h, b, b->header);
    ok &= check_coalesced(line, prev, b);
    counts->blocks++;
    if (!get_alloc(b))
        counts->free++;
    if (block_is_cached(b) && !get_alloc(b))
        ok = report(line, 13, "free block marked quick", b);
    else if (block_is_cached(b))
        counts->quick++;
    return ok;
}

/* Walks region r's blocks (each step moves at least 16 bytes, so the walk
 * is bounded) up to its end fence, and counts them. */
static bool check_blocks(int line, const heap_t *h, region_t *r,
                         heap_counts_t *counts)
{
    bool ok = true;
    block_t *end = region_end_fence(r), *prev = NULL, *b = region_first(r);
    for (; b < end; prev = b, b = find_next(b)) {
        ok &= check_alignment(line, b);
        ok &= check_prev_bits(line, prev, b);
        bool size_ok = check_size(line, b);
        ok &= size_ok;
        if (!size_ok && get_size(b) < MIN_BLOCK)
            return false; /* cannot step: the walk stops here */
        if ((char *)b + get_size(b) > (char *)end)
            return report(line, 4, "block runs past the region's end fence", b);
        ok &= check_block(line, h, prev, b, counts);
    }
    if (b != end)
        return report(line, 4, "region walk missed the end fence", b);
    return check_prev_bits(line, prev, b) && ok;
}

/* Region r's descriptor and fences (invariant 5); `floor` is where the
 * region before it ended. */
static bool check_region(int line, const heap_t *h, region_t *r, char *floor)
{
    char *top = (char *)mem_heap_hi() + 1;
    if ((uintptr_t)r % ALIGNMENT != 0) /* its payloads would be misaligned */
        return report(line, 2, "region not 16-byte aligned", r);
    if ((char *)r < floor || (char *)r + REGION_OVERHEAD > top)
        return report(line, 5, "region outside the heap or out of order", r);
    if (r->units < REGION_OVERHEAD / ALIGNMENT || region_end(r) > top)
        return report(line, 5, "region size runs past the heap", r);
    if (owner_bits(r->owner) != h->owner || r->owner > ARENA_MAX)
        return report(line, ARENAS ? 15 : 14,
                      "region descriptor names another owner", r);
    word_t fence = fence_word(h, true, false);
    if (r->start_fence != fence)
        return report(line, 5, "start fence overwritten", &r->start_fence);
    block_t *end = region_end_fence(r);
    if (get_size(end) != 0 || !get_alloc(end) ||
        (end->header & ~PREV_BITS) != (fence & ~PREV_BITS))
        return report(line, 5, "end fence overwritten", end);
    return true;
}

/* The region list: each region in order, and the heap's own record of the
 * last one (its end is heap_brk(h) and its end fence h->tail). */
static bool check_regions(int line, const heap_t *h, heap_counts_t *counts)
{
    bool ok = true;
    char *floor = (char *)h + HEAP_BYTES;
    region_t *r = region_zero(h), *last = NULL;
    size_t n = 0, bound = mem_heapsize() / REGION_OVERHEAD;
    for (; r != NULL && n <= bound; n++, last = r, r = region_at(h, r->next)) {
        if (!check_region(line, h, r, floor))
            return false; /* its blocks and its link are not to be trusted */
        ok &= check_blocks(line, h, r, counts);
        floor = region_end(r);
    }
    if (r != NULL || n != h->regions)
        return report(line, 5, "region list does not end or miscounts", r);
    if (last != region_at(h, h->last_region) ||
        region_end_fence(last) != h->tail)
        return report(line, 5, "last region is not the heap's end", last);
    return ok;
}

/* Whether node o lies inside the heap's regions' span. */
static bool node_in_heap(const heap_t *h, uint32_t off)
{
    block_t *b = from_offset(h, off);
    return (uintptr_t)b >= heap_lo(h) && b < h->tail;
}

/* The offset after node o, or 0 when o is null or outside the heap. */
static uint32_t next_node(const heap_t *h, uint32_t o)
{
    return o != 0 && node_in_heap(h, o) ? from_offset(h, o)->links.next : 0;
}

/* Floyd's tortoise and hare on a list: the hare moves two nodes per step,
 * so a list that ends does so within `bound` steps. */
static bool check_acyclic(int line, const heap_t *h, uint32_t head,
                          size_t bound)
{
    uint32_t slow = head, fast = head;
    for (size_t steps = 0; fast != 0; steps++) {
        if (steps > bound)
            return report(line, 10, "list longer than the heap", NULL);
        fast = next_node(h, next_node(h, fast));
        slow = next_node(h, slow);
        if (fast != 0 && fast == slow)
            return report(line, 10, "list has a cycle", from_offset(h, slow));
    }
    return true;
}

/* Walks list c (known to end), adding its nodes to *count. */
static bool check_list(int line, const heap_t *h, size_t c, size_t *count)
{
    bool ok = true;
    uint32_t prev = 0;
    for (uint32_t o = h->free_heads[c]; o != 0;
         o = from_offset(h, o)->links.next) {
        if (!node_in_heap(h, o))
            return report(line, 8, "list node outside the heap",
                          from_offset(h, o));
        block_t *b = from_offset(h, o);
        (*count)++;
        if (get_alloc(b))
            ok = report(line, 8, "list node is not free", b);
        if (b->links.prev != prev)
            ok = report(line, 9, "next->prev != self (prev link is wrong)", b);
        if (size_class(get_size(b)) != c)
            ok = report(line, 11, "free block in the wrong size class", b);
        prev = o;
    }
    return ok;
}

static bool check_lists(int line, const heap_t *h, heap_counts_t counts,
                        bool walk_ok)
{
    bool ok = true;
    size_t listed = 0;
    size_t bound = walk_ok ? counts.blocks : mem_heapsize() / MIN_BLOCK;
    for (size_t c = 0; c < NUM_CLASSES; c++) {
        if (((h->nonempty >> c) & 1) != (h->free_heads[c] != 0))
            ok = report(line, 11, "class bitmap disagrees with list head",
                        from_offset(h, h->free_heads[c]));
        if (check_acyclic(line, h, h->free_heads[c], bound))
            ok &= check_list(line, h, c, &listed);
        else
            ok = false;
    }
    if (ok && walk_ok && listed != counts.free)
        ok = report(line, 12, "free lists and heap count different blocks", h);
    if (h->rover != 0 &&
        (!node_in_heap(h, h->rover) || get_alloc(from_offset(h, h->rover))))
        ok = report(line, 8, "next-fit rover not on a free block",
                    from_offset(h, h->rover));
    return ok;
}

/* Walks quick list q (known to end), adding its nodes to *count. */
/* Walks quick list q: counts its nodes, and adds its bytes to *bytes if it
 * holds freed blocks. */
static bool check_quick_list(int line, const heap_t *h, size_t q, size_t *count,
                             size_t *bytes)
{
    bool ok = true;
    for (uint32_t o = h->quick_heads[q]; o != 0;
         o = from_offset(h, o)->links.next) {
        block_t *b = from_offset(h, o);
        if (!node_in_heap(h, o))
            return report(line, 13, "quick-list node outside the heap", b);
        (*count)++;
        *bytes += q < QUICK_CLASSES ? get_size(b) : 0;
        if (!get_alloc(b) || !get_quick(b))
            ok = report(line, 13, "quick-list node not allocated and Q", b);
        if (get_size(b) != (q % QUICK_CLASSES + 1) * ALIGNMENT)
            ok = report(line, 13, "quick-list node of the wrong size", b);
    }
    return ok;
}

/* The quick and run lists; with the `cached` blocks of h in thread caches
 * they hold every Q block of the walk (13). */
static bool check_quick_lists(int line, const heap_t *h, heap_counts_t counts,
                              bool walk_ok, size_t cached)
{
    bool ok = true;
    size_t listed = 0, bytes = 0;
    size_t bound = walk_ok ? counts.blocks : mem_heapsize() / MIN_BLOCK;
    for (size_t q = 0; q < 2 * QUICK_CLASSES; q++) {
        if (check_acyclic(line, h, h->quick_heads[q], bound))
            ok &= check_quick_list(line, h, q, &listed, &bytes);
        else
            ok = false;
    }
    bool counted = cached == CACHED_UNKNOWN ? listed <= counts.quick
                                            : listed + cached == counts.quick;
    if (ok && walk_ok && !counted)
        ok = report(line, 13, "quick lists and heap count different blocks", h);
    if (ok && bytes != (size_t)h->cached_units * ALIGNMENT)
        ok = report(line, 13, "freed quick lists' bytes differ from the count",
                    h);
    return ok;
}

/* Invariants 1 to 14 (and 15) of one heap: the plain build's, the root
 * or one arena, `cached` of whose blocks sit in thread caches. */
static bool check_heap(int line, const heap_t *h, size_t cached)
{
    heap_counts_t counts = {0, 0, 0};
    bool walk_ok = check_regions(line, h, &counts);
    bool lists_ok = check_lists(line, h, counts, walk_ok);
    bool quick_ok = check_quick_lists(line, h, counts, walk_ok, cached);
    return walk_ok && lists_ok && quick_ok;
}

#ifdef MM_THREAD_CACHE
/* A list of cache c's blocks of arena h from head (a bin, invariant 17,
 * or a remote batch, 18): at most `most` nodes (so a cycle stops the
 * walk), each a block of h, allocated, Q and of size lo .. hi, as many as
 * count. Adds them to *cached. */
typedef struct cached_list {
    const heap_t *h;
    uint32_t head;
    size_t most, lo, hi, count;
} cached_list_t;

static bool check_cached_list(int line, int inv, const thread_cache_t *c,
                              cached_list_t l, size_t *cached)
{
    bool ok = true;
    size_t n = 0;
    for (uint32_t o = l.head; o != 0; o = from_offset(l.h, o)->links.next) {
        block_t *b = from_offset(l.h, o);
        if (!node_in_heap(l.h, o) || ++n > l.most)
            return report(line, inv,
                          "thread cache list leaves its arena or "
                          "does not end",
                          b);
        if (!block_is_cached(b) ||
            (b->header & (ALLOC_BIT | OWNER_MASK)) !=
                (ALLOC_BIT | l.h->owner) ||
            get_size(b) < l.lo || get_size(b) > l.hi)
            ok = report(line, inv,
                        "thread cache node not allocated, Q and "
                        "of its list's size in its arena",
                        b);
    }
    if (n != l.count)
        ok = report(line, inv, "thread cache list miscounts its blocks", c);
    *cached += n;
    return ok;
}

/* Bin l of cache c (invariant 17): at most CACHE_FILL blocks of c's arena,
 * of the bin's size. */
static bool check_bin(int line, const thread_cache_t *c, size_t l,
                      size_t *cached)
{
    size_t size = list_size(l);
    cached_list_t list = {c->arena, c->head[l], CACHE_FILL,
                          size,     size,       c->count[l]};
    return check_cached_list(line, 17, c, list, cached);
}

/* Cache c's bytes (invariant 17): its lists' bytes by their counts, and a
 * cap within CACHE_CAP_MIN .. CACHE_CAP_MAX. */
static bool check_cache_bytes(int line, const thread_cache_t *c)
{
    size_t bytes = 0;
    for (size_t l = 0; l < CACHE_LISTS; l++)
        bytes += c->count[l] * list_size(l);
    if (bytes != c->bytes || c->cap < CACHE_CAP_MIN || c->cap > CACHE_CAP_MAX)
        return report(line, 17, "thread cache miscounts its bytes or cap", c);
    return true;
}

/* Cache c's remote batch for arena index i (invariant 18): empty, or of
 * an arena other than c's, with fewer than REMOTE_BATCH blocks of that
 * arena, of at most CACHE_MAX bytes. */
static bool check_remote(int line, const arena_table_t *t,
                         const thread_cache_t *c, size_t i, size_t *cached)
{
    const heap_t *h = arena_at(t, i);
    if (c->remote_head[i] == 0 && c->remote_count[i] == 0)
        return true;
    if (h == NULL || h == c->arena)
        return report(line, 18, "remote batch for no other arena", c);
    cached_list_t list = {h,         c->remote_head[i], REMOTE_BATCH,
                          MIN_BLOCK, CACHE_MAX,         c->remote_count[i]};
    return check_cached_list(line, 18, c, list, cached);
}

/* The root's list of thread caches (17): each cache lies in the heap and
 * names an arena of the table; adds each arena's cached blocks to
 * cached[arena index]. */
static bool check_caches(int line, const heap_t *root, size_t cached[ARENA_MAX])
{
    const arena_table_t *t = root->table;
    size_t n = 0, bound = mem_heapsize() / sizeof(thread_cache_t);
    bool ok = true;
    for (const thread_cache_t *c = root->caches; c != NULL; c = c->next) {
        if ((char *)c < (char *)t || (char *)c > (char *)mem_heap_hi() ||
            ++n > bound)
            return report(line, 17,
                          "list of thread caches leaves the heap "
                          "or does not end",
                          c);
        size_t a = (size_t)(c->want >> OWNER_SHIFT);
        if (a == 0 || a > t->count || arena_at(t, a - 1) != c->arena ||
            c->want != (ALLOC_BIT | c->arena->owner))
            return report(line, 17, "thread cache names no arena", c);
        for (size_t l = 0; l < CACHE_LISTS; l++)
            ok &= check_bin(line, c, l, &cached[a - 1]);
        ok &= check_cache_bytes(line, c);
        for (size_t i = 0; i < t->count; i++)
            ok &= check_remote(line, t, c, i, &cached[i]);
    }
    return ok;
}
#elif defined(MM_ARENAS)
static bool check_caches(int line, const heap_t *root, size_t cached[ARENA_MAX])
{
    (void)line, (void)root, (void)cached;
    return true;
}
#endif

#ifdef MM_ARENAS
/* Arena h's inbox (invariant 19; no thread pushes at a quiescent point):
 * it ends, and each node is a block of h, allocated, Q, of at most
 * CACHE_MAX bytes. Adds them to *cached. */
static bool check_inbox(int line, const heap_t *h, size_t *cached)
{
    bool ok = true;
    size_t n = 0, bound = mem_heapsize() / MIN_BLOCK;
    uint32_t first = __atomic_load_n(&h->remote_inbox, __ATOMIC_ACQUIRE);
    for (uint32_t o = first; o != 0; o = from_offset(h, o)->links.next) {
        block_t *b = from_offset(h, o);
        if (!node_in_heap(h, o) || ++n > bound)
            return report(line, 19, "inbox leaves its arena or does not end",
                          b);
        if (!block_is_cached(b) ||
            (b->header & (ALLOC_BIT | OWNER_MASK)) != (ALLOC_BIT | h->owner) ||
            get_size(b) > CACHE_MAX)
            ok =
                report(line, 19,
                       "inbox node not allocated, Q and small in its arena", b);
    }
    *cached += n;
    return ok;
}

/* The arena table (15), the thread caches (17), each arena's lock (16),
 * inbox (19) and heap. An arena whose lock is held is not walked: its owner
 * may be changing it. */
static bool check_arenas(int line, const heap_t *root)
{
    const arena_table_t *t = root->table;
    if ((char *)t < heap_brk(root) ||
        (char *)t + sizeof *t > (char *)mem_heap_hi() || t->count == 0 ||
        t->count > ARENA_MAX)
        return report(line, 15, "arena table outside the heap or miscounts", t);
    size_t cached[ARENA_MAX] = {0};
    bool caches_ok = check_caches(line, root, cached), ok = caches_ok;
    for (size_t i = 0; i < t->count; i++) {
        heap_t *h = arena_at(t, i);
        if (h == NULL)
            continue; /* not made yet */
        if ((char *)h < (char *)&t->arena[t->count] ||
            (uintptr_t)h % ALIGNMENT != 0 ||
            (char *)h > (char *)mem_heap_hi() || h->owner != owner_bits(i + 1))
            ok = report(line, 15, "arena table entry is not that arena", h);
        else if (!arena_lock_free(h))
            ok = report(line, 16, "arena lock held while checking", h);
        else if (!check_inbox(line, h, &cached[i]))
            ok = false;
        else
            ok &= check_heap(line, h, caches_ok ? cached[i] : CACHED_UNKNOWN);
    }
    return ok;
}
#else
static bool check_arenas(int line, const heap_t *root)
{
    (void)line, (void)root;
    return true;
}
#endif

bool mm_checkheap(int line)
{
    const heap_t *h = heap;
    if (h == NULL)
        return report(line, 5, "heap not initialized", NULL);
    bool ok = check_heap(line, h, 0);
    return (!ARENAS || check_arenas(line, h)) && ok;
}

/* ---- The block walk for heap pictures and gdb (mm.h) --------------------*/

/* The list that holds b: its free list, NUM_CLASSES + q for quick list q,
 * or -1 for a block in use. */
static int list_of(const block_t *b)
{
    if (!get_alloc(b))
        return (int)extract_class(b->header);
    return get_quick(b) ? NUM_CLASSES + (int)quick_class(get_size(b)) : -1;
}

static void visit_span(mm_walk_fn *visit, void *arg, const void *start,
                       size_t size, mm_block_kind kind, int list)
{
    mm_block_info info = {start, size, kind, list};
    visit(&info, arg);
}

/* Visits the span from `from` up to region r's first block (overhead), r's
 * blocks, and its end fence; `n` counts the blocks against `bound`. */
static void walk_region(mm_walk_fn *visit, void *arg, const char *from,
                        region_t *r, size_t *n, size_t bound)
{
    block_t *b = region_first(r), *end = region_end_fence(r);
    visit_span(visit, arg, from, (size_t)((char *)b - from), MM_BLOCK_OVERHEAD,
               -1);
    for (; b < end && get_size(b) >= MIN_BLOCK && *n < bound;
         b = find_next(b), (*n)++) {
        bool cached = get_alloc(b) && get_quick(b);
        mm_block_kind kind =
            get_alloc(b) && !cached ? MM_BLOCK_ALLOCATED : MM_BLOCK_FREE;
        visit_span(visit, arg, b, get_size(b), kind, list_of(b));
    }
    visit_span(visit, arg, end, WSIZE, MM_BLOCK_OVERHEAD, -1);
}

/* The heaps to walk: the one heap, or the root and every arena; returns
 * their number. */
static size_t all_heaps(heap_t *root, heap_t *hs[ARENA_MAX + 1])
{
    size_t n = 0;
    hs[n++] = root;
#ifdef MM_ARENAS
    for (size_t i = 0; i < root->table->count; i++)
        if ((hs[n] = arena_at(root->table, i)) != NULL)
            n++;
#endif
    return n;
}

/* The regions of every heap in address order (each heap's list is in
 * order: a merge). The span before a region that is not its own (another
 * arena's heap struct, the arena table, a foreign break) is overhead. */
void mm_heap_walk(mm_walk_fn *visit, void *arg)
{
    heap_t *h = heap, *hs[ARENA_MAX + 1];
    if (h == NULL || visit == NULL)
        return;
    region_t *next[ARENA_MAX + 1];
    size_t heaps = all_heaps(h, hs);
    for (size_t i = 0; i < heaps; i++)
        next[i] = region_zero(hs[i]);
    const char *from = mem_heap_lo(); /* region 0's overhead: pad, heap */
    size_t n = 0, bound = mem_heapsize() / MIN_BLOCK;
    for (size_t steps = 0; steps < bound; steps++) {
        size_t k = heaps;
        for (size_t i = 0; i < heaps; i++)
            if (next[i] != NULL && (k == heaps || next[i] < next[k]))
                k = i;
        if (k == heaps || (char *)next[k] < from)
            return; /* all walked (or a broken list) */
        walk_region(visit, arg, from, next[k], &n, bound);
        from = region_end(next[k]);
        next[k] = region_at(hs[k], next[k]->next);
    }
}

/* ---- Statistics (mm.h) ----------------------------------------------------*/

/* Adds heap h's blocks to *st. */
static void count_blocks(const heap_t *h, mm_arena_stats *st)
{
    for (region_t *r = region_zero(h); r != NULL; r = region_at(h, r->next)) {
        st->regions++;
        block_t *end = region_end_fence(r);
        for (block_t *b = region_first(r); b < end && get_size(b) >= MIN_BLOCK;
             b = find_next(b)) {
            if (!get_alloc(b))
                st->free_bytes += get_size(b);
            else if (get_quick(b))
                st->cached_bytes += get_size(b);
            else
                st->in_use_bytes += get_size(b);
        }
    }
}

/* h's ops, with those its threads' caches served since they last settled
 * (they count them without a lock), and its remote frees, with those that
 * wait in other threads' remote batches and in its inbox (each is an op
 * of h too). */
static void arena_counts(const heap_t *h, mm_arena_stats *st)
{
#ifdef MM_ARENAS
    st->ops = h->ops;
    st->remote_frees = h->remote_frees;
    /* its lock held (malloc_stats) or quiescent: pushes only prepend */
    uint32_t o = __atomic_load_n(&h->remote_inbox, __ATOMIC_ACQUIRE);
    for (; o != 0; o = node_at(h, o)->links.next)
        st->ops++, st->remote_frees++;
#else
    (void)h, (void)st; /* no counts: 0 */
#endif
#ifdef MM_THREAD_CACHE
    size_t a = (size_t)(h->owner >> OWNER_SHIFT);
    for (const thread_cache_t *c = heap->caches; c != NULL; c = c->next) {
        st->ops += c->arena == h ? c->ops : 0;
        st->ops += a != 0 ? c->remote_count[a - 1] : 0;
        st->remote_frees += a != 0 ? c->remote_count[a - 1] : 0;
    }
#endif
}

void mm_stats(mm_stats_fn *visit, void *arg)
{
    heap_t *hs[ARENA_MAX + 1];
    if (heap == NULL || visit == NULL)
        return;
    size_t heaps = all_heaps(heap, hs);
    for (size_t i = ARENAS ? 1 : 0; i < heaps; i++) {
        mm_arena_stats st = {.arena = (unsigned)(hs[i]->owner >> OWNER_SHIFT)};
        arena_counts(hs[i], &st);
        count_blocks(hs[i], &st);
        visit(&st, arg);
    }
}

/* ---- Hardened free: the pointer checks of every build --------------------*/

/* free_check runs first in mm_free and mm_realloc (and mm_usable_size),
 * in every build, before anything is derived from the pointer: it must be
 * 16-byte aligned, inside the heap, allocated and not cached (A set, Q
 * clear: a double free fails here), and its header plausible (bits 3 and
 * 47 and the class field clear, a size of at least 16 that ends below the
 * heap's top, an owner that exists, and, while the process has one
 * thread, the next block's P bit set). A pointer that fails aborts with
 * one line, `mm: free(): invalid pointer 0x...: why` (fail_pointer), so a
 * bad pointer never reaches the lists and is never handed out later. A
 * per-thread cache of freed blocks adds its own mark here. */

/* The header word of the block of payload p, which another thread may own:
 * an atomic load (a plain mov on x86-64). */
static inline word_t read_header(uintptr_t p)
{
    return __atomic_load_n((const word_t *)(p - WSIZE), __ATOMIC_RELAXED);
}

/* While no lock is taken (lockless_heap: the plain build's one heap, or
 * the arena build's solo arena while the process has one thread), every
 * block is that heap's: its end fence bounds them, its owner names them,
 * and the next block's header may be read. */

/* The highest address a block may end at: that heap's last end fence, or
 * (arenas, once threads run) the break less an end fence (memlib's
 * mem_heap_hi: a call and an atomic load). */
static inline uintptr_t heap_top(const heap_t *root)
{
    const heap_t *one = lockless_heap();
    if (one != NULL || !ARENAS)
        return (uintptr_t)(one != NULL ? one : root)->tail;
    return (uintptr_t)mem_heap_hi() + 1 - WSIZE;
}

/* Whether header w is that of an allocated block, not cached, whose owner
 * exists: that heap's, or (arenas, once threads run) an arena of the
 * table. */
static inline bool allocated_here(const heap_t *root, word_t w)
{
    const heap_t *one = lockless_heap();
    if (one != NULL)
        return (w & (ALLOC_BIT | QUICK_BIT | OWNER_MASK)) ==
               (ALLOC_BIT | one->owner);
#ifdef MM_ARENAS
    size_t owner = (size_t)(w >> OWNER_SHIFT);
    return (w & (ALLOC_BIT | QUICK_BIT)) == ALLOC_BIT && owner != 0 &&
           owner <= root->table->count &&
           arena_at(root->table, owner - 1) != NULL;
#else
    (void)root;
    return false;
#endif
}

/* Why the block of payload p cannot be freed, or NULL when it can: the
 * checks in order, each only once the ones before it passed (root is NULL
 * before mm_init: then nothing is inside the heap). */
__attribute__((noinline)) static const char *pointer_fault(const heap_t *root,
                                                           uintptr_t p)
{
    if (p % ALIGNMENT != 0)
        return "not 16-byte aligned";
    uintptr_t lo = root != NULL ? heap_lo(root) : 0;
    uintptr_t top = root != NULL ? heap_top(root) : 0;
    if (p - lo - 1 >= top - lo) /* lo < p <= top, as one compare */
        return "not inside the heap";
    word_t w = read_header(p);
    if (!allocated_here(root, w))
        return "not allocated (double free?)";
    size_t size = extract_size(w), room = top - (p - WSIZE);
    if ((w & (RESERVED_BIT | CLASS_MASK | ZERO_BIT)) != 0 || size < MIN_BLOCK ||
        size > room)
        return "corrupted header";
    if (lockless_heap() != NULL &&
        (read_header(p + size) & PREV_ALLOC_BIT) == 0)
        return "corrupted header";
    return NULL;
}

/* pointer_fault's verdict with fewer branches while no lock is taken (the
 * plain build, one thread): the header's flags, class and owner in one
 * compare, its size in another (p is 16-aligned and at most top, an end
 * fence's header, so room >= MIN_BLOCK: 16 <= size <= room is one
 * unsigned compare). With one thread no other writes the headers: they
 * are plain loads, which the free that follows reads again for free. */
static inline bool pointer_ok(const heap_t *root, uintptr_t p)
{
    const heap_t *one = lockless_heap();
    if (one == NULL || root == NULL)
        return pointer_fault(root, p) == NULL;
    uintptr_t lo = heap_lo(root), top = (uintptr_t)one->tail;
    if ((p % ALIGNMENT != 0) | (p - lo - 1 >= top - lo))
        return false;
    word_t w = *(const word_t *)(p - WSIZE);
    size_t size = extract_size(w), room = top - (p - WSIZE);
    word_t mask = ALLOC_BIT | QUICK_BIT | OWNER_MASK | RESERVED_BIT |
                  CLASS_MASK | ZERO_BIT;
    if (!(((w & mask) == (ALLOC_BIT | heap_owner(one))) &
          (size - MIN_BLOCK <= room - MIN_BLOCK)))
        return false;
    return (*(const word_t *)(p + size - WSIZE) & PREV_ALLOC_BIT) != 0;
}

/* Reports why ptr, which pointer_ok refused, cannot be freed, and aborts:
 * out of line, so that the check's caller keeps no register for it. */
__attribute__((noinline, noreturn, cold)) static void
fail_free_check(const char *func, void *ptr)
{
    const char *fault = pointer_fault(heap, (uintptr_t)ptr);
    fail_pointer(func, ptr, fault != NULL ? fault : "corrupted header");
    abort(); /* fail_pointer does not return */
}

__attribute__((always_inline)) static inline void free_check(const char *func,
                                                             void *ptr)
{
    if (__builtin_expect(!pointer_ok(heap, (uintptr_t)ptr), 0))
        fail_free_check(func, ptr);
}

/* ---- Memory goes back: the pages inside large free blocks ----------------*/

/* The whole pages inside every free block of at least DISCARD_MIN bytes
 * go back to the system (mem_discard: the header, links and footer stay),
 * in sweeps: once DISCARD_SWEEP bytes were freed into such blocks (in any
 * arena: one counter, the debt), the free that crosses it sweeps its
 * arena's lists of large blocks. A block freed and soon reused pays a
 * madvise and then a page fault per page: discarding every free block of
 * 64 KiB or more as it was freed made the t-test (tests/libmm/ttest.c,
 * 8 threads) 2 to 3 times slower; sweeps of blocks of 1 MiB or more every
 * 32 MiB cost 27% more page faults than no discarding at all
 * (docs/libmm.md has the figures). The free memory left resident is so at
 * most the free blocks below 1 MiB plus DISCARD_SWEEP. The arena build
 * (build/libmm.so's) only: the plain build, whose memlib only counts the
 * pages, would pay 1% more instructions on the suite for nothing. */
static const size_t DISCARD_MIN = 1 << 20;
static const size_t DISCARD_SWEEP = 32 << 20;
static size_t discard_debt; /* bytes, atomic: every arena adds to it */

static void discard_block(block_t *b)
{
    mem_discard(b->payload + sizeof b->links, get_size(b) - MIN_BLOCK - WSIZE);
}

/* Discards every free block of h of at least DISCARD_MIN bytes: the lists
 * of the classes that can hold one (each list ends: invariant 10). */
static void discard_sweep(heap_t *h)
{
    for (size_t c = size_class(DISCARD_MIN); c < NUM_CLASSES; c++)
        for (block_t *b = from_offset(h, h->free_heads[c]); b != NULL;
             b = from_offset(h, b->links.next))
            if (get_size(b) >= DISCARD_MIN)
                discard_block(b);
}

/* A large block that realloc slides down by d bytes over a free block
 * before it (grow_backward) moves a chunk of SLIDE_CHUNK bytes at a time,
 * and the source pages of each chunk that lie above the block's new end
 * (its old top, which no later chunk writes) go back at once (arena
 * build): otherwise the slide touches d bytes more while the old top is
 * still resident, and the old top stays resident after it (in the block's
 * room or in the free block after it): two blocks grown in turn to 64 MiB
 * each peaked at 1.38x glibc's RSS (docs/bench-libmm.md). The pages the
 * block slides over are not given back: they are written again at once,
 * and on this machine a page fault costs more than copying the page. A
 * block moved elsewhere: mem_move. */
static const size_t SLIDE_CHUNK = 1 << 20;

/* memmove of n bytes from src down to dst (dst < src). */
static void slide_down(char *dst, char *src, size_t n)
{
    if (!ARENAS || n < 2 * SLIDE_CHUNK) {
        mem_memmove(dst, src, n);
        return;
    }
    for (size_t i = 0; i < n; i += SLIDE_CHUNK) {
        size_t len = n - i < SLIDE_CHUNK ? n - i : SLIDE_CHUNK;
        mem_memmove(dst + i, src + i, len);
        /* the chunk's source pages above dst + n: no later chunk writes
         * there (its source lies above src + i + len) */
        char *lo = src + i < dst + n ? dst + n : src + i;
        if (lo < src + i + len)
            mem_discard(lo, (size_t)(src + i + len - lo));
    }
}

/* Counts the `freed` bytes that made free block b (just coalesced, in h's
 * lists) against the debt when b is large; sweeps h when the debt is due.
 * Returns b. */
static block_t *discard_inside(heap_t *h, size_t freed, block_t *b)
{
    if (!ARENAS || get_size(b) < DISCARD_MIN)
        return b; /* the plain build: off (its instructions, docs/libmm.md) */
    size_t debt = __atomic_add_fetch(&discard_debt, freed, __ATOMIC_RELAXED);
    if (debt >= DISCARD_SWEEP) {
        __atomic_store_n(&discard_debt, 0, __ATOMIC_RELAXED);
        discard_sweep(h);
    }
    return b;
}

/* ---- The library's extras (mm.h; build/libmm.so, docs/libmm.md) ---------*/

/* The calling thread's heap for a new block, its lock taken when threads
 * run (*locked says so), or NULL before mm_init. */
static heap_t *enter_caller_heap(bool *locked)
{
    heap_t *h = lockless_heap();
    *locked = false;
    if (h != NULL)
        return h;
    h = heap != NULL ? caller_arena(heap) : NULL;
    if (h != NULL)
        *locked = arena_lock_mine(h);
    return h;
}

/* A block of asize bytes whose payload is aligned to align (a power of two
 * above 16), from a free block of asize + align - 16 bytes: the part
 * before the aligned payload (0 or at least 16 bytes: both payloads are
 * 16-aligned) becomes a free block of its own, with no free neighbour
 * before it (the block taken was free: invariant 7); split_block frees
 * the part after. */
static block_t *memalign_in(heap_t *h, size_t align, size_t asize)
{
    size_t need = asize + align - ALIGNMENT;
    block_t *b = take_block(h, need, need);
    if (b == NULL)
        return NULL;
    uintptr_t payload = (uintptr_t)header_to_payload(b);
    size_t gap =
        (size_t)(((payload + align - 1) & ~(uintptr_t)(align - 1)) - payload);
    block_t *c = cut_front(h, b, gap);
    split_block(h, c, asize);
    dbg_ensures((uintptr_t)header_to_payload(c) % align == 0);
    return c;
}

void *mm_memalign(size_t align, size_t size)
{
    if (align <= ALIGNMENT)
        return mm_malloc(size);
    if (size == 0 || (align & (align - 1)) != 0 || align > MAX_REQUEST ||
        size > MAX_REQUEST - align)
        return NULL;
    bool locked;
    heap_t *h = enter_caller_heap(&locked);
    if (h == NULL)
        return NULL;
    debug_check(h, __LINE__);
    count_op(h);
    block_t *b = memalign_in(h, align, adjust_size(size));
    if (b != NULL && MM_DEBUG >= 1)
        mem_memset(b->payload, DEBUG_POISON_FRESH, size);
    debug_check(h, __LINE__);
    arena_unlock(h, locked);
    return b != NULL ? header_to_payload(b) : NULL;
}

/* mm_calloc of at least CALLOC_FRESH_MIN bytes (arena build, fresh
 * memory reads as zeros): in the caller's heap, under its lock. */
static void *calloc_fresh(size_t size)
{
    bool locked;
    heap_t *h = enter_caller_heap(&locked);
    if (h == NULL)
        return NULL;
    void *p = calloc_in(h, size);
    arena_unlock(h, locked);
    return p;
}

size_t mm_usable_size(void *ptr)
{
    if (ptr == NULL)
        return 0;
    free_check("malloc_usable_size", ptr);
    return extract_size(read_header((uintptr_t)ptr)) - ALLOC_OVERHEAD;
}

/* The fork handlers (pthread_atfork, registered by libmm/preload.c): the
 * parent takes every lock, the root's then each arena's in table order
 * (a call holds at most one arena's lock, or the root's before its
 * arena's: the order is fixed), forks, and releases them; the child,
 * where only the forking thread lives, re-initializes them. While the
 * process has one thread, no lock is taken (arena_lock). */
typedef enum { FORK_LOCK, FORK_UNLOCK, FORK_RESET } fork_step;
#ifdef MM_ARENAS

static void fork_step_heap(heap_t *h, fork_step step)
{
    if (step == FORK_LOCK)
        arena_lock(h);
    else if (step == FORK_UNLOCK)
        arena_unlock(h, threads_running());
    else
        arena_lock_init(h);
}

static void fork_step_all(fork_step step)
{
    heap_t *root = heap;
    if (root == NULL)
        return;
    fork_step_heap(root, step);
    for (size_t i = 0; i < root->table->count; i++) {
        heap_t *h = arena_at(root->table, i);
        if (h != NULL)
            fork_step_heap(h, step);
    }
}
#else
static void fork_step_all(fork_step step)
{
    (void)step; /* the plain build has no lock */
}
#endif

void mm_fork_prepare(void)
{
    fork_step_all(FORK_LOCK);
}

void mm_fork_parent(void)
{
    fork_step_all(FORK_UNLOCK);
}

void mm_fork_child(void)
{
    fork_step_all(FORK_RESET);
}
