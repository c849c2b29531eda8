/*
 * checker.c - once a block of TRIGGER_SIZE bytes was allocated, the
 * heap checker prints a complaint and returns false. mdriver: KIND
 * checkheap failed, with the complaint in the report.
 */
#include "base.h"

#include <stdio.h>

static bool saw_trigger;

bool mm_init(void)
{
    saw_trigger = false;
    return true;
}

void *mm_malloc(size_t size)
{
    saw_trigger = saw_trigger || size == TRIGGER_SIZE;
    return base_malloc(size);
}

bool mm_checkheap(int line)
{
    if (!saw_trigger)
        return true;
    printf("checkheap (line %d): invariant 7 broken: block of 777 bytes\n",
           line);
    fprintf(stderr, "checkheap: and this line went to stderr\n");
    return false;
}
