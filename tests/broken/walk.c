/*
 * walk.c - the base allocator with the optional mm_heap_walk of mm.h, for
 * the tests of mdriver --heap-map and tools/mm-gdb.py (nothing is broken).
 *
 * The heap is a 16-byte prologue (overhead), then the blocks in the order
 * they were made: a 16-byte header (the payload size, then a free flag)
 * and the payload rounded up to 16. Nothing is reused: a freed block stays
 * where it is, marked free, on list 0.
 */
#include "base.h"

static const uint64_t FREED = 0xf4ee;

static char *heap_start(void)
{
    return (char *)mem_heap_lo();
}

static void set_flag(void *payload, uint64_t flag)
{
    if (payload != NULL)
        memcpy((char *)payload - BASE_ALIGN + 8, &flag, sizeof flag);
}

bool mm_init(void)
{
    return mem_sbrk((intptr_t)BASE_ALIGN) != (void *)-1;
}

void *mm_malloc(size_t size)
{
    void *p = base_malloc(size);
    set_flag(p, 0);
    return p;
}

void *mm_calloc(size_t nmemb, size_t size)
{
    void *p = base_calloc(nmemb, size);
    set_flag(p, 0);
    return p;
}

void mm_free(void *ptr)
{
    set_flag(ptr, FREED);
}

void *mm_realloc(void *ptr, size_t size)
{
    void *q = base_realloc(ptr, size);
    set_flag(q, 0);
    if (q != ptr)
        set_flag(ptr, FREED);
    return q;
}

void mm_heap_walk(mm_walk_fn *visit, void *arg)
{
    char *p = heap_start(), *end = (char *)mem_heap_hi() + 1;
    if (p + BASE_ALIGN > end)
        return;
    visit(&(mm_block_info){p, BASE_ALIGN, MM_BLOCK_OVERHEAD, -1}, arg);
    for (p += BASE_ALIGN; p < end;) {
        uint64_t flag;
        size_t size = base_size(p + BASE_ALIGN);
        memcpy(&flag, p + 8, sizeof flag);
        bool freed = flag == FREED;
        mm_block_info b = {p, BASE_ALIGN + base_round(size),
                           freed ? MM_BLOCK_FREE : MM_BLOCK_ALLOCATED,
                           freed ? 0 : -1};
        visit(&b, arg);
        p += b.size;
    }
}
