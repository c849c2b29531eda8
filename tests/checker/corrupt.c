/*
 * corrupt.c - negative tests of mm_checkheap: builds a live heap through the
 * public API, corrupts it in exactly one way, and runs the checker.
 *
 * Usage: corrupt NAME      (NAME = none, or one of the corruptions below;
 *                          arena-* only in corrupt-arenas, built with
 *                          -DMM_ARENAS;
 *                          double-free, free-misaligned, free-outside,
 *                          free-corrupt-header, free-foreign-owner,
 *                          free-before-init and realloc-before-init must
 *                          make mm_free or mm_realloc abort instead)
 * Prints the checker's output, then "checkheap(line L) returned true|false"
 * and exits 0; exits 2 on bad usage. tests/test_allocator.py requires each
 * corruption to be reported with its invariant's number, and `none` to be
 * silent and true.
 *
 * It includes mm.c itself to reach the static helpers, the heap struct and
 * the free lists.
 */
#include "../../malloc/mm.c"

/* The heap every corruption starts from (block sizes in parentheses):
 *   region 0, grown at the heap's own break:
 *   a[0..3]  40-byte payloads (48): a[1], a[3] freed
 *   a[4..7]   8-byte payloads (16): a[5] freed, a free mini block
 *   a[8..11] 300-byte payloads (320): a[9] freed
 *   a[12]     8-byte payload (16), then freed: cached in quick list 0
 *   a[13]    40-byte payload (48), then freed: cached in quick list 2
 *   a[14]    64-byte payload (80), allocated
 *   region 1, made after someone else moved the break (mem_sbrk(16)):
 *   a[15]  1000-byte payload (1008), its first block
 *   a[16]   200-byte payload (208), the region grown at the break
 * The frees of a[1], a[3], a[5], a[9] are flushed with every cached block
 * (freed, or fresh from a run) before a[12] and a[13] are freed: the first
 * are truly free, a[1] and a[3] share one list (a[3] first).
 * With thread caches (corrupt-arenas), every block of this thread's cache
 * goes back to the arena's quick lists with the flushes (a[12] and a[13]
 * too); then one more 8-byte block, carved at the end of region 1 before
 * the frees, is freed into the cache: `cached`.
 */
enum { NBLOCKS = 17, LAST0 = 14, FIRST1 = 15, LAST = NBLOCKS - 1 };
static block_t *blk[NBLOCKS];
/* The heap that holds the blocks: the one heap or, built with MM_ARENAS
 * (corrupt-arenas), the arena of this thread (its region 0 is the one at
 * the break when the thread binds: it grows like the one heap's). */
static heap_t *H;

/* Every cached block, freed or fresh from a run, freed for real (those of
 * this thread's cache first go back to the arena). */
static void flush_all(void)
{
#ifdef MM_THREAD_CACHE
    drain_cache(H, my_thread_cache());
#endif
    flush_quick(H, /*fresh_too=*/true);
}

/* mm_malloc, then every run's unused blocks freed: the blocks of the heap
 * below follow each other in the order they were asked for. */
static void *must_malloc(size_t size)
{
    void *p = mm_malloc(size);
    if (p == NULL) {
        printf("corrupt: mm_malloc failed\n");
        exit(2);
    }
    flush_all();
    return p;
}

#ifdef MM_THREAD_CACHE
static block_t *cached; /* in this thread's cache, bin 0 */
static block_t *remote; /* in its remote batch for the other arena */
static unsigned other_arena(void);

/* An 8-byte block of the other arena (made here: one thread binds to one
 * arena), freed by this thread: its cache's remote batch holds it. */
static void free_remote_block(void)
{
    heap_t *o = open_arena(heap, other_arena() - 1);
    void *p = o != NULL ? malloc_in(o, 8) : NULL;
    if (p == NULL) {
        printf("corrupt: the other arena cannot be made\n");
        exit(2);
    }
    mm_free(p);
    remote = payload_to_header(p);
}
#endif

static void build_heap(void)
{
    static const size_t sizes[FIRST1] = {40,  40,  40,  40,  8, 8,  8, 8,
                                         300, 300, 300, 300, 8, 40, 64};
    void *p[NBLOCKS];
    H = caller_arena(heap);
    for (int i = 0; i < FIRST1; i++)
        p[i] = must_malloc(sizes[i]);
    if (mem_sbrk(ALIGNMENT) == (void *)-1) /* the break moves under us */
        exit(2);
    p[FIRST1] = must_malloc(1000);
    p[LAST] = must_malloc(200);
#ifdef MM_THREAD_CACHE
    void *last = must_malloc(8);
#endif
    mm_free(p[1]);
    mm_free(p[3]);
    mm_free(p[5]);
    mm_free(p[9]);
    flush_all();
    mm_free(p[12]);
    mm_free(p[13]);
#ifdef MM_THREAD_CACHE
    drain_cache(H, my_thread_cache());
    mm_free(last);
    cached = payload_to_header(last);
    free_remote_block();
#endif
    for (int i = 0; i < NBLOCKS; i++)
        blk[i] = payload_to_header(p[i]);
}

/* A 16-byte aligned address that is not in the heap. */
static unsigned char outside[32] __attribute__((aligned(16)));

static void set_header(block_t *b, word_t w)
{
    b->header = w;
}

/* The head and second node of b's free list (a[1] and a[3] share one). */
static block_t *list_head(block_t *b)
{
    return from_offset(H, H->free_heads[size_class(get_size(b))]);
}

static block_t *list_second(block_t *b)
{
    return from_offset(H, list_head(b)->links.next);
}

static region_t *first_region(void)
{
    return region_zero(H);
}

static region_t *last_region(void)
{
    return region_at(H, H->last_region);
}

/* The corruptions of one block's header, by name. */
static bool corrupt_header(const char *name)
{
    if (strcmp(name, "footer") == 0) /* 1 */
        *header_to_footer(blk[1]) += ALIGNMENT;
    else if (strcmp(name, "alignment") == 0) /* 2: the heap struct moves */
        heap = (heap_t *)((char *)heap + WSIZE);
    else if (strcmp(name, "size-odd") == 0) /* 3: size 56 written raw */
        set_header(blk[0], blk[0]->header + WSIZE);
    else if (strcmp(name, "size") == 0) /* 3 */
        set_header(blk[2], blk[2]->header & ~SIZE_MASK);
    else if (strcmp(name, "tiling") == 0) /* 4: past region 0's end fence */
        set_header(blk[LAST0], blk[LAST0]->header +
                                   ((char *)region_end_fence(first_region()) -
                                    (char *)blk[LAST0]));
    else if (strcmp(name, "tiling-region1") == 0) /* 4 */
        set_header(blk[FIRST1], blk[FIRST1]->header + 2 * ALIGNMENT);
    else if (strcmp(name, "prev-alloc") == 0) /* 6 */
        set_header(blk[8], blk[8]->header & ~PREV_ALLOC_BIT);
    else if (strcmp(name, "prev-alloc-region1") == 0) /* 6 */
        set_header(blk[LAST], blk[LAST]->header & ~PREV_ALLOC_BIT);
    else if (strcmp(name, "prev-mini") == 0) /* 6 */
        set_header(blk[6], blk[6]->header & ~PREV_MINI_BIT);
    else if (strcmp(name, "bit-47") == 0) /* 14 */
        set_header(blk[2], blk[2]->header | ZERO_BIT);
    else if (strcmp(name, "owner") == 0) /* 14 */
        set_header(blk[FIRST1], blk[FIRST1]->header | owner_bits(3));
    else
        return false;
    return true;
}

/* The corruptions of a region's descriptor or fences, by name. */
static bool corrupt_region(const char *name)
{
    if (strcmp(name, "start-fence") == 0) /* 5 */
        first_region()->start_fence = pack(ALIGNMENT, ALLOC_BIT, 0, 0);
    else if (strcmp(name, "end-fence") == 0) /* 5 */
        set_header(H->tail, pack(ALIGNMENT, 0, 0, 0));
    else if (strcmp(name, "end-fence-region0") == 0) /* 5 */
        set_header(region_end_fence(first_region()), pack(ALIGNMENT, 0, 0, 0));
    else if (strcmp(name, "region-units") == 0) /* 5 */
        last_region()->units -= 1;
    else if (strcmp(name, "region-order") == 0) /* 5: region 1 links back */
        last_region()->next = region_offset(H, region_zero(H));
    else if (strcmp(name, "region-count") == 0) /* 5 */
        H->regions++;
    else
        return false;
    return true;
}

/* The corruptions of the free and quick lists, by name. */
static bool corrupt_lists(const char *name)
{
    if (strcmp(name, "adjacent-free") == 0) { /* 7 */
        write_block(H, blk[4], MIN_BLOCK, false, get_prev_alloc(blk[4]),
                    get_prev_mini(blk[4]));
        sync_next(blk[4]);
        insert_free(H, blk[4]);
    } else if (strcmp(name, "node-outside") == 0) /* 8 */
        blk[1]->links.next = UINT32_MAX - 1;
    else if (strcmp(name, "node-allocated") == 0) { /* 8 */
        set_header(blk[9], blk[9]->header | ALLOC_BIT);
        sync_next(blk[9]);
    } else if (strcmp(name, "prev-link") == 0) /* 9 */
        list_second(blk[1])->links.prev = 0;
    else if (strcmp(name, "cycle") == 0) /* 10: the tail points to the head */
        list_second(blk[1])->links.next = to_offset(H, list_head(blk[1]));
    else if (strcmp(name, "wrong-class") == 0) { /* 11 */
        remove_free(H, blk[9]);
        push_free(H, blk[9], 0);
    } else if (strcmp(name, "class-bitmap") == 0) /* 11 */
        H->nonempty &= ~((uint64_t)1 << size_class(get_size(blk[9])));
    else if (strcmp(name, "class-field") == 0) /* 11: header names class 0 */
        rewrite_header(blk[9], blk[9]->header & ~CLASS_MASK); /* + footer */
    else if (strcmp(name, "class-field-allocated") == 0)      /* 11 */
        set_header(blk[0], blk[0]->header | ((word_t)2 << CLASS_SHIFT));
    else if (strcmp(name, "unlisted") == 0) /* 12 */
        remove_free(H, blk[9]);
    else
        return false;
    return true;
}

/* The corruptions of the quick lists, and the bad frees, by name. */
static bool corrupt_quick(const char *name)
{
    if (strcmp(name, "quick-size") == 0) { /* 13 */
        H->quick_heads[0] = to_offset(H, blk[13]);
        H->quick_heads[2] = to_offset(H, blk[12]);
    } else if (strcmp(name, "quick-unmarked") == 0) /* 13 */
        set_header(blk[12], blk[12]->header & ~QUICK_BIT);
    else if (strcmp(name, "quick-stray") == 0) /* 13 */
        set_header(blk[0], blk[0]->header | QUICK_BIT);
    else if (strcmp(name, "quick-bytes") == 0) /* 13 */
        H->cached_units++;
    else if (strcmp(name, "quick-cycle") == 0) /* 10 */
        blk[12]->links.next = to_offset(H, blk[12]);
    else if (strcmp(name, "double-free-quick") == 0) /* mm_free must abort */
        mm_free(header_to_payload(blk[12]));
    else if (strcmp(name, "double-free") == 0) { /* mm_free must abort */
        mm_free(header_to_payload(blk[0]));
        mm_free(header_to_payload(blk[0]));
    } else if (strcmp(name, "free-misaligned") == 0)
        mm_free(blk[0]->payload + WSIZE);
    else if (strcmp(name, "free-outside") == 0)
        mm_free(outside);
    else if (strcmp(name, "free-corrupt-header") == 0) { /* must abort */
        set_header(blk[2], blk[2]->header | RESERVED_BIT);
        mm_free(header_to_payload(blk[2]));
    } else if (strcmp(name, "free-foreign-owner") == 0) { /* must abort */
        set_header(blk[2], blk[2]->header | owner_bits(3));
        mm_free(header_to_payload(blk[2]));
    } else
        return false;
    return true;
}

#ifdef MM_THREAD_CACHE
/* The corruptions of cache c's remote batch for arena index i, which holds
 * `remote` (invariant 18), and a free of that block, by name. */
static bool corrupt_remote(const char *name, thread_cache_t *c, size_t i)
{
    size_t mine = (size_t)(H->owner >> OWNER_SHIFT) - 1;
    if (strcmp(name, "remote-count") == 0) /* 18 */
        c->remote_count[i]++;
    else if (strcmp(name, "remote-unmarked") == 0) /* 18 */
        set_cached(remote, false);
    else if (strcmp(name, "remote-cycle") == 0) /* 18 */
        remote->links.next = c->remote_head[i];
    else if (strcmp(name, "remote-own-arena") == 0) { /* 18 */
        c->remote_head[mine] = c->remote_head[i], c->remote_count[mine] = 1;
        c->remote_head[i] = 0, c->remote_count[i] = 0;
    } else if (strcmp(name, "inbox-pending") == 0) /* valid: 19 holds */
        flush_remote(c, i);
    else if (strcmp(name, "inbox-unmarked") == 0) { /* 19 */
        flush_remote(c, i);
        set_cached(remote, false);
    } else if (strcmp(name, "inbox-cycle") == 0) { /* 19 */
        flush_remote(c, i);
        remote->links.next = arena_at(heap->table, i)->remote_inbox;
    } else if (strcmp(name, "double-free-inbox") == 0) { /* must abort */
        flush_remote(c, i);
        mm_free(header_to_payload(remote));
    } else if (strcmp(name, "double-free-remote") == 0) /* must abort */
        mm_free(header_to_payload(remote));
    else
        return false;
    return true;
}

/* The corruptions of this thread's cache (invariant 17), and a free of a
 * block in it, by name. */
static bool corrupt_cache(const char *name)
{
    thread_cache_t *c = my_thread_cache();
    if (strcmp(name, "cache-count") == 0) /* 17 */
        c->count[0]++;
    else if (strcmp(name, "cache-size") == 0) { /* 17: bin 0's block in 2 */
        c->head[2] = c->head[0], c->count[2] = c->count[0];
        c->head[0] = 0, c->count[0] = 0;
    } else if (strcmp(name, "cache-unmarked") == 0) /* 17 */
        set_cached(cached, false);
    else if (strcmp(name, "cache-cycle") == 0) /* 17 */
        cached->links.next = c->head[0];
    else if (strcmp(name, "cache-list") == 0) /* 17: the list loops */
        c->next = c;
    else if (strcmp(name, "cache-bytes") == 0) /* 17 */
        c->bytes += ALIGNMENT;
    else if (strcmp(name, "cache-cap") == 0) /* 17: above its maximum */
        c->cap = 2 * CACHE_CAP_MAX;
    else if (strcmp(name, "double-free-cached") == 0) /* mm_free must abort */
        mm_free(header_to_payload(cached));
    else
        return corrupt_remote(name, c, other_arena() - 1);
    return true;
}
#else
static bool corrupt_cache(const char *name)
{
    (void)name;
    return false;
}
#endif

#ifdef MM_ARENAS
/* An arena other than H's (arena 1 or 2: the second may not exist). */
static unsigned other_arena(void)
{
    return H->owner == owner_bits(1) ? 2 : 1;
}

/* The arena build's own corruptions (invariants 15 and 16), by name. */
static bool corrupt_arena(const char *name)
{
    if (strcmp(name, "arena-owner") == 0) /* 15 */
        set_header(blk[0],
                   (blk[0]->header & ~OWNER_MASK) | owner_bits(other_arena()));
    else if (strcmp(name, "arena-region-owner") == 0) /* 15 */
        last_region()->owner = other_arena();
    else if (strcmp(name, "arena-table") == 0) /* 15 */
        heap->table->count = 0;
    else if (strcmp(name, "arena-lock-held") == 0) /* 16 */
        lock_acquire(&H->lock);
    else
        return corrupt_cache(name);
    return true;
}
#else
static bool corrupt_arena(const char *name)
{
    (void)name;
    return false;
}
#endif

static bool corrupt(const char *name)
{
    return strcmp(name, "none") == 0 || corrupt_header(name) ||
           corrupt_region(name) || corrupt_lists(name) || corrupt_quick(name) ||
           corrupt_arena(name);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: corrupt NAME\n");
        return 2;
    }
    if (!mem_init())
        return 2;
    /* A pointer handed to free/realloc before mm_init: no heap yet. */
    if (strcmp(argv[1], "free-before-init") == 0)
        mm_free(outside);
    else if (strcmp(argv[1], "realloc-before-init") == 0)
        mm_realloc(outside, 16);
#ifdef MM_ARENAS
    cpus_configured = 2; /* two arenas on any machine: other_arena */
#endif
    if (!mm_init())
        return 2;
    build_heap();
    if (!mm_checkheap(__LINE__)) {
        printf("corrupt: the heap was broken before the corruption\n");
        return 2;
    }
    if (!corrupt(argv[1])) {
        fprintf(stderr, "corrupt: unknown corruption '%s'\n", argv[1]);
        return 2;
    }
    int line = __LINE__ + 1;
    bool ok = mm_checkheap(line);
    printf("checkheap(line %d) returned %s\n", line, ok ? "true" : "false");
    return 0;
}
