/*
 * chatty.c - correct, but prints a debug line in every mm_malloc (not a
 * failure: mdriver shows the output in a note after the trace).
 */
#include "base.h"

#include <stdio.h>

bool mm_init(void)
{
    return true;
}

void *mm_malloc(size_t size)
{
    printf("debug: mm_malloc(%zu)\n", size);
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
