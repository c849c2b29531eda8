/*
 * segv.c - malloc(TRIGGER_SIZE) writes far past the break, into
 * memory that is not mapped. mdriver: KIND crashed (SIGSEGV).
 */
#include "base.h"

bool mm_init(void)
{
    return true;
}

void *mm_malloc(size_t size)
{
    if (size == TRIGGER_SIZE) {
        volatile char *far = (char *)mem_heap_hi() + ((size_t)1 << 24);
        *far = 1;
    }
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
