/*
 * mm.c - YOUR allocator. Replace this comment with the drawing of your
 * blocks and heap, and the numbered list of your invariants (README.md
 * holds the full design document; write it first).
 *
 * This skeleton compiles without a warning and does nothing useful yet:
 * mm_malloc returns NULL, so mdriver reports "null return" at the first
 * request of every trace (an error, not a crash). Suggested order of work,
 * the lab's phases:
 *   1. README.md: block layout, minimum block size, prologue/epilogue,
 *      the primitives in pseudo-code, the invariants.
 *   2. mm_checkheap: one small predicate per invariant; it must print
 *      nothing on a good heap and name the invariant, the address and
 *      `line` on a bad one (tools/grade corrupts a header to test it).
 *   3. mm_init, mm_malloc, mm_free with an implicit list, then placement
 *      policies, then mm_realloc and mm_calloc.
 *   4. Coalescing (optional), then explicit or segregated free lists.
 *
 * The rules (tools/grade checks each one; `make test` checks most):
 * memory only from memlib.h's mem_sbrk (never malloc, mmap, sbrk, and
 * never the driver's mem_init/mem_deinit/mem_reset_brk); at most 256 bytes
 * of static data; no function-like macros except dbg_* contracts (write
 * static inline functions); every payload 16-byte aligned.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "memlib.h"
#include "mm.h"

/* Every payload address is a multiple of this. */
static const size_t PAYLOAD_ALIGN = 16;

/* Rounds n up to a multiple of PAYLOAD_ALIGN (an example of a typed helper). */
static inline size_t align_up(size_t n)
{
    return (n + PAYLOAD_ALIGN - 1) / PAYLOAD_ALIGN * PAYLOAD_ALIGN;
}

bool mm_init(void)
{
    /* STUB: set up the prologue and epilogue with mem_sbrk. */
    return true;
}

void *mm_malloc(size_t size)
{
    /* STUB: find a fit, else extend the heap; place the block. */
    (void)align_up(size);
    return NULL;
}

void mm_free(void *ptr)
{
    /* STUB: mark the block free (and coalesce, phase 4). */
    (void)ptr;
}

void *mm_realloc(void *ptr, size_t size)
{
    /* STUB: realloc(NULL, n) is malloc(n); realloc(p, 0) frees p and
     * returns NULL; otherwise move the payload's first bytes if needed. */
    (void)ptr;
    (void)size;
    return NULL;
}

void *mm_calloc(size_t nmemb, size_t size)
{
    /* STUB: check nmemb * size for overflow, malloc, zero the payload. */
    (void)nmemb;
    (void)size;
    return NULL;
}

bool mm_checkheap(int line)
{
    /* STUB: check each invariant; print one line per broken one, naming
     * the invariant, the address and `line`; return false if any broke. */
    (void)line;
    return true;
}
