/*
 * loop.c - malloc(TRIGGER_SIZE) never returns. mdriver: KIND
 * timeout (-s).
 */
#include "base.h"

static volatile int forever = 1;

void *mm_malloc(size_t size)
{
    while (size == TRIGGER_SIZE && forever)
        ;
    return base_malloc(size);
}
