/*
 * segv.c - malloc(TRIGGER_SIZE) writes far past the break, into
 * memory that is not mapped. mdriver: KIND crashed (SIGSEGV).
 */
#include "base.h"

void *mm_malloc(size_t size)
{
    if (size == TRIGGER_SIZE) {
        volatile char *far = (char *)mem_heap_hi() + ((size_t)1 << 24);
        *far = 1;
    }
    return base_malloc(size);
}
