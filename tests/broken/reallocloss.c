/*
 * reallocloss.c - a growing realloc copies only half of the old payload.
 * mdriver: KIND realloc lost data.
 */
#include "base.h"

void *mm_realloc(void *ptr, size_t size)
{
    if (ptr == NULL || size == 0 || size <= base_size(ptr))
        return base_realloc(ptr, size);
    void *q = base_malloc(size);
    if (q != NULL)
        memcpy(q, ptr, base_size(ptr) / 2);
    return q;
}
