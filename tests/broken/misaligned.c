/*
 * misaligned.c - malloc(TRIGGER_SIZE) returns a pointer 8 bytes off
 * the 16-byte alignment. mdriver: KIND misaligned.
 */
#include "base.h"

bool mm_init(void)
{
    return true;
}

void *mm_malloc(size_t size)
{
    char *p = base_malloc(size + 8);
    return p != NULL && size == TRIGGER_SIZE ? p + 8 : p;
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
