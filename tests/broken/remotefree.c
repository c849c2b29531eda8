/*
 * remotefree.c - a per-thread arena allocator whose remote free pushes the
 * block onto the wrong list: the freeing thread's, not its owner's (MT
 * traces: a block allocated on one thread and freed on another).
 *
 * Each thread takes an arena on its first call (up to REMOTE_ARENAS, then
 * they are shared). An arena has its own lock, a chunk that it carves
 * from the front (base_sbrk), a LIFO free list per size class (powers of
 * two, 16 B .. 64 KiB; bigger requests get a block of their own, never
 * reused) and a count of its blocks in use. The header of a block names
 * its arena. When an arena's count falls to zero, every block it carved
 * is free, so it rewinds: its lists are emptied and it carves again from
 * the start of its chunk. That is correct only while an arena's free
 * blocks are on its own lists. The breakage: a free from another thread
 * puts the block on the freeing thread's list (and counts it off its
 * owner): the owner rewinds and carves the block again, while the other
 * list still hands it out. mdriver: overlap, deterministically once a
 * remote free brings the owner's count to zero.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "base.h"

enum { REMOTE_HEADER = 16, REMOTE_MIN_SHIFT = 4, REMOTE_CLASSES = 13 };
enum { REMOTE_ARENAS = 64, REMOTE_CHUNK = 1 << 20 };
static const uint32_t REMOTE_NONE = UINT32_MAX; /* a big block: no arena */

typedef struct remote_block {
    struct remote_block *next;
} remote_block;

typedef struct {
    uint32_t class_of, owner;
    uint64_t payload;
} remote_header;

typedef struct {
    pthread_mutex_t lock;
    char *chunk, *bump, *end;
    size_t live;
    remote_block *lists[REMOTE_CLASSES];
} remote_arena;

static remote_arena arenas[REMOTE_ARENAS];
static atomic_uint next_arena;
static __thread int my_arena = -1;

static uint32_t class_of(size_t size)
{
    uint32_t k = 0;
    while (k < REMOTE_CLASSES && ((size_t)1 << (k + REMOTE_MIN_SHIFT)) < size)
        k++;
    return k;
}

static remote_header *header_of(void *payload)
{
    return (remote_header *)((char *)payload - REMOTE_HEADER);
}

static size_t payload_of(void *payload)
{
    return header_of(payload)->payload;
}

static remote_arena *mine(void)
{
    if (my_arena < 0)
        my_arena = (int)(atomic_fetch_add(&next_arena, 1) % REMOTE_ARENAS);
    return &arenas[my_arena];
}

bool mm_init(void)
{
    for (int i = 0; i < REMOTE_ARENAS; i++) {
        remote_arena *a = &arenas[i];
        pthread_mutex_lock(&a->lock);
        a->chunk = a->bump = a->end = NULL;
        a->live = 0;
        memset(a->lists, 0, sizeof a->lists);
        pthread_mutex_unlock(&a->lock);
    }
    return true;
}

/* A block of bytes (header included) from the front of a's chunk, under
 * a's lock; a new chunk when it is full. */
static char *carve(remote_arena *a, size_t bytes)
{
    if (a->bump == NULL || (size_t)(a->end - a->bump) < bytes) {
        char *c = base_sbrk(REMOTE_CHUNK);
        if (c == (void *)-1)
            return NULL;
        a->chunk = a->bump = c;
        a->end = c + REMOTE_CHUNK;
    }
    char *p = a->bump;
    a->bump += bytes;
    return p;
}

static void *big_block(size_t size)
{
    char *p = base_sbrk((intptr_t)(base_round(size) + REMOTE_HEADER));
    if (p == (void *)-1)
        return NULL;
    remote_header h = {REMOTE_CLASSES, REMOTE_NONE, base_round(size)};
    memcpy(p, &h, sizeof h);
    return p + REMOTE_HEADER;
}

void *mm_malloc(size_t size)
{
    if (size > ((size_t)1 << 40))
        return NULL;
    uint32_t k = class_of(size ? size : 1);
    if (k == REMOTE_CLASSES)
        return big_block(size);
    remote_arena *a = mine();
    size_t payload = (size_t)1 << (k + REMOTE_MIN_SHIFT);
    pthread_mutex_lock(&a->lock);
    char *p = (char *)a->lists[k];
    if (p != NULL) {
        a->lists[k] = a->lists[k]->next;
    } else {
        p = carve(a, payload + REMOTE_HEADER);
        p = p == NULL ? NULL : p + REMOTE_HEADER;
    }
    if (p != NULL) {
        remote_header h = {k, (uint32_t)(a - arenas), payload};
        memcpy(header_of(p), &h, sizeof h);
        a->live++;
    }
    pthread_mutex_unlock(&a->lock);
    return p;
}

static void push(remote_arena *a, void *ptr, uint32_t k)
{
    pthread_mutex_lock(&a->lock);
    remote_block *b = ptr;
    b->next = a->lists[k];
    a->lists[k] = b;
    pthread_mutex_unlock(&a->lock);
}

/* One block of owner's is free: the last one rewinds owner. */
static void count_off(remote_arena *owner)
{
    pthread_mutex_lock(&owner->lock);
    if (--owner->live == 0) {
        memset(owner->lists, 0, sizeof owner->lists);
        owner->bump = owner->chunk;
    }
    pthread_mutex_unlock(&owner->lock);
}

void mm_free(void *ptr)
{
    if (ptr == NULL)
        return;
    remote_header h;
    memcpy(&h, header_of(ptr), sizeof h);
    if (h.owner == REMOTE_NONE)
        return;
    push(mine(), ptr, h.class_of); /* the breakage: owner's list is right */
    count_off(&arenas[h.owner]);
}

void *mm_realloc(void *ptr, size_t size)
{
    static const base_ops ops = {mm_malloc, mm_free, payload_of};
    return base_resize(&ops, ptr, size);
}

void *mm_calloc(size_t nmemb, size_t size)
{
    return base_checked_zeroed(mm_malloc, nmemb, size);
}
