/*
 * outside.c - malloc(TRIGGER_SIZE) returns memory that is not in the
 * simulated heap (a static array). mdriver: KIND outside heap.
 */
#include "base.h"

static _Alignas(16) char not_the_heap[1024];

bool mm_init(void)
{
    return true;
}

void *mm_malloc(size_t size)
{
    return size == TRIGGER_SIZE ? not_the_heap : base_malloc(size);
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
