/*
 * bind_mt.c - the thread -> arena binding of mm.c's arena build
 * (-DMM_ARENAS, docs/design.md "Arena mode", "Binding"): a thread that
 * finds its arena's lock held moves to the arena of the CPU it runs on.
 * It includes mm.c to set and read the binding (thread_arena).
 *
 * Usage: bind_mt contention | join
 *   Two arenas (cpus_configured = 2: CPU c's arena is c % 2 + 1). The main
 *   thread is pinned to a CPU of arena 1 and bound to it; a second thread
 *   is pinned to a CPU of arena 2 but bound to arena 1, as a new thread is
 *   when its first call runs on its creator's CPU. The main thread holds
 *   arena 1's lock while the second thread's first malloc waits for it:
 *   the thread must be bound to arena 2 before the lock is released (the
 *   main thread waits for that, at most WAIT_SECONDS: no timing is
 *   measured). Its next malloc must then come from arena 2 (a new cache
 *   there, the old one retired: two caches listed), its blocks keep their
 *   payloads, and mm_checkheap holds before and after the main thread
 *   frees them. Also: a thread that meets contention on the arena of the
 *   CPU it runs on stays bound to it.
 * join: the binding of a new thread (first_arena). The main thread, on a
 *   CPU of arena 1, is bound at its first call (arena 1, made). A new
 *   thread on a CPU of arena 2 makes its CPU's arena 2 (arena 1 is made
 *   but has a live thread) and exits; a new thread on arena 1's CPU then
 *   claims arena 2, made and idle (no live thread counted), not arena 1.
 * Prints "bind_mt: contention ok" (join ok) and exits 0; "bind_mt: skip: ..."
 * and exits 77 when the process may not run on CPUs of both arenas (one CPU);
 * says what failed and exits 1; 2 on bad usage.
 */
#define _GNU_SOURCE
#include "../../malloc/mm.c"

#include <pthread.h>
#include <sched.h>
#include <time.h>

enum { WAIT_SECONDS = 60, SKIP = 77 };

static int cpu_of_arena[2];     /* an allowed CPU of arena 1 and of arena 2 */
static uint32_t *other_binding; /* the second thread's thread_arena */
static int phase; /* atomic: 1 ready, 2 lock held, 3 allocated, 4 exit */
static unsigned char *blocks[2];

static void fail(const char *what)
{
    printf("bind_mt: FAIL: %s\n", what);
    exit(1);
}

static void check(const char *when)
{
    if (!mm_checkheap(__LINE__)) {
        printf("bind_mt: mm_checkheap failed %s\n", when);
        exit(1);
    }
}

/* Finds an allowed CPU of each arena; false if there is none. */
static bool find_cpus(void)
{
    cpu_set_t allowed;
    cpu_of_arena[0] = cpu_of_arena[1] = -1;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0)
        return false;
    for (int c = CPU_SETSIZE - 1; c >= 0; c--)
        if (CPU_ISSET(c, &allowed))
            cpu_of_arena[c % 2] = c;
    return cpu_of_arena[0] >= 0 && cpu_of_arena[1] >= 0;
}

static void pin(int cpu)
{
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    if (pthread_setaffinity_np(pthread_self(), sizeof one, &one) != 0 ||
        sched_getcpu() != cpu)
        fail("cannot pin a thread to its CPU");
}

static void wait_phase(int p)
{
    while (__atomic_load_n(&phase, __ATOMIC_ACQUIRE) != p)
        sched_yield();
}

static unsigned owner_of_block(const void *p)
{
    return (unsigned)(read_header((uintptr_t)p) >> OWNER_SHIFT);
}

static size_t caches_listed(void)
{
    size_t n = 0;
    for (thread_cache_t *c = heap->caches; c != NULL && n < 1000; c = c->next)
        n++;
    return n;
}

/* The second thread: on arena 2's CPU, bound to arena 1. */
static void *meet_contention(void *arg)
{
    (void)arg;
    pin(cpu_of_arena[1]);
    thread_arena = 1;
    other_binding = &thread_arena;
    __atomic_store_n(&phase, 1, __ATOMIC_RELEASE);
    wait_phase(2);
    blocks[0] = mm_malloc(24); /* opens its cache: waits for arena 1 */
    if (blocks[0] == NULL || owner_of_block(blocks[0]) != 1)
        fail("the first block is not arena 1's (the cache opened there)");
    blocks[1] = mm_malloc(200); /* the next malloc: a new cache */
    if (blocks[1] == NULL || owner_of_block(blocks[1]) != 2)
        fail("after the contention, a malloc did not come from arena 2");
    if (my_thread_cache() == NULL ||
        my_thread_cache()->arena->owner != owner_bits(2))
        fail("the thread's cache did not move to arena 2");
    memset(blocks[0], 0x5a, 24);
    memset(blocks[1], 0xa5, 200);
    __atomic_store_n(&phase, 3, __ATOMIC_RELEASE);
    wait_phase(4); /* exits (its cache retires) after the main's checks */
    return NULL;
}

/* Waits (at most WAIT_SECONDS) for the second thread to be bound anew. */
static bool rebound(void)
{
    time_t end = time(NULL) + WAIT_SECONDS;
    while (__atomic_load_n(other_binding, __ATOMIC_RELAXED) == 1)
        if (time(NULL) > end)
            return false;
        else
            sched_yield();
    return true;
}

static int contention(void)
{
    pin(cpu_of_arena[0]);
    if (mm_malloc(8) == NULL) /* the main thread's cache, arena 1 */
        fail("mm_malloc returned NULL");
    pthread_t t;
    if (pthread_create(&t, NULL, meet_contention, NULL) != 0)
        fail("pthread_create");
    wait_phase(1);
    heap_t *one = arena_at(heap->table, 0);
    bool locked = arena_lock(one);
    rebind_on_contention(one); /* the main thread, on arena 1's CPU */
    if (!locked || thread_arena != 1)
        fail("a thread on its arena's CPU moved on contention");
    __atomic_store_n(&phase, 2, __ATOMIC_RELEASE);
    bool moved = rebound();
    arena_unlock(one, locked);
    if (!moved)
        fail("the thread waited for arena 1's lock and stayed bound to it");
    wait_phase(3);
    if (caches_listed() != 2) {
        printf("bind_mt: %zu caches listed\n", caches_listed());
        fail("the thread's old cache was not retired (or none was made)");
    }
    check("after the thread moved to arena 2");
    __atomic_store_n(&phase, 4, __ATOMIC_RELEASE);
    pthread_join(t, NULL);
    for (size_t i = 0; i < 2; i++)
        for (size_t k = 0; k < (i == 0 ? 24 : 200); k++)
            if (blocks[i][k] != (i == 0 ? 0x5a : 0xa5))
                fail("a block lost its payload");
    mm_free(blocks[0]);
    mm_free(blocks[1]);
    check("after the main thread freed the thread's blocks");
    return 0;
}

/* A thread on arena (*arg)'s CPU: its first malloc binds it; it frees
 * its block and returns its binding. */
static void *bind_new_thread(void *arg)
{
    pin(cpu_of_arena[*(int *)arg - 1]);
    void *p = mm_malloc(40);
    if (p == NULL)
        fail("mm_malloc returned NULL");
    mm_free(p);
    return (void *)(uintptr_t)thread_arena;
}

static uint32_t run_new_thread(int a)
{
    pthread_t t;
    void *bound = NULL;
    if (pthread_create(&t, NULL, bind_new_thread, &a) != 0 ||
        pthread_join(t, &bound) != 0)
        fail("pthread_create or pthread_join");
    return (uint32_t)(uintptr_t)bound;
}

static int join(void)
{
    pin(cpu_of_arena[0]);
    thread_arena = 0; /* the main thread: bound at its first call */
    if (mm_malloc(8) == NULL)
        fail("mm_malloc returned NULL");
    if (thread_arena != 1)
        fail("the main thread, on arena 1's CPU, is not bound to arena 1");
    if (run_new_thread(2) != 2 || arena_at(heap->table, 1) == NULL)
        fail("a new thread on arena 2's CPU, arena 1 busy, did not make its "
             "CPU's arena 2");
    if (run_new_thread(1) != 2)
        fail("a new thread did not claim arena 2, made and idle");
    check("after the threads exited");
    return 0;
}

int main(int argc, char **argv)
{
    bool joins = argc == 2 && strcmp(argv[1], "join") == 0;
    if (argc != 2 || (!joins && strcmp(argv[1], "contention") != 0)) {
        fprintf(stderr, "usage: bind_mt contention | join\n");
        return 2;
    }
    if (!find_cpus()) {
        printf("bind_mt: skip: the process may run on %d CPU(s), not on "
               "CPUs of two arenas (an even and an odd one)\n",
               (int)sysconf(_SC_NPROCESSORS_ONLN));
        return SKIP;
    }
    cpus_configured = 2; /* two arenas: CPU c's is c % 2 + 1 */
    thread_arena = 1;
    if (!mem_init() || !mm_init())
        return 2;
    if (joins) {
        join();
        printf("bind_mt: join ok\n");
        return 0;
    }
    contention();
    printf("bind_mt: contention ok\n");
    return 0;
}
