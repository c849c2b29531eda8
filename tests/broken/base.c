/*
 * base.c - the correct default of every mm.h function, as weak symbols.
 *
 * Each broken allocator (tests/broken/<name>.c) defines only the functions
 * it breaks; the linker takes these defaults for the others. ok.c, the
 * allocator with nothing broken, is this file alone.
 */
#include "base.h"

#include <pthread.h>

#define BASE_DEFAULT __attribute__((weak))

static pthread_mutex_t sbrk_lock = PTHREAD_MUTEX_INITIALIZER;

BASE_DEFAULT void *base_sbrk(intptr_t incr)
{
    pthread_mutex_lock(&sbrk_lock);
    void *p = mem_sbrk(incr);
    pthread_mutex_unlock(&sbrk_lock);
    return p;
}

BASE_DEFAULT bool mm_init(void)
{
    return true;
}

BASE_DEFAULT void *mm_malloc(size_t size)
{
    return base_malloc(size);
}

BASE_DEFAULT void mm_free(void *ptr)
{
    base_free(ptr);
}

BASE_DEFAULT void *mm_realloc(void *ptr, size_t size)
{
    return base_realloc(ptr, size);
}

BASE_DEFAULT void *mm_calloc(size_t nmemb, size_t size)
{
    return base_calloc(nmemb, size);
}

BASE_DEFAULT bool mm_checkheap(int line)
{
    (void)line;
    return true;
}
