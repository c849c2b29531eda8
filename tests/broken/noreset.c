/*
 * noreset.c - carves blocks from a chunk it keeps in static variables,
 * but mm_init sets them only the first time: the second replay of a trace
 * hands out addresses of the old heap, past the reset break. mdriver: KIND
 * outside heap in replay 2 of 2.
 */
#include "base.h"

static char *chunk_next, *chunk_end;
static bool initialized;
static const size_t CHUNK = 1 << 16;

bool mm_init(void)
{
    if (initialized)
        return true; /* the bug: the chunk is not reset */
    chunk_next = chunk_end = NULL;
    initialized = true;
    return true;
}

void *mm_malloc(size_t size)
{
    size_t need = base_round(size) + BASE_ALIGN;
    if (chunk_next == NULL || (size_t)(chunk_end - chunk_next) < need) {
        size_t grow = need > CHUNK ? need : CHUNK;
        char *p = mem_sbrk((intptr_t)grow);
        if (p == (void *)-1)
            return NULL;
        chunk_next = p;
        chunk_end = p + grow;
    }
    char *p = chunk_next;
    chunk_next += need;
    memcpy(p, &size, sizeof size);
    return p + BASE_ALIGN;
}

void *mm_realloc(void *ptr, size_t size)
{
    return ptr == NULL ? mm_malloc(size)
                       : base_move(mm_malloc, ptr, base_size(ptr), size);
}

void *mm_calloc(size_t nmemb, size_t size)
{
    return base_zeroed(mm_malloc, nmemb, size);
}
