/*
 * loop.c - malloc(TRIGGER_SIZE) never returns. mdriver: KIND
 * timeout (-s).
 */
#include "base.h"

static volatile int forever = 1;

bool mm_init(void)
{
    return true;
}

void *mm_malloc(size_t size)
{
    while (size == TRIGGER_SIZE && forever)
        ;
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
