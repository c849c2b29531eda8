/*
 * initfail.c - mm_init returns false. mdriver: KIND mm_init failed.
 */
#include "base.h"

bool mm_init(void)
{
    return false;
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
