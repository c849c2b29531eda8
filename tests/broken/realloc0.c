/*
 * realloc0.c - realloc(p, 0) returns p instead of freeing it and
 * returning NULL. mdriver: KIND realloc 0 not freed.
 */
#include "base.h"

void *mm_realloc(void *ptr, size_t size)
{
    if (ptr != NULL && size == 0)
        return ptr;
    return base_realloc(ptr, size);
}
