/*
 * outside.c - malloc(TRIGGER_SIZE) returns memory that is not in the
 * simulated heap (a static array). mdriver: KIND outside heap.
 */
#include "base.h"

static _Alignas(16) char not_the_heap[1024];

void *mm_malloc(size_t size)
{
    return size == TRIGGER_SIZE ? not_the_heap : base_malloc(size);
}
