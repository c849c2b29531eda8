/*
 * driver_run.c - replays one trace in a child process.
 *
 *   parent                                   child (fork)
 *   ------                                   -----------
 *   memfd for the child's output  ------->   stdout, stderr = that memfd
 *   shared status page (mmap)     <-------   op index + phase, one store/op
 *   poll(pipe, -s timeout)        <-------   trace_result (write, _exit 0)
 *   kill + report on timeout/signal          replay 1, replay 2 (checked),
 *                                            timing of mm.c, then of glibc
 *
 * The parent already knows every op's text and line, so whatever kills the
 * child (a signal, a timeout, an exit() inside mm.c) is reported at the op
 * the child published last.
 */
#define _GNU_SOURCE
#include "driver.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "memlib.h"
#include "mm.h"

static volatile child_status *status_page;

bool run_setup(void)
{
    void *p = mmap(NULL, sizeof(child_status), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("ERROR: mdriver: mmap of the status page");
        return false;
    }
    status_page = p;
    return true;
}

void result_fail(trace_result *r, error_kind kind, int64_t op_index,
                 const char *fmt, ...)
{
    va_list ap;
    r->kind = kind;
    r->op_index = op_index;
    r->phase = status_page ? status_page->phase : PHASE_REPLAY1;
    r->where = status_page ? status_page->where : WHERE_OP;
    va_start(ap, fmt);
    vsnprintf(r->details, sizeof r->details, fmt, ap);
    va_end(ap);
}

/* ---- unchecked replays, for timing ---- */

typedef struct {
    void *(*malloc)(size_t);
    void (*free)(void *);
    void *(*realloc)(void *, size_t);
    void *(*calloc)(size_t, size_t);
    bool is_mm;
} alloc_api;

static const alloc_api MM_API = {mm_malloc, mm_free, mm_realloc, mm_calloc,
                                 true};
static const alloc_api LIBC_API = {malloc, free, realloc, calloc, false};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void replay_ops(const trace_t *t, const alloc_api *api, void **ptr)
{
    volatile child_status *st = status_page;
    for (uint32_t i = 0; i < t->nops; i++) {
        const trace_op *op = &t->ops[i];
        st->op_index = i;
        switch (op->kind) {
        case OP_ALLOC:
            ptr[op->id] = api->malloc(op->size);
            break;
        case OP_REALLOC:
            ptr[op->id] = api->realloc(ptr[op->id], op->size);
            break;
        case OP_CALLOC:
            ptr[op->id] = api->calloc(op->nmemb, op->size);
            break;
        default:
            if (op->id >= 0) {
                api->free(ptr[op->id]);
                ptr[op->id] = NULL;
            } else {
                api->free(NULL);
            }
        }
    }
}

/*
 * Seconds of one unchecked replay (mm_init included for mm.c). ptr needs no
 * clearing between replays: the first op of every id is `a` or `c`, which
 * sets its slot. glibc's blocks still live at the end (those the checked
 * replay left live) are freed after the clock stops.
 */
static double time_replay(const trace_t *t, const alloc_api *api, void **ptr,
                          const engine *e)
{
    double start = now();
    if (api->is_mm) {
        mem_reset_brk();
        mm_init();
    }
    replay_ops(t, api, ptr);
    double secs = now() - start;
    uint32_t n = 0;
    const int32_t *live = api->is_mm ? NULL : engine_live_ids(e, &n);
    for (uint32_t i = 0; i < n; i++) {
        free(ptr[live[i]]);
        ptr[live[i]] = NULL;
    }
    return secs;
}

/* The seconds of one sample: replays until TIMING_MIN_SAMPLE_SECS. */
static double sample(double (*once)(void *), void *arg)
{
    double total = 0;
    int reps = 0;
    do {
        total += once(arg);
        reps++;
    } while (total < TIMING_MIN_SAMPLE_SECS);
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
    void **ptr;
    engine *e;
    trace_result *scratch;
} timing_ctx;

static double once_mm(void *arg)
{
    timing_ctx *c = arg;
    if (status_page->phase != PHASE_OVERHEAD)
        status_page->phase = PHASE_TIMING;
    return time_replay(c->t, &MM_API, c->ptr, c->e);
}

static double once_glibc(void *arg)
{
    timing_ctx *c = arg;
    status_page->phase = PHASE_GLIBC;
    return time_replay(c->t, &LIBC_API, c->ptr, c->e);
}

static double once_checked(void *arg)
{
    timing_ctx *c = arg;
    double start = now();
    engine_replay(c->e, c->t, 0, status_page, c->scratch);
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

static void time_trace(const trace_t *t, const driver_opts *o, engine *e,
                       trace_result *r)
{
    void **ptr = calloc(t->slots + 1, sizeof *ptr);
    trace_result scratch = {0};
    timing_ctx c = {t, ptr, e, &scratch};
    timer mm = {.n = 0}, other = {.n = 0};
    if (ptr == NULL)
        return;
    mem_set_timing_mode(/*on=*/true);
    status_page->phase = o->overhead ? PHASE_OVERHEAD : PHASE_TIMING;
    time_pair(once_mm, o->overhead ? once_checked : once_glibc, &c, &mm,
              &other);
    mem_set_timing_mode(/*on=*/false);
    r->secs = mm.s[0];
    r->samples = mm.n;
    r->glibc_samples = other.n;
    if (o->overhead) {
        r->checked_secs = other.s[0];
        r->max_live = engine_max_live(e);
    } else {
        r->glibc_secs = other.s[0];
    }
    r->timed = true;
    free(ptr);
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
    result_fail(r, KIND_OUT_OF_MEMORY, -1,
                "mdriver could not reserve the sparse heap for a request of "
                "%llu bytes",
                (unsigned long long)t->max_bytes);
    return false;
}

static void child_replays(const trace_t *t, const driver_opts *o,
                          trace_result *r)
{
    if (!child_heap(t, r))
        return;
    engine *e = engine_new(t);
    if (e == NULL) {
        result_fail(r, KIND_OUT_OF_MEMORY, -1,
                    "mdriver itself ran out of memory for its tables");
        return;
    }
    status_page->phase = PHASE_REPLAY1;
    if (engine_replay(e, t, o->debug, status_page, r)) {
        trace_result first = *r;
        status_page->phase = PHASE_REPLAY2;
        if (engine_replay(e, t, o->debug, status_page, r)) {
            *r = first;
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

static void child_main(const trace_t *t, const driver_opts *o, int out_fd,
                       int pipe_fd)
{
    static const rlim_t OUTPUT_LIMIT = (rlim_t)64 << 20;
    struct rlimit lim = {OUTPUT_LIMIT, OUTPUT_LIMIT};
    trace_result r;
    memset(&r, 0, sizeof r);
    setrlimit(RLIMIT_FSIZE, &lim);
    dup2(out_fd, STDOUT_FILENO);
    dup2(out_fd, STDERR_FILENO);
    setvbuf(stdout, NULL, _IONBF, 0);
    child_replays(t, o, &r);
    write_all(pipe_fd, &r, sizeof r);
    _exit(0);
}

/* ---- the parent ---- */

/* Reads the result until EOF; false on timeout. *got: bytes read. */
static bool read_result(int fd, trace_result *r, double timeout, size_t *got)
{
    double deadline = now() + timeout;
    char *p = (char *)r;
    *got = 0;
    for (;;) {
        int ms = -1;
        if (timeout > 0) {
            double left = deadline - now();
            if (left <= 0)
                return false;
            ms = (int)(left * 1000) + 1;
        }
        struct pollfd pfd = {fd, POLLIN, 0};
        int n = poll(&pfd, 1, ms);
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0)
            continue;
        char sink[256];
        size_t room = sizeof *r - *got;
        ssize_t k =
            room ? read(fd, p + *got, room) : read(fd, sink, sizeof sink);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return true;
        if (room)
            *got += (size_t)k;
    }
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

/* Turns how the child ended into r's error, if it failed. */
static void judge_child(pid_t pid, bool finished, size_t got,
                        const driver_opts *o, trace_result *r)
{
    int ws = 0;
    if (!finished) {
        kill(pid, SIGKILL);
        waitpid(pid, &ws, 0);
        result_fail(r, KIND_TIMEOUT, status_page->op_index,
                    "no result after %g seconds (-s %g): an infinite loop?",
                    o->timeout, o->timeout);
        return;
    }
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
        ;
    if (WIFSIGNALED(ws)) {
        int sig = WTERMSIG(ws);
        result_fail(r, KIND_CRASHED, status_page->op_index, "%s (%s)%s",
                    signal_name(sig), strsignal(sig),
                    sig == SIGXFSZ ? ": mm.c printed more than 64 MiB" : "");
    } else if (got == sizeof *r && WIFEXITED(ws) && WEXITSTATUS(ws) != 0) {
        r->child_exit = WEXITSTATUS(ws); /* a tool such as Valgrind */
    } else if (got != sizeof *r) {
        result_fail(r, KIND_CRASHED, status_page->op_index,
                    "the process exited with status %d before the end of "
                    "the trace (does mm.c call exit()?)",
                    WIFEXITED(ws) ? WEXITSTATUS(ws) : -1);
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

void run_trace(const trace_t *t, const driver_opts *o, trace_result *r)
{
    int out_fd = open_capture(), pfd[2];
    memset(r, 0, sizeof *r);
    if (out_fd < 0 || pipe(pfd) != 0) {
        result_fail(r, KIND_CRASHED, -1, "mdriver: no memfd or pipe: %s",
                    strerror(errno));
        return;
    }
    *status_page = (child_status){.op_index = -1};
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        close(pfd[0]);
        child_main(t, o, out_fd, pfd[1]);
    }
    close(pfd[1]);
    size_t got = 0;
    bool finished = pid > 0 && read_result(pfd[0], r, o->timeout, &got);
    if (pid < 0)
        result_fail(r, KIND_CRASHED, -1, "mdriver: fork failed: %s",
                    strerror(errno));
    else
        judge_child(pid, finished, got, o, r);
    close(pfd[0]);
    if (r->kind != KIND_NONE)
        report_error(o->report, t, r, out_fd);
    else
        report_output(o->report, t, out_fd);
    if (r->child_exit != 0)
        fprintf(o->report,
                "note [trace %s]: the replay process exited with status %d "
                "after a complete replay (a tool such as Valgrind reported "
                "errors); mdriver exits with that status\n",
                t->name, (int)r->child_exit);
    close(out_fd);
}
