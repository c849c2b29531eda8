/*
 * fork.c - every mm_init forks a child that sleeps for ten minutes (and
 * so holds the driver's result pipe open). mdriver: the trace is valid,
 * the driver does not wait for the sleepers, and none is left behind.
 */
#include "base.h"

#include <unistd.h>

bool mm_init(void)
{
    if (fork() == 0) {
        sleep(600);
        _exit(0);
    }
    return true;
}
