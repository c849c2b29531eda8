/*
 * nullret.c - malloc(TRIGGER_SIZE) returns NULL although the heap is
 * far from its limit. mdriver: KIND null return.
 */
#include "base.h"

void *mm_malloc(size_t size)
{
    return size == TRIGGER_SIZE ? NULL : base_malloc(size);
}
