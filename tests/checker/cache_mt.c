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
 *   double-free-other  a thread of the main thread's arena frees a block
 *                 into its cache and waits; the main thread frees it
 *                 again: mm_free must abort
 *   remote-many   REMOTE_THREADS threads (bound in turn to the two
 *                 arenas) each allocate blocks of every cached size and
 *                 free the next thread's, most of them remote frees (of
 *                 another arena: remote batches); payloads checked before
 *                 every free and on the blocks kept; mm_checkheap while
 *                 the threads wait with their batches pending, then after
 *                 they exited with them (the exit returns them);
 *                 mm_stats' remote frees equal the frees of another
 *                 arena's blocks
 *   double-free-remote  a thread of the other arena frees a block of the
 *                 main thread's (into its remote batch) and waits; the
 *                 main thread frees it again: mm_free must abort
 *   fork-remote   a thread holds a pending remote batch while the main
 *                 thread forks (through mm_fork_prepare/parent/child); the
 *                 child allocates, frees and checks the heap; so does the
 *                 parent after the thread exited
 *   free-only     a thread that never allocates (so it has no cache) frees
 *                 the main thread's blocks of every cached size: each
 *                 goes onto arena 1's inbox alone (free_to_inbox);
 *                 mm_checkheap with the inbox pending (invariant 19),
 *                 mm_stats' remote frees equal those frees, and the main
 *                 thread's next mallocs of those sizes take them back
 *                 (the heap does not grow), payloads of kept blocks
 *                 checked
 * Prints "cache_mt: CASE ok" and exits 0, or says what failed and exits 1
 * (2 on bad usage); double-free-other aborts in mm_free.
 */
#include "../../malloc/mm.c"

#include <pthread.h>
#include <sys/wait.h>

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

/* Binds the calling thread to arena a (1 or 2) before its first call. */
static void bind_to(uint32_t a)
{
    thread_arena = a;
}

/* The thread of a double-free case: binds to arena (size_t)arg, frees a
 * block of its own (its cache), then the victim (arena 1's: into its bin
 * when arg is 1, into its remote batch when 2), and waits. */
static void *free_victim_and_wait(void *arg)
{
    bind_to((uint32_t)(size_t)arg);
    mm_free(mm_malloc(8));
    mm_free(victim);
    thread_cache_t *c = my_thread_cache();
    if ((size_t)arg == 2 && (c == NULL || c->remote_count[0] != 1))
        fail("the block is not in the thread's remote batch");
    __atomic_store_n(&phase, 1, __ATOMIC_RELEASE);
    while (__atomic_load_n(&phase, __ATOMIC_ACQUIRE) != 2)
        sched_yield();
    return NULL;
}

/* The main thread (arena 1) frees the victim again while a thread of arena
 * a holds it: mm_free must abort. */
static int double_free_from(size_t a, const char *where)
{
    pthread_t t;
    if ((victim = mm_malloc(40)) == NULL)
        fail("mm_malloc returned NULL");
    if (pthread_create(&t, NULL, free_victim_and_wait, (void *)a) != 0)
        fail("pthread_create");
    while (__atomic_load_n(&phase, __ATOMIC_ACQUIRE) != 1)
        sched_yield();
    mm_free(victim); /* must abort */
    __atomic_store_n(&phase, 2, __ATOMIC_RELEASE);
    pthread_join(t, NULL);
    printf("cache_mt: a second free of a block in %s went through\n", where);
    fail("the double free was not caught");
    return 1;
}

static int double_free_other(void)
{
    return double_free_from(1, "another thread's cache");
}

/* remote-many: thread i frees the blocks of thread i + 1. */
/* MADE is no multiple of REMOTE_BATCH: some frees stay in the batches */
enum { REMOTE_THREADS = 4, REMOTE_KEEP = 8, MADE = SIZES * 2 + 3 };
static unsigned char *made[REMOTE_THREADS][MADE];
static uint64_t remote_made[REMOTE_THREADS]; /* frees of another arena's */
static pthread_barrier_t made_all, freed_all, checked;

static unsigned remote_tag(size_t i, size_t j)
{
    return (unsigned)(i * 1000 + j);
}

static void *free_the_next(void *arg)
{
    size_t me = (size_t)arg, next = (me + 1) % REMOTE_THREADS;
    unsigned char *keep[REMOTE_KEEP];
    bind_to(1 + (uint32_t)(me % 2)); /* the next thread's is the other */
    for (size_t j = 0; j < MADE; j++) {
        if ((made[me][j] = mm_malloc(kind_size(j % SIZES))) == NULL)
            fail("mm_malloc returned NULL");
        fill(made[me][j], kind_size(j % SIZES), remote_tag(me, j));
    }
    for (size_t k = 0; k < REMOTE_KEEP; k++)
        if ((keep[k] = mm_malloc(kind_size(k * 7))) == NULL)
            fail("mm_malloc returned NULL");
        else
            fill(keep[k], kind_size(k * 7), remote_tag(me, 900 + k));
    pthread_barrier_wait(&made_all);
    for (size_t j = 0; j < MADE; j++) {
        unsigned char *p = made[next][j];
        if (!intact(p, kind_size(j % SIZES), remote_tag(next, j)))
            fail("a block lost its payload before its remote free");
        word_t owner = read_header((uintptr_t)p) & OWNER_MASK;
        remote_made[me] += owner != my_thread_cache()->arena->owner;
        mm_free(p);
    }
    for (size_t k = 0; k < REMOTE_KEEP; k++)
        if (!intact(keep[k], kind_size(k * 7), remote_tag(me, 900 + k)))
            fail("a kept block lost its payload to the remote frees");
    pthread_barrier_wait(&freed_all);
    pthread_barrier_wait(&checked); /* exits with its batch pending */
    for (size_t k = 0; k < REMOTE_KEEP; k++)
        mm_free(keep[k]);
    return NULL;
}

static void add_remote(const mm_arena_stats *st, void *arg)
{
    *(uint64_t *)arg += st->remote_frees;
}

/* Blocks in the remote batches of every cache on the root's list. */
static size_t remote_pending(void)
{
    size_t n = 0;
    for (thread_cache_t *c = heap->caches; c != NULL; c = c->next)
        for (size_t i = 0; i < heap->table->count; i++)
            n += c->remote_count[i];
    return n;
}

static int remote_many(void)
{
    pthread_t t[REMOTE_THREADS];
    pthread_barrier_init(&made_all, NULL, REMOTE_THREADS);
    pthread_barrier_init(&freed_all, NULL, REMOTE_THREADS + 1);
    pthread_barrier_init(&checked, NULL, REMOTE_THREADS + 1);
    for (size_t i = 0; i < REMOTE_THREADS; i++)
        if (pthread_create(&t[i], NULL, free_the_next, (void *)i) != 0)
            fail("pthread_create");
    pthread_barrier_wait(&freed_all);
    if (remote_pending() == 0)
        fail("no remote batch is pending while the threads wait");
    check("with the remote batches pending");
    pthread_barrier_wait(&checked);
    for (size_t i = 0; i < REMOTE_THREADS; i++)
        pthread_join(t[i], NULL);
    check("after the threads exited with their remote batches");
    uint64_t got = 0, want = 0;
    for (size_t i = 0; i < REMOTE_THREADS; i++)
        want += remote_made[i];
    mm_stats(add_remote, &got);
    if (want == 0 || got != want) {
        printf("cache_mt: mm_stats counts %llu remote frees, %llu were made\n",
               (unsigned long long)got, (unsigned long long)want);
        exit(1);
    }
    return 0;
}

/* double-free-remote: the block sits in the other thread's remote batch. */
static int double_free_remote(void)
{
    return double_free_from(2, "a remote batch");
}

/* fork-remote: the child and the parent both use the heap afterwards. */
static void churn_and_check(const char *who)
{
    void *p[SIZES];
    for (size_t k = 0; k < SIZES; k++)
        if ((p[k] = mm_malloc(kind_size(k))) == NULL)
            fail("mm_malloc returned NULL");
    for (size_t k = 0; k < SIZES; k++)
        mm_free(p[k]);
    check(who);
}

static int fork_remote(void)
{
    pthread_t t;
    if ((victim = mm_malloc(40)) == NULL)
        fail("mm_malloc returned NULL");
    if (pthread_create(&t, NULL, free_victim_and_wait, (void *)2) != 0)
        fail("pthread_create");
    while (__atomic_load_n(&phase, __ATOMIC_ACQUIRE) != 1)
        sched_yield();
    if (remote_pending() != 1)
        fail("no remote batch is pending at the fork");
    mm_fork_prepare();
    pid_t pid = fork();
    if (pid == 0) {
        mm_fork_child();
        churn_and_check("in the child");
        _exit(0);
    }
    mm_fork_parent();
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0)
        fail("the child failed after the fork");
    __atomic_store_n(&phase, 2, __ATOMIC_RELEASE);
    pthread_join(t, NULL);
    churn_and_check("in the parent after the thread's exit");
    return 0;
}

/* free-only: the blocks the thread frees, and the blocks kept meanwhile. */
static void *given[SIZES];

static void *free_given(void *arg)
{
    (void)arg;
    for (size_t k = 0; k < SIZES; k++)
        mm_free(given[k]);
    if (my_thread_cache() != NULL)
        fail("a thread that only frees opened a cache");
    return NULL;
}

static void *nothing(void *arg)
{
    return arg;
}

static int free_only(void)
{
    void *keep[SIZES];
    pthread_t t;
    if (pthread_create(&t, NULL, nothing, NULL) != 0) /* threads run */
        fail("pthread_create");
    pthread_join(t, NULL);
    for (size_t k = 0; k < SIZES; k++) {
        given[k] = mm_malloc(kind_size(k));
        keep[k] = mm_malloc(kind_size(k));
        if (given[k] == NULL || keep[k] == NULL)
            fail("mm_malloc returned NULL");
        fill(keep[k], kind_size(k), (unsigned)k);
    }
    if (pthread_create(&t, NULL, free_given, NULL) != 0)
        fail("pthread_create");
    pthread_join(t, NULL);
    if (arena_at(heap->table, 0)->remote_inbox == 0)
        fail("the frees of a thread without a cache are not in the inbox");
    check("with the inbox pending");
    uint64_t got = 0;
    mm_stats(add_remote, &got);
    if (got != SIZES) {
        printf("cache_mt: mm_stats counts %llu remote frees, %d were made\n",
               (unsigned long long)got, SIZES);
        exit(1);
    }
    size_t before = mem_heapsize();
    for (size_t k = 0; k < SIZES; k++)
        if ((given[k] = mm_malloc(kind_size(k))) == NULL)
            fail("mm_malloc returned NULL");
    if (mem_heapsize() != before)
        fail("the heap grew: the inbox's blocks were not taken back");
    check("after the inbox was taken");
    for (size_t k = 0; k < SIZES; k++) {
        if (!intact(keep[k], kind_size(k), (unsigned)k))
            fail("a kept block lost its payload");
        mm_free(keep[k]);
        mm_free(given[k]);
    }
    check("at the end");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: cache_mt CASE\n");
        return 2;
    }
    cpus_configured = 2; /* two arenas; each thread binds to one (bind_to) */
    thread_arena = 1;
    if (!mem_init() || !mm_init())
        return 2;
    int rc;
    if (strcmp(argv[1], "exit-full") == 0)
        rc = exit_full();
    else if (strcmp(argv[1], "cross-free") == 0)
        rc = cross_free();
    else if (strcmp(argv[1], "double-free-other") == 0)
        rc = double_free_other();
    else if (strcmp(argv[1], "remote-many") == 0)
        rc = remote_many();
    else if (strcmp(argv[1], "double-free-remote") == 0)
        rc = double_free_remote();
    else if (strcmp(argv[1], "fork-remote") == 0)
        rc = fork_remote();
    else if (strcmp(argv[1], "free-only") == 0)
        rc = free_only();
    else {
        fprintf(stderr, "cache_mt: unknown case '%s'\n", argv[1]);
        return 2;
    }
    printf("cache_mt: %s ok\n", argv[1]);
    return rc;
}
