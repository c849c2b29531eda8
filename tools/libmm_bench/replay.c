/*
 * replay.c - replays .rep traces through whatever malloc is preloaded
 * (tools/libmm_bench, docs/bench-libmm.md).
 *
 *     replay [-T N] [-r REPEAT] TRACE...
 *
 * Each trace is parsed by mdriver's own parser (malloc/driver_trace.c,
 * docs/CONTRACTS.md section 3), then replayed REPEAT times (default 1)
 * with malloc, calloc, realloc and free. A single-threaded trace is
 * replayed by N threads at once (default 1), each its own copy (mdriver's
 * -T); a multi-threaded trace (`T: ` prefixes) by its own threads, an op
 * that follows another thread's op on its id waiting for it, as in
 * mdriver's checked replay (OP_WAITS, driver.h). Every block is filled when
 * it is allocated (whole payload) and checked where it is freed or
 * realloc'd (the bytes realloc keeps); calloc's are checked zeroed: the
 * checksum is the same under every correct allocator (common.h).
 * Only the replays are timed (`bench:` line): not the parsing, nor the
 * per-id tables, which are allocated before.
 * Exit status 0; 1 when a block was corrupted or a call returned NULL; 2 on
 * bad usage or a malformed trace (`ERROR [path:line]: ...`).
 */
#include "../../malloc/driver.h"
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const long MAX_REPEAT = 1000000;

/* One replaying thread: a copy of a trace (thread -1: all of its ops) or
 * the ops of one thread of an MT trace (then the tables are shared). */
typedef struct {
    tally found;
    const trace_t *t;
    int thread;
    uint64_t tag_base;
    void **ptr;
    size_t *n;
    uint64_t *tag;
    int32_t *done;
} __attribute__((aligned(64))) lane;

static void release(lane *l, int32_t id)
{
    check_block(l->ptr[id], l->n[id], l->tag[id], &l->found);
    free(l->ptr[id]);
    l->ptr[id] = NULL;
    l->n[id] = 0;
}

/* What calloc or realloc handed back must hold: zeros, or the old bytes. */
static void check_kept(lane *l, const trace_op *op, void *p, size_t kept,
                       uint64_t old_tag)
{
    if (op->kind == OP_REALLOC) {
        check_block(p, kept, old_tag, &l->found);
        return;
    }
    size_t n = op_bytes(op);
    const unsigned char *b = p;
    if (n != 0 && (b[0] != 0 || b[n / 2] != 0 || b[n - 1] != 0))
        l->found.errors++;
}

static void apply(lane *l, const trace_op *op, uint64_t tag)
{
    int32_t id = op->id;
    if (op->kind == OP_FREE) {
        if (id < 0)
            free(NULL);
        else
            release(l, id);
        return;
    }
    size_t want = op_bytes(op), old_n = l->n[id];
    void *p = op->kind == OP_ALLOC    ? malloc(want)
              : op->kind == OP_CALLOC ? calloc(op->nmemb, op->size)
                                      : realloc(l->ptr[id], want);
    if (op->kind == OP_REALLOC && want == 0)
        p = NULL; /* realloc(p, 0) freed p */
    else if (p == NULL)
        l->found.errors++;
    else if (op->kind != OP_ALLOC)
        check_kept(l, op, p, old_n < want ? old_n : want, l->tag[id]);
    l->ptr[id] = p;
    l->n[id] = p == NULL ? 0 : want;
    l->tag[id] = tag;
    if (p != NULL)
        fill_block(p, want, tag);
}

static void *replay_lane(void *arg)
{
    lane *l = arg;
    const trace_t *t = l->t;
    for (uint32_t i = 0; i < t->nops; i++) {
        const trace_op *op = &t->ops[i];
        if (l->thread >= 0 && op->thread != l->thread)
            continue;
        if (l->done != NULL && (op->sync & OP_WAITS))
            op_wait(op, &l->done[op->id], NULL);
        apply(l, op, l->tag_base + i);
        if (l->done != NULL && op->id >= 0)
            op_done(op, i, &l->done[op->id]);
    }
    return NULL;
}

/* Per-id tables of one lane (shared by the lanes of an MT trace). */
static void lane_tables(lane *l, const trace_t *t, bool mt)
{
    size_t slots = t->slots ? t->slots : 1;
    l->ptr = calloc(slots, sizeof *l->ptr);
    l->n = calloc(slots, sizeof *l->n);
    l->tag = calloc(slots, sizeof *l->tag);
    l->done = mt ? malloc(slots * sizeof *l->done) : NULL;
    if (!l->ptr || !l->n || !l->tag || (mt && !l->done)) {
        fprintf(stderr, "replay: out of memory for %s's tables\n", t->path);
        exit(1);
    }
    if (mt)
        memset(l->done, 0xff, slots * sizeof *l->done);
}

/* Frees what the trace left live, and the tables. */
static void lane_finish(lane *l, uint32_t slots, bool owner)
{
    for (uint32_t id = 0; owner && id < slots; id++)
        if (l->ptr[id] != NULL)
            release(l, (int32_t)id);
    if (owner) {
        free(l->ptr);
        free(l->n);
        free(l->tag);
        free(l->done);
    }
}

/* One replay of t on its threads or `copies` copies; adds its time. */
static void replay_trace(const trace_t *t, int copies, uint64_t tag_base,
                         tally *all, bench_clock *total)
{
    static lane lanes[BENCH_MAX_THREADS];
    bool mt = t->threads > 1;
    int n = mt ? t->threads : copies;
    for (int i = 0; i < n; i++) {
        lanes[i] = (lane){.t = t,
                          .thread = mt ? i : -1,
                          .tag_base = tag_base + ((uint64_t)i << 32)};
        if (i == 0 || !mt)
            lane_tables(&lanes[i], t, mt);
        else
            lanes[i] = (lane){.t = t,
                              .thread = i,
                              .tag_base = tag_base,
                              .ptr = lanes[0].ptr,
                              .n = lanes[0].n,
                              .tag = lanes[0].tag,
                              .done = lanes[0].done};
    }
    bench_clock c;
    run_timed(n, replay_lane, lanes, sizeof lanes[0], &c);
    total->wall += c.wall;
    total->cpu += c.cpu;
    for (int i = 0; i < n; i++) {
        lane_finish(&lanes[i], t->slots, i == 0 || !mt);
        tally_add(all, &lanes[i].found);
    }
}

static void usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s [-T N] [-r REPEAT] TRACE...\n"
            "  -T N       copies of a single-threaded trace replayed at once "
            "(1 .. %d, default 1)\n"
            "  -r REPEAT  replays of each trace (1 .. %ld, default 1)\n",
            argv0, BENCH_MAX_THREADS, MAX_REPEAT);
    exit(2);
}

static long option(const char *argv0, const char *s, long max)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || v < 1 || v > max)
        usage(argv0);
    return v;
}

int main(int argc, char **argv)
{
    int copies = 1, opt;
    long repeat = 1;
    while ((opt = getopt(argc, argv, "T:r:")) != -1) {
        if (opt == 'T')
            copies = (int)option(argv[0], optarg, BENCH_MAX_THREADS);
        else if (opt == 'r')
            repeat = option(argv[0], optarg, MAX_REPEAT);
        else
            usage(argv[0]);
    }
    int ntraces = argc - optind;
    if (ntraces < 1)
        usage(argv[0]);
    trace_t *traces = calloc((size_t)ntraces, sizeof *traces);
    uint64_t ops = 0;
    tally all = {0, 0};
    for (int i = 0; i < ntraces; i++) {
        if (traces == NULL ||
            !trace_load(argv[optind + i], argv[optind + i], &traces[i]))
            return 2;
        if (traces[i].threads > BENCH_MAX_THREADS) {
            fprintf(stderr, "replay: %s: more than %d threads\n",
                    traces[i].path, BENCH_MAX_THREADS);
            return 2;
        }
    }
    bench_clock total = {0, 0};
    for (long r = 0; r < repeat; r++)
        for (int i = 0; i < ntraces; i++) {
            replay_trace(&traces[i], copies, (uint64_t)r << 40, &all, &total);
            ops +=
                traces[i].nops * (uint64_t)(traces[i].threads > 1 ? 1 : copies);
        }
    char extra[96];
    snprintf(extra, sizeof extra, "traces=%d repeat=%ld ops=%llu", ntraces,
             repeat, (unsigned long long)ops);
    int status = report("replay", copies, extra, all, &total);
    for (int i = 0; i < ntraces; i++)
        trace_free(&traces[i]);
    free(traces);
    return status;
}
