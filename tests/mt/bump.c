/*
 * bump.c - the harness's ceiling for mdriver -T (docs/bench-mt.md): a
 * thread-safe allocator that costs little and shares nothing between
 * threads but mem_sbrk. Each thread carves blocks of power-of-two size
 * classes (16 B .. 2^40) from a chunk of its own (CHUNK bytes from
 * mem_sbrk, the only shared step) and keeps the blocks it frees on free
 * lists of its own, one per class, with no lock (a block freed by another
 * thread joins that thread's lists); realloc keeps a block whose class
 * holds the new size. mm_init starts a new epoch: a thread whose state is
 * of an older epoch drops it (mem_reset_brk took the heap back). Its -T 2
 * / -T 1 scaling is what the driver can show at best.
 */
#include <stdint.h>
#include <string.h>

#include "memlib.h"
#include "mm.h"

enum { HEADER = 16, MIN_SHIFT = 4, CLASSES = 37, CHUNK = 1 << 20 };

typedef struct free_block {
    struct free_block *next;
} free_block;

typedef struct {
    char *next, *end;
    unsigned epoch;
    free_block *lists[CLASSES];
} bump_state;

static unsigned epoch = 1;       /* atomic: mm_init's count */
static __thread bump_state mine; /* the calling thread's */

bool mm_init(void)
{
    __atomic_add_fetch(&epoch, 1, __ATOMIC_RELEASE);
    return true;
}

/* The class of a request: the smallest 2^(k + MIN_SHIFT) >= size. */
static size_t class_of(size_t size)
{
    size_t k = 0;
    while (((size_t)1 << (k + MIN_SHIFT)) < size)
        k++;
    return k;
}

/* The calling thread's state, of this epoch. */
static bump_state *state(void)
{
    unsigned now = __atomic_load_n(&epoch, __ATOMIC_ACQUIRE);
    if (mine.epoch != now) {
        memset(&mine, 0, sizeof mine);
        mine.epoch = now;
    }
    return &mine;
}

/* A fresh block of bytes from the thread's chunk (NULL: out of heap). */
static char *carve(bump_state *s, size_t bytes)
{
    if ((size_t)(s->end - s->next) < bytes) {
        size_t take = bytes > CHUNK ? bytes : CHUNK;
        char *p = mem_sbrk((intptr_t)take);
        if (p == (void *)-1)
            return NULL;
        s->next = p;
        s->end = p + take;
    }
    char *p = s->next;
    s->next += bytes;
    return p;
}

void *mm_malloc(size_t size)
{
    if (size > ((size_t)1 << 40))
        return NULL;
    bump_state *s = state();
    size_t k = class_of(size ? size : 1);
    char *p = (char *)s->lists[k];
    if (p != NULL)
        s->lists[k] = s->lists[k]->next;
    else if ((p = carve(s, ((size_t)1 << (k + MIN_SHIFT)) + HEADER)) == NULL)
        return NULL;
    else
        p += HEADER;
    memcpy(p - HEADER, &k, sizeof k);
    return p;
}

static size_t class_at(const void *ptr)
{
    size_t k;
    memcpy(&k, (const char *)ptr - HEADER, sizeof k);
    return k;
}

void mm_free(void *ptr)
{
    if (ptr == NULL)
        return;
    bump_state *s = state();
    size_t k = class_at(ptr);
    free_block *b = ptr;
    b->next = s->lists[k];
    s->lists[k] = b;
}

/* realloc and calloc copy and zero with mem_memcpy and mem_memset (not
 * tests/broken/base.h's helpers, which use memcpy and memset): on the
 * sparse heap of giant.rep they touch only the sampled windows. */
void *mm_realloc(void *ptr, size_t size)
{
    if (size == 0) {
        mm_free(ptr);
        return NULL;
    }
    if (ptr == NULL)
        return mm_malloc(size);
    size_t cap = (size_t)1 << (class_at(ptr) + MIN_SHIFT);
    if (size <= cap)
        return ptr;
    void *p = mm_malloc(size);
    if (p != NULL) {
        mem_memcpy(p, ptr, cap);
        mm_free(ptr);
    }
    return p;
}

void *mm_calloc(size_t nmemb, size_t size)
{
    if (nmemb != 0 && size > SIZE_MAX / nmemb)
        return NULL;
    void *p = mm_malloc(nmemb * size);
    if (p != NULL)
        mem_memset(p, 0, nmemb * size);
    return p;
}

bool mm_checkheap(int line)
{
    (void)line;
    return true;
}
