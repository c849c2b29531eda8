/*
 * closefds.c - malloc(TRIGGER_SIZE) closes every file descriptor from 3
 * up (the driver's result pipe among them), then never returns. mdriver:
 * KIND timeout (-s), not a hang.
 */
#include "base.h"

#include <unistd.h>

static volatile int forever = 1;

void *mm_malloc(size_t size)
{
    if (size == TRIGGER_SIZE) {
        for (int fd = 3; fd < 1024; fd++)
            close(fd);
        while (forever)
            ;
    }
    return base_malloc(size);
}
