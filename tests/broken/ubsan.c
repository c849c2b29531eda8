/*
 * ubsan.c - malloc(TRIGGER_SIZE) overflows a signed int (undefined
 * behaviour; it wraps harmlessly when built without sanitizers). Built
 * with -fsanitize=undefined (build/broken-san/mdriver-ubsan), mdriver:
 * KIND crashed, named "UndefinedBehaviorSanitizer: ...".
 */
#include "base.h"

#include <limits.h>

static volatile int big = INT_MAX;

void *mm_malloc(size_t size)
{
    if (size == TRIGGER_SIZE) {
        int sum = big + (int)(size & 1);
        big = sum - 1;
    }
    return base_malloc(size);
}
