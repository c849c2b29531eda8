/*
 * locked.c - a thread-safe test allocator for mdriver -T: size classes
 * of powers of two (16 B .. 1 MiB, bigger requests get a block of their
 * own, never reused), one free list per class, one lock around all of
 * it (and around mem_sbrk). Correct and simple, not fast; it stands in
 * for mm.c's arena build (-DMM_ARENAS) in the driver's tests.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "memlib.h"
#include "mm.h"

#include "../broken/base.h"

enum { HEADER = 16, MIN_SHIFT = 4, CLASSES = 17 }; /* 16 B .. 1 MiB */
static const size_t BIG = (size_t)-1;              /* a class of its own */

typedef struct free_block {
    struct free_block *next;
} free_block;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static free_block *lists[CLASSES];

/* The class of a request: the smallest 2^(k + MIN_SHIFT) >= size. */
static size_t class_of(size_t size)
{
    size_t k = 0;
    while (k < CLASSES && ((size_t)1 << (k + MIN_SHIFT)) < size)
        k++;
    return k < CLASSES ? k : BIG;
}

static size_t payload_of(size_t k, size_t size)
{
    return k == BIG ? (size + 15) & ~(size_t)15 : (size_t)1 << (k + MIN_SHIFT);
}

bool mm_init(void)
{
    pthread_mutex_lock(&lock);
    memset(lists, 0, sizeof lists);
    pthread_mutex_unlock(&lock);
    return true;
}

/* A fresh block of class k (payload bytes), under the lock. */
static void *carve(size_t k, size_t payload)
{
    char *p = mem_sbrk((intptr_t)(payload + HEADER));
    if (p == (void *)-1)
        return NULL;
    size_t hdr[2] = {k, payload};
    memcpy(p, hdr, sizeof hdr);
    return p + HEADER;
}

void *mm_malloc(size_t size)
{
    if (size > ((size_t)1 << 40))
        return NULL;
    size_t k = class_of(size ? size : 1);
    pthread_mutex_lock(&lock);
    void *p;
    if (k != BIG && lists[k] != NULL) {
        p = lists[k];
        lists[k] = lists[k]->next;
    } else {
        p = carve(k, payload_of(k, size));
    }
    pthread_mutex_unlock(&lock);
    return p;
}

static size_t header(const void *p, int i)
{
    size_t hdr[2];
    memcpy(hdr, (const char *)p - HEADER, sizeof hdr);
    return hdr[i];
}

void mm_free(void *ptr)
{
    if (ptr == NULL)
        return;
    size_t k = header(ptr, 0);
    if (k == BIG)
        return;
    pthread_mutex_lock(&lock);
    free_block *b = ptr;
    b->next = lists[k];
    lists[k] = b;
    pthread_mutex_unlock(&lock);
}

static size_t payload_size(void *ptr)
{
    return header(ptr, 1);
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

bool mm_checkheap(int line)
{
    (void)line;
    return true;
}
