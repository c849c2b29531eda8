/*
 * badwalk.c - the base allocator with an mm_heap_walk that reports nonsense:
 * blocks outside the heap, of no size, of an unknown kind, of a huge size,
 * a NULL block, and far too many of them. mdriver --heap-map must ignore or
 * clamp them and still draw the payloads (nothing else is broken).
 */
#include "base.h"

void mm_heap_walk(mm_walk_fn *visit, void *arg)
{
    char *lo = mem_heap_lo();
    visit(NULL, arg);
    visit(&(mm_block_info){lo - 4096, 64, MM_BLOCK_FREE, 3}, arg);
    visit(&(mm_block_info){lo, 0, MM_BLOCK_FREE, 3}, arg);
    visit(&(mm_block_info){lo, 64, (mm_block_kind)7, 3}, arg);
    visit(&(mm_block_info){lo, SIZE_MAX, MM_BLOCK_FREE, 1 << 30}, arg);
    for (int i = 0; i < 100000; i++)
        visit(&(mm_block_info){lo + 16, 16, MM_BLOCK_OVERHEAD, -7}, arg);
}
