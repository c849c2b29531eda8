/*
 * ttest.c - the t-test: many threads over one table of slots, random
 * sizes and calls (malloc, calloc, realloc, memalign, posix_memalign,
 * free), so that most frees and reallocs are of other threads' blocks;
 * every payload carries a seeded pattern, checked before each free and
 * realloc and at the end (calloc: zeros; memalign: the alignment; the
 * usable size: at least the request).
 *
 * Usage: ttest [THREADS [OPS_PER_THREAD [SEED]]]   (defaults 8 100000 1)
 * Built two ways (mk/libmm.mk): against malloc (run under
 * LD_PRELOAD=build/libmm.so), and with -DLIBMM_DIRECT linked with mm.c
 * (-DMM_ARENAS) and libmm/memlib_os.c under ThreadSanitizer, calling
 * mm_* directly: TSan intercepts malloc itself, so it cannot be preloaded.
 */
#include "check.h"

#include <malloc.h>
#include <pthread.h>
#include <sched.h>

#ifdef LIBMM_DIRECT
#include "mm.h"
static void *t_malloc(size_t n)
{
    return mm_malloc(n != 0 ? n : 1);
}
static void *t_calloc(size_t n, size_t size)
{
    return mm_calloc(n != 0 ? n : 1, size != 0 ? size : 1);
}
static void *t_realloc(void *p, size_t n)
{
    return mm_realloc(p, n != 0 ? n : 1); /* n is 0 only for p NULL */
}
static void *t_memalign(size_t align, size_t n)
{
    return mm_memalign(align, n != 0 ? n : 1);
}
static void t_free(void *p)
{
    mm_free(p);
}
static size_t t_usable_size(void *p)
{
    return mm_usable_size(p);
}
#else
static void *t_malloc(size_t n)
{
    return malloc(n);
}
static void *t_calloc(size_t n, size_t size)
{
    return calloc(n, size);
}
static void *t_realloc(void *p, size_t n)
{
    return realloc(p, n);
}
static void *t_memalign(size_t align, size_t n)
{
    void *p = NULL;
    return posix_memalign(&p, align, n) == 0 ? p : NULL;
}
static void t_free(void *p)
{
    free(p);
}
static size_t t_usable_size(void *p)
{
    return malloc_usable_size(p);
}
#endif

enum { SLOTS = 4096 };

typedef struct slot {
    pthread_mutex_t lock;
    unsigned char *p;
    size_t size;
    uint64_t seed;
} slot_t;

static slot_t slots[SLOTS];
static long ops_per_thread = 100000;
static uint64_t base_seed = 1;

/* A random size: mostly small, some medium, a few large. */
static size_t random_size(uint64_t *state)
{
    uint64_t r = next_random(state);
    if (r % 100 < 80)
        return (size_t)(r >> 8) % 512;
    if (r % 100 < 98)
        return (size_t)(r >> 8) % 16384;
    return (size_t)(r >> 8) % (1 << 20);
}

/* Fills an empty slot with a new block from one of the calls. */
static void fill_slot(slot_t *s, uint64_t *state)
{
    size_t n = random_size(state), kind = next_random(state) % 10;
    size_t align = (size_t)16 << (next_random(state) % 10);
    unsigned char *p;
    if (kind < 6) {
        p = t_malloc(n);
    } else if (kind < 8) {
        p = t_calloc(n, 1);
        for (size_t i = 0; p != NULL && i < n; i++)
            if (p[i] != 0 && !check(false, "calloc: not zeroed"))
                break;
    } else if (kind < 9) {
        p = t_memalign(align, n);
        check(p == NULL || (uintptr_t)p % align == 0, "memalign: aligned");
    } else {
        p = t_realloc(NULL, n);
    }
    if (!check(p != NULL, "allocation failed"))
        return;
    check(t_usable_size(p) >= n, "usable size below the request");
    s->p = p;
    s->size = n;
    s->seed = next_random(state);
    fill(p, n, s->seed);
}

/* Frees or reallocates a slot's block (most likely another thread's),
 * after checking its pattern. */
static void empty_slot(slot_t *s, uint64_t *state)
{
    check(verify(s->p, s->size, s->seed), "payload corrupted");
    if (next_random(state) % 4 != 0) {
        t_free(s->p);
        s->p = NULL;
        return;
    }
    size_t n = random_size(state) + 1;
    unsigned char *p = t_realloc(s->p, n);
    if (!check(p != NULL, "realloc failed"))
        return;
    size_t keep = n < s->size ? n : s->size;
    check(verify(p, keep, s->seed), "realloc lost the payload");
    s->p = p;
    s->size = n;
    s->seed = next_random(state);
    fill(p, n, s->seed);
}

/* Pins the calling thread to CPU t modulo the CPUs it may use, so that
 * the threads bind to different arenas (a thread binds at its first
 * call: started on the CPU of their creator, they would share one). */
static void spread_thread(long t)
{
    cpu_set_t allowed, one;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0)
        return;
    long k = t % CPU_COUNT(&allowed);
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (CPU_ISSET(cpu, &allowed) && k-- == 0) {
            CPU_ZERO(&one);
            CPU_SET(cpu, &one);
            pthread_setaffinity_np(pthread_self(), sizeof one, &one);
            return;
        }
    }
}

static void *worker(void *arg)
{
    spread_thread((long)(intptr_t)arg);
    uint64_t state = base_seed * 1000003u + (uint64_t)(uintptr_t)arg + 1;
    for (long i = 0; i < ops_per_thread; i++) {
        slot_t *s = &slots[next_random(&state) % SLOTS];
        pthread_mutex_lock(&s->lock);
        if (s->p != NULL)
            empty_slot(s, &state);
        else
            fill_slot(s, &state);
        pthread_mutex_unlock(&s->lock);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    long threads = argc > 1 ? atol(argv[1]) : 8;
    ops_per_thread = argc > 2 ? atol(argv[2]) : ops_per_thread;
    base_seed = argc > 3 ? strtoull(argv[3], NULL, 10) : base_seed;
    if (threads < 1 || threads > 256 || ops_per_thread < 1) {
        fprintf(stderr, "usage: ttest [THREADS [OPS_PER_THREAD [SEED]]]\n");
        return 2;
    }
#ifdef LIBMM_DIRECT
    if (!mm_init())
        return 2;
#endif
    report_allocator();
    for (size_t i = 0; i < SLOTS; i++)
        pthread_mutex_init(&slots[i].lock, NULL);
    pthread_t tids[256];
    for (long t = 0; t < threads; t++)
        check(pthread_create(&tids[t], NULL, worker, (void *)(intptr_t)t) == 0,
              "pthread_create");
    for (long t = 0; t < threads; t++)
        pthread_join(tids[t], NULL);
    for (size_t i = 0; i < SLOTS; i++) {
        if (slots[i].p != NULL) {
            check(verify(slots[i].p, slots[i].size, slots[i].seed),
                  "payload corrupted at the end");
            t_free(slots[i].p);
        }
    }
    printf("%ld threads, %ld ops each\n", threads, ops_per_thread);
    return finish();
}
