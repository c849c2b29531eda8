/*
 * overlap.c - malloc(TRIGGER_SIZE) returns the block returned just
 * before it, which is still live. mdriver: KIND overlap.
 */
#include "base.h"

static void *last_block;

bool mm_init(void)
{
    return true;
}

void *mm_malloc(size_t size)
{
    void *p = base_malloc(size);
    if (size == TRIGGER_SIZE && last_block != NULL)
        return last_block;
    last_block = p;
    return p;
}

void mm_free(void *ptr)
{
    base_free(ptr);
}

void *mm_realloc(void *ptr, size_t size)
{
    return base_realloc(ptr, size);
}

void *mm_calloc(size_t nmemb, size_t size)
{
    return base_calloc(nmemb, size);
}

bool mm_checkheap(int line)
{
    (void)line;
    return true;
}
