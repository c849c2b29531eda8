/*
 * mm.c - the kit's reference allocator: segregated explicit free lists with
 * boundary tags, 16-byte aligned payloads, 8-byte headers, no footer in
 * allocated blocks, and 16-byte "mini" free blocks. docs/design.md explains
 * every choice and the numbers behind it.
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
 * next/prev are offsets of the neighbouring list nodes from the heap base
 * in 16-byte units (0 is null): 32 bits cover a 64 GiB heap. A free block
 * sits in one of 40 doubly linked lists by size class: one class per size
 * 16, 32, ..., 128; four per power of two up to 8 KiB; then one per power
 * of two (the last holds everything above 1 MiB).
 *
 * CACHED ("QUICK") BLOCK: a freed block of at most 128 bytes first goes to
 * the singly linked quick list of its exact size, unchanged but for the Q
 * bit and `next` in its payload. For the heap it is still allocated (no
 * coalescing); a malloc of that size takes it back in O(1); all quick
 * lists are flushed (freed for real) before the heap would grow.
 *
 * HEADER WORD (64 bits)
 *
 *     63     48 47 46   41  40  39                  4   3   2   1   0
 *     +--------+--+-------+---+----------------------+---+---+---+---+
 *     | arena  |0 | class | Q |  size / 16           | 0 | M | P | A |
 *     +--------+--+-------+---+----------------------+---+---+---+---+
 *     A = this block is allocated      P = the previous block is allocated
 *     M = the previous block is a free mini block (so it has no footer)
 *     Q = this allocated block is cached in a quick list
 *     class = a free block's size class, its list (0 in allocated blocks:
 *     unlinking a block needs no class computation)
 *     arena = reserved for the per-CPU arena mode (always 0 here); bit 3
 *     and bit 47 are 0
 *
 * THE HEAP
 *
 *     first break   heap_base (16-aligned)                         break
 *     v             v                                                  v
 *     +-------------+---------+---------+-- ... --+---------+----------+
 *     | pad 0..15 B | prolog. | block 1 |         | block n | epilogue |
 *     | (0: memlib  | 0|A|P   |         |         |         | 0|A      |
 *     | pages)      | 8 bytes |         |         |         | 8 bytes  |
 *     +-------------+---------+---------+-- ... --+---------+----------+
 *     The prologue is a header-only word (size 0, allocated) that puts the
 *     first header at 8 mod 16; the epilogue is a header (size 0,
 *     allocated) that is always the last word before the break.
 *
 * INVARIANTS (mm_checkheap reports them by number)
 *   1. A free block of 32 bytes or more has a footer equal to its header.
 *   2. Every payload is 16-byte aligned (every header is at 8 mod 16).
 *   3. Every block's size is at least 16 and a multiple of 16 (bit 3 of
 *      the header is 0).
 *   4. The blocks tile the heap: from the prologue, stepping by size, the
 *      walk lands exactly on the epilogue.
 *   5. The epilogue (size 0, allocated) is the last word before the break.
 *   6. Each block's P and M bits tell the truth about the previous block.
 *   7. No two free blocks are adjacent (unless built with MM_NO_COALESCE).
 *   8. Every free-list node lies inside the heap and is a free block.
 *   9. In each list, next->prev == self (and the head's prev is null).
 *  10. No list has a cycle (every walk is bounded by the number of blocks).
 *  11. Every free block is in the list of its size class, its header's
 *      class field names that class (and is 0 in an allocated block), and
 *      bit c of `nonempty` is set exactly when list c is not empty.
 *  12. The heap walk and the free lists count the same free blocks.
 *  13. Every quick-list node is inside the heap, allocated, marked Q and of
 *      its list's exact size; the heap walk and the quick lists count the
 *      same Q blocks (and no free block is marked Q).
 *
 * BUILD SWITCHES (the one place they are documented)
 *   MM_DEBUG=0  no checks (default); 1 = O(1) contracts on helpers and
 *               poisoning of freed and fresh payloads; 2 = also a full
 *               mm_checkheap on entry and exit of every public call.
 *   MM_FIT=MM_FIT_FIRST | MM_FIT_NEXT | MM_FIT_BEST (default)
 *   MM_NO_COALESCE   never merge free blocks (the lab's phase 3)
 *   MM_NO_QUICK      no quick lists: every free coalesces at once
 *   MM_ALLOC_FOOTER  allocated blocks keep a footer (the textbook layout),
 *                    to measure what dropping it buys
 *   MM_LOW_SMALL=0   small requests are not placed low while a block grows,
 *                    and a recent realloc block keeps no rest (on by
 *                    default; docs/design.md, "Small requests while a block
 *                    grows")
 */
#include "mm.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memlib.h"

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
/* Small requests placed low while a block grows (docs/design.md, "Small
 * requests while a block grows"): on unless -DMM_LOW_SMALL=0. */
#ifndef MM_LOW_SMALL
#define MM_LOW_SMALL 1
#endif
enum { LOW_SMALL = MM_LOW_SMALL != 0 };

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
#define dbg_assert(expr) dbg_requires(expr)

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
    WSIZE = sizeof(word_t), /* header, footer, prologue, epilogue */
    ALIGNMENT = 16,
    MIN_BLOCK = 16,    /* header + two 32-bit links */
    SMALL_CLASSES = 8, /* one class per size 16, 32, ..., 128 */
    SMALL_CLASS_LOG2 = 7,
    SUBCLASS_BITS = 2, /* then 4 classes per power of two ... */
    SUBCLASSES = 1 << SUBCLASS_BITS,
    FINE_OCTAVES = 6,  /* ... from 128 up to 8 KiB ... */
    NUM_CLASSES = 40,  /* ... then one per power of two, the last > 1 MiB */
    QUICK_CLASSES = 8, /* quick lists: one per size 16, 32, ..., 128 */
    QUICK_MAX = QUICK_CLASSES * ALIGNMENT,
    SMALL_CLASS_MAX = SMALL_CLASSES * ALIGNMENT,
    BEST_FIT_SCAN = 16,   /* nodes examined after the first fit */
    HIGH_PLACE_MAX = 512, /* requests placed at the top of the last block */
    RECENT_GROWERS = 4,   /* blocks remembered as grown by realloc */
    LOW_PLACE_MAX = 256,  /* small requests placed low while a grower lives */
    LOW_SCAN = 16,        /* free blocks looked at for the lowest fit */
    GROWER_MIN = 512,     /* growers that small requests keep away from */
    GROWER_SLACK = 128,   /* a grower keeps a rest of at most this much */
    ALLOC_OVERHEAD = ALLOC_FOOTER ? 2 * WSIZE : WSIZE,
    DEBUG_POISON_FREE = 0xdb,
    DEBUG_POISON_FRESH = 0xab,
};

static const word_t ALLOC_BIT = 0x1;
static const word_t PREV_ALLOC_BIT = 0x2;
static const word_t PREV_MINI_BIT = 0x4;
static const word_t RESERVED_BIT = 0x8;
static const word_t SIZE_MASK = 0x000000fffffffff0; /* sizes < 1 TiB */
static const word_t QUICK_BIT = (word_t)1 << 40;
static const int CLASS_SHIFT = 41; /* a free block's size class: 6 bits */
static const word_t CLASS_MASK = (word_t)0x3f << 41;
static const size_t MAX_REQUEST = (size_t)1 << 36; /* 64 GiB of offsets */

/* ---- The allocator's state (static data is limited to 256 bytes) ------- */

static char *heap_base;   /* the prologue word: list offsets count here */
static block_t *epilogue; /* invariant 5: last word before the break */
static uint32_t rover;    /* next fit: where the next search starts */
static uint32_t recent_growers[RECENT_GROWERS]; /* a hint: see place_block */
static uint32_t next_grower;                    /* round robin in it */
static uint32_t big_growers;             /* bit i: entry i was > GROWER_MIN */
static uint32_t free_heads[NUM_CLASSES]; /* list heads, offsets (0 = null) */
static uint64_t nonempty;                /* bit c set <=> list c is not empty */
static uint32_t quick_heads[QUICK_CLASSES]; /* cached small blocks */

/* ---- Header words --------------------------------------------------------*/

static inline word_t pack(size_t size, bool alloc, bool prev_alloc,
                          bool prev_mini)
{
    word_t w = (word_t)size;
    if (alloc)
        w |= ALLOC_BIT;
    if (prev_alloc)
        w |= PREV_ALLOC_BIT;
    if (prev_mini)
        w |= PREV_MINI_BIT;
    return w;
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
    return extract_size(b->header);
}
static inline bool get_alloc(const block_t *b)
{
    return extract_alloc(b->header);
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
    return (b->header & QUICK_BIT) != 0;
}

/* The size class a free block's header records (0 in allocated blocks). */
static inline size_t extract_class(word_t w)
{
    return (size_t)((w & CLASS_MASK) >> CLASS_SHIFT);
}

static inline word_t class_bits(size_t c)
{
    return (word_t)c << CLASS_SHIFT;
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
    dbg_requires(get_size(b) != 0 && "the epilogue has no successor");
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

/* The prologue: a header of size 0, allocated, that nothing precedes. */
static inline word_t prologue_word(void)
{
    return pack(0, /*alloc=*/true, /*prev_alloc=*/true, /*prev_mini=*/false);
}

static inline block_t *first_block(void)
{
    return (block_t *)(heap_base + WSIZE);
}

/* ---- Writing blocks -----------------------------------------------------*/

/* Writes b's header, and its footer when it has one. */
static inline void write_block(block_t *b, size_t size, bool alloc,
                               bool prev_alloc, bool prev_mini)
{
    dbg_requires(size % ALIGNMENT == 0);
    b->header = pack(size, alloc, prev_alloc, prev_mini);
    if (has_footer(b->header))
        *header_to_footer(b) = b->header;
}

/* Replaces b's header word (and footer, if it has one) with h. */
static inline void rewrite_header(block_t *b, word_t h)
{
    b->header = h;
    if (has_footer(h))
        *header_to_footer(b) = h;
}

/* Tells the block after b what b now is (invariant 6), changing only the
 * P and M bits of its header (and footer). */
static inline void sync_next(block_t *b)
{
    block_t *next = find_next(b);
    word_t h = next->header & ~(PREV_ALLOC_BIT | PREV_MINI_BIT);
    if (get_alloc(b))
        h |= PREV_ALLOC_BIT;
    else if (get_size(b) == MIN_BLOCK)
        h |= PREV_MINI_BIT;
    rewrite_header(next, h);
}

/* Writes the epilogue at b: the last word before the break. */
static void write_epilogue(block_t *b, bool prev_alloc, bool prev_mini)
{
    b->header = pack(0, /*alloc=*/true, prev_alloc, prev_mini);
    epilogue = b;
}

/* ---- Free lists ---------------------------------------------------------*/

static inline uint32_t to_offset(const block_t *b)
{
    uintptr_t bytes = (uintptr_t)b - (uintptr_t)heap_base + WSIZE;
    return b == NULL ? 0 : (uint32_t)(bytes / ALIGNMENT);
}

static inline block_t *from_offset(uint32_t off)
{
    if (off == 0)
        return NULL;
    return (block_t *)(heap_base + (size_t)off * ALIGNMENT - WSIZE);
}

/* The block at offset off, computed without the null test: off must not be
 * 0, or the result must only be compared or selected, never dereferenced
 * (the branchless list updates below choose between it and another
 * address). */
static inline block_t *node_at(uint32_t off)
{
    return (block_t *)((uintptr_t)heap_base + (uintptr_t)off * ALIGNMENT -
                       WSIZE);
}

/* The size class. It branches on the size (exact classes up to 128
 * bytes); a branchless version (both formulas and a select) was slower on
 * the suite (docs/design.md, "Speed without moving a block"). */
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

/* a if cond, else b, without a branch: the list updates below select the
 * word to write this way, because gcc turns a ?: of two addresses into a
 * branch that random sizes mispredict. */
static inline uint32_t *select_word(bool cond, uint32_t *a, uint32_t *b)
{
    uintptr_t mask = (uintptr_t)0 - (uintptr_t)cond;
    return (uint32_t *)(((uintptr_t)a & mask) | ((uintptr_t)b & ~mask));
}

/* Pushes free block b on the front of list c. Branchless: when the list is
 * empty, the old head's prev link that would take b's offset is b's own,
 * which is then cleared. */
static inline void push_free(block_t *b, size_t c)
{
    uint32_t self = to_offset(b), head = free_heads[c];
    uint32_t *back =
        select_word(head != 0, &node_at(head)->links.prev, &b->links.prev);
    b->links.next = head;
    *back = self;
    b->links.prev = 0;
    free_heads[c] = self;
    nonempty |= (uint64_t)1 << c;
}

/* Pushes free block b on the front of its class's list. */
static inline void insert_free(block_t *b)
{
    dbg_requires(!get_alloc(b));
    size_t c = size_class(get_size(b));
    rewrite_header(b, (b->header & ~CLASS_MASK) | class_bits(c));
    push_free(b, c);
}

/* Unlinks free block b from list c (its class's, which the caller knows:
 * find_fit's class or the header's class field). With branches: an unlink
 * without them was slower on the traces whose branches predict well
 * (docs/design.md, "Speed without moving a block"). */
static inline void unlink_free(block_t *b, size_t c)
{
    dbg_requires(!get_alloc(b) && size_class(get_size(b)) == c);
    uint32_t next = b->links.next, prev = b->links.prev;
    if (prev != 0) {
        node_at(prev)->links.next = next;
    } else {
        free_heads[c] = next;
        if (next == 0)
            nonempty &= ~((uint64_t)1 << c);
    }
    if (next != 0)
        node_at(next)->links.prev = prev;
    if (MM_FIT == MM_FIT_NEXT && rover == to_offset(b))
        rover = next;
}

static inline void remove_free(block_t *b)
{
    unlink_free(b, extract_class(b->header));
}

/* ---- Quick lists: freed small blocks, cached without coalescing ---------*/

static inline size_t quick_class(size_t size)
{
    return size / ALIGNMENT - 1;
}

/* Caches allocated block b (at most QUICK_MAX bytes): it stays allocated
 * for the heap, marked Q, until a malloc of its size or a flush. */
static inline void push_quick(block_t *b)
{
    dbg_requires(get_alloc(b) && !get_quick(b) && get_size(b) <= QUICK_MAX);
    size_t q = quick_class(get_size(b));
    if (ALLOC_FOOTER)
        rewrite_header(b, b->header | QUICK_BIT);
    else /* allocated: no footer */
        b->header |= QUICK_BIT;
    b->links.next = quick_heads[q];
    quick_heads[q] = to_offset(b);
}

/* A cached block of exactly asize bytes, back in use, or NULL. */
static inline block_t *pop_quick(size_t asize)
{
    size_t q = quick_class(asize);
    block_t *b = from_offset(quick_heads[q]);
    if (b != NULL) {
        quick_heads[q] = b->links.next;
        if (ALLOC_FOOTER)
            rewrite_header(b, b->header & ~QUICK_BIT);
        else /* allocated: no footer */
            b->header &= ~QUICK_BIT;
    }
    return b;
}

static block_t *free_block(block_t *b);

/* Frees every cached block for real (coalescing); true if there was one. */
static bool flush_quick(void)
{
    bool any = false;
    for (size_t q = 0; q < QUICK_CLASSES; q++) {
        block_t *b;
        while ((b = pop_quick((q + 1) * ALIGNMENT)) != NULL) {
            free_block(b);
            any = true;
        }
    }
    return any;
}

/* ---- Placement policies -------------------------------------------------*/

/* The first node from `from` up to `stop` (exclusive; 0 = end) that fits. */
static block_t *scan_first(uint32_t from, uint32_t stop, size_t asize)
{
    for (uint32_t o = from; o != 0 && o != stop;) {
        block_t *b = from_offset(o);
        if (get_size(b) >= asize)
            return b;
        o = b->links.next;
    }
    return NULL;
}

/* The smallest fitting node among the first BEST_FIT_SCAN from the first
 * fit on (ties: the first found); an exact fit stops the scan. */
static inline block_t *scan_best(uint32_t o, size_t asize)
{
    block_t *b;
    do { /* the first fit */
        if (o == 0)
            return NULL;
        b = node_at(o);
        o = b->links.next;
    } while (get_size(b) < asize);
    block_t *best = b;
    size_t best_size = get_size(b);
    for (int budget = BEST_FIT_SCAN - 1;
         o != 0 && budget > 0 && best_size != asize; budget--) {
        b = node_at(o);
        size_t size = get_size(b);
        /* asize <= size < best_size, as one unsigned compare (a cmov) */
        bool better = size - asize < best_size - asize;
        best = better ? b : best;
        best_size = better ? size : best_size;
        o = b->links.next;
    }
    return best;
}

/* Next fit in the request's own class: from the rover to the end, then from
 * the head up to the rover. */
static block_t *scan_next(size_t c, size_t asize)
{
    block_t *r = from_offset(rover);
    if (r == NULL || get_alloc(r) || size_class(get_size(r)) != c)
        return scan_first(free_heads[c], 0, asize);
    block_t *b = scan_first(rover, 0, asize);
    return b != NULL ? b : scan_first(free_heads[c], rover, asize);
}

/* A free block of at least asize bytes, and its class in *cls, or NULL. */
static inline block_t *find_fit(size_t asize, size_t *cls)
{
    uint64_t classes = nonempty & ~(((uint64_t)1 << size_class(asize)) - 1);
    for (; classes != 0; classes &= classes - 1) {
        size_t c = (size_t)__builtin_ctzll(classes);
        block_t *b;
        if (MM_FIT != MM_FIT_NEXT && c < SMALL_CLASSES)
            b = node_at(free_heads[c]); /* one size: the head fits best */
        else if (MM_FIT == MM_FIT_BEST)
            b = scan_best(free_heads[c], asize);
        else if (MM_FIT == MM_FIT_NEXT)
            b = scan_next(c, asize);
        else
            b = scan_first(free_heads[c], 0, asize);
        if (b != NULL) {
            if (MM_FIT == MM_FIT_NEXT)
                rover = to_offset(b);
            *cls = c;
            return b;
        }
    }
    return NULL;
}

/* ---- Coalescing, splitting, growing -------------------------------------*/

/* Merges free block b (not in a list) with its free neighbours, puts the
 * result in its list and returns it. The four cases: neither neighbour
 * free, only the next, only the previous, both. */
static inline block_t *coalesce(block_t *b)
{
    dbg_requires(!get_alloc(b));
    word_t h = b->header;
    size_t size = extract_size(h);
    block_t *next = (block_t *)((char *)b + size);
    word_t next_h = next->header;
    if (COALESCE && !extract_alloc(next_h)) {
        unlink_free(next, extract_class(next_h));
        size += extract_size(next_h);
    }
    if (COALESCE && !(h & PREV_ALLOC_BIT)) {
        b = find_prev(b);
        h = b->header;
        unlink_free(b, extract_class(h));
        size += extract_size(h);
    }
    size_t c = size_class(size);
    h = (h & (PREV_ALLOC_BIT | PREV_MINI_BIT)) | size | class_bits(c);
    b->header = h;
    if (COALESCE && !ALLOC_FOOTER) {
        /* The block after is allocated (invariant 7 held before): it has
         * no footer, only its P and M bits change. The footer is written
         * even for a mini block, where it is the links push_free writes. */
        block_t *after = (block_t *)((char *)b + size);
        *((word_t *)after - 1) = h;
        after->header = (after->header & ~(PREV_ALLOC_BIT | PREV_MINI_BIT)) |
                        (size == MIN_BLOCK) * PREV_MINI_BIT;
    } else {
        rewrite_header(b, h);
        sync_next(b);
    }
    push_free(b, c);
    return b;
}

/* Marks allocated block b free and coalesces it. */
static block_t *free_block(block_t *b)
{
    dbg_requires(get_alloc(b) && !get_quick(b));
    b->header &= ~ALLOC_BIT; /* coalesce writes the final header and footer */
    if (MM_DEBUG >= 1 && get_size(b) > MIN_BLOCK)
        memset(b->payload + sizeof b->links, DEBUG_POISON_FREE,
               get_size(b) - MIN_BLOCK - WSIZE);
    return coalesce(b);
}

/* Marks b (out of any list) allocated with exactly `size` bytes; the rest,
 * if it can hold a block, becomes a free block (coalesced with the next). */
static inline void split_block(block_t *b, size_t size)
{
    size_t total = get_size(b);
    dbg_requires(size <= total && size % ALIGNMENT == 0);
    if (total - size < MIN_BLOCK)
        size = total;
    write_block(b, size, /*alloc=*/true, get_prev_alloc(b), get_prev_mini(b));
    if (size == total) {
        sync_next(b);
        return;
    }
    block_t *rest = find_next(b);
    write_block(rest, total - size, /*alloc=*/false, /*prev_alloc=*/true,
                /*prev_mini=*/false);
    if (get_alloc(find_next(rest))) { /* the usual case: nothing to merge */
        sync_next(rest);
        insert_free(rest);
    } else {
        coalesce(rest);
    }
}

/* split_block for a free block b (out of its list) that malloc or realloc
 * takes: its next block is allocated (invariant 7), so the rest merges
 * with nothing and only the P and M bits of the next block change. */
static inline void split_free(block_t *b, size_t size)
{
    if (!COALESCE || ALLOC_FOOTER) {
        split_block(b, size);
        return;
    }
    dbg_requires(!get_alloc(b) && get_alloc(find_next(b)));
    word_t h = b->header;
    size_t total = extract_size(h), rest = total - size;
    dbg_requires(size <= total && size % ALIGNMENT == 0);
    word_t bits = h & (PREV_ALLOC_BIT | PREV_MINI_BIT);
    block_t *next = (block_t *)((char *)b + total);
    word_t next_h = next->header & ~(PREV_ALLOC_BIT | PREV_MINI_BIT);
    if (rest < MIN_BLOCK) {
        b->header = bits | total | ALLOC_BIT;
        next->header = next_h | PREV_ALLOC_BIT;
        return;
    }
    b->header = bits | size | ALLOC_BIT;
    block_t *r = (block_t *)((char *)b + size);
    size_t c = size_class(rest);
    word_t rest_h = rest | PREV_ALLOC_BIT | class_bits(c);
    r->header = rest_h;
    *((word_t *)next - 1) = rest_h; /* mini: the links, written next */
    next->header = next_h | (rest == MIN_BLOCK) * PREV_MINI_BIT;
    push_free(r, c);
}

/* Grows the heap by `bytes` and returns the new free block (coalesced with
 * a free block at the end of the heap), or NULL. */
static block_t *extend_heap(size_t bytes)
{
    dbg_requires(bytes % ALIGNMENT == 0 && bytes >= MIN_BLOCK);
    if (bytes > MAX_REQUEST || mem_sbrk((intptr_t)bytes) == (void *)-1)
        return NULL;
    block_t *b = epilogue; /* the old epilogue becomes the new header */
    write_block(b, bytes, /*alloc=*/false, get_prev_alloc(b), get_prev_mini(b));
    write_epilogue(find_next(b), /*prev_alloc=*/false,
                   /*prev_mini=*/bytes == MIN_BLOCK);
    return coalesce(b);
}

/* The free block at the end of the heap, or NULL. */
static block_t *last_free_block(void)
{
    if (!COALESCE || get_prev_alloc(epilogue))
        return NULL;
    return find_prev(epilogue);
}

/* ---- Small requests away from growing blocks ---------------------------*/

static bool follows_grower(const block_t *b);

/* Whether one of the blocks realloc recently returned larger than
 * GROWER_MIN is still allocated and that large. The entries are hints (see
 * follows_grower): a stale one only changes where a small block goes. */
static inline bool grower_alive(void)
{
    for (uint32_t m = big_growers; m != 0; m &= m - 1) {
        const block_t *g = from_offset(recent_growers[__builtin_ctz(m)]);
        if (g != NULL && g < epilogue && get_alloc(g) && !get_quick(g) &&
            get_size(g) > GROWER_MIN)
            return true;
    }
    return false;
}

/* For a small request whose best fit b is a larger block: while a grower
 * lives, the lowest-addressed block of at least asize bytes among b and
 * the first LOW_SCAN list nodes from asize's class up; else b. Small
 * blocks placed low stay out of the holes that growing blocks leave and
 * grow into, higher up (docs/design.md, "Small requests while a block
 * grows"). Out of line: the slow path stays out of mm_malloc. */
static __attribute__((noinline)) block_t *small_fit(size_t asize, block_t *b,
                                                    size_t *cls)
{
    if (!grower_alive())
        return b;
    uint64_t classes = nonempty & ~(((uint64_t)1 << size_class(asize)) - 1);
    int budget = LOW_SCAN;
    for (; classes != 0 && budget > 0; classes &= classes - 1) {
        size_t c = (size_t)__builtin_ctzll(classes);
        uint32_t o = free_heads[c];
        for (; o != 0 && budget > 0; budget--) {
            block_t *f = from_offset(o);
            if (f < b && get_size(f) >= asize) {
                b = f;
                *cls = c;
            }
            o = f->links.next;
        }
    }
    return b;
}

/* A free block of at least asize bytes, out of its list, or NULL. A small
 * request that would split a larger block, or take the free block right
 * after a recent realloc block, while a grower lives takes the lowest
 * fitting block instead of the best fit (small_fit; off with
 * -DMM_LOW_SMALL=0). Forced inline:
 * with the small_fit test gcc stopped inlining it into mm_malloc, which
 * cost random-uniform.rep 11% more instructions in mm_malloc (callgrind);
 * forced, 1% (the test and its load). */
static inline __attribute__((always_inline)) block_t *
take_free_block(size_t asize)
{
    size_t c = 0;
    block_t *b = find_fit(asize, &c);
    if (LOW_SMALL && big_growers != 0 && b != NULL && asize <= LOW_PLACE_MAX &&
        (get_size(b) > SMALL_CLASS_MAX || follows_grower(b)))
        b = small_fit(asize, b, &c);
    if (b == NULL && QUICK && flush_quick())
        b = find_fit(asize, &c);
    if (b == NULL) {
        block_t *last = last_free_block();
        size_t have = last != NULL ? get_size(last) : 0;
        b = extend_heap(asize - have);
        if (b == NULL)
            return NULL;
        c = extract_class(b->header);
    }
    unlink_free(b, c);
    return b;
}

/* ---- Placement at the end of the heap -----------------------------------*/

/* Remembers that realloc returned `now` for the block that was at `was`. */
static void remember_grower(block_t *was, block_t *now)
{
    uint32_t old = to_offset(was), new = to_offset(now);
    size_t i = 0;
    while (i < RECENT_GROWERS && recent_growers[i] != old &&
           recent_growers[i] != new)
        i++;
    if (i == RECENT_GROWERS) {
        i = next_grower;
        next_grower = (next_grower + 1) % RECENT_GROWERS;
    }
    recent_growers[i] = new;
    if (LOW_SMALL && get_size(now) > GROWER_MIN)
        big_growers |= 1u << i;
    else
        big_growers &= ~(1u << i);
}

/* Whether b directly follows a block that realloc recently returned. The
 * entries are hints: one may be stale (its block freed, merged or moved),
 * so it is read without contracts, and a wrong answer only changes where
 * a block is placed. Out of line, like split_high: the slow path stays
 * out of mm_malloc (inlined: 1.01x..1.04x glibc, against 1.03x..1.06x out
 * of line, 3 runs of `mdriver -l` each, side by side). */
static __attribute__((noinline)) bool follows_grower(const block_t *b)
{
    for (size_t i = 0; i < RECENT_GROWERS; i++) {
        const block_t *g = from_offset(recent_growers[i]);
        /* g < b, so b - g is defined; g + a stale size might not be */
        if (g != NULL && g < b && get_alloc(g) && !get_quick(g) &&
            get_size(g) == (size_t)((const char *)b - (const char *)g))
            return true;
    }
    return false;
}

/* Marks the top asize bytes of free block b (out of its list) allocated
 * and leaves the bottom free. Returns the allocated block. */
static __attribute__((noinline)) block_t *split_high(block_t *b, size_t asize)
{
    size_t rest = get_size(b) - asize;
    write_block(b, rest, /*alloc=*/false, get_prev_alloc(b), get_prev_mini(b));
    block_t *top = find_next(b);
    write_block(top, asize, /*alloc=*/true, /*prev_alloc=*/false,
                /*prev_mini=*/rest == MIN_BLOCK);
    sync_next(top);
    insert_free(b);
    return top;
}

/* Allocates asize bytes of free block b (out of its list). A small request
 * that splits the last block of the heap takes its top, so the free part
 * stays next to the blocks below, where a later free can merge with it
 * (docs/design.md, "Placement at the end of the heap"); except right after
 * a block that realloc grows, which keeps the room to grow in place. */
static inline block_t *place_block(block_t *b, size_t asize)
{
    size_t size = get_size(b);
    /* one branch, mostly not taken: & instead of && */
    if ((asize <= HIGH_PLACE_MAX) & (size - asize >= MIN_BLOCK) &
            ((char *)b + size == (char *)epilogue) &&
        !follows_grower(b))
        return split_high(b, asize);
    split_free(b, asize);
    return b;
}

/* ---- Checking arguments (on in every build: one path to failure) --------*/

static void fail_pointer(const char *func, const void *p, const char *why)
{
    fflush(stdout);
    fprintf(stderr, "%s(%p): invalid pointer: %s\n", func, p, why);
    abort();
}

/* The block of payload p, after checking that p is one we handed out and
 * that it is still allocated. */
static inline block_t *checked_block(const char *func, void *p)
{
    char *cp = p;
    if ((uintptr_t)cp % ALIGNMENT != 0)
        fail_pointer(func, p, "not 16-byte aligned");
    /* first_block() < cp <= epilogue, as one unsigned compare; in integers,
     * because before mm_init heap_base is NULL and first_block() would be
     * NULL + 8 (undefined: clang's UBSan stops there) */
    uintptr_t first = (uintptr_t)heap_base + WSIZE;
    if (heap_base == NULL ||
        (uintptr_t)cp - first - 1 >= (uintptr_t)epilogue - first)
        fail_pointer(func, p, "not inside the heap");
    block_t *b = payload_to_header(p);
    if ((b->header & (ALLOC_BIT | QUICK_BIT)) != ALLOC_BIT)
        fail_pointer(func, p, "not allocated (double free?)");
    return b;
}

#if MM_DEBUG >= 2
static void debug_checkheap(int line)
{
    if (!mm_checkheap(line))
        abort();
}
#else
static void debug_checkheap(int line)
{
    (void)line;
}
#endif

/* ---- The public interface -----------------------------------------------*/

bool mm_init(void)
{
    char *brk = mem_sbrk(0);
    if (brk == (void *)-1)
        return false;
    size_t pad = round_up((uintptr_t)brk, ALIGNMENT) - (uintptr_t)brk;
    if (mem_sbrk((intptr_t)(pad + 2 * WSIZE)) == (void *)-1)
        return false;
    heap_base = brk + pad;
    *(word_t *)heap_base = prologue_word();
    write_epilogue(first_block(), /*prev_alloc=*/true, /*prev_mini=*/false);
    memset(free_heads, 0, sizeof free_heads);
    memset(quick_heads, 0, sizeof quick_heads);
    nonempty = 0;
    rover = 0;
    memset(recent_growers, 0, sizeof recent_growers);
    next_grower = 0;
    big_growers = 0;
    debug_checkheap(__LINE__);
    return true;
}

void *mm_malloc(size_t size)
{
    debug_checkheap(__LINE__);
    if (size == 0 || size > MAX_REQUEST)
        return NULL;
    size_t asize = adjust_size(size);
    block_t *b = QUICK && asize <= QUICK_MAX ? pop_quick(asize) : NULL;
    if (b == NULL) {
        b = take_free_block(asize);
        if (b == NULL)
            return NULL;
        b = place_block(b, asize);
    }
    if (MM_DEBUG >= 1)
        memset(b->payload, DEBUG_POISON_FRESH, size);
    debug_checkheap(__LINE__);
    return header_to_payload(b);
}

void mm_free(void *ptr)
{
    if (ptr == NULL)
        return;
    debug_checkheap(__LINE__);
    block_t *b = checked_block("mm_free", ptr);
    if (QUICK && get_size(b) <= QUICK_MAX)
        push_quick(b);
    else
        free_block(b);
    debug_checkheap(__LINE__);
}

/* Whether b is one of the blocks realloc recently returned (a hint). */
static inline bool is_recent_grower(const block_t *b)
{
    uint32_t o = to_offset(b);
    bool found = false;
    for (size_t i = 0; i < RECENT_GROWERS; i++)
        found |= recent_growers[i] == o;
    return found;
}

/* The size realloc gives b (asize bytes asked for, total at hand): all of
 * total when b is a recent realloc block and the rest is at most
 * GROWER_SLACK bytes, so the rest stays b's room to grow instead of a free
 * block of an exact small class that best fit hands to the next small
 * request (docs/design.md, "Small requests while a block grows"). */
static inline size_t grower_size(const block_t *b, size_t total, size_t asize)
{
    if (LOW_SMALL && total - asize <= GROWER_SLACK && is_recent_grower(b))
        return total;
    return asize;
}

/* Grows b in place to asize using a free next block and, if extend, the end
 * of the heap. Returns false (changing nothing) when it cannot. */
static bool grow_forward(block_t *b, size_t asize, bool extend)
{
    block_t *next = find_next(b);
    size_t avail = get_size(b);
    if (!get_alloc(next))
        avail += get_size(next);
    bool at_end =
        next == epilogue || (!get_alloc(next) && find_next(next) == epilogue);
    if (avail < asize && !(extend && at_end))
        return false;
    if (avail < asize && (asize > MAX_REQUEST ||
                          mem_sbrk((intptr_t)(asize - avail)) == (void *)-1))
        return false;
    if (!get_alloc(next))
        remove_free(next);
    size_t total = avail < asize ? asize : avail;
    write_block(b, total, /*alloc=*/true, get_prev_alloc(b), get_prev_mini(b));
    if (avail < asize)
        write_epilogue(find_next(b), /*prev_alloc=*/true, /*prev_mini=*/false);
    split_block(b, grower_size(b, total, asize));
    return true;
}

/* Grows b to asize by sliding it down into a free previous block (and a
 * free next block). Returns the moved block, or NULL when it cannot. */
static block_t *grow_backward(block_t *b, size_t asize)
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
    remove_free(prev);
    if (!get_alloc(next))
        remove_free(next);
    write_block(prev, avail, /*alloc=*/true, get_prev_alloc(prev),
                get_prev_mini(prev));
    memmove(prev->payload, b->payload, keep);
    split_block(prev, asize);
    return prev;
}

/* Copies b's payload into the free block `to` (out of its list), sized
 * asize, and frees b. */
static block_t *move_block(block_t *b, block_t *to, size_t asize)
{
    split_free(to, asize);
    memcpy(to->payload, b->payload, get_size(b) - ALLOC_OVERHEAD);
    free_block(b);
    return to;
}

/* Realloc, cheapest for the heap first: in place without growing the heap,
 * then a free block elsewhere, then growing the heap under b, then a new
 * block at the end of the heap. */
static block_t *realloc_block(block_t *b, size_t asize)
{
    if (asize <= get_size(b)) {
        split_block(b, grower_size(b, get_size(b), asize));
        return b;
    }
    if (grow_forward(b, asize, /*extend=*/false))
        return b;
    block_t *to = grow_backward(b, asize);
    if (to != NULL)
        return to;
    if (QUICK && flush_quick()) { /* cached neighbours may free up room */
        if (grow_forward(b, asize, /*extend=*/false))
            return b;
        if ((to = grow_backward(b, asize)) != NULL)
            return to;
    }
    size_t c;
    to = find_fit(asize, &c);
    if (to != NULL) {
        unlink_free(to, c);
        return move_block(b, to, asize);
    }
    if (grow_forward(b, asize, /*extend=*/true))
        return b;
    to = take_free_block(asize);
    return to != NULL ? move_block(b, to, asize) : NULL;
}

void *mm_realloc(void *ptr, size_t size)
{
    if (ptr == NULL)
        return mm_malloc(size);
    block_t *b = checked_block("mm_realloc", ptr);
    if (size == 0) {
        mm_free(ptr);
        return NULL;
    }
    if (size > MAX_REQUEST)
        return NULL;
    debug_checkheap(__LINE__);
    block_t *moved = realloc_block(b, adjust_size(size));
    if (moved != NULL)
        remember_grower(b, moved);
    debug_checkheap(__LINE__);
    return moved != NULL ? header_to_payload(moved) : NULL;
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

/* P and M of b against the block before it (NULL: the prologue). */
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

static bool check_markers(int line, block_t *end)
{
    bool ok = true;
    if (*(word_t *)heap_base != prologue_word())
        ok = report(line, 4, "prologue overwritten", heap_base);
    if (epilogue != end || get_size(end) != 0 || !get_alloc(end))
        ok =
            report(line, 5, "epilogue not the last word before the break", end);
    return ok;
}

/* What the heap walk counted. */
typedef struct heap_counts {
    size_t blocks;
    size_t free;
    size_t quick;
} heap_counts_t;

/* Walks the heap block by block (each step moves at least 16 bytes, so the
 * walk is bounded) and counts blocks. Returns false if anything is broken. */
static bool check_blocks(int line, block_t *end, heap_counts_t *counts)
{
    bool ok = true;
    block_t *prev = NULL, *b = first_block();
    for (; b < end; prev = b, b = find_next(b)) {
        ok &= check_alignment(line, b);
        ok &= check_prev_bits(line, prev, b);
        bool size_ok = check_size(line, b);
        ok &= size_ok;
        if (!size_ok && get_size(b) < MIN_BLOCK)
            return false; /* cannot step: the walk stops here */
        if ((char *)b + get_size(b) > (char *)end)
            return report(line, 4, "block runs past the epilogue", b);
        ok &= check_footer(line, b);
        ok &= check_class(line, b);
        ok &= check_coalesced(line, prev, b);
        counts->blocks++;
        if (!get_alloc(b))
            counts->free++;
        if (get_quick(b) && !get_alloc(b))
            ok = report(line, 13, "free block marked quick", b);
        else if (get_quick(b))
            counts->quick++;
    }
    if (b != end)
        return report(line, 4, "heap walk missed the epilogue", b);
    return check_prev_bits(line, prev, b) && ok;
}

static bool node_in_heap(uint32_t off, block_t *end)
{
    block_t *b = from_offset(off);
    return b >= first_block() && b < end;
}

/* The offset after node o, or 0 when o is null or outside the heap. */
static uint32_t next_node(uint32_t o, block_t *end)
{
    return o != 0 && node_in_heap(o, end) ? from_offset(o)->links.next : 0;
}

/* Floyd's tortoise and hare on list c: the hare moves two nodes per step,
 * so a list that ends does so within `bound` steps. */
static bool check_acyclic(int line, uint32_t head, block_t *end, size_t bound)
{
    uint32_t slow = head, fast = head;
    for (size_t steps = 0; fast != 0; steps++) {
        if (steps > bound)
            return report(line, 10, "list longer than the heap", NULL);
        fast = next_node(next_node(fast, end), end);
        slow = next_node(slow, end);
        if (fast != 0 && fast == slow)
            return report(line, 10, "list has a cycle", from_offset(slow));
    }
    return true;
}

/* Walks list c (known to end), adding its nodes to *count. */
static bool check_list(int line, size_t c, block_t *end, size_t *count)
{
    bool ok = true;
    uint32_t prev = 0;
    for (uint32_t o = free_heads[c]; o != 0; o = from_offset(o)->links.next) {
        if (!node_in_heap(o, end))
            return report(line, 8, "list node outside the heap",
                          from_offset(o));
        block_t *b = from_offset(o);
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

static bool check_lists(int line, block_t *end, heap_counts_t counts,
                        bool walk_ok)
{
    bool ok = true;
    size_t listed = 0;
    size_t bound = walk_ok ? counts.blocks : mem_heapsize() / MIN_BLOCK;
    for (size_t c = 0; c < NUM_CLASSES; c++) {
        if (((nonempty >> c) & 1) != (free_heads[c] != 0))
            ok = report(line, 11, "class bitmap disagrees with list head",
                        from_offset(free_heads[c]));
        if (check_acyclic(line, free_heads[c], end, bound))
            ok &= check_list(line, c, end, &listed);
        else
            ok = false;
    }
    if (ok && walk_ok && listed != counts.free)
        ok = report(line, 12, "free lists and heap count different blocks",
                    heap_base);
    if (rover != 0 &&
        (!node_in_heap(rover, end) || get_alloc(from_offset(rover))))
        ok = report(line, 8, "next-fit rover not on a free block",
                    from_offset(rover));
    return ok;
}

/* Walks quick list q (known to end), adding its nodes to *count. */
static bool check_quick_list(int line, size_t q, block_t *end, size_t *count)
{
    bool ok = true;
    for (uint32_t o = quick_heads[q]; o != 0; o = from_offset(o)->links.next) {
        block_t *b = from_offset(o);
        if (!node_in_heap(o, end))
            return report(line, 13, "quick-list node outside the heap", b);
        (*count)++;
        if (!get_alloc(b) || !get_quick(b))
            ok = report(line, 13, "quick-list node not allocated and Q", b);
        if (get_size(b) != (q + 1) * ALIGNMENT)
            ok = report(line, 13, "quick-list node of the wrong size", b);
    }
    return ok;
}

static bool check_quick_lists(int line, block_t *end, heap_counts_t counts,
                              bool walk_ok)
{
    bool ok = true;
    size_t listed = 0;
    size_t bound = walk_ok ? counts.blocks : mem_heapsize() / MIN_BLOCK;
    for (size_t q = 0; q < QUICK_CLASSES; q++) {
        if (check_acyclic(line, quick_heads[q], end, bound))
            ok &= check_quick_list(line, q, end, &listed);
        else
            ok = false;
    }
    if (ok && walk_ok && listed != counts.quick)
        ok = report(line, 13, "quick lists and heap count different blocks",
                    heap_base);
    return ok;
}

bool mm_checkheap(int line)
{
    if (heap_base == NULL)
        return report(line, 5, "heap not initialized", NULL);
    block_t *end = (block_t *)((char *)mem_heap_hi() + 1 - WSIZE);
    bool ok = check_markers(line, end);
    heap_counts_t counts = {0, 0, 0};
    bool walk_ok = check_blocks(line, end, &counts);
    bool lists_ok = check_lists(line, end, counts, walk_ok);
    bool quick_ok = check_quick_lists(line, end, counts, walk_ok);
    return ok && walk_ok && lists_ok && quick_ok;
}
