/*
 * uninit.c - malloc reads the first word of every fresh block, which
 * nobody wrote, and branches on it. Harmless natively (the bytes are
 * garbage); Valgrind reports a use of an uninitialised value, since memlib
 * marks fresh heap bytes undefined.
 */
#include "base.h"

static volatile int sightings;

bool mm_init(void)
{
    return true;
}

void *mm_malloc(size_t size)
{
    char *p = base_malloc(size);
    uint64_t word;
    if (p != NULL && size >= sizeof word) {
        memcpy(&word, p, sizeof word);
        if (word == 0x1234) /* never written: undefined for memcheck */
            sightings++;
    }
    return p;
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
