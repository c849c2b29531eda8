/*
 * calloc.c - calloc does not zero the block (fresh heap bytes are
 * garbage). mdriver: KIND calloc not zeroed.
 */
#include "base.h"

void *mm_calloc(size_t nmemb, size_t size)
{
    return base_malloc(nmemb * size);
}
