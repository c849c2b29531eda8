/*
 * nolock.c - a free list with no lock around it (MT: mdriver -T N or an MT
 * trace). Size classes of powers of two (16 B .. 64 KiB, bigger requests
 * get a block of their own, never reused), one LIFO free list per class,
 * mem_sbrk under base.c's lock: the lists are the only shared state left
 * unguarded. Between reading a list's head and writing it back, the
 * thread yields the CPU (sched_yield), so that two threads popping or
 * pushing at once is the common case rather than a rare one: two threads
 * pop the same block (mdriver: overlap, or payload corrupted), or a push
 * is lost. One thread alone is correct.
 */
#include <sched.h>

#include "base.h"

enum { NOLOCK_HEADER = 16, NOLOCK_MIN_SHIFT = 4, NOLOCK_CLASSES = 13 };
static const size_t NOLOCK_BIG = (size_t)-1;

typedef struct nolock_block {
    struct nolock_block *next;
} nolock_block;

static nolock_block *lists[NOLOCK_CLASSES];

static size_t class_of(size_t size)
{
    size_t k = 0;
    while (k < NOLOCK_CLASSES && ((size_t)1 << (k + NOLOCK_MIN_SHIFT)) < size)
        k++;
    return k < NOLOCK_CLASSES ? k : NOLOCK_BIG;
}

static size_t header(const void *p)
{
    size_t k;
    memcpy(&k, (const char *)p - NOLOCK_HEADER, sizeof k);
    return k;
}

static size_t payload_size(void *p)
{
    size_t size;
    memcpy(&size, (const char *)p - NOLOCK_HEADER + sizeof size, sizeof size);
    return size;
}

static void *carve(size_t k, size_t size)
{
    size_t payload = k == NOLOCK_BIG ? base_round(size)
                                     : (size_t)1 << (k + NOLOCK_MIN_SHIFT);
    char *p = base_sbrk((intptr_t)(payload + NOLOCK_HEADER));
    if (p == (void *)-1)
        return NULL;
    size_t hdr[2] = {k, payload};
    memcpy(p, hdr, sizeof hdr);
    return p + NOLOCK_HEADER;
}

bool mm_init(void)
{
    memset(lists, 0, sizeof lists);
    return true;
}

void *mm_malloc(size_t size)
{
    if (size > ((size_t)1 << 40))
        return NULL;
    size_t k = class_of(size ? size : 1);
    if (k == NOLOCK_BIG)
        return carve(k, size);
    nolock_block *b = lists[k]; /* the race: no lock from here ... */
    if (b == NULL)
        return carve(k, size);
    sched_yield();
    lists[k] = b->next; /* ... to here */
    return b;
}

void mm_free(void *ptr)
{
    if (ptr == NULL || header(ptr) == NOLOCK_BIG)
        return;
    size_t k = header(ptr);
    nolock_block *b = ptr;
    b->next = lists[k];
    sched_yield();
    lists[k] = b;
}

void *mm_realloc(void *ptr, size_t size)
{
    static const base_ops ops = {mm_malloc, mm_free, payload_size};
    return base_resize(&ops, ptr, size);
}

void *mm_calloc(size_t nmemb, size_t size)
{
    return base_checked_zeroed(mm_malloc, nmemb, size);
}
