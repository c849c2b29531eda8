/*
 * driver.h - the parts of mdriver and the data they share.
 *
 *   mdriver.c         main: options, the trace list, dispatch
 *   driver_trace.c    the .rep parser (docs/CONTRACTS.md section 3)
 *   driver_api.c      the one dispatch path of an op to mm.c or the libc
 *   driver_check.c    the correctness engine: one checked replay
 *   driver_result.c   a trace's result and its failures (result_fail)
 *   driver_run.c      one child process per trace: replays, timing, reports
 *   driver_report.c   ERROR reports, the score table, JSON
 *   driver_hint.c     the size-bug hint: a payload over another's header?
 *   driver_heapmap.c  --heap-map's HTML, the helpers of tools/mm-gdb.py
 *
 * Data flows one way: trace -> engine (through the api) -> checks ->
 * result -> report. The engine knows nothing of the runner: it writes
 * only the status slot and the result it is given.
 *
 * A parsed trace is an array of ops; every op remembers its line so that
 * an error names the line of the trace that caused it.
 */
#ifndef DRIVER_H
#define DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sched.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Limits of the trace format (CONTRACTS.md section 3). Sizes are 64-bit
 * (CMU's syn-giant traces ask for up to ~2^56 bytes); a trace whose
 * largest request exceeds TRACE_DENSE_MAX_SIZE is replayed over the sparse
 * heap (memlib.h). */
static const uint64_t TRACE_MAX_SIZE = (uint64_t)1 << 62; /* bytes per op */
static const uint64_t TRACE_DENSE_MAX_SIZE = (uint64_t)1 << 30;
/* Header weights: dialect A's is a multiplier 0..100 (line 4); dialect B
 * (the CMU kit's) is a class 0..3 (line 1), see trace_t. */
static const unsigned long TRACE_MAX_WEIGHT_A = 100;
static const unsigned long TRACE_MAX_WEIGHT_B = 3;
static const uint32_t TRACE_MAX_IDS = (uint32_t)1 << 26;
static const uint32_t TRACE_MAX_OPS = (uint32_t)1 << 30;
/* Bytes of one trace file: a bigger file is refused before it is read. */
static const uint64_t TRACE_MAX_FILE_BYTES = (uint64_t)1 << 30;

typedef enum { OP_ALLOC, OP_REALLOC, OP_CALLOC, OP_FREE } op_kind;

typedef struct {
    uint64_t size;  /* a, r: bytes; c: bytes per member */
    uint64_t nmemb; /* c: number of members */
    int32_t id;     /* 0 .. ids-1; -1 only in `f -1` (free(NULL)) */
    uint32_t line;  /* line of the trace file */
    int32_t prev;   /* MT trace: the op on this id it waits for, or -1 */
    uint8_t kind;   /* op_kind */
    uint8_t thread; /* MT trace: the thread of the op ("T: " prefix) */
    uint8_t sync;   /* MT trace: OP_WAITS | OP_POSTS, set by the loader */
} trace_op;

/* An MT trace's ops that meet another thread (driver_trace.c marks them
 * once): only those wait or publish, the others run free. */
enum {
    OP_WAITS = 1, /* the previous op on its id is another thread's */
    OP_POSTS = 2, /* the next op on its id is another thread's */
    OP_FRESH = 4  /* it makes a new block (a, c, r on a dead id): it waits
                     for the previous op on its id only in the checked
                     replays (the timed ones keep a block's own history) */
};

typedef struct {
    char *name; /* as the user gave it (-f or suite.txt) */
    char *path; /* the file actually read */
    uint32_t ids;
    uint32_t slots; /* 1 + the highest id used: the size of per-id arrays */
    uint32_t nops;
    int threads;        /* 1 + the highest thread prefix (1: not MT) */
    int weight;         /* as the header says */
    int util_weight;    /* the weight of its util in the averages */
    int tput_weight;    /* the weight of its ops and time in throughput */
    char dialect;       /* 'A' (weight = both) or 'B' (CMU: 0 none, 1
                           both, 2 util only, 3 throughput only) */
    uint64_t max_bytes; /* the largest request of the trace */
    uint32_t init_line; /* line of the last header number */
    trace_op *ops;
    /* MT trace: the op indexes of each thread, in file order; thread k's
     * are order[first[k] .. first[k + 1]) (NULL when not MT) */
    uint32_t *order, *first;
    /* MT trace: per op, its block (0 .. blocks-1): a new one from each
     * OP_FRESH op of an id on (the timed replays' slots) */
    uint32_t *block, blocks;
} trace_t;

/* Bytes an op asks for (nmemb * size for calloc). */
static inline size_t op_bytes(const trace_op *op)
{
    return op->kind == OP_CALLOC ? (size_t)(op->nmemb * op->size) : op->size;
}

/* Opens a regular file, checking its type before opening it; NULL with
 * *why ("a FIFO (named pipe)", ...) or errno set (driver_trace.c). */
FILE *open_regular(const char *path, struct stat *sb, const char **why);

/* The replaying threads of t under -T opt: an MT trace's own threads
 * (one under --serial), else opt copies. */
static inline int trace_threads(const trace_t *t, int opt, bool serial)
{
    return t->threads > 1 ? (serial ? 1 : t->threads) : opt;
}

/* MT trace: thread's ops, in file order (*n of them). */
static inline const uint32_t *thread_ops(const trace_t *t, int thread,
                                         uint32_t *n)
{
    *n = t->first[thread + 1] - t->first[thread];
    return t->order + t->first[thread];
}

/* One step of a spin-wait: a pause instruction for the first
 * before_yield steps, then the CPU is handed over at each step. */
static inline void spin_step(unsigned *spins, unsigned before_yield)
{
    if (++*spins < before_yield) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#elif defined(__aarch64__)
        __asm__ __volatile__("yield");
#endif
    } else {
        sched_yield();
    }
}

/* One step of a wait on another thread: a pause instruction while the
 * wait is young, then the CPU is handed over (the other thread may need
 * it: there may be more replaying threads than cores). */
static inline void wait_step(unsigned *spins)
{
    enum { SPINS_BEFORE_YIELD = 32 };
    spin_step(spins, SPINS_BEFORE_YIELD);
}

/* MT traces: waits until *cell (done[] of op's id, or of its block in a
 * timed replay) says that op's prev op, another thread's, is done; false,
 * without waiting, once *stop is non-zero. */
static inline bool op_wait(const trace_op *op, const int32_t *cell,
                           const int *stop)
{
    unsigned spins = 0;
    while (__atomic_load_n(cell, __ATOMIC_ACQUIRE) != op->prev) {
        if (stop != NULL && __atomic_load_n(stop, __ATOMIC_RELAXED) != 0)
            return false;
        wait_step(&spins);
    }
    return true;
}

/* MT traces: op (index i) is done; the next op on its id, another
 * thread's, may run. */
static inline void op_done(const trace_op *op, uint32_t i, int32_t *cell)
{
    if (op->sync & OP_POSTS)
        __atomic_store_n(cell, (int32_t)i, __ATOMIC_RELEASE);
}

/* Parses path into t; on error prints `ERROR [path:line]: ...`, false. */
bool trace_load(const char *name, const char *path, trace_t *t);
void trace_free(trace_t *t);
/* The op as it reads in the trace, e.g. "a 0 2040". */
void op_format(const trace_op *op, char *buf, size_t n);

/* What went wrong in a trace: the KIND of an ERROR line. */
typedef enum {
    KIND_NONE,
    KIND_MISALIGNED,
    KIND_OUTSIDE_HEAP,
    KIND_OVERLAP,
    KIND_PAYLOAD_CORRUPTED,
    KIND_REALLOC_LOST_DATA,
    KIND_CALLOC_NOT_ZEROED,
    KIND_NULL_RETURN,
    KIND_OUT_OF_MEMORY,
    KIND_REALLOC0_NOT_FREED,
    KIND_CHECKHEAP_FAILED,
    KIND_INIT_FAILED,
    KIND_CRASHED,
    KIND_TIMEOUT,
    KIND_COUNT
} error_kind;

const char *kind_name(error_kind kind);

/* The allocation calls of a replay: mm.c's or the C library's. Every op
 * of every replay (checked or timed) reaches the allocator through
 * api_apply (driver_api.c). */
typedef struct {
    bool (*init)(void); /* NULL: nothing to initialize */
    void *(*malloc)(size_t);
    void (*free)(void *);
    void *(*realloc)(void *, size_t);
    void *(*calloc)(size_t, size_t);
    bool (*checkheap)(int); /* NULL: nothing to check */
    bool is_mm;             /* mm.c: on the simulated heap */
} alloc_api;

extern const alloc_api MM_API;
extern const alloc_api LIBC_API;

/* Applies op to the allocator; old is the block of op's id (or NULL).
 * Returns the op's new block: NULL for a free. Inline: the timed replays
 * pay no extra call. */
static inline void *api_apply(const alloc_api *api, const trace_op *op,
                              void *old)
{
    switch (op->kind) {
    case OP_ALLOC:
        return api->malloc(op->size);
    case OP_REALLOC:
        return api->realloc(old, op->size);
    case OP_CALLOC:
        return api->calloc(op->nmemb, op->size);
    default:
        api->free(old);
        return NULL;
    }
}

/* Where the child is: published in shared memory for the parent. */
typedef enum {
    PHASE_REPLAY1,
    PHASE_REPLAY2,
    PHASE_TIMING,
    PHASE_GLIBC,
    PHASE_OVERHEAD,
    PHASE_PROBE
} run_phase;

typedef enum {
    WHERE_OP,
    WHERE_INIT,
    WHERE_CHECKHEAP,
    WHERE_DRIVER,
    WHERE_HEAP_WALK /* the last: driver_run.c checks the range */
} run_where;

/* One replaying thread's slot of the status page: only that thread
 * writes it, one store per op; a cache line of its own, so that the
 * threads' stores do not contend for one line (false sharing). */
typedef struct __attribute__((aligned(64))) {
    volatile int64_t op_index; /* op about to run or just run; -1: mm_init */
    volatile int32_t phase;    /* run_phase */
    volatile int32_t where;    /* run_where */
    volatile int32_t tid;      /* the thread's kernel id (gettid) */
    volatile int32_t done;     /* 1 once the thread ended its replay */
    volatile int32_t waiting;  /* 1 while it waits for another thread's op
                                  (MT traces) */
} replay_slot;

/* Most threads of one replay: the status page has a slot for each. */
enum { STATUS_SLOTS = 64 };

/* The status page, in shared memory: the child writes it, the parent
 * reads it (and trusts nothing in it). */
typedef struct {
    volatile int64_t pipe_lost_at;    /* op when the result pipe was closed */
    volatile int32_t pipe_lost_phase; /* run_phase then */
    volatile int32_t pipe_lost;       /* 1 once the child saw it closed */
    volatile int32_t parent_ready;    /* the parent closed its write end */
    volatile int32_t crashed_tid;     /* the thread a fatal signal hit */
    replay_slot slot[STATUS_SLOTS];
} child_status;

/* What the parent makes of the status page: validated copies. */
typedef struct {
    int thread; /* the slot read: see blamed_thread (driver_run.c) */
    int64_t op_index;
    int32_t phase, where;
    int64_t pipe_lost_at;
    int32_t pipe_lost_phase;
    bool pipe_lost;
} status_view;

/* The op index of an error when the one the child published was out of
 * range (mm.c wrote over the status page): reported as line 0, op "?". */
enum { OP_UNKNOWN = -2 };

enum { DETAILS_MAX = 768, HINT_MAX = 256, OUTPUT_MAX = 2048 };

/* Outcome of the heap-checker probe (--probe-checker; driver_check.c). */
typedef enum {
    PROBE_NOT_RUN,
    PROBE_OK,       /* silent on the good heap, spoke on the corrupted one */
    PROBE_NOISY,    /* spoke (false or output) on the good heap */
    PROBE_MUTE,     /* silent when a live block's header word was flipped */
    PROBE_NO_BLOCK, /* no live block at the end of the trace to corrupt */
    PROBE_COUNT
} probe_outcome;

const char *probe_name(probe_outcome p);

/* One arena of mm_stats (mm.h), as the child copied it: the parent prints
 * it (-v) after checking it against the heap (driver_report.c). */
enum { STATS_ARENAS_MAX = 64 };
typedef struct {
    uint64_t arena, ops, remote_frees, in_use, free, cached, regions;
} arena_stat;

/* Everything one trace produced; sent by the child through a pipe. */
typedef struct {
    int32_t kind; /* error_kind; KIND_NONE when valid */
    int32_t phase;
    int32_t where;
    int64_t op_index; /* failing op; -1: mm_init */
    int32_t thread;   /* the replaying thread of the failing op (-T) */
    int32_t threads;  /* replaying threads (-T), 1 .. STATUS_SLOTS */
    char details[DETAILS_MAX];
    int64_t out_from, out_to; /* checker output: bytes of the capture */
    uint64_t heap_bytes, peak_bytes;
    double util;
    bool timed;
    double secs, glibc_secs;   /* best time of one replay */
    double checked_secs;       /* --overhead: engine replay */
    double secs1, glibc_secs1; /* -T N: the same with one thread */
    /* Threaded timed replays: the CPU time of their threads over threads x
     * their windows (1: each thread had a core all along; 1/N: they took
     * turns on one), of mm.c and of glibc; 0 when not measured */
    double cpu_share, glibc_cpu_share;
    /* Threaded timed replays: the mean CPU time of one replay, all its
     * threads' spans together, of mm.c and of glibc (0: not measured) */
    double cpu_secs, glibc_cpu_secs;
    uint64_t max_live; /* --overhead: most blocks live at once */
    int samples, glibc_samples;
    int32_t child_exit; /* non-zero exit status after a complete result,
                           e.g. valgrind --error-exitcode */
    /* Filled by the parent after the child ended: */
    char hint[HINT_MAX];     /* the size-bug hint, or "" */
    char output[OUTPUT_MAX]; /* the start of what the report shows mm.c (or
                                mm_checkheap) printed, for -j */
    int32_t probe;           /* probe_outcome */
    int32_t probe_id;        /* the id whose header word the probe flipped */
    /* mm_stats after replay 1 with threads: -1 when not called (one thread,
     * or mm.c defines no mm_stats), else the arenas it reported; those
     * beyond STATS_ARENAS_MAX are counted, not kept */
    int32_t arenas;
    arena_stat arena[STATS_ARENAS_MAX];
} trace_result;

/* The ops of a run of t: every replaying thread's copy (-T). */
static inline double run_ops(const trace_t *t, const trace_result *r)
{
    return (double)t->nops *
           (t->threads == 1 && r->threads > 1 ? r->threads : 1);
}

/* The index's ramps (config.h): credit for a figure x is
 * min(1, max(0, (x - min) / (max - min))). */
typedef struct {
    double util_min, util_max; /* utilization, 0..1 */
    double tput_min, tput_max; /* throughput as a multiple of glibc's */
} score_ramp;

typedef struct {
    int debug;            /* -d */
    double timeout;       /* -s, seconds; 0: none */
    size_t max_heap;      /* -m */
    bool timing;          /* not -n */
    bool glibc_rows;      /* -l */
    int verbose;          /* -v: 1, -V: 2 */
    bool grade;           /* -g */
    const char *json;     /* -j */
    bool overhead;        /* --overhead */
    score_ramp ramp;      /* --score */
    bool stop_first;      /* -x: stop at the first failing trace */
    const char *heap_map; /* --heap-map */
    bool probe;           /* --probe-checker */
    bool one_replay;      /* --one-replay */
    int threads;          /* -T: replaying threads, 1 .. STATUS_SLOTS */
    bool threads_given;   /* -T was given (-T 1: cpu_kops is measured) */
    bool serial;          /* --serial: MT traces on one thread, in file order */
    const char *tracedir;
    FILE *report; /* where ERROR reports go */
} driver_opts;

/* The correctness engine (driver_check.c). */
typedef struct engine engine;
/* An engine for t's replays through api by threads threads (1 ..
 * STATUS_SLOTS), each replaying its own copy of t with ids of its own. */
engine *engine_new(const trace_t *t, const alloc_api *api, int threads);
void engine_delete(engine *e);
/* One checked replay; false with r filled on the first error (of any
 * thread: the others then stop). Thread k publishes its progress in
 * slots[k]. addr_log (nops entries, may be NULL) gets the payload address
 * of every block an op of thread 0 leaves live, for the size-bug hint. */
bool engine_replay(engine *e, const trace_t *t, int debug,
                   volatile replay_slot *slots, trace_result *r,
                   uintptr_t *addr_log);
/* The heap-checker probe on the heap the last replay left (r->probe). */
void engine_probe_checker(engine *e, volatile replay_slot *slot,
                          trace_result *r);
/* Most blocks live at once in the last replay. */
uint64_t engine_max_live(const engine *e);
/* The ids live at the end of the last replay. */
const int32_t *engine_live_ids(const engine *e, uint32_t *n);
/* A live id's payload: address, bytes, and the line that allocated it. */
void engine_payload(const engine *e, int32_t id, uintptr_t *start,
                    uint64_t *size, uint32_t *line);
/* Bytes of live payload now. */
uint64_t engine_live_bytes(const engine *e);

/* Sets r's error fields (driver_result.c); every error goes through here.
 * The phase and place come from slot (NULL: replay 1, at an op); they are
 * validated, the slot being untrusted. */
void result_fail(trace_result *r, const volatile replay_slot *slot,
                 error_kind kind, int64_t op_index, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* One trace in a child process (driver_run.c). */
void run_trace(const trace_t *t, const driver_opts *o, trace_result *r);
bool run_setup(void);

/* The size-bug hint (driver_hint.c): the first op before failed_op after
 * which a live payload covered the 8 bytes just before another live
 * payload, from the (untrusted) address log of the replay, into r->hint. */
void hint_find(const trace_t *t, const uintptr_t *addr_log, int64_t failed_op,
               trace_result *r);

/* Reports (driver_report.c). */
void report_error(FILE *out, const trace_t *t, const trace_result *r,
                  int capture_fd);
void report_output(FILE *out, const trace_t *t, int capture_fd);
/* The bytes of the capture a report shows: the checker's for checkheap
 * failed, else everything mm.c printed. */
void capture_range(const trace_result *r, int fd, off_t *from, off_t *to);
off_t capture_size(int fd);
void report_table(FILE *out, const trace_t *ts, const trace_result *rs, int n,
                  const driver_opts *o);
bool report_json(const char *path, const trace_t *ts, const trace_result *rs,
                 int n, const driver_opts *o);
void report_grade(FILE *out, const trace_t *ts, const trace_result *rs, int n,
                  const driver_opts *o);
void report_overhead(FILE *out, const trace_t *ts, const trace_result *rs,
                     int n);

/* Heap pictures (driver_heapmap.c): the parent maps the frames once and
 * empties them before each trace; the engine calls heapmap_after_op after
 * mm_init (op -1) and after every op (ok: the op passed its checks). */
bool heapmap_setup(void);
void heapmap_begin(void);
void heapmap_after_op(const engine *e, const trace_t *t,
                      volatile replay_slot *st, int64_t op, bool ok);
/* Writes the HTML of one trace; false (with an ERROR line) on failure. */
bool heapmap_write(const char *path, const trace_t *t, const trace_result *r,
                   FILE *report);

/* The index and its parts (driver_report.c). */
typedef struct {
    double util;       /* weighted mean utilization, 0..1 */
    double kops;       /* mm.c's weighted throughput, Kops/s */
    double glibc_kops; /* glibc's, same traces */
    double util_part, tput_part, index;
    int failed;
    bool timed;
    double ops;   /* ops of all the traces, unweighted */
    bool few_ops; /* ops < MIN_INDEX_OPS: the index is noise */
} score_t;
score_t compute_score(const trace_t *ts, const trace_result *rs, int n,
                      const score_ramp *ramp);
/* The ramp of --score SPEC ("cap", "ramp" or "U0,U1,T0,T1"); false when
 * SPEC is not one of these or a minimum is not below its maximum. */
bool score_parse_ramp(const char *spec, score_ramp *ramp);

#endif /* DRIVER_H */
