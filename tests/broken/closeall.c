/*
 * closeall.c - malloc(TRIGGER_SIZE) closes every file descriptor, stdin,
 * stdout and stderr included, and carries on. mdriver: KIND crashed at
 * that op: the replay could not send its result.
 */
#include "base.h"

#include <unistd.h>

void *mm_malloc(size_t size)
{
    if (size == TRIGGER_SIZE)
        for (int fd = 0; fd < 1024; fd++)
            close(fd);
    return base_malloc(size);
}
