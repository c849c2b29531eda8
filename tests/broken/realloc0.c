/*
 * realloc0.c - realloc(p, 0) returns p instead of freeing it and
 * returning NULL. mdriver: KIND realloc 0 not freed.
 */
#include "base.h"

bool mm_init(void)
{
    return true;
}

void *mm_malloc(size_t size)
{
    return base_malloc(size);
}

void mm_free(void *ptr)
{
    base_free(ptr);
}

void *mm_realloc(void *ptr, size_t size)
{
    if (ptr != NULL && size == 0)
        return ptr;
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
