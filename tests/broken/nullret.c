/*
 * nullret.c - malloc(TRIGGER_SIZE) returns NULL although the heap is
 * far from its limit. mdriver: KIND null return.
 */
#include "base.h"

bool mm_init(void)
{
    return true;
}

void *mm_malloc(size_t size)
{
    return size == TRIGGER_SIZE ? NULL : base_malloc(size);
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
