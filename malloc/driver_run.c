/*
 * driver_run.c - replays one trace in a child process.
 *
 *   parent                                   child (fork, own process group)
 *   ------                                   -----------
 *   memfd for the child's output  ------->   stdout, stderr = that memfd
 *   shared status page (mmap)     <-------   op index + phase, one store/op
 *   shared address log (mmap)     <-------   each op's block, for the hint
 *   poll(pipe, -s timeout)        <-------   trace_result (write, _exit 0)
 *   kill the group, reap, report             replay 1, replay 2 (checked),
 *                                            timing of mm.c, then of glibc
 *
 * The parent already knows every op's text and line, so whatever kills the
 * child (a signal, a timeout, an exit() inside mm.c) is reported at the op
 * the child published last. Nothing the child sends is trusted: the status
 * page and the result are validated before use (mm.c runs in the child and
 * may write anywhere). The time limit covers the wait for the result and
 * for the child's exit; when the trace ends, the child's process group is
 * killed, and mdriver, a child subreaper, reaps every process of it, so an
 * mm.c that forks leaves nothing behind.
 */
#define _GNU_SOURCE
#include "driver.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "memlib.h"
#include "mm.h"

/* mm_stats (mm.h) is optional: NULL when mm.c does not define it. */
#pragma weak mm_stats

/* Seconds a child that sent its whole result may take to exit past the
 * time limit (Valgrind checks for leaks then). */
static const double EXIT_GRACE_SECS = 10.0;

static volatile child_status *status_page;
static int replay_threads = 1; /* -T of the trace being run */
static uintptr_t *addr_log;    /* shared, one entry per op of the trace */

bool run_setup(void)
{
    void *p = mmap(NULL, sizeof(child_status), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("ERROR: mdriver: mmap of the status page");
        return false;
    }
    status_page = p;
    /* Orphans of a replay (an mm.c that forks) become mdriver's children,
     * so that they can be reaped once their process group is killed. */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    return true;
}

/* The replaying thread's slot of the status page. */
static volatile replay_slot *main_slot(void)
{
    return &status_page->slot[0];
}

/* The thread to blame when the child ended early: the one a fatal signal
 * hit, else (a hang) the first one still replaying that does not wait for
 * another, else the first one still replaying, else thread 0. */
static int blamed_thread(const volatile child_status *st)
{
    int32_t crashed = st->crashed_tid;
    for (int k = 0; k < replay_threads && crashed != 0; k++)
        if (st->slot[k].tid == crashed)
            return k;
    for (int k = 0; k < replay_threads; k++)
        if (st->slot[k].done != 1 && st->slot[k].waiting != 1)
            return k;
    for (int k = 0; k < replay_threads; k++)
        if (st->slot[k].done != 1)
            return k;
    return 0;
}

static status_view status_snapshot(const volatile child_status *st,
                                   const trace_t *t)
{
    int thread = blamed_thread(st);
    const volatile replay_slot *slot = &st->slot[thread];
    status_view s = {.thread = thread,
                     .op_index = slot->op_index,
                     .phase = slot->phase,
                     .where = slot->where,
                     .pipe_lost_at = st->pipe_lost_at,
                     .pipe_lost_phase = st->pipe_lost_phase,
                     .pipe_lost = st->pipe_lost == 1};
    if (s.op_index < -1 || s.op_index >= (int64_t)t->nops)
        s.op_index = OP_UNKNOWN;
    if (s.pipe_lost_at < -1 || s.pipe_lost_at >= (int64_t)t->nops)
        s.pipe_lost_at = OP_UNKNOWN;
    if (s.phase < PHASE_REPLAY1 || s.phase > PHASE_PROBE)
        s.phase = PHASE_REPLAY1;
    if (s.pipe_lost_phase < PHASE_REPLAY1 || s.pipe_lost_phase > PHASE_PROBE)
        s.pipe_lost_phase = PHASE_REPLAY1;
    if (s.where < WHERE_OP || s.where > WHERE_HEAP_WALK)
        s.where = WHERE_OP;
    return s;
}

/* ---- unchecked replays, for timing ---- */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The ops of t through api, in file order; each id's block is ptr[id]. */
static void replay_ops(const trace_t *t, const alloc_api *api, void **ptr,
                       volatile replay_slot *slot)
{
    for (uint32_t i = 0; i < t->nops; i++) {
        const trace_op *op = &t->ops[i];
        void **block = op->id >= 0 ? &ptr[op->id] : NULL;
        slot->op_index = i;
        void *p = api_apply(api, op, block ? *block : NULL);
        if (block != NULL)
            *block = p;
    }
}

/*
 * An MT trace: thread's ops through api. Each op's block is ptr[b], b =
 * t->block[i] (a new one from each a, c or r on a dead id on), and done[b]
 * the last op done on it. An op waits only for the previous op on its
 * block when another thread did it: a new block on a reused id does not
 * wait for the free of the id's previous block (no data flows there; the
 * checked replays keep that wait too), so that the threads run as the
 * trace lets them and the clock measures the allocator.
 */
static int timing_stop; /* set when a timing thread could not start */

static void replay_thread(const trace_t *t, const alloc_api *api, void **ptr,
                          volatile replay_slot *slot, int thread, int32_t *done)
{
    uint32_t n;
    const uint32_t *mine = thread_ops(t, thread, &n);
    for (uint32_t k = 0; k < n; k++) {
        uint32_t i = mine[k], b = t->block[i];
        const trace_op *op = &t->ops[i];
        if ((op->sync & (OP_WAITS | OP_FRESH)) == OP_WAITS &&
            !op_wait(op, &done[b], &timing_stop))
            return;
        slot->op_index = i;
        ptr[b] = api_apply(api, op, (op->sync & OP_FRESH) ? NULL : ptr[b]);
        op_done(op, i, &done[b]);
    }
}

/*
 * The threads of the threaded timed replays (-T N, an MT trace's threads):
 * a pool started once per trace, before its first threaded timed replay,
 * and joined after its last, so that no replay pays for a thread's
 * creation, for its placement (a new thread starts on its creator's CPU
 * and may wait there for the scheduler to move it), or for the
 * allocator's set-up of a new thread (arena binding, glibc's tcache).
 * Thread 0 is the child's main thread. Per replay, the main thread posts
 * the jobs; every thread checks in at a start barrier that spins, and
 * measures its own span, from leaving the barrier to its last op.
 */
struct replay_pool;

/* One thread's unchecked copy of a trace (its blocks: ptr[0 .. slots)),
 * or its ops of an MT trace (done != NULL). Written by its thread only
 * while a replay runs, on cache lines of its own. */
typedef struct __attribute__((aligned(64))) {
    const trace_t *t;
    const alloc_api *api; /* set by the main thread before each post */
    void **ptr;
    volatile replay_slot *slot;
    int thread;
    int32_t *done; /* MT trace: per block, the last op done; else NULL */
    struct replay_pool *pool;
    double begin, end; /* its span in the last replay */
    double cpu;        /* its CPU time in that span */
} copy_job;

/* One threaded replay in CPU_EVERY reads its threads' CPU clocks (the
 * CPU share, cpu_kops): a system call, which with the kit machine's
 * page-table isolation and no PCID empties the TLB just before the
 * window. A one-thread replay reads none. */
enum { CPU_EVERY = 16 };

typedef struct replay_pool {
    int threads;     /* at the start barrier: 1 + the workers started */
    int posted;      /* atomic: replays posted so far */
    int quit;        /* atomic: 1 once the workers are to return */
    bool cpu_clocks; /* the posted replay reads the CPU clocks */
    int arrived __attribute__((aligned(64))); /* atomic: at the barrier */
    int finished; /* atomic: workers done with the posted replay */
    /* per API (0: glibc, 1: mm.c), over its replays: the threads' CPU
     * time, and threads x the windows */
    double cpu[2], wall[2];
    copy_job job[STATUS_SLOTS];
    pthread_t tid[STATUS_SLOTS];
    bool started[STATUS_SLOTS];
} replay_pool;

/* One step of the start barrier: a pause instruction for the first
 * BARRIER_SPINS steps (tens of microseconds: the other threads are
 * running, spinning at their own wait), then a yield at each step (one
 * of them may be waiting for this thread's core; a spin there would keep
 * it waiting for a whole time slice). */
static void barrier_step(unsigned *spins)
{
    enum { BARRIER_SPINS = 1024 };
    spin_step(spins, BARRIER_SPINS);
}

/* One step of a worker's wait for the next replay: wait_step (a pause,
 * then yields: a spin here would keep the core from a thread that shares
 * it, the main thread in its timed mm_init or a thread in its window, for
 * a whole time slice), then after about a thousand yields 0.1 ms sleeps
 * (the pool idles while the main thread runs something else). */
static void idle_step(unsigned *spins)
{
    enum { YIELDS_BEFORE_SLEEP = 1000 };
    if (*spins < YIELDS_BEFORE_SLEEP) {
        wait_step(spins);
        return;
    }
    struct timespec ts = {0, 100000};
    nanosleep(&ts, NULL);
}

/* The CPU time of the calling thread, in seconds. */
static double thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The job's replay: the start barrier, then its ops. */
static void run_job(copy_job *j)
{
    replay_pool *p = j->pool;
    unsigned spins = 0;
    __atomic_add_fetch(&p->arrived, 1, __ATOMIC_ACQ_REL);
    while (__atomic_load_n(&p->arrived, __ATOMIC_ACQUIRE) < p->threads)
        barrier_step(&spins);
    bool clocks = p->cpu_clocks;
    double cpu = clocks ? thread_cpu() : 0;
    j->begin = now();
    if (j->done != NULL)
        replay_thread(j->t, j->api, j->ptr, j->slot, j->thread, j->done);
    else
        replay_ops(j->t, j->api, j->ptr, j->slot);
    j->end = now();
    j->cpu = clocks ? thread_cpu() - cpu : 0;
}

static void *pool_worker(void *arg)
{
    copy_job *j = arg;
    replay_pool *p = j->pool;
    int seen = 0;
    j->slot->tid = (int32_t)syscall(SYS_gettid);
    for (;;) {
        unsigned spins = 0;
        int posted;
        while ((posted = __atomic_load_n(&p->posted, __ATOMIC_ACQUIRE)) ==
                   seen &&
               __atomic_load_n(&p->quit, __ATOMIC_ACQUIRE) == 0)
            idle_step(&spins);
        if (posted == seen)
            return NULL;
        seen = posted;
        run_job(j);
        __atomic_add_fetch(&p->finished, 1, __ATOMIC_RELEASE);
    }
}

/* Starts the pool for threads copies of t (copy k's blocks at ptr + k *
 * stride) or, done != NULL, t's threads (ptr and done per block, shared).
 * A thread that cannot start: its copy runs on the main thread after its
 * own; an MT trace is then not timed (timing_stop: its threads wait for
 * each other). */
static void pool_start(replay_pool *p, const trace_t *t, void **ptr,
                       size_t stride, int32_t *done, int threads)
{
    p->threads = 1;
    p->cpu_clocks = false;
    p->posted = p->quit = p->arrived = p->finished = 0;
    p->cpu[0] = p->cpu[1] = p->wall[0] = p->wall[1] = 0;
    for (int k = 0; k < threads; k++) {
        p->job[k] = (copy_job){.t = t,
                               .ptr = done ? ptr : ptr + (size_t)k * stride,
                               .slot = &status_page->slot[k],
                               .thread = k,
                               .done = done,
                               .pool = p};
        p->started[k] = false;
    }
    p->job[0].slot->tid = (int32_t)syscall(SYS_gettid);
    for (int k = 1; k < threads; k++) {
        p->started[k] =
            pthread_create(&p->tid[k], NULL, pool_worker, &p->job[k]) == 0;
        p->threads += p->started[k];
        if (!p->started[k] && done != NULL)
            __atomic_store_n(&timing_stop, 1, __ATOMIC_RELAXED);
    }
}

static void pool_stop(replay_pool *p, int threads)
{
    __atomic_store_n(&p->quit, 1, __ATOMIC_RELEASE);
    for (int k = 1; k < threads; k++)
        if (p->started[k])
            pthread_join(p->tid[k], NULL);
}

/* One replay on the pool's threads through api: the seconds from the
 * first thread's leaving the start barrier (all the threads had reached
 * it) to the last one's last op. */
static double replay_copies(replay_pool *p, const trace_t *t,
                            const alloc_api *api, int threads, double *cpu_all)
{
    int32_t *done = p->job[0].done;
    for (uint32_t b = 0; done != NULL && b < t->blocks; b++)
        done[b] = -1;
    for (int k = 0; k < threads; k++)
        p->job[k].api = api;
    p->cpu_clocks = p->posted % CPU_EVERY == 0;
    __atomic_store_n(&p->arrived, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&p->finished, 0, __ATOMIC_RELAXED);
    __atomic_add_fetch(&p->posted, 1, __ATOMIC_RELEASE);
    run_job(&p->job[0]);
    for (int k = 1; k < threads; k++)
        if (!p->started[k] && done == NULL)
            run_job(&p->job[k]);
    unsigned spins = 0;
    while (__atomic_load_n(&p->finished, __ATOMIC_ACQUIRE) < p->threads - 1)
        wait_step(&spins);
    double begin = p->job[0].begin, end = p->job[0].end, cpu = 0;
    int ran = 0;
    for (int k = 0; k < threads; k++) {
        if (!p->started[k] && k > 0 && done != NULL)
            continue;
        begin = p->job[k].begin < begin ? p->job[k].begin : begin;
        end = p->job[k].end > end ? p->job[k].end : end;
        cpu += p->job[k].cpu;
        ran++;
    }
    if (p->cpu_clocks) {
        p->cpu[api->is_mm] += cpu;
        p->wall[api->is_mm] += ran * (end - begin);
        *cpu_all += cpu;
    }
    return end - begin;
}

/* The blocks of the timed replays: per id (one thread: file order; -T N:
 * N copies) and per block (an MT trace on its threads). */
typedef struct {
    void **ptr;        /* copy k's: ptr + k * stride */
    size_t stride;     /* t->slots rounded up to a cache line of pointers */
    void **blocks;     /* MT trace: t->blocks */
    int32_t *done;     /* MT trace: t->blocks */
    replay_pool *pool; /* threaded replays: their threads */
    /* per API (0: glibc, 1: mm.c), threaded replays only: the CPU time of
     * their threads in their spans, and the replays. One thread reads no
     * CPU clock: a system call, which with this kernel's page-table
     * isolation and no PCID empties the TLB before the timed window */
    double cpu[2];
    double replays[2];
    bool cpu_one; /* one thread: read the CPU clock (untimed replays) */
} timing_slots;

/* After the clock: glibc's blocks still live are freed, and the per-block
 * slots cleared (an MT replay that stopped early leaves no stale one). */
static void release_blocks(const trace_t *t, const alloc_api *api,
                           timing_slots *s, const engine *e, bool mt)
{
    uint32_t n = 0;
    const int32_t *live = api->is_mm || mt ? NULL : engine_live_ids(e, &n);
    for (uint32_t i = 0; i < n; i++) { /* driver id: k * t->slots + id */
        void **slot = &s->ptr[(uint32_t)live[i] / t->slots * s->stride +
                              (uint32_t)live[i] % t->slots];
        free(*slot);
        *slot = NULL;
    }
    for (uint32_t b = 0; mt && b < t->blocks; b++) {
        if (!api->is_mm)
            free(s->blocks[b]);
        s->blocks[b] = NULL;
    }
}

/*
 * Seconds of one unchecked replay: mm_init (for mm.c), then every op (with
 * the waits of an MT trace's threads on each other); with threads, the
 * span of the pool's replay (replay_copies: from the start barrier, where
 * every thread has arrived, to the last op). ptr needs no clearing between
 * replays: the first op of every id is `a` or `c`, which sets its slot (an
 * MT trace's new blocks ignore theirs).
 */
static double time_replay(const trace_t *t, const alloc_api *api,
                          timing_slots *s, const engine *e, int threads)
{
    bool mt = t->threads > 1 && threads > 1;
    double start = now(), secs;
    if (api->is_mm)
        mem_reset_brk();
    if (api->init != NULL)
        api->init();
    if (threads == 1) {
        double cpu = s->cpu_one ? thread_cpu() : 0;
        replay_ops(t, api, s->ptr, main_slot());
        secs = now() - start;
        s->cpu[api->is_mm] += s->cpu_one ? thread_cpu() - cpu : 0;
        s->replays[api->is_mm] += s->cpu_one;
    } else {
        secs = now() - start;
        double cpu = 0;
        bool clocks = s->pool->posted % CPU_EVERY == 0; /* see replay_copies */
        secs += replay_copies(s->pool, t, api, threads, &cpu);
        s->cpu[api->is_mm] += cpu;
        s->replays[api->is_mm] += clocks;
    }
    release_blocks(t, api, s, e, mt);
    return secs;
}

/* The seconds of one sample: replays until TIMING_MIN_SAMPLE_SECS, or
 * until SAMPLE_MAX_WALL_SECS have passed (with threads, what is not timed,
 * posting a replay to the pool, its start barrier and the wait for its
 * last thread, can cost a tiny trace several times its replay). */
static double sample(double (*once)(void *), void *arg)
{
    static const double SAMPLE_MAX_WALL_SECS = 0.05;
    double total = 0, start = now();
    int reps = 0;
    do {
        total += once(arg);
        reps++;
    } while (total < TIMING_MIN_SAMPLE_SECS &&
             now() - start < SAMPLE_MAX_WALL_SECS);
    return total / reps;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Samples of one replay, sorted: the best of TIMING_K that agree within
 * TIMING_EPSILON is the figure (the fcyc scheme). */
typedef struct {
    double s[64];
    int n;
} timer;

static bool timer_done(const timer *t)
{
    return t->n >= TIMING_MAX_SAMPLES || t->n >= 64 ||
           (t->n >= TIMING_K &&
            t->s[TIMING_K - 1] <= (1 + TIMING_EPSILON) * t->s[0]);
}

static void timer_add(timer *t, double secs)
{
    t->s[t->n++] = secs;
    qsort(t->s, (size_t)t->n, sizeof t->s[0], cmp_double);
}

typedef struct {
    const trace_t *t;
    timing_slots slots;
    engine *e;
    trace_result *scratch;
    int threads; /* of the unchecked replays */
} timing_ctx;

/* Sets the phase of every replaying thread's slot. */
static void set_phase(run_phase phase)
{
    for (int k = 0; k < replay_threads; k++)
        status_page->slot[k].phase = phase;
}

static double once_mm(void *arg)
{
    timing_ctx *c = arg;
    if (main_slot()->phase != PHASE_OVERHEAD)
        set_phase(PHASE_TIMING);
    return time_replay(c->t, &MM_API, &c->slots, c->e, c->threads);
}

static double once_glibc(void *arg)
{
    timing_ctx *c = arg;
    set_phase(PHASE_GLIBC);
    return time_replay(c->t, &LIBC_API, &c->slots, c->e, c->threads);
}

static double once_checked(void *arg)
{
    timing_ctx *c = arg;
    double start = now();
    engine_replay(c->e, c->t, 0, status_page->slot, c->scratch, NULL);
    return now() - start;
}

/* Alternates samples of a and b, so that both see the same machine load,
 * until each has its TIMING_K agreeing samples (or runs out). */
static void time_pair(double (*a)(void *), double (*b)(void *), void *arg,
                      timer *ta, timer *tb)
{
    while (!timer_done(ta) || !timer_done(tb)) {
        if (!timer_done(ta))
            timer_add(ta, sample(a, arg));
        if (!timer_done(tb))
            timer_add(tb, sample(b, arg));
    }
}

/* ---- the child ---- */

/* The figures of the timers into r. */
static void keep_times(const driver_opts *o, const engine *e, const timer *mm,
                       const timer *other, trace_result *r)
{
    r->secs = mm->s[0];
    r->samples = mm->n;
    r->glibc_samples = other->n;
    if (o->overhead) {
        r->checked_secs = other->s[0];
        r->max_live = engine_max_live(e);
    } else {
        r->glibc_secs = other->s[0];
    }
    r->timed = timing_stop == 0;
}

/* -T N: the same timing with one thread, for the scaling. */
static void time_one_thread(timing_ctx *c, trace_result *r)
{
    timer mm = {.n = 0}, glibc = {.n = 0};
    c->threads = 1;
    time_pair(once_mm, once_glibc, c, &mm, &glibc);
    r->secs1 = mm.s[0];
    r->glibc_secs1 = glibc.s[0];
}

/* Zeroed pointers on cache lines of their own (NULL if none left). */
static void **line_array(size_t n)
{
    size_t bytes = (n * sizeof(void *) + 63) / 64 * 64;
    void **a = aligned_alloc(64, bytes);
    if (a != NULL)
        memset(a, 0, bytes);
    return a;
}

/* -T 1: after the timing, CPU_EVERY replays of mm.c, then CPU_EVERY of
 * glibc, whose CPU time (of their ops) is cpu_kops's, untimed: the timed
 * ones read no CPU clock (see CPU_EVERY). Each allocator's in a row, as
 * in a timing sample and as the threaded replays that read the clocks
 * (replays of mm.c and glibc in turn would each start with the caches
 * the other one left). Without -T, a run does not pay for them. */
static void cpu_one_thread(timing_ctx *c)
{
    c->slots.cpu_one = true;
    for (int k = 0; k < CPU_EVERY; k++)
        time_replay(c->t, &MM_API, &c->slots, c->e, 1);
    for (int k = 0; k < CPU_EVERY; k++)
        time_replay(c->t, &LIBC_API, &c->slots, c->e, 1);
    c->slots.cpu_one = false;
}

/* The timed replays of t, threaded (a pool: see replay_copies) and, with
 * -T N, with one thread (the in-run scaling). */
static void time_replays(const trace_t *t, const driver_opts *o, timing_ctx *c,
                         timer *mm, timer *other, trace_result *r)
{
    replay_pool pool;
    bool mt = t->threads > 1 && replay_threads > 1;
    if (replay_threads > 1)
        pool_start(&pool, t, mt ? c->slots.blocks : c->slots.ptr,
                   c->slots.stride, mt ? c->slots.done : NULL, replay_threads);
    c->slots.pool = &pool;
    time_pair(once_mm, o->overhead ? once_checked : once_glibc, c, mm, other);
    if (replay_threads == 1 && o->threads_given && !o->overhead)
        cpu_one_thread(c);
    for (int api = 0; api < 2; api++) /* [1]: mm.c, [0]: glibc */
        c->slots.cpu[api] /=
            c->slots.replays[api] > 0 ? c->slots.replays[api] : 1;
    r->cpu_secs = c->slots.cpu[1];
    r->glibc_cpu_secs = o->overhead ? 0 : c->slots.cpu[0];
    if (replay_threads > 1) {
        pool_stop(&pool, replay_threads);
        /* capped at 1: on a trace of a few ops, the clock reads (a system
         * call each, counted in the thread's CPU time) outlast the window */
        r->cpu_share =
            pool.wall[1] > 0 ? fmin(1, pool.cpu[1] / pool.wall[1]) : 0;
        r->glibc_cpu_share =
            pool.wall[0] > 0 ? fmin(1, pool.cpu[0] / pool.wall[0]) : 0;
    }
    if (replay_threads > 1 && !o->overhead)
        time_one_thread(c, r);
}

static void time_trace(const trace_t *t, const driver_opts *o, engine *e,
                       trace_result *r)
{
    bool mt = t->threads > 1 && replay_threads > 1;
    size_t copies = t->threads > 1 ? 1 : (size_t)replay_threads;
    size_t blocks = mt ? (size_t)t->blocks + 1 : 1;
    size_t stride = ((size_t)t->slots + 7) / 8 * 8;
    trace_result scratch = {0};
    timing_ctx c = {t,
                    {line_array(stride * copies + 1),
                     stride,
                     calloc(blocks, sizeof(void *)),
                     calloc(blocks, sizeof(int32_t)),
                     NULL,
                     {0, 0},
                     {0, 0},
                     false},
                    e,
                    &scratch,
                    replay_threads};
    timer mm = {.n = 0}, other = {.n = 0};
    if (c.slots.ptr != NULL && c.slots.blocks != NULL && c.slots.done != NULL) {
        mem_set_timing_mode(/*on=*/true);
        set_phase(o->overhead ? PHASE_OVERHEAD : PHASE_TIMING);
        time_replays(t, o, &c, &mm, &other, r);
        mem_set_timing_mode(/*on=*/false);
        keep_times(o, e, &mm, &other, r);
    }
    free(c.slots.ptr);
    free(c.slots.blocks);
    free(c.slots.done);
}

/* A trace with a request above 1 GiB gets the sparse heap (memlib.h). */
static bool child_heap(const trace_t *t, trace_result *r)
{
    if (t->max_bytes <= TRACE_DENSE_MAX_SIZE)
        return true;
    mem_deinit();
    mem_set_sparse(/*on=*/true);
    if (mem_init())
        return true;
    result_fail(r, main_slot(), KIND_OUT_OF_MEMORY, -1,
                "mdriver could not reserve the sparse heap for a request of "
                "%llu bytes",
                (unsigned long long)t->max_bytes);
    return false;
}

static void keep_arena(const mm_arena_stats *a, void *arg)
{
    trace_result *r = arg;
    if (a != NULL && r->arenas >= 0 && r->arenas < STATS_ARENAS_MAX)
        r->arena[r->arenas] = (arena_stat){
            a->arena,      a->ops,          a->remote_frees, a->in_use_bytes,
            a->free_bytes, a->cached_bytes, a->regions};
    if (r->arenas < INT32_MAX)
        r->arenas++;
}

/* Replay 1 with threads has ended (they are joined): mm.c's arenas. */
static void keep_stats(trace_result *r)
{
    r->arenas = -1;
    if (replay_threads < 2 || !mm_stats)
        return;
    r->arenas = 0;
    mm_stats(keep_arena, r);
}

static void child_replays(const trace_t *t, const driver_opts *o,
                          trace_result *r)
{
    if (!child_heap(t, r))
        return;
    engine *e = engine_new(t, &MM_API, replay_threads);
    if (e == NULL) {
        result_fail(r, main_slot(), KIND_OUT_OF_MEMORY, -1,
                    "mdriver itself ran out of memory for its tables");
        return;
    }
    volatile replay_slot *slots = status_page->slot;
    set_phase(PHASE_REPLAY1);
    if (engine_replay(e, t, o->debug, slots, r, addr_log)) {
        keep_stats(r);
        trace_result first = *r;
        set_phase(PHASE_REPLAY2);
        /* --one-replay (tools/grade's instruction count) skips replay 2 */
        if (o->one_replay ||
            engine_replay(e, t, o->debug, slots, r, addr_log)) {
            *r = first;
            if (o->probe) {
                set_phase(PHASE_PROBE);
                engine_probe_checker(e, main_slot(), r);
            }
            if (o->timing || o->overhead)
                time_trace(t, o, e, r);
        }
    }
    engine_delete(e);
}

static void write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

/* ---- the child's watch on its result pipe ---- */

static int result_fd = -1;
static ino_t result_ino;

static bool result_pipe_intact(void)
{
    struct stat sb;
    return fstat(result_fd, &sb) == 0 && sb.st_ino == result_ino;
}

/* SIGIO: the pipe changed state; when mm.c closed our end, the op it was
 * in is noted for the parent (the close itself raises the signal). */
static void on_sigio(int sig)
{
    (void)sig;
    int saved = errno;
    if (status_page->pipe_lost != 1 && !result_pipe_intact()) {
        status_page->pipe_lost_at = main_slot()->op_index;
        status_page->pipe_lost_phase = main_slot()->phase;
        status_page->pipe_lost = 1;
    }
    errno = saved;
}

/* The read end's owner is the child, so closing the last write end sends
 * the child SIGIO; read_fd is then closed (the parent has its own). */
static void watch_result_pipe(int read_fd, int write_fd)
{
    struct stat sb;
    struct sigaction sa = {.sa_handler = on_sigio};
    result_fd = write_fd;
    result_ino = fstat(write_fd, &sb) == 0 ? sb.st_ino : 0;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGIO, &sa, NULL);
    fcntl(read_fd, F_SETOWN, getpid());
    fcntl(read_fd, F_SETFL, fcntl(read_fd, F_GETFL) | O_ASYNC);
    close(read_fd);
}

/* Until the parent has closed its copy of the pipe's write end, a close
 * by mm.c would not be the last one and would raise no SIGIO. */
static void wait_for_parent(pid_t parent)
{
    struct timespec nap = {0, 20000};
    while (status_page->parent_ready != 1 && getppid() == parent)
        nanosleep(&nap, NULL);
}

/* A fatal signal in a replay of several threads: the thread it hit is
 * noted for the parent, then the signal does what it would have done. */
static void on_fatal_signal(int sig)
{
    status_page->crashed_tid = (int32_t)syscall(SYS_gettid);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void watch_fatal_signals(void)
{
    static const int FATAL[] = {SIGSEGV, SIGBUS, SIGABRT,
                                SIGFPE,  SIGILL, SIGTRAP};
    struct sigaction sa = {.sa_handler = on_fatal_signal};
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof FATAL / sizeof FATAL[0]; i++)
        sigaction(FATAL[i], &sa, NULL);
}

static void child_main(const trace_t *t, const driver_opts *o, int out_fd,
                       const int pfd[2], pid_t parent)
{
    static const rlim_t OUTPUT_LIMIT = (rlim_t)64 << 20;
    struct rlimit lim = {OUTPUT_LIMIT, OUTPUT_LIMIT};
    trace_result r;
    memset(&r, 0, sizeof r);
    setpgid(0, 0);
    watch_result_pipe(pfd[0], pfd[1]);
    wait_for_parent(parent);
    setrlimit(RLIMIT_FSIZE, &lim);
    dup2(out_fd, STDOUT_FILENO);
    dup2(out_fd, STDERR_FILENO);
    setvbuf(stdout, NULL, _IONBF, 0);
    if (replay_threads > 1) /* one thread needs no note: the sanitizers keep
                           their own handlers */
        watch_fatal_signals();
    child_replays(t, o, &r);
    if (!result_pipe_intact()) { /* never write into someone else's file */
        on_sigio(SIGIO);
        _exit(0);
    }
    write_all(pfd[1], &r, sizeof r);
    _exit(0);
}

/* ---- the parent ---- */

typedef enum { GOT_RESULT, GOT_EOF, GOT_TIMEOUT } read_outcome;

/* How one replay process ended, as the parent saw it. */
typedef struct {
    pid_t pid;
    double deadline; /* 0: no time limit */
    read_outcome outcome;
    size_t got;         /* bytes of the result read */
    status_view at_eof; /* the status when the pipe closed early */
    bool exited;        /* the child ended in time (not reaped yet) */
    siginfo_t info;     /* how: si_code CLD_EXITED, CLD_KILLED, ... */
} replay_end;

static int ms_until(double deadline)
{
    if (deadline <= 0)
        return -1;
    double left = deadline - now();
    return left <= 0 ? 0 : (int)(left * 1000) + 1;
}

/* Reads the result until it is complete, the pipe is closed, or the
 * deadline; never waits for EOF after a complete result (a grandchild of
 * mm.c may hold the pipe open). */
static void read_result(int fd, const trace_t *t, trace_result *r,
                        replay_end *end)
{
    char *p = (char *)r;
    end->got = 0;
    while (end->got < sizeof *r) {
        int ms = ms_until(end->deadline);
        if (ms == 0) {
            end->outcome = GOT_TIMEOUT;
            return;
        }
        struct pollfd pfd = {fd, POLLIN, 0};
        if (poll(&pfd, 1, ms) <= 0)
            continue;
        ssize_t k = read(fd, p + end->got, sizeof *r - end->got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            end->at_eof = status_snapshot(status_page, t);
            end->outcome = GOT_EOF;
            return;
        }
        end->got += (size_t)k;
    }
    end->outcome = GOT_RESULT;
}

/* Waits, until the deadline, for the child to end, without reaping it (its
 * pid keeps naming its process group until the group is killed). */
static bool wait_exit(replay_end *end)
{
    struct timespec nap = {0, 100000}; /* 0.1 ms, doubling up to 10 ms */
    for (;;) {
        memset(&end->info, 0, sizeof end->info);
        int flags = WEXITED | WNOWAIT | (end->deadline > 0 ? WNOHANG : 0);
        int rc = waitid(P_PID, (id_t)end->pid, &end->info, flags);
        if (rc == 0 && end->info.si_pid == end->pid)
            return true;
        if (rc < 0 && errno != EINTR)
            return false; /* ECHILD: not ours (cannot happen) */
        if (end->deadline > 0 && now() >= end->deadline)
            return false;
        nanosleep(&nap, NULL);
        nap.tv_nsec = nap.tv_nsec < 5000000 ? nap.tv_nsec * 2 : 10000000;
    }
}

/* Kills the child's process group (the child and whatever it forked) and
 * reaps all of them: nothing is left behind. */
static void end_group(pid_t pid)
{
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL); /* in case the child had left its group */
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    while (waitpid(-pid, NULL, 0) > 0 || errno == EINTR)
        ;
    while (waitpid(-1, NULL, WNOHANG) > 0) /* orphans that left the group */
        ;
}

static const char *signal_name(int sig)
{
    switch (sig) {
    case SIGSEGV:
        return "SIGSEGV";
    case SIGBUS:
        return "SIGBUS";
    case SIGABRT:
        return "SIGABRT";
    case SIGFPE:
        return "SIGFPE";
    case SIGILL:
        return "SIGILL";
    case SIGTRAP:
        return "SIGTRAP";
    case SIGKILL:
        return "SIGKILL";
    case SIGXFSZ:
        return "SIGXFSZ";
    default:
        return "signal";
    }
}

/* A sanitizer's report in the child's output: its marker, its name, and
 * whether the details start after the marker (ASan: "==N==ERROR:
 * AddressSanitizer: heap-buffer-overflow ...") or with the whole line
 * (UBSan: "mm.c:12:5: runtime error: ..."). */
typedef struct {
    const char *marker, *name;
    bool after;
} sanitizer_mark;

static const sanitizer_mark SANITIZERS[] = {
    {"runtime error: ", "UndefinedBehaviorSanitizer", false},
    {"ERROR: AddressSanitizer: ", "AddressSanitizer", true},
    {"ERROR: LeakSanitizer: ", "LeakSanitizer", true},
    {"WARNING: ThreadSanitizer: ", "ThreadSanitizer", true},
};

/* "NAME: first line of the report" for the earliest sanitizer report in
 * the child's output; false when there is none. */
static bool find_sanitizer_report(int fd, char *out, size_t n)
{
    static char buf[65536];
    ssize_t len = pread(fd, buf, sizeof buf - 1, 0);
    const char *first = NULL;
    const sanitizer_mark *m = NULL;
    buf[len > 0 ? len : 0] = '\0';
    for (size_t i = 0; i < sizeof SANITIZERS / sizeof SANITIZERS[0]; i++) {
        const char *at = strstr(buf, SANITIZERS[i].marker);
        if (at != NULL && (first == NULL || at < first))
            first = at, m = &SANITIZERS[i];
    }
    if (first == NULL)
        return false;
    if (m->after)
        first += strlen(m->marker);
    else
        while (first > buf && first[-1] != '\n')
            first--;
    snprintf(out, n, "%s: %.*s", m->name, (int)strcspn(first, "\n"), first);
    return true;
}

/* The op to blame for a closed result pipe, and its details. */
static void fail_pipe_lost(const replay_end *end, const status_view *st,
                           trace_result *r)
{
    int64_t at = st->pipe_lost ? st->pipe_lost_at : end->at_eof.op_index;
    result_fail(r, &status_page->slot[st->thread], KIND_CRASHED, at,
                "mm.c closed the driver's result pipe (a file descriptor it "
                "did not open), so the replay could not send its result");
    r->phase = st->pipe_lost ? st->pipe_lost_phase : end->at_eof.phase;
}

/* A child that ended before sending its whole result. */
static void judge_early_end(const replay_end *end, const status_view *st,
                            int out_fd, trace_result *r)
{
    char what[DETAILS_MAX - 64];
    int code = end->info.si_status;
    if (end->info.si_code == CLD_EXITED && st->pipe_lost) {
        fail_pipe_lost(end, st, r);
    } else if (find_sanitizer_report(out_fd, what, sizeof what)) {
        result_fail(r, &status_page->slot[st->thread], KIND_CRASHED,
                    st->op_index, "%s", what);
    } else if (end->info.si_code == CLD_EXITED) {
        result_fail(r, &status_page->slot[st->thread], KIND_CRASHED,
                    st->op_index,
                    "the process exited with status %d before the end of "
                    "the trace (does mm.c call exit()?)",
                    code);
    } else {
        result_fail(r, &status_page->slot[st->thread], KIND_CRASHED,
                    st->op_index, "%s (%s)%s", signal_name(code),
                    strsignal(code),
                    code == SIGXFSZ ? ": mm.c printed more than 64 MiB" : "");
    }
    r->thread = st->thread;
}

/* Turns how the child ended into r's error, if it failed. */
static void judge_child(const replay_end *end, const trace_t *t,
                        const driver_opts *o, int out_fd, trace_result *r)
{
    status_view st = status_snapshot(status_page, t);
    if (!end->exited && end->outcome != GOT_RESULT) {
        result_fail(r, &status_page->slot[st.thread], KIND_TIMEOUT, st.op_index,
                    "no result after %g seconds (-s %g): an infinite loop?%s",
                    o->timeout, o->timeout,
                    st.pipe_lost || end->outcome == GOT_EOF
                        ? " (and mm.c closed the driver's result pipe)"
                        : "");
        r->thread = st.thread;
    } else if (end->outcome != GOT_RESULT) {
        judge_early_end(end, &st, out_fd, r);
    } else if (end->exited && end->info.si_code == CLD_EXITED &&
               end->info.si_status != 0) {
        r->child_exit = end->info.si_status; /* a tool such as Valgrind */
    } else if (end->exited && end->info.si_code != CLD_EXITED &&
               r->kind == KIND_NONE) {
        judge_early_end(end, &st, out_fd, r);
    }
}

static bool finite_nonneg(double x)
{
    return isfinite(x) && x >= 0;
}

/* The CPU figures are diagnostics: one out of range (not a number, or a
 * share above 1) is not measured (0), and the trace stays valid. */
static void sanitize_cpu_figures(trace_result *r)
{
    if (!finite_nonneg(r->cpu_share) || r->cpu_share > 1)
        r->cpu_share = 0;
    if (!finite_nonneg(r->glibc_cpu_share) || r->glibc_cpu_share > 1)
        r->glibc_cpu_share = 0;
    if (!finite_nonneg(r->cpu_secs))
        r->cpu_secs = 0;
    if (!finite_nonneg(r->glibc_cpu_secs))
        r->glibc_cpu_secs = 0;
}

/* The result came from the child, where mm.c may have written anything:
 * every field is checked before the parent uses it. */
static void sanitize_result(const trace_t *t, int out_fd, trace_result *r)
{
    unsigned char timed;
    memcpy(&timed, &r->timed, 1);
    r->timed = timed == 1;
    r->details[DETAILS_MAX - 1] = '\0';
    r->hint[0] = r->output[0] = '\0';
    r->child_exit = 0;
    sanitize_cpu_figures(r);
    off_t cap = capture_size(out_fd);
    if (r->out_from < 0 || r->out_to < r->out_from || r->out_to > cap)
        r->out_from = 0, r->out_to = cap;
    bool ok = r->kind >= KIND_NONE && r->kind < KIND_COUNT && r->thread >= 0 &&
              r->thread < replay_threads && r->op_index >= -1 &&
              r->op_index < (int64_t)t->nops && r->phase >= PHASE_REPLAY1 &&
              r->phase <= PHASE_PROBE && r->where >= WHERE_OP &&
              r->where <= WHERE_HEAP_WALK && finite_nonneg(r->util) &&
              r->util <= 1 && finite_nonneg(r->secs) &&
              finite_nonneg(r->glibc_secs) && finite_nonneg(r->checked_secs) &&
              r->samples >= 0 && r->glibc_samples >= 0 && r->arenas >= -1;
    if (!ok) {
        memset(r, 0, sizeof *r);
        result_fail(r, main_slot(), KIND_CRASHED, OP_UNKNOWN,
                    "the replay process sent a malformed result (did mm.c "
                    "write over the driver's memory?)");
    }
}

static int open_capture(void)
{
    int fd = memfd_create("mdriver-output", 0);
    if (fd >= 0)
        return fd;
    FILE *f = tmpfile();
    return f ? dup(fileno(f)) : -1;
}

/* The shared address log of the hint: one word per op (MAP_FAILED: no log,
 * no hint). */
static uintptr_t *map_addr_log(const trace_t *t)
{
    size_t n = ((size_t)t->nops + 1) * sizeof(uintptr_t);
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                   -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* Runs the child; fills *end with how it ended, the result into r. */
static void supervise(const trace_t *t, const driver_opts *o, int out_fd,
                      int pfd[2], trace_result *r, replay_end *end)
{
    pid_t parent = getpid();
    fflush(stdout);
    fflush(stderr);
    end->pid = fork();
    if (end->pid == 0)
        child_main(t, o, out_fd, pfd, parent);
    close(pfd[1]);
    status_page->parent_ready = 1;
    if (end->pid < 0) {
        close(pfd[0]);
        result_fail(r, main_slot(), KIND_CRASHED, -1,
                    "mdriver: fork failed: %s", strerror(errno));
        end->outcome = GOT_RESULT;
        return;
    }
    setpgid(end->pid, end->pid); /* whoever runs first sets it */
    end->deadline = o->timeout > 0 ? now() + o->timeout : 0;
    read_result(pfd[0], t, r, end);
    close(pfd[0]);
    if (end->outcome != GOT_RESULT)
        memset(r, 0, sizeof *r); /* a part of a result is no result */
    if (end->outcome == GOT_RESULT) {
        sanitize_result(t, out_fd, r);
        if (end->deadline > 0 && end->deadline < now() + EXIT_GRACE_SECS)
            end->deadline = now() + EXIT_GRACE_SECS; /* e.g. Valgrind */
    }
    end->exited = end->outcome != GOT_TIMEOUT && wait_exit(end);
    judge_child(end, t, o, out_fd, r);
    end_group(end->pid);
}

static void report_trace(const trace_t *t, const driver_opts *o, int out_fd,
                         trace_result *r)
{
    off_t from, to;
    capture_range(r, out_fd, &from, &to);
    ssize_t n =
        to > from ? pread(out_fd, r->output, sizeof r->output - 1, from) : 0;
    r->output[n > 0 ? (n < to - from ? n : to - from) : 0] = '\0';
    if (r->kind != KIND_NONE) {
        hint_find(t, addr_log, r->op_index, r);
        report_error(o->report, t, r, out_fd);
    } else {
        report_output(o->report, t, out_fd);
    }
    if (r->child_exit != 0)
        fprintf(o->report,
                "note [trace %s]: the replay process exited with status %d "
                "after a complete replay (a tool such as Valgrind reported "
                "errors); mdriver exits with that status\n",
                t->name, (int)r->child_exit);
}

void run_trace(const trace_t *t, const driver_opts *o, trace_result *r)
{
    int out_fd = open_capture(), pfd[2];
    memset(r, 0, sizeof *r);
    if (out_fd < 0 || pipe(pfd) != 0) {
        result_fail(r, main_slot(), KIND_CRASHED, -1,
                    "mdriver: no memfd or pipe: %s", strerror(errno));
        if (out_fd >= 0)
            close(out_fd);
        return;
    }
    replay_threads = trace_threads(t, o->threads, o->serial);
    memset((void *)status_page, 0, sizeof *status_page);
    status_page->pipe_lost_at = -1;
    main_slot()->op_index = -1;
    addr_log = map_addr_log(t);
    replay_end end = {.outcome = GOT_TIMEOUT};
    supervise(t, o, out_fd, pfd, r, &end);
    r->threads = replay_threads;
    report_trace(t, o, out_fd, r);
    if (addr_log != NULL)
        munmap(addr_log, ((size_t)t->nops + 1) * sizeof(uintptr_t));
    addr_log = NULL;
    close(out_fd);
}
