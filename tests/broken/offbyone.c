/*
 * offbyone.c - a bump allocator carving blocks from 64 KiB chunks, with an
 * 8-byte header just before each payload, whose block size forgets the
 * header for a request of TRIGGER_SIZE bytes: that payload reaches into the
 * next block's header, and the next allocation's header overwrites its last
 * byte. mdriver: KIND payload corrupted when that block is freed, with the hint
 * that names the op that placed a header under a live payload.
 */
#include "base.h"

static const size_t HEADER = 8, CHUNK = (size_t)1 << 16;
static char *chunk_next, *chunk_end;

bool mm_init(void)
{
    chunk_next = mem_sbrk((intptr_t)HEADER); /* payloads 16-aligned */
    chunk_end = chunk_next + HEADER;
    chunk_next = chunk_end;
    return chunk_end != (char *)-1 + HEADER;
}

void *mm_malloc(size_t size)
{
    size_t block = base_round(size + HEADER);
    if (size == TRIGGER_SIZE)
        block = base_round(size); /* the bug: no room for the header */
    while ((size_t)(chunk_end - chunk_next) < block) {
        if (mem_sbrk((intptr_t)CHUNK) == (void *)-1)
            return NULL;
        chunk_end += CHUNK;
    }
    char *p = chunk_next;
    chunk_next += block;
    memcpy(p, &size, sizeof size);
    return p + HEADER;
}

void *mm_realloc(void *ptr, size_t size)
{
    size_t old = 0;
    if (ptr != NULL)
        memcpy(&old, (char *)ptr - HEADER, sizeof old);
    return ptr == NULL ? mm_malloc(size) : base_move(mm_malloc, ptr, old, size);
}

void *mm_calloc(size_t nmemb, size_t size)
{
    return base_zeroed(mm_malloc, nmemb, size);
}
