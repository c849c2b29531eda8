/*
 * driver_api.c - the one dispatch path of an op to an allocator.
 *
 * The checked replays (driver_check.c) and the timed ones (driver_run.c)
 * both reach mm.c, or the C library's malloc, through api_apply
 * (driver.h) with one of these tables: what is timed is what is checked.
 */
#include "driver.h"

#include <stdlib.h>

#include "mm.h"

const alloc_api MM_API = {mm_init,   mm_malloc,    mm_free, mm_realloc,
                          mm_calloc, mm_checkheap, true};
const alloc_api LIBC_API = {NULL, malloc, free, realloc, calloc, NULL, false};
