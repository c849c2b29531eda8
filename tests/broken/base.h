/*
 * base.h - the tiny correct allocator every broken allocator starts from.
 *
 * A bump allocator: each block is a 16-byte header holding the payload
 * size, then the payload; nothing is ever reused. Correct, never fast.
 * Each tests/broken/<name>.c implements mm.h with these helpers and breaks
 * exactly one thing, most of them only for a request of TRIGGER_SIZE bytes
 * so that a test knows which trace line must fail.
 */
#ifndef BROKEN_BASE_H
#define BROKEN_BASE_H

#include <stdint.h>
#include <string.h>

#include "memlib.h"
#include "mm.h"

static const size_t TRIGGER_SIZE = 777;
static const size_t BASE_ALIGN = 16;

/* mem_sbrk under one lock (base.c), so that the bump allocator is thread
 * safe and a test with -T breaks only what its allocator breaks. */
void *base_sbrk(intptr_t incr);

static inline size_t base_round(size_t n)
{
    return (n + BASE_ALIGN - 1) & ~(BASE_ALIGN - 1);
}

static inline void *base_malloc(size_t size)
{
    if (size > ((size_t)1 << 40))
        return NULL;
    char *p = base_sbrk((intptr_t)(base_round(size) + BASE_ALIGN));
    if (p == (void *)-1)
        return NULL;
    memcpy(p, &size, sizeof size);
    return p + BASE_ALIGN;
}

static inline size_t base_size(const void *payload)
{
    size_t size;
    memcpy(&size, (const char *)payload - BASE_ALIGN, sizeof size);
    return size;
}

static inline void base_free(void *ptr)
{
    (void)ptr;
}

static inline void *base_realloc(void *ptr, size_t size)
{
    if (ptr == NULL)
        return base_malloc(size);
    if (size == 0) {
        base_free(ptr);
        return NULL;
    }
    void *q = base_malloc(size);
    if (q == NULL)
        return NULL;
    size_t old = base_size(ptr);
    memcpy(q, ptr, old < size ? old : size);
    base_free(ptr);
    return q;
}

static inline void *base_calloc(size_t nmemb, size_t size)
{
    if (size != 0 && nmemb > SIZE_MAX / size)
        return NULL;
    void *p = base_malloc(nmemb * size);
    if (p != NULL)
        memset(p, 0, nmemb * size);
    return p;
}

/* realloc and calloc on top of an allocator's own malloc (alloc), for
 * the broken allocators that carve their own blocks: a fresh block with
 * the first min(old, size) bytes of ptr (old: ptr's payload size). */
static inline void *base_move(void *(*alloc)(size_t), void *ptr, size_t old,
                              size_t size)
{
    if (size == 0)
        return NULL;
    void *q = alloc(size);
    if (q != NULL)
        memcpy(q, ptr, old < size ? old : size);
    return q;
}

static inline void *base_zeroed(void *(*alloc)(size_t), size_t nmemb,
                                size_t size)
{
    void *p = alloc(nmemb * size);
    if (p != NULL)
        memset(p, 0, nmemb * size);
    return p;
}

/* realloc and calloc of an allocator with its own malloc, free and payload
 * size (the MT ones, nolock.c and remotefree.c): in place when the block
 * is big enough, else moved; calloc's product checked. */
typedef struct {
    void *(*alloc)(size_t);
    void (*release)(void *);
    size_t (*payload)(void *);
} base_ops;

static inline void *base_resize(const base_ops *ops, void *ptr, size_t size)
{
    if (ptr == NULL)
        return ops->alloc(size);
    if (size == 0) {
        ops->release(ptr);
        return NULL;
    }
    size_t old = ops->payload(ptr);
    if (size <= old)
        return ptr;
    void *q = base_move(ops->alloc, ptr, old, size);
    if (q != NULL)
        ops->release(ptr);
    return q;
}

static inline void *base_checked_zeroed(void *(*alloc)(size_t), size_t nmemb,
                                        size_t size)
{
    if (size != 0 && nmemb > SIZE_MAX / size)
        return NULL;
    return base_zeroed(alloc, nmemb, size);
}

#endif /* BROKEN_BASE_H */
