/*
 * overlap.c - malloc(TRIGGER_SIZE) returns the block returned just
 * before it, which is still live. mdriver: KIND overlap.
 */
#include "base.h"

static void *last_block;

void *mm_malloc(size_t size)
{
    void *p = base_malloc(size);
    if (size == TRIGGER_SIZE && last_block != NULL)
        return last_block;
    last_block = p;
    return p;
}
