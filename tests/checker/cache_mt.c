/*
 * cache_mt.c - the thread caches of mm.c's arena build (-DMM_ARENAS), case
 * by case. It includes mm.c to see the root's list of caches.
 *
 * Usage: cache_mt CASE
 *   exit-full     a thread fills every bin of its cache (and spills), hands
 *                 one block of each size to the main thread and exits: its
 *                 cache leaves the root's list, its blocks go back to the
 *                 arena; the handed blocks keep their payloads, and the
 *                 main thread frees them; mm_checkheap after each step
 *   cross-free    a producer thread allocates, a consumer frees its blocks
 *                 (every size up to 1 KiB), both with caches; checked
 *                 payloads, mm_checkheap and mm_stats' ops at the end
 *   double-free-other  a thread frees a block into its cache and waits;
 *                 the main thread frees it again: mm_free must abort
 * Prints "cache_mt: CASE ok" and exits 0, or says what failed and exits 1
 * (2 on bad usage); double-free-other aborts in mm_free.
 */
#include "../../malloc/mm.c"

#include <pthread.h>

enum { SIZES = 64, PER_SIZE = 40, QUEUE = 4096 };

static void fail(const char *what)
{
    printf("cache_mt: FAIL: %s\n", what);
    exit(1);
}

static void check(const char *when)
{
    if (!mm_checkheap(__LINE__)) {
        printf("cache_mt: mm_checkheap failed %s\n", when);
        exit(1);
    }
}

/* The caches on the root's list. */
static size_t caches_listed(void)
{
    size_t n = 0;
    for (thread_cache_t *c = heap->caches; c != NULL && n < 1000; c = c->next)
        n++;
    return n;
}

/* Request size of block kind k: every cached size class, 8 .. 1016. */
static size_t kind_size(size_t k)
{
    return 16 * (k + 1) - 8;
}

static void fill(unsigned char *p, size_t n, unsigned tag)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(tag * 31 + i);
}

static bool intact(const unsigned char *p, size_t n, unsigned tag)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)(tag * 31 + i))
            return false;
    return true;
}

static unsigned char *handed[SIZES];

/* exit-full: PER_SIZE blocks of each size, all freed but one (the bins
 * fill and spill), the one handed over. */
static void *fill_and_exit(void *arg)
{
    (void)arg;
    static unsigned char *mine[SIZES][PER_SIZE];
    for (size_t k = 0; k < SIZES; k++)
        for (size_t i = 0; i < PER_SIZE; i++) {
            if ((mine[k][i] = mm_malloc(kind_size(k))) == NULL)
                fail("mm_malloc returned NULL");
            fill(mine[k][i], kind_size(k), (unsigned)(k * PER_SIZE + i));
        }
    for (size_t k = 0; k < SIZES; k++) {
        for (size_t i = 1; i < PER_SIZE; i++)
            mm_free(mine[k][i]);
        handed[k] = mine[k][0];
    }
    if (my_thread_cache() == NULL || caches_listed() < 1)
        fail("the thread has no cache on the root's list");
    return NULL;
}

static int exit_full(void)
{
    pthread_t t;
    if (mm_malloc(8) == NULL) /* the main thread's cache */
        fail("mm_malloc returned NULL");
    size_t before = caches_listed();
    if (pthread_create(&t, NULL, fill_and_exit, NULL) != 0)
        fail("pthread_create");
    pthread_join(t, NULL);
    if (caches_listed() != before)
        fail("the exited thread's cache is still on the root's list");
    check("after the thread's exit");
    for (size_t k = 0; k < SIZES; k++)
        if (!intact(handed[k], kind_size(k), (unsigned)(k * PER_SIZE)))
            fail("a handed block lost its payload at the thread's exit");
    for (size_t k = 0; k < SIZES; k++)
        mm_free(handed[k]);
    check("after the main thread freed the handed blocks");
    return 0;
}

/* cross-free: a ring of blocks from the producer to the consumer. */
static struct {
    unsigned char *p[QUEUE];
    unsigned tag[QUEUE];
    unsigned head, tail; /* atomic: pushed and popped so far */
} ring;
static const unsigned ROUNDS = 50000;

static void *produce(void *arg)
{
    (void)arg;
    for (unsigned i = 0; i < ROUNDS; i++) {
        while (i - __atomic_load_n(&ring.tail, __ATOMIC_ACQUIRE) >= QUEUE)
            sched_yield();
        size_t n = kind_size(i % SIZES);
        unsigned char *p = mm_malloc(n);
        if (p == NULL)
            fail("mm_malloc returned NULL");
        fill(p, n, i);
        ring.p[i % QUEUE] = p;
        ring.tag[i % QUEUE] = i;
        __atomic_store_n(&ring.head, i + 1, __ATOMIC_RELEASE);
    }
    return NULL;
}

static void *consume(void *arg)
{
    (void)arg;
    for (unsigned i = 0; i < ROUNDS; i++) {
        while (__atomic_load_n(&ring.head, __ATOMIC_ACQUIRE) == i)
            sched_yield();
        unsigned char *p = ring.p[i % QUEUE];
        if (ring.tag[i % QUEUE] != i || !intact(p, kind_size(i % SIZES), i))
            fail("a block lost its payload on its way to the consumer");
        mm_free(p);
        if (i % 7 == 0) { /* the consumer's own blocks, in its cache */
            void *q = mm_malloc(kind_size(i % SIZES));
            if (q == NULL)
                fail("mm_malloc returned NULL");
            mm_free(q);
        }
        __atomic_store_n(&ring.tail, i + 1, __ATOMIC_RELEASE);
    }
    return NULL;
}

static void add_ops(const mm_arena_stats *st, void *arg)
{
    *(uint64_t *)arg += st->ops;
}

static int cross_free(void)
{
    pthread_t p, c = 0;
    if (pthread_create(&p, NULL, produce, NULL) != 0 ||
        pthread_create(&c, NULL, consume, NULL) != 0)
        fail("pthread_create");
    pthread_join(p, NULL);
    pthread_join(c, NULL);
    check("after the producer and the consumer");
    uint64_t ops = 0, want = 2 * ROUNDS + 2 * ((ROUNDS + 6) / 7);
    mm_stats(add_ops, &ops);
    if (ops != want) {
        printf("cache_mt: mm_stats counts %llu ops, %llu were made\n",
               (unsigned long long)ops, (unsigned long long)want);
        exit(1);
    }
    return 0;
}

/* double-free-other: the block sits in the other thread's cache. */
static unsigned char *victim;
static int phase; /* atomic: 1 freed by the thread, 2 may exit */

static void *free_and_wait(void *arg)
{
    (void)arg;
    mm_free(victim);
    __atomic_store_n(&phase, 1, __ATOMIC_RELEASE);
    while (__atomic_load_n(&phase, __ATOMIC_ACQUIRE) != 2)
        sched_yield();
    return NULL;
}

static int double_free_other(void)
{
    pthread_t t;
    if ((victim = mm_malloc(40)) == NULL)
        fail("mm_malloc returned NULL");
    if (pthread_create(&t, NULL, free_and_wait, NULL) != 0)
        fail("pthread_create");
    while (__atomic_load_n(&phase, __ATOMIC_ACQUIRE) != 1)
        sched_yield();
    mm_free(victim); /* must abort: the block is in the thread's cache */
    __atomic_store_n(&phase, 2, __ATOMIC_RELEASE);
    pthread_join(t, NULL);
    fail("a second free of a block in another thread's cache went through");
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: cache_mt CASE\n");
        return 2;
    }
    if (!mem_init() || !mm_init())
        return 2;
    int rc;
    if (strcmp(argv[1], "exit-full") == 0)
        rc = exit_full();
    else if (strcmp(argv[1], "cross-free") == 0)
        rc = cross_free();
    else if (strcmp(argv[1], "double-free-other") == 0)
        rc = double_free_other();
    else {
        fprintf(stderr, "cache_mt: unknown case '%s'\n", argv[1]);
        return 2;
    }
    printf("cache_mt: %s ok\n", argv[1]);
    return rc;
}
