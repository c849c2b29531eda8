/*
 * driver.h - the parts of mdriver and the data they share.
 *
 *   mdriver.c         main: options, the trace list, dispatch
 *   driver_trace.c    the .rep parser (docs/CONTRACTS.md section 3)
 *   driver_check.c    the correctness engine: one checked replay
 *   driver_run.c      one child process per trace: replays, timing, reports
 *   driver_report.c   ERROR reports, the score table, JSON
 *
 * A parsed trace is an array of ops; every op remembers its line so that
 * an error names the line of the trace that caused it.
 */
#ifndef DRIVER_H
#define DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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

typedef enum { OP_ALLOC, OP_REALLOC, OP_CALLOC, OP_FREE } op_kind;

typedef struct {
    uint64_t size;  /* a, r: bytes; c: bytes per member */
    uint64_t nmemb; /* c: number of members */
    int32_t id;     /* 0 .. ids-1; -1 only in `f -1` (free(NULL)) */
    uint32_t line;  /* line of the trace file */
    uint8_t kind;   /* op_kind */
} trace_op;

typedef struct {
    char *name; /* as the user gave it (-f or suite.txt) */
    char *path; /* the file actually read */
    uint32_t ids;
    uint32_t slots; /* 1 + the highest id used: the size of per-id arrays */
    uint32_t nops;
    int weight;         /* as the header says */
    int util_weight;    /* the weight of its util in the averages */
    int tput_weight;    /* the weight of its ops and time in throughput */
    char dialect;       /* 'A' (weight = both) or 'B' (CMU: 0 none, 1
                           both, 2 util only, 3 throughput only) */
    uint64_t max_bytes; /* the largest request of the trace */
    uint32_t init_line; /* line of the last header number */
    trace_op *ops;
} trace_t;

/* Bytes an op asks for (nmemb * size for calloc). */
static inline size_t op_bytes(const trace_op *op)
{
    return op->kind == OP_CALLOC ? (size_t)(op->nmemb * op->size) : op->size;
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

/* Where the child is: published in shared memory for the parent. */
typedef enum {
    PHASE_REPLAY1,
    PHASE_REPLAY2,
    PHASE_TIMING,
    PHASE_GLIBC,
    PHASE_OVERHEAD
} run_phase;

typedef enum { WHERE_OP, WHERE_INIT, WHERE_CHECKHEAP, WHERE_DRIVER } run_where;

typedef struct {
    volatile int64_t op_index; /* op about to run or just run; -1: mm_init */
    volatile int32_t phase;    /* run_phase */
    volatile int32_t where;    /* run_where */
} child_status;

enum { DETAILS_MAX = 768 };

/* Everything one trace produced; sent by the child through a pipe. */
typedef struct {
    int32_t kind; /* error_kind; KIND_NONE when valid */
    int32_t phase;
    int32_t where;
    int64_t op_index; /* failing op; -1: mm_init */
    char details[DETAILS_MAX];
    int64_t out_from, out_to; /* checker output: bytes of the capture */
    uint64_t heap_bytes, peak_bytes;
    double util;
    bool timed;
    double secs, glibc_secs; /* best time of one replay */
    double checked_secs;     /* --overhead: engine replay */
    uint64_t max_live;       /* --overhead: most blocks live at once */
    int samples, glibc_samples;
    int32_t child_exit; /* non-zero exit status after a complete result,
                           e.g. valgrind --error-exitcode */
} trace_result;

/* The index's ramps (config.h): credit for a figure x is
 * min(1, max(0, (x - min) / (max - min))). */
typedef struct {
    double util_min, util_max; /* utilization, 0..1 */
    double tput_min, tput_max; /* throughput as a multiple of glibc's */
} score_ramp;

typedef struct {
    int debug;        /* -d */
    double timeout;   /* -s, seconds; 0: none */
    size_t max_heap;  /* -m */
    bool timing;      /* not -n */
    bool glibc_rows;  /* -l */
    int verbose;      /* -v: 1, -V: 2 */
    bool grade;       /* -g */
    const char *json; /* -j */
    bool overhead;    /* --overhead */
    score_ramp ramp;  /* --score */
    const char *tracedir;
    FILE *report; /* where ERROR reports go */
} driver_opts;

/* The correctness engine (driver_check.c). */
typedef struct engine engine;
engine *engine_new(const trace_t *t);
void engine_delete(engine *e);
/* One checked replay; false with r filled on the first error. */
bool engine_replay(engine *e, const trace_t *t, int debug,
                   volatile child_status *st, trace_result *r);
/* Most blocks live at once in the last replay. */
uint64_t engine_max_live(const engine *e);
/* The ids live at the end of the last replay. */
const int32_t *engine_live_ids(const engine *e, uint32_t *n);

/* Sets r's error fields; every error of the engine goes through here. */
void result_fail(trace_result *r, error_kind kind, int64_t op_index,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* One trace in a child process (driver_run.c). */
void run_trace(const trace_t *t, const driver_opts *o, trace_result *r);
bool run_setup(void);

/* Reports (driver_report.c). */
void report_error(FILE *out, const trace_t *t, const trace_result *r,
                  int capture_fd);
void report_output(FILE *out, const trace_t *t, int capture_fd);
void report_table(FILE *out, const trace_t *ts, const trace_result *rs, int n,
                  const driver_opts *o);
bool report_json(const char *path, const trace_t *ts, const trace_result *rs,
                 int n, const driver_opts *o);
void report_grade(FILE *out, const trace_t *ts, const trace_result *rs, int n,
                  const driver_opts *o);
void report_overhead(FILE *out, const trace_t *ts, const trace_result *rs,
                     int n);

/* The index and its parts (driver_report.c). */
typedef struct {
    double util;       /* weighted mean utilization, 0..1 */
    double kops;       /* mm.c's weighted throughput, Kops/s */
    double glibc_kops; /* glibc's, same traces */
    double util_part, tput_part, index;
    int failed;
    bool timed;
} score_t;
score_t compute_score(const trace_t *ts, const trace_result *rs, int n,
                      const score_ramp *ramp);
/* The ramp of --score SPEC ("cap", "ramp" or "U0,U1,T0,T1"); false when
 * SPEC is not one of these or a minimum is not below its maximum. */
bool score_parse_ramp(const char *spec, score_ramp *ramp);

#endif /* DRIVER_H */
