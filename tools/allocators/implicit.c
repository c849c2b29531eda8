/*
 * implicit.c - comparison allocator: the CS:APP textbook implicit free list
 * (first fit, boundary tags, immediate coalescing, realloc = malloc + copy
 * + free). It exists to show that the default trace suite tells it apart
 * from an explicit list and from the reference's segregated lists; build
 *     make -C malloc -B OUT=../build/mdriver-implicit \
 *         MM=../tools/allocators/implicit.c
 *
 * BLOCK (size >= 32, a multiple of 16; the payload is 16-byte aligned)
 *
 *     +--------------------------------+ <- block_t *b (address = 8 mod 16)
 *     | header: size | A               |  8 bytes
 *     +--------------------------------+ <- payload (address = 0 mod 16)
 *     | payload (size - 16 bytes)      |
 *     +--------------------------------+
 *     | footer == header               |  8 bytes
 *     +--------------------------------+ <- next block's header
 *
 *     A (bit 0) = allocated. Every block, free or not, has a footer.
 *
 * THE HEAP
 *
 *     heap start (16-aligned)                                   break
 *     v                                                             v
 *     +-----+--------+--------+---------+-- ... --+---------+-------+
 *     | pad | prol.  | prol.  | block 1 |         | block n | epil. |
 *     |  8  | hdr 16 | ftr 16 |         |         |         | 0 | A |
 *     +-----+--------+--------+---------+-- ... --+---------+-------+
 *
 * INVARIANTS (mm_checkheap reports them by number)
 *   1. Every payload is 16-byte aligned; every size a multiple of 16, and
 *      at least 32 (except the prologue, 16, and the epilogue, 0).
 *   2. Every block's footer equals its header.
 *   3. The blocks tile the heap: from the prologue, stepping by size, the
 *      walk lands exactly on the epilogue, the last word before the break.
 *   4. No two free blocks are adjacent (coalescing is immediate).
 */
#include "mm.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "memlib.h"

typedef uint64_t word_t;

typedef struct block {
    word_t header;
    unsigned char payload[];
} block_t;

static const size_t WSIZE = sizeof(word_t); /* header or footer: 8 bytes */
static const size_t ALIGNMENT = 16;
static const size_t MIN_BLOCK = 32; /* header, 16 payload, footer */
static const size_t CHUNK = 4096;   /* least heap extension */
static const size_t MAX_REQUEST = (size_t)1 << 40;
static const word_t ALLOC_BIT = 1;

static block_t *heap_start; /* the prologue */

/* ---------------------------------------------------------------- words */

static inline word_t pack(size_t size, bool alloc)
{
    return (word_t)size | (alloc ? ALLOC_BIT : 0);
}

static inline size_t get_size(const block_t *b)
{
    return (size_t)(b->header & ~(word_t)(ALIGNMENT - 1));
}

static inline bool get_alloc(const block_t *b)
{
    return (b->header & ALLOC_BIT) != 0;
}

static inline word_t *header_to_footer(block_t *b)
{
    return (word_t *)((char *)b + get_size(b) - WSIZE);
}

static inline block_t *payload_to_header(void *bp)
{
    return (block_t *)((char *)bp - offsetof(block_t, payload));
}

static inline void *header_to_payload(block_t *b)
{
    return b->payload;
}

static inline block_t *find_next(block_t *b)
{
    return (block_t *)((char *)b + get_size(b));
}

static inline block_t *find_prev(block_t *b)
{
    word_t *prev_footer = (word_t *)b - 1;
    size_t size = (size_t)(*prev_footer & ~(word_t)(ALIGNMENT - 1));
    return (block_t *)((char *)b - size);
}

static inline void write_block(block_t *b, size_t size, bool alloc)
{
    b->header = pack(size, alloc);
    *header_to_footer(b) = pack(size, alloc);
}

static inline size_t round_up(size_t n, size_t to)
{
    return (n + to - 1) / to * to;
}

/* Block size for a request: payload plus header and footer, aligned. */
static inline size_t adjust_size(size_t size)
{
    size_t asize = round_up(size + 2 * WSIZE, ALIGNMENT);
    return asize < MIN_BLOCK ? MIN_BLOCK : asize;
}

/* ------------------------------------------------------------- the heap */

static block_t *coalesce(block_t *b)
{
    block_t *next = find_next(b);
    block_t *prev = find_prev(b);
    size_t size = get_size(b);
    if (!get_alloc(next))
        size += get_size(next);
    if (!get_alloc(prev)) {
        size += get_size(prev);
        b = prev;
    }
    write_block(b, size, /* alloc= */ false);
    return b;
}

/* Grows the heap by `bytes` (a multiple of 16); returns the free block. */
static block_t *extend_heap(size_t bytes)
{
    char *p = mem_sbrk((intptr_t)bytes);
    if (p == (void *)-1)
        return NULL;
    block_t *b = (block_t *)(p - WSIZE); /* the old epilogue */
    write_block(b, bytes, /* alloc= */ false);
    find_next(b)->header = pack(0, /* alloc= */ true); /* the new epilogue */
    return coalesce(b);
}

/* First fit: the first free block of at least asize bytes, or NULL. */
static block_t *find_fit(size_t asize)
{
    for (block_t *b = heap_start; get_size(b) > 0; b = find_next(b)) {
        if (!get_alloc(b) && get_size(b) >= asize)
            return b;
    }
    return NULL;
}

/* Allocates asize bytes of free block b, splitting off the rest. */
static void place(block_t *b, size_t asize)
{
    size_t size = get_size(b);
    if (size - asize >= MIN_BLOCK) {
        write_block(b, asize, /* alloc= */ true);
        write_block(find_next(b), size - asize, /* alloc= */ false);
    } else {
        write_block(b, size, /* alloc= */ true);
    }
}

bool mm_init(void)
{
    word_t *start = mem_sbrk((intptr_t)(4 * WSIZE));
    if (start == (void *)-1)
        return false;
    start[0] = 0;                                  /* padding */
    start[1] = pack(2 * WSIZE, /* alloc= */ true); /* prologue header */
    start[2] = pack(2 * WSIZE, /* alloc= */ true); /* prologue footer */
    start[3] = pack(0, /* alloc= */ true);         /* epilogue */
    heap_start = (block_t *)&start[1];
    return extend_heap(CHUNK) != NULL;
}

void *mm_malloc(size_t size)
{
    if (size == 0 || size > MAX_REQUEST)
        return NULL;
    size_t asize = adjust_size(size);
    block_t *b = find_fit(asize);
    if (b == NULL) {
        b = extend_heap(asize > CHUNK ? asize : CHUNK);
        if (b == NULL)
            return NULL;
    }
    place(b, asize);
    return header_to_payload(b);
}

void mm_free(void *ptr)
{
    if (ptr == NULL)
        return;
    block_t *b = payload_to_header(ptr);
    write_block(b, get_size(b), /* alloc= */ false);
    coalesce(b);
}

void *mm_realloc(void *ptr, size_t size)
{
    if (ptr == NULL)
        return mm_malloc(size);
    if (size == 0) {
        mm_free(ptr);
        return NULL;
    }
    void *fresh = mm_malloc(size);
    if (fresh == NULL)
        return NULL;
    size_t old = get_size(payload_to_header(ptr)) - 2 * WSIZE;
    memcpy(fresh, ptr, old < size ? old : size);
    mm_free(ptr);
    return fresh;
}

void *mm_calloc(size_t nmemb, size_t size)
{
    if (size != 0 && nmemb > SIZE_MAX / size)
        return NULL;
    void *p = mm_malloc(nmemb * size);
    if (p != NULL)
        memset(p, 0, nmemb * size);
    return p;
}

/* --------------------------------------------------------- the checker */

static bool report(int line, int invariant, const char *what, const void *at)
{
    printf("mm_checkheap (line %d): invariant %d broken: %s at %p\n", line,
           invariant, what, at);
    return false;
}

static bool in_heap(const void *p)
{
    return p >= mem_heap_lo() && p <= mem_heap_hi();
}

static bool check_block(int line, block_t *b, block_t *prev)
{
    size_t size = get_size(b);
    if ((uintptr_t)header_to_payload(b) % ALIGNMENT != 0 || size < MIN_BLOCK)
        return report(line, 1, "misaligned or too small block", b);
    if (!in_heap(header_to_footer(b)))
        return report(line, 3, "block runs past the break", b);
    if (*header_to_footer(b) != b->header)
        return report(line, 2, "footer differs from header", b);
    if (prev != NULL && !get_alloc(prev) && !get_alloc(b))
        return report(line, 4, "two adjacent free blocks", b);
    return true;
}

bool mm_checkheap(int line)
{
    if (heap_start == NULL || get_size(heap_start) != 2 * WSIZE ||
        !get_alloc(heap_start) ||
        *header_to_footer(heap_start) != heap_start->header)
        return report(line, 3, "bad prologue", heap_start);
    block_t *prev = NULL;
    block_t *b = find_next(heap_start);
    size_t bound = mem_heapsize() / MIN_BLOCK + 1;
    for (;; b = find_next(b)) {
        if (bound-- == 0 || !in_heap(b))
            return report(line, 3, "heap walk does not end", b);
        if (get_size(b) == 0)
            break;
        if (!check_block(line, b, prev))
            return false;
        prev = b;
    }
    if ((char *)b + WSIZE != (char *)mem_heap_hi() + 1 || !get_alloc(b))
        return report(line, 3, "epilogue is not the last word", b);
    return true;
}
