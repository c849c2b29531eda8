/*
 * memlib.h - the simulated heap: the only memory source mm.c may use.
 *
 * One region of mem_max_heap() bytes is reserved once by mem_init().
 * mem_sbrk() moves the break up inside it. Bytes handed out by mem_sbrk()
 * hold garbage (never zeros); bytes past the break are off limits (pages
 * past the break fault, and under Valgrind every byte past it is
 * reported).
 */
#ifndef MEMLIB_H
#define MEMLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Default limit of the simulated heap: 100 MiB. */
#define MEM_DEFAULT_MAX_HEAP ((size_t)100 << 20)

/* Sets the heap's limit for the next mem_init(); returns false if absurd. */
bool mem_set_max_heap(size_t bytes);
size_t mem_max_heap(void);

/* Reserves the region. Returns false (with one ERROR: line) on failure. */
bool mem_init(void);
/* Releases the region. */
void mem_deinit(void);
/* Empties the heap: the break goes back to the start. */
void mem_reset_brk(void);

/*
 * Grows the heap by incr bytes and returns the old break, or (void *)-1
 * with one ERROR: line for a negative increment or past the limit.
 */
void *mem_sbrk(intptr_t incr);

/* First byte of the heap. */
void *mem_heap_lo(void);
/* Last byte of the heap (mem_heap_lo() - 1 when the heap is empty). */
void *mem_heap_hi(void);
/* Bytes between the start of the heap and the break. */
size_t mem_heapsize(void);
/* The system's page size. */
size_t mem_pagesize(void);

/*
 * For mdriver's timing replays only: when on, mem_reset_brk() keeps the
 * pages it granted and mem_sbrk() skips the garbage fill, so that timing
 * measures the allocator rather than mprotect and the fill.
 */
void mem_set_timing_mode(bool on);

/* True when a mem_sbrk() was refused for the limit since the last reset. */
bool mem_limit_reached(void);

#endif /* MEMLIB_H */
