/*
 * corrupt.c - negative tests of mm_checkheap: builds a live heap through the
 * public API, corrupts it in exactly one way, and runs the checker.
 *
 * Usage: corrupt NAME      (NAME = none, or one of the corruptions below;
 *                          double-free, free-misaligned, free-outside,
 *                          free-before-init and realloc-before-init must
 *                          make mm_free or mm_realloc abort instead)
 * Prints the checker's output, then "checkheap(line L) returned true|false"
 * and exits 0; exits 2 on bad usage. tests/test_allocator.py requires each
 * corruption to be reported with its invariant's number, and `none` to be
 * silent and true.
 *
 * It includes mm.c itself to reach the static helpers and the free lists.
 */
#include "../../malloc/mm.c"

/* The heap every corruption starts from (block sizes in parentheses):
 *   a[0..3]  40-byte payloads (48): a[1], a[3] freed, same list (a[3] first)
 *   a[4..7]   8-byte payloads (16): a[5] freed, a free mini block
 *   a[8..11] 300-byte payloads (320): a[9] freed
 *   (the quick lists are flushed: the blocks above are truly free)
 *   a[12]     8-byte payload (16), then freed: cached in quick list 0
 *   a[13]    40-byte payload (48), then freed: cached in quick list 2
 *   a[14]    the last block before the epilogue, allocated
 */
enum { NBLOCKS = 15, LAST = NBLOCKS - 1 };
static block_t *blk[NBLOCKS];

static void build_heap(void)
{
    static const size_t sizes[NBLOCKS] = {40,  40,  40,  40,  8, 8,  8, 8,
                                          300, 300, 300, 300, 8, 40, 64};
    void *p[NBLOCKS];
    for (int i = 0; i < NBLOCKS; i++) {
        p[i] = mm_malloc(sizes[i]);
        if (p[i] == NULL) {
            printf("corrupt: mm_malloc failed\n");
            exit(2);
        }
        blk[i] = payload_to_header(p[i]);
    }
    mm_free(p[1]);
    mm_free(p[3]);
    mm_free(p[5]);
    mm_free(p[9]);
    flush_quick();
    mm_free(p[12]);
    mm_free(p[13]);
}

/* A 16-byte aligned address that is not in the heap. */
static unsigned char outside[32] __attribute__((aligned(16)));

static void set_header(block_t *b, word_t h)
{
    b->header = h;
}

/* The head and second node of b's free list (a[1] and a[3] share one). */
static block_t *list_head(block_t *b)
{
    return from_offset(free_heads[size_class(get_size(b))]);
}

static block_t *list_second(block_t *b)
{
    return from_offset(list_head(b)->links.next);
}

static bool corrupt(const char *name)
{
    if (strcmp(name, "none") == 0)
        return true;
    if (strcmp(name, "footer") == 0) /* 1 */
        *header_to_footer(blk[1]) += ALIGNMENT;
    else if (strcmp(name, "alignment") == 0) /* 2: the base decides it */
        heap_base += WSIZE;
    else if (strcmp(name, "size-odd") == 0) /* 3: size 56 written raw */
        set_header(blk[0], blk[0]->header + WSIZE);
    else if (strcmp(name, "size") == 0) /* 3 */
        set_header(blk[2], blk[2]->header & ~SIZE_MASK);
    else if (strcmp(name, "tiling") == 0) /* 4 */
        set_header(blk[LAST], blk[LAST]->header + 2 * ALIGNMENT);
    else if (strcmp(name, "prologue") == 0) /* 4 */
        *(word_t *)heap_base = pack(ALIGNMENT, true, true, false);
    else if (strcmp(name, "epilogue") == 0) /* 5 */
        set_header(epilogue, pack(ALIGNMENT, false, true, false));
    else if (strcmp(name, "prev-alloc") == 0) /* 6 */
        set_header(blk[8], blk[8]->header & ~PREV_ALLOC_BIT);
    else if (strcmp(name, "prev-mini") == 0) /* 6 */
        set_header(blk[6], blk[6]->header & ~PREV_MINI_BIT);
    else if (strcmp(name, "adjacent-free") == 0) { /* 7 */
        write_block(blk[4], MIN_BLOCK, false, get_prev_alloc(blk[4]),
                    get_prev_mini(blk[4]));
        sync_next(blk[4]);
        insert_free(blk[4]);
    } else if (strcmp(name, "node-outside") == 0) /* 8 */
        blk[1]->links.next = UINT32_MAX - 1;
    else if (strcmp(name, "node-allocated") == 0) { /* 8 */
        set_header(blk[9], blk[9]->header | ALLOC_BIT);
        sync_next(blk[9]);
    } else if (strcmp(name, "prev-link") == 0) /* 9 */
        list_second(blk[1])->links.prev = 0;
    else if (strcmp(name, "cycle") == 0) /* 10: the tail points to the head */
        list_second(blk[1])->links.next = to_offset(list_head(blk[1]));
    else if (strcmp(name, "wrong-class") == 0) { /* 11 */
        remove_free(blk[9]);
        push_free(blk[9], 0);
    } else if (strcmp(name, "class-bitmap") == 0) /* 11 */
        nonempty &= ~((uint64_t)1 << size_class(get_size(blk[9])));
    else if (strcmp(name, "class-field") == 0) /* 11: header names class 0 */
        rewrite_header(blk[9], blk[9]->header & ~CLASS_MASK); /* + footer */
    else if (strcmp(name, "class-field-allocated") == 0)      /* 11 */
        set_header(blk[0], blk[0]->header | class_bits(2));
    else if (strcmp(name, "unlisted") == 0) /* 12 */
        remove_free(blk[9]);
    else if (strcmp(name, "quick-size") == 0) { /* 13 */
        quick_heads[0] = to_offset(blk[13]);
        quick_heads[2] = to_offset(blk[12]);
    } else if (strcmp(name, "quick-unmarked") == 0) /* 13 */
        set_header(blk[12], blk[12]->header & ~QUICK_BIT);
    else if (strcmp(name, "quick-stray") == 0) /* 13 */
        set_header(blk[0], blk[0]->header | QUICK_BIT);
    else if (strcmp(name, "quick-cycle") == 0) /* 10 */
        blk[12]->links.next = to_offset(blk[12]);
    else if (strcmp(name, "double-free-quick") == 0) /* mm_free must abort */
        mm_free(header_to_payload(blk[12]));
    else if (strcmp(name, "double-free") == 0) { /* mm_free must abort */
        mm_free(header_to_payload(blk[0]));
        mm_free(header_to_payload(blk[0]));
    } else if (strcmp(name, "free-misaligned") == 0)
        mm_free(blk[0]->payload + WSIZE);
    else if (strcmp(name, "free-outside") == 0)
        mm_free(outside);
    else
        return false;
    return true;
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
