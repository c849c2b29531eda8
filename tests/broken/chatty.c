/*
 * chatty.c - correct, but prints a debug line in every mm_malloc (not a
 * failure: mdriver shows the output in a note after the trace).
 */
#include "base.h"

#include <stdio.h>

void *mm_malloc(size_t size)
{
    printf("debug: mm_malloc(%zu)\n", size);
    return base_malloc(size);
}
