/*
 * uninit.c - malloc reads the first word of every fresh block, which
 * nobody wrote, and branches on it. Harmless natively (the bytes are
 * garbage); Valgrind reports a use of an uninitialised value, since memlib
 * marks fresh heap bytes undefined.
 */
#include "base.h"

static volatile int sightings;

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
