/*
 * initfail.c - mm_init returns false. mdriver: KIND mm_init failed.
 */
#include "base.h"

bool mm_init(void)
{
    return false;
}
