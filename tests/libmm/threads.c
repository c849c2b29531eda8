/*
 * threads.c - threads and processes over build/libmm.so: glibc 2.36's
 * tst-malloc-fork-deadlock, tst-malloc-thread-exit and
 * tst-malloc-thread-fail re-implemented, aligned blocks freed on another
 * thread, the f-test (fork while other threads allocate; the child
 * allocates and frees before it exits; fork then exec), and memory that
 * goes back to the system.
 *
 * Usage: threads NAME   (NAME: fork_deadlock thread_exit thread_fail
 *        aligned_remote ftest rss; exec_child is what ftest execs)
 * Prints `FAIL: ...` per failed check, exits 1 if any. Each child process
 * has an alarm: a deadlocked child dies of SIGALRM, which its parent
 * reports. tests/test_libmm.py runs them under LD_PRELOAD=build/libmm.so
 * (thread_fail with MM_HEAP_CEILING=64M, so that memory runs out).
 */
#include "check.h"

#include <malloc.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

enum { CHILD_ALARM = 20 };

/* ---- Threads that allocate until told to stop ---------------------------*/

static volatile int stop_flag;

static bool stopping(void)
{
    return __atomic_load_n(&stop_flag, __ATOMIC_RELAXED) != 0;
}

/* Allocates, checks and frees blocks of its own until stop_flag. */
static void *churn(void *arg)
{
    uint64_t state = (uint64_t)(uintptr_t)arg * 7919 + 1;
    void *held[32] = {0};
    size_t sizes[32] = {0};
    while (!stopping()) {
        size_t i = next_random(&state) % 32;
        if (held[i] != NULL) {
            check(verify(held[i], sizes[i], i), "churn: payload corrupted");
            free(held[i]);
        }
        sizes[i] = next_random(&state) % 3000;
        held[i] = malloc(sizes[i]);
        if (held[i] != NULL)
            fill(held[i], sizes[i], i);
    }
    for (size_t i = 0; i < 32; i++)
        free(held[i]);
    return NULL;
}

static void start_churn(pthread_t *tids, int n)
{
    __atomic_store_n(&stop_flag, 0, __ATOMIC_RELAXED);
    for (int i = 0; i < n; i++)
        check(pthread_create(&tids[i], NULL, churn, (void *)(intptr_t)i) == 0,
              "pthread_create");
}

static void stop_churn(pthread_t *tids, int n)
{
    __atomic_store_n(&stop_flag, 1, __ATOMIC_RELAXED);
    for (int i = 0; i < n; i++)
        pthread_join(tids[i], NULL);
}

/* Waits for child pid; true when it exited with status 0. */
static bool child_ok(pid_t pid, const char *what)
{
    int status;
    if (waitpid(pid, &status, 0) != pid)
        return check(false, what);
    if (WIFSIGNALED(status))
        printf("child killed by signal %d (%s)\n", WTERMSIG(status),
               WTERMSIG(status) == SIGALRM ? "deadlock?" : "crash");
    return check(WIFEXITED(status) && WEXITSTATUS(status) == 0, what);
}

/* ---- tst-malloc-fork-deadlock, and the f-test ---------------------------*/

/* In a child: allocates and frees (and frees `inherited`, a block of the
 * parent's main thread), then exits with 0, or 1 on a bad payload. */
static void child_allocates(void *inherited, size_t n)
{
    alarm(CHILD_ALARM);
    int bad = !verify(inherited, n, 99);
    free(inherited);
    void *blocks[200];
    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < 200; i++) {
            blocks[i] = malloc((size_t)i * 37 + round);
            fill(blocks[i], (size_t)i * 37 + round, (uint64_t)i);
        }
        for (int i = 0; i < 200; i++) {
            bad |= !verify(blocks[i], (size_t)i * 37 + round, (uint64_t)i);
            free(blocks[i]);
        }
    }
    exit(bad);
}

/* Forks `forks` times while `threads` threads allocate. */
static void fork_while_allocating(int threads, int forks)
{
    pthread_t tids[8];
    start_churn(tids, threads);
    for (int i = 0; i < forks; i++) {
        size_t n = (size_t)i * 100 + 1;
        void *mine = malloc(n);
        fill(mine, n, 99);
        pid_t pid = fork();
        if (pid == 0)
            child_allocates(mine, n);
        check(pid > 0, "fork");
        if (pid > 0)
            child_ok(pid, "the child allocates, frees and exits 0");
        free(mine);
    }
    stop_churn(tids, threads);
}

static void test_fork_deadlock(void)
{
    fork_while_allocating(4, 30);
}

static void exec_child(void)
{
    void *p = malloc(1000);
    fill(p, 1000, 5);
    check(verify(p, 1000, 5), "exec child: payload");
    free(p);
}

static void test_ftest(void)
{
    fork_while_allocating(2, 30);
    pthread_t tids[2];
    start_churn(tids, 2);
    for (int i = 0; i < 5; i++) { /* fork, then exec (the library again) */
        pid_t pid = fork();
        if (pid == 0) {
            alarm(CHILD_ALARM);
            execl("/proc/self/exe", "threads", "exec_child", (char *)NULL);
            _exit(127);
        }
        child_ok(pid, "fork then exec: the child exits 0");
    }
    stop_churn(tids, 2);
}

/* ---- tst-malloc-thread-exit: blocks outlive their thread ----------------*/

enum { EXIT_BLOCKS = 64 };

static void *allocate_and_exit(void *arg)
{
    void **out = arg;
    for (size_t i = 0; i < EXIT_BLOCKS; i++) {
        out[i] = malloc(i * 61 + 1);
        fill(out[i], i * 61 + 1, i);
    }
    return NULL;
}

/* Rounds of threads that allocate and exit; the main thread checks and
 * frees their blocks; the heap must not grow with the rounds. */
static void test_thread_exit(void)
{
    void *blocks[4][EXIT_BLOCKS];
    size_t after_first = 0;
    for (int round = 0; round < 300; round++) {
        pthread_t tids[4];
        for (int t = 0; t < 4; t++)
            check(pthread_create(&tids[t], NULL, allocate_and_exit,
                                 blocks[t]) == 0,
                  "pthread_create");
        for (int t = 0; t < 4; t++)
            pthread_join(tids[t], NULL);
        for (int t = 0; t < 4; t++) {
            for (size_t i = 0; i < EXIT_BLOCKS; i++) {
                check(verify(blocks[t][i], i * 61 + 1, i),
                      "a block of an exited thread is intact");
                free(blocks[t][i]);
            }
        }
        if (round == 0)
            after_first = mallinfo2().arena;
    }
    check(mallinfo2().arena <= after_first + (8 << 20),
          "the heap does not grow with threads that exit");
}

/* ---- tst-malloc-thread-fail: running out of memory on threads ----------*/

static void *fail_worker(void *arg)
{
    uint64_t state = (uint64_t)(uintptr_t)arg + 3;
    void *held[16] = {0};
    long failures = 0;
    for (int i = 0; i < 600; i++) {
        size_t k = next_random(&state) % 16;
        free(held[k]);
        size_t n = (size_t)(next_random(&state) % (8 << 20));
        errno = 0;
        held[k] = (i % 3 == 0)   ? calloc(1, n)
                  : (i % 3 == 1) ? memalign(4096, n)
                                 : malloc(n);
        if (held[k] == NULL) {
            check(errno == ENOMEM, "out of memory: ENOMEM");
            failures++;
        } else {
            memset(held[k], 1, n < 4096 ? n : 4096);
        }
    }
    for (size_t k = 0; k < 16; k++)
        free(held[k]);
    return (void *)(intptr_t)failures;
}

static void test_thread_fail(void)
{
    pthread_t tids[4];
    long failures = 0;
    for (int t = 0; t < 4; t++)
        check(pthread_create(&tids[t], NULL, fail_worker,
                             (void *)(intptr_t)t) == 0,
              "pthread_create");
    for (int t = 0; t < 4; t++) {
        void *ret;
        pthread_join(tids[t], &ret);
        failures += (long)(intptr_t)ret;
    }
    printf("%ld allocations failed\n", failures);
    check(failures > 0, "memory ran out (run with MM_HEAP_CEILING=64M)");
    /* Every block went back (the memory is free in the arenas that hold
     * it: an arena does not take another's free memory, so a large
     * request may still fail on another CPU's arena). */
    check(mallinfo2().uordblks < (1 << 20), "after the frees, none in use");
    void *p = malloc(1000);
    check(p != NULL, "after the frees, a small block");
    free(p);
}

/* ---- Aligned blocks freed on another thread -----------------------------*/

enum { ALIGNED_BLOCKS = 2000 };
static void *aligned[ALIGNED_BLOCKS];

static void *allocate_aligned(void *arg)
{
    (void)arg;
    for (size_t i = 0; i < ALIGNED_BLOCKS; i++) {
        size_t align = (size_t)16 << (i % 14), n = i * 13 % 5000 + 1;
        aligned[i] = i % 2 ? aligned_alloc(align, n) : memalign(align, n);
        check(aligned[i] != NULL && (uintptr_t)aligned[i] % align == 0,
              "aligned block");
        fill(aligned[i], n, i);
    }
    return NULL;
}

static void *free_aligned(void *arg)
{
    (void)arg;
    for (size_t i = 0; i < ALIGNED_BLOCKS; i++) {
        check(verify(aligned[i], i * 13 % 5000 + 1, i), "aligned payload");
        if (i % 5 == 0)
            aligned[i] = realloc(aligned[i], i + 100000);
        free(aligned[i]);
    }
    return NULL;
}

static void test_aligned_remote(void)
{
    for (int round = 0; round < 5; round++) {
        pthread_t a, b;
        pthread_create(&a, NULL, allocate_aligned, NULL);
        pthread_join(a, NULL);
        pthread_create(&b, NULL, free_aligned, NULL);
        pthread_join(b, NULL);
    }
}

/* ---- Memory goes back ---------------------------------------------------*/

/* Resident bytes of the process (/proc/self/statm). */
static size_t resident_bytes(void)
{
    unsigned long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f != NULL) {
        if (fscanf(f, "%lu %lu", &size, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

/* 256 MiB in blocks of 100 KiB, touched; all but every 20th freed: the
 * resident size must fall to well below its peak. */
static void test_rss(void)
{
    enum { N = 2560, SIZE = 100 * 1024 };
    static void *blocks[N];
    for (int i = 0; i < N; i++) {
        blocks[i] = malloc(SIZE);
        memset(blocks[i], 1, SIZE);
    }
    size_t peak = resident_bytes();
    for (int i = 0; i < N; i++)
        if (i % 20 != 0)
            free(blocks[i]);
    size_t after = resident_bytes();
    printf("resident: %zu MiB at the peak, %zu MiB after the frees\n",
           peak >> 20, after >> 20);
    check(after < peak / 3, "RSS follows the live bytes");
    for (int i = 0; i < N; i += 20)
        free(blocks[i]);
}

int main(int argc, char **argv)
{
    static const named_test tests[] = {
        {"fork_deadlock", test_fork_deadlock},
        {"thread_exit", test_thread_exit},
        {"thread_fail", test_thread_fail},
        {"aligned_remote", test_aligned_remote},
        {"ftest", test_ftest},
        {"rss", test_rss},
        {"exec_child", exec_child},
    };
    return run_named(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
