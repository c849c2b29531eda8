/*
 * crashwalk.c - the base allocator whose mm_heap_walk dereferences NULL on
 * its third call (mdriver --heap-map calls it after mm_init and each op).
 * mdriver: KIND crashed, in mm_heap_walk, and the frames before it kept.
 */
#include "base.h"

static int walks;

bool mm_init(void)
{
    walks = 0;
    return true;
}

void mm_heap_walk(mm_walk_fn *visit, void *arg)
{
    (void)visit;
    (void)arg;
    if (++walks == 3) {
        volatile int *nowhere = NULL;
        *nowhere = 1;
    }
}
