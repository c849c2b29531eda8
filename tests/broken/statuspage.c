/*
 * statuspage.c - malloc(TRIGGER_SIZE) fills every shared writable mapping
 * of the process (the driver's status page and address log) with a huge
 * number, then aborts. mdriver: KIND crashed (SIGABRT), reported without
 * trusting the op index it finds there (line 0, op "?").
 */
#include "base.h"

#include <stdio.h>
#include <stdlib.h>

static void scribble_shared_mappings(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512], perms[8];
    unsigned long lo, hi;
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3 &&
            perms[1] == 'w' && perms[3] == 's')
            for (uint64_t *p = (uint64_t *)lo; p < (uint64_t *)hi; p++)
                *p = 0x4141414141414141u;
    if (f != NULL)
        fclose(f);
}

void *mm_malloc(size_t size)
{
    if (size == TRIGGER_SIZE) {
        scribble_shared_mappings();
        abort();
    }
    return base_malloc(size);
}
