/*
 * exit.c - malloc(TRIGGER_SIZE) calls exit(3). mdriver: KIND crashed
 * (the process exited before the end of the trace).
 */
#include "base.h"

#include <stdlib.h>

void *mm_malloc(size_t size)
{
    if (size == TRIGGER_SIZE)
        exit(3);
    return base_malloc(size);
}
