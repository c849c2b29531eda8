/*
 * mm.h - the interface every allocator in the lab implements.
 *
 * mdriver calls mm_init() before each replay of a trace, then the
 * operations of the trace, then mm_checkheap() as often as -d asks.
 * Every pointer returned must be 16-byte aligned and lie inside the
 * simulated heap of memlib.h.
 */
#ifndef MM_H
#define MM_H

#include <stdbool.h>
#include <stddef.h>

/* Prepares a fresh heap. Returns true on success, false on error. */
bool mm_init(void);

void *mm_malloc(size_t size);
void mm_free(void *ptr);
void *mm_realloc(void *ptr, size_t size);
void *mm_calloc(size_t nmemb, size_t size);

/*
 * Checks the heap's invariants. Prints nothing and returns true when the
 * heap is consistent; otherwise prints one line per violation naming the
 * caller's `line`, the invariant and the address, and returns false.
 */
bool mm_checkheap(int line);

/*
 * Optional: a walk over the heap's blocks in address order, for the driver's
 * heap pictures (mdriver --heap-map) and tools/mm-gdb.py. An mm.c that does not
 * define it still works: the driver then shows only what it knows itself.
 */
typedef enum {
    MM_BLOCK_ALLOCATED = 0, /* a live block: header and payload */
    MM_BLOCK_FREE = 1,      /* a free block (or one cached for reuse) */
    MM_BLOCK_OVERHEAD = 2,  /* padding, fences, the allocator's tables */
} mm_block_kind;
typedef struct {
    const void *start; /* first byte of the block (its header) */
    size_t size;       /* bytes from start to the next block */
    mm_block_kind kind;
    int list; /* index of the free list that holds it, -1 if none */
} mm_block_info;
typedef void mm_walk_fn(const mm_block_info *block, void *arg);
void mm_heap_walk(mm_walk_fn *visit, void *arg);

/*
 * Optional: statistics per arena (mm.c's arena mode, -DMM_ARENAS; the plain
 * build reports its one heap as arena 0), one call of `visit` per arena, at
 * a quiescent point (no other thread in the allocator). It allocates
 * nothing: the caller prints. ops and remote_frees are counted in the
 * arena build only.
 */
typedef struct {
    unsigned arena;                  /* 1.. (0: the one heap) */
    unsigned long long ops;          /* malloc, free and realloc calls */
    unsigned long long remote_frees; /* frees/reallocs from other arenas */
    size_t in_use_bytes;             /* allocated blocks, headers included */
    size_t free_bytes;               /* free blocks */
    size_t cached_bytes; /* blocks in quick lists and runs (free for use) */
    size_t regions;
} mm_arena_stats;
typedef void mm_stats_fn(const mm_arena_stats *arena, void *arg);
void mm_stats(mm_stats_fn *visit, void *arg);

/*
 * The library's extras (build/libmm.so, docs/libmm.md); the reference mm.c
 * defines them in every build, mdriver never calls them.
 *   mm_memalign     a block whose payload is aligned to align (a power of
 *                   two; up to 16 is mm_malloc), or NULL
 *   mm_usable_size  the payload bytes of ptr's block (>= its request; 0
 *                   for NULL); a bad pointer aborts, as in mm_free
 *   mm_fork_*       pthread_atfork's handlers: prepare takes every lock in
 *                   a fixed order, parent releases them, child
 *                   re-initializes them (no-ops in the plain build)
 */
void *mm_memalign(size_t align, size_t size);
size_t mm_usable_size(void *ptr);
void mm_fork_prepare(void);
void mm_fork_parent(void);
void mm_fork_child(void);

#endif /* MM_H */
