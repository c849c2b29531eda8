/*
 * overwrite.c - malloc(TRIGGER_SIZE) writes 8 bytes into the end of
 * the payload of the block just before it (a neighbour). mdriver: KIND
 * payload corrupted, when that neighbour is next verified (-d 2: at once).
 */
#include "base.h"

void *mm_malloc(size_t size)
{
    char *p = base_malloc(size);
    if (p != NULL && size == TRIGGER_SIZE)
        memset(p - BASE_ALIGN - 8, 0, 8); /* the neighbour's last word */
    return p;
}
