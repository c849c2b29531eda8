/*
 * exit.c - malloc(TRIGGER_SIZE) calls exit(3). mdriver: KIND crashed
 * (the process exited before the end of the trace).
 */
#include "base.h"

#include <stdlib.h>

bool mm_init(void)
{
    return true;
}

void *mm_malloc(size_t size)
{
    if (size == TRIGGER_SIZE)
        exit(3);
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
