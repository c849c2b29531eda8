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
 * Thread-safe (under one lock; in timing mode a growth inside the pages
 * already granted takes no lock, one compare-and-swap of the break):
 * mm.c's arena mode grows from several threads; mem_heap_hi() and
 * mem_heapsize() may run meanwhile. The other calls (init, reset,
 * settings) are for quiescent points only.
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
 * Gives the whole pages inside [addr, addr + len) back to the system: what
 * they held is lost (the caller keeps nothing there). mm.c calls it for the
 * inside of large free blocks. The real-memory backend of build/libmm.so
 * (libmm/memlib_os.c) madvises them away (MADV_DONTNEED, so that RSS follows
 * the live bytes); the simulated heap only counts them and tells memcheck
 * that those bytes are undefined again. Thread-safe.
 */
void mem_discard(void *addr, size_t len);
/* Pages given back by mem_discard since the process started. */
size_t mem_discarded_pages(void);

/*
 * Moves the n bytes at src to dst (the ranges do not overlap), like
 * mem_memcpy, and gives back the whole pages inside [src, src + n), as
 * mem_discard does: what src held is lost. Returns dst. When dst and src
 * lie at the same offset in a page, the real-memory backend moves those
 * whole pages instead of copying them (mremap: no copy, and the old pages
 * read as zeros, not resident), as glibc's realloc of an mmapped block
 * does; otherwise, and in the simulated heap, it copies and discards.
 * mm.c's realloc moves a large block so. Thread-safe.
 */
void *mem_move(void *dst, void *src, size_t n);

/*
 * Whether the bytes mem_sbrk hands out read as zeros (until someone writes
 * them). True in the real-memory backend (fresh pages of an anonymous
 * mapping: mm.c's calloc then clears only what was used before, as glibc's
 * does with fresh memory, so that a large calloc'd table costs memory only
 * where it is written); false in the simulated heap, whose fresh bytes hold
 * garbage.
 */
bool mem_sbrk_zeroes(void);

/*
 * For mdriver's timing replays only: when on, mem_reset_brk() keeps the
 * pages it granted and mem_sbrk() skips the garbage fill, so that timing
 * measures the allocator rather than mprotect and the fill.
 */
void mem_set_timing_mode(bool on);

/* True when a mem_sbrk() was refused for the limit since the last reset. */
bool mem_limit_reached(void);

/*
 * The sparse heap, for traces with giant requests (CMU's syn-giant*.rep ask
 * for up to ~2^56 bytes). mdriver turns it on, before mem_init(), for a
 * trace whose largest request is above 1 GiB. The region is then a huge
 * reservation (MAP_NORESERVE: MEM_SPARSE_MAX_HEAP bytes, or the largest
 * power of two the system grants) whose pages cost memory only once they
 * are touched; a fresh giant increment of mem_sbrk() reads as zeros past
 * its first and last MEM_SAMPLE_BYTES (which hold garbage). The driver
 * then writes and checks only the sampled bytes of a giant block
 * (mem_sample_ranges); mem_memcpy() and mem_memset() copy and set only
 * those, so that an allocator that uses them stays sparse too.
 */
#define MEM_SPARSE_MAX_HEAP ((size_t)1 << 45) /* 32 TiB of address space */
/* A block larger than this is giant on the sparse heap. */
#define MEM_GIANT_BYTES ((size_t)1 << 20)
/* Bytes in one sampled window of a giant block. */
#define MEM_SAMPLE_BYTES ((size_t)4096)
/* At most this many windows: the first, one at each power of two, the
 * last. */
#define MEM_MAX_SAMPLES 66

/* Sets sparse mode for the next mem_init() (after mem_deinit()). */
void mem_set_sparse(bool on);
bool mem_sparse(void);

/*
 * The byte ranges [r[i][0], r[i][1]) of a block of n bytes that the driver
 * writes and checks, in ascending order of start; returns their number.
 * All of [0, n) unless n is giant on the sparse heap: then the window
 * [0, W), a window [2^k, 2^k + W) for each 2^k in [W, n), and the last
 * window [(n - W) rounded down to 8, n), clipped to n (W =
 * MEM_SAMPLE_BYTES). Every start is a multiple of 8. For m <= n, the last
 * window of n clipped to m lies inside the last window of m.
 */
size_t mem_sample_ranges(size_t n, size_t r[][2]);

/*
 * memcpy and memset for mm.c (CMU's kit names: its mm.c says `#define
 * memcpy mem_memcpy` under -DDRIVER). On the dense heap they are memcpy and
 * memset; for a giant block on the sparse heap they copy or set only the
 * ranges of mem_sample_ranges(n). Return dst, like memcpy and memset.
 */
void *mem_memcpy(void *dst, const void *src, size_t n);
void *mem_memset(void *dst, int c, size_t n);
/* memmove, the same way (the kit's own addition: overlapping copies). */
void *mem_memmove(void *dst, const void *src, size_t n);

/*
 * For mdriver only: the heap's high-water mark, the largest size the heap
 * has had since the last mem_reset_peak(), which sets it to the current
 * size. Util divides by it, not by the final size: mem_reset_brk() does not
 * lower it, so an mm.c that empties its heap and starts again gains nothing.
 */
size_t mem_heap_peak(void);
void mem_reset_peak(void);

#endif /* MEMLIB_H */
