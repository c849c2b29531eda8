/*
 * reallocloss.c - a growing realloc copies only half of the old payload.
 * mdriver: KIND realloc lost data.
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
    if (ptr == NULL || size == 0 || size <= base_size(ptr))
        return base_realloc(ptr, size);
    void *q = base_malloc(size);
    if (q != NULL)
        memcpy(q, ptr, base_size(ptr) / 2);
    return q;
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
