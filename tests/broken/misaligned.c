/*
 * misaligned.c - malloc(TRIGGER_SIZE) returns a pointer 8 bytes off
 * the 16-byte alignment. mdriver: KIND misaligned.
 */
#include "base.h"

void *mm_malloc(size_t size)
{
    char *p = base_malloc(size + 8);
    return p != NULL && size == TRIGGER_SIZE ? p + 8 : p;
}
