/*
 * driver_report.c - everything mdriver prints: ERROR reports with their
 * context, the score table, the performance index (config.h) and JSON.
 */
#define _GNU_SOURCE
#include "driver.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

static const char *const KIND_NAMES[KIND_COUNT] = {
    [KIND_NONE] = "none",
    [KIND_MISALIGNED] = "misaligned",
    [KIND_OUTSIDE_HEAP] = "outside heap",
    [KIND_OVERLAP] = "overlap",
    [KIND_PAYLOAD_CORRUPTED] = "payload corrupted",
    [KIND_REALLOC_LOST_DATA] = "realloc lost data",
    [KIND_CALLOC_NOT_ZEROED] = "calloc not zeroed",
    [KIND_NULL_RETURN] = "null return",
    [KIND_OUT_OF_MEMORY] = "out of memory",
    [KIND_REALLOC0_NOT_FREED] = "realloc 0 not freed",
    [KIND_CHECKHEAP_FAILED] = "checkheap failed",
    [KIND_INIT_FAILED] = "mm_init failed",
    [KIND_CRASHED] = "crashed",
    [KIND_TIMEOUT] = "timeout",
};

const char *kind_name(error_kind kind)
{
    return kind >= 0 && kind < KIND_COUNT ? KIND_NAMES[kind] : "unknown";
}

static const char *const PROBE_NAMES[PROBE_COUNT] = {
    [PROBE_NOT_RUN] = "not run",
    [PROBE_OK] = "ok",
    [PROBE_NOISY] = "spoke on a good heap",
    [PROBE_MUTE] = "silent on a corrupted header",
    [PROBE_NO_BLOCK] = "no live block to corrupt",
};

const char *probe_name(probe_outcome p)
{
    return p >= 0 && p < PROBE_COUNT ? PROBE_NAMES[p] : "unknown";
}

static const char *phase_text(int phase)
{
    switch (phase) {
    case PHASE_REPLAY1:
        return "replay 1 of 2 (checked)";
    case PHASE_REPLAY2:
        return "replay 2 of 2 (checked; replay 1 passed, so does mm_init "
               "reset all of the allocator's state?)";
    case PHASE_TIMING:
        return "the timing replay of mm.c (unchecked)";
    case PHASE_GLIBC:
        return "the timing replay of glibc's malloc";
    case PHASE_PROBE:
        return "the heap-checker probe (--probe-checker), with the word "
               "before a live payload flipped";
    default:
        return "the --overhead replays";
    }
}

static const char *call_name(const trace_t *t, const trace_result *r)
{
    static const char *const CALLS[4] = {"mm_malloc", "mm_realloc", "mm_calloc",
                                         "mm_free"};
    if (r->where == WHERE_CHECKHEAP || r->kind == KIND_CHECKHEAP_FAILED)
        return "mm_checkheap";
    if (r->op_index == OP_UNKNOWN || r->op_index >= (int64_t)t->nops)
        return "an unknown mm function";
    if (r->where == WHERE_INIT || r->op_index < 0)
        return "mm_init";
    if (r->where == WHERE_HEAP_WALK)
        return "mm_heap_walk";
    return CALLS[t->ops[r->op_index].kind % 4];
}

/* The line and text of the failing op ("mm_init" before the first op;
 * line 0 and "?" when the replay overwrote the op index it published). */
static uint32_t error_line(const trace_t *t, const trace_result *r, char *op,
                           size_t n)
{
    if (r->op_index == OP_UNKNOWN || r->op_index >= (int64_t)t->nops) {
        snprintf(op, n, "?");
        return 0;
    }
    if (r->op_index < 0) {
        snprintf(op, n, "mm_init");
        return t->init_line;
    }
    op_format(&t->ops[r->op_index], op, n);
    return t->ops[r->op_index].line;
}

static void print_context_ops(FILE *out, const trace_t *t, int64_t idx)
{
    char op[64];
    if (idx < 0)
        return;
    fprintf(out, "    the ops before it:\n");
    int64_t from = idx - CONTEXT_OPS > 0 ? idx - CONTEXT_OPS : 0;
    for (int64_t i = from; i <= idx && (uint64_t)i < t->nops; i++) {
        op_format(&t->ops[i], op, sizeof op);
        fprintf(out, "    %s line %u: %s\n", i == idx ? ">" : " ",
                (unsigned)t->ops[i].line, op);
    }
}

/* Prints bytes [from, to) of the capture, indented: the first ones. */
static void print_capture(FILE *out, int fd, off_t from, off_t to,
                          const char *title)
{
    char buf[4096];
    off_t want =
        to - from > CONTEXT_OUTPUT_BYTES ? CONTEXT_OUTPUT_BYTES : to - from;
    ssize_t n = want > 0 ? pread(fd, buf, (size_t)want, from) : 0;
    if (n <= 0)
        return;
    fprintf(out, "    %s:\n        | ", title);
    for (ssize_t i = 0; i < n; i++) {
        fputc(buf[i], out);
        if (buf[i] == '\n' && i + 1 < n)
            fputs("        | ", out);
    }
    if (buf[n - 1] != '\n')
        fputc('\n', out);
    if (to - from > n)
        fprintf(out, "        (%lld more bytes not shown)\n",
                (long long)(to - from - n));
}

off_t capture_size(int fd)
{
    struct stat sb;
    return fstat(fd, &sb) == 0 ? sb.st_size : 0;
}

void capture_range(const trace_result *r, int fd, off_t *from, off_t *to)
{
    bool checker = r->kind == KIND_CHECKHEAP_FAILED;
    *from = checker ? (off_t)r->out_from : 0;
    *to = checker ? (off_t)r->out_to : capture_size(fd);
}

void report_error(FILE *out, const trace_t *t, const trace_result *r,
                  int capture_fd)
{
    char op[64];
    uint32_t line = error_line(t, r, op, sizeof op);
    char thread[32] = "";
    if (r->threads > 1)
        snprintf(thread, sizeof thread, "thread %d, ", (int)r->thread);
    fprintf(out, "ERROR [trace %s, %sline %u, op \"%s\"]: %s: %s\n", t->name,
            thread, (unsigned)line, op, kind_name(r->kind), r->details);
    fprintf(out, "    during %s", phase_text(r->phase));
    if (r->kind == KIND_CRASHED || r->kind == KIND_TIMEOUT)
        fprintf(out, ", in %s", call_name(t, r));
    fputc('\n', out);
    if (r->op_index == OP_UNKNOWN)
        fprintf(out, "    the op is unknown: the op index the replay "
                     "published is out of range (did mm.c write over the "
                     "driver's memory?)\n");
    print_context_ops(out, t, r->op_index);
    off_t from, to;
    capture_range(r, capture_fd, &from, &to);
    print_capture(out, capture_fd, from, to,
                  r->kind == KIND_CHECKHEAP_FAILED
                      ? "what mm_checkheap printed"
                      : "what mm.c printed (stdout and stderr)");
    if (r->hint[0] != '\0')
        fprintf(out, "    hint: %s\n", r->hint);
    fflush(out);
}

void report_output(FILE *out, const trace_t *t, int capture_fd)
{
    off_t n = capture_size(capture_fd);
    if (n == 0)
        return;
    fprintf(out, "note [trace %s]: mm.c printed %lld bytes\n", t->name,
            (long long)n);
    print_capture(out, capture_fd, 0, n, "what it printed (stdout and stderr)");
    fflush(out);
}

/* ---- scores ---- */

/* Weighted sums of one run: util over the util weights, ops and times
 * over the throughput weights. A run where every util (throughput) weight
 * is 0 weighs every trace 1 for it, so a lone trace still gets figures. */
typedef struct {
    double usum, uw, ops, secs, gsecs;
} score_sums;

static score_sums weighted_sums(const trace_t *ts, const trace_result *rs,
                                int n)
{
    score_sums m = {0};
    bool no_util = true, no_tput = true;
    for (int i = 0; i < n; i++) {
        no_util = no_util && ts[i].util_weight == 0;
        no_tput = no_tput && ts[i].tput_weight == 0;
    }
    for (int i = 0; i < n; i++) {
        double uw = no_util ? 1.0 : ts[i].util_weight;
        double tw = no_tput ? 1.0 : ts[i].tput_weight;
        m.uw += uw;
        m.usum += rs[i].kind == KIND_NONE ? uw * rs[i].util : 0;
        m.ops += tw * run_ops(&ts[i], &rs[i]);
        m.secs += tw * rs[i].secs;
        m.gsecs += tw * rs[i].glibc_secs;
    }
    return m;
}

static double ramp_credit(double x, double lo, double hi)
{
    return fmin(1.0, fmax(0.0, (x - lo) / (hi - lo)));
}

score_t compute_score(const trace_t *ts, const trace_result *rs, int n,
                      const score_ramp *ramp)
{
    score_t s = {0};
    s.timed = n > 0;
    for (int i = 0; i < n; i++) {
        bool ok = rs[i].kind == KIND_NONE;
        s.failed += !ok;
        s.timed = s.timed && ok && rs[i].timed;
    }
    score_sums m = weighted_sums(ts, rs, n);
    s.util = m.uw > 0 ? m.usum / m.uw : 0;
    s.kops = m.secs > 0 ? m.ops / m.secs / 1000 : 0;
    s.glibc_kops = m.gsecs > 0 ? m.ops / m.gsecs / 1000 : 0;
    for (int i = 0; i < n; i++)
        s.ops += run_ops(&ts[i], &rs[i]);
    s.few_ops = s.ops < MIN_INDEX_OPS;
    double ratio = s.glibc_kops > 0 ? s.kops / s.glibc_kops : 0;
    s.util_part =
        100 * UTIL_WEIGHT * ramp_credit(s.util, ramp->util_min, ramp->util_max);
    s.tput_part = 100 * (1 - UTIL_WEIGHT) *
                  ramp_credit(ratio, ramp->tput_min, ramp->tput_max);
    s.index = s.failed ? 0 : s.util_part + s.tput_part;
    return s;
}

bool score_parse_ramp(const char *spec, score_ramp *ramp)
{
    double v[4];
    char tail;
    if (strcmp(spec, "cap") == 0)
        *ramp = (score_ramp){0, UTIL_FULL, 0, TPUT_FULL_RATIO};
    else if (strcmp(spec, "ramp") == 0)
        *ramp = (score_ramp){RAMP_UTIL_MIN, RAMP_UTIL_MAX, RAMP_TPUT_MIN_RATIO,
                             RAMP_TPUT_MAX_RATIO};
    else if (sscanf(spec, "%lf,%lf,%lf,%lf%c", &v[0], &v[1], &v[2], &v[3],
                    &tail) == 4)
        *ramp = (score_ramp){v[0], v[1], v[2], v[3]};
    else
        return false;
    return ramp->util_min >= 0 && ramp->util_min < ramp->util_max &&
           ramp->tput_min >= 0 && ramp->tput_min < ramp->tput_max &&
           isfinite(ramp->util_max) && isfinite(ramp->tput_max);
}

/* ---- the table ---- */

static void print_row(FILE *out, const trace_t *t, const trace_result *r,
                      bool glibc)
{
    bool ok = r->kind == KIND_NONE;
    double secs = glibc ? r->glibc_secs : r->secs;
    char util[16] = "-", tsecs[24] = "-", kops[24] = "-";
    if (ok && !glibc)
        snprintf(util, sizeof util, "%.1f%%", 100 * r->util);
    if (ok && r->timed && secs > 0) {
        snprintf(tsecs, sizeof tsecs, "%.3g", secs);
        snprintf(kops, sizeof kops, "%.0f", run_ops(t, r) / secs / 1000);
    }
    fprintf(out, "%-24s %3d  %-5s %7s %10.0f %10s %10s\n", t->name, t->weight,
            glibc || ok ? "yes" : "no", util, run_ops(t, r), tsecs, kops);
}

static void print_table(FILE *out, const trace_t *ts, const trace_result *rs,
                        int n, bool glibc, const score_t *s)
{
    fprintf(out, "\nResults for %s", glibc ? "glibc malloc" : "mm malloc");
    bool threads = false;
    for (int i = 0; i < n; i++)
        threads = threads || rs[i].threads > 1;
    if (threads)
        fprintf(out, " (ops and Kops: of all the threads of a trace)");
    fprintf(out, ":\n");
    fprintf(out, "%-24s %3s  %-5s %7s %10s %10s %10s\n", "trace", "w", "valid",
            "util", "ops", "secs", "Kops");
    double ops = 0, secs = 0;
    for (int i = 0; i < n; i++) {
        print_row(out, &ts[i], &rs[i], glibc);
        ops += run_ops(&ts[i], &rs[i]);
        secs += glibc ? rs[i].glibc_secs : rs[i].secs;
    }
    char util[16] = "-", tsecs[24] = "-", kops[24] = "-";
    if (!glibc)
        snprintf(util, sizeof util, "%.1f%%", 100 * s->util);
    if (s->timed) {
        snprintf(tsecs, sizeof tsecs, "%.3g", secs);
        snprintf(kops, sizeof kops, "%.0f", glibc ? s->glibc_kops : s->kops);
    }
    fprintf(out, "%-24s %3s  %-5s %7s %10.0f %10s %10s\n", "Total (weighted)",
            "", "", util, ops, tsecs, kops);
}

static void print_index(FILE *out, const score_t *s, int n, const score_ramp *r)
{
    if (s->failed) {
        fprintf(out,
                "\nPerf index = 0/100: %d of %d traces failed (the "
                "index is 0 when any trace fails)\n",
                s->failed, n);
        return;
    }
    if (!s->timed) {
        fprintf(out,
                "\nPerf index: not computed (-n: no timing); util "
                "%.1f%% = %.1f of %.0f util points\n",
                100 * s->util, s->util_part, 100 * UTIL_WEIGHT);
        return;
    }
    fprintf(out, "\nPerf index = %.1f (util) + %.1f (thru) = %.1f/100\n",
            s->util_part, s->tput_part, s->index);
    if (s->few_ops)
        fprintf(out,
                "    note: only %.0f ops in all, fewer than MIN_INDEX_OPS "
                "(%u, config.h): this index is mostly noise\n",
                s->ops, MIN_INDEX_OPS);
    fprintf(out,
            "    util %.1f%% (credit from %.0f%%, full at %.0f%%); "
            "throughput %.0f Kops = %.2f x glibc's %.0f Kops (credit from "
            "%.2f x, full at %.2f x)\n",
            100 * s->util, 100 * r->util_min, 100 * r->util_max, s->kops,
            s->glibc_kops > 0 ? s->kops / s->glibc_kops : 0, s->glibc_kops,
            r->tput_min, r->tput_max);
}

/* Several threads (-T N, MT traces): aggregate throughput against one
 * thread's replay of the same work (-T 1; an MT trace in file order), mm.c's
 * and glibc's, measured in the same run, over the traces replayed by
 * several threads (weighted as the table's totals). */
static void print_scaling(FILE *out, const trace_t *ts, const trace_result *rs,
                          int n)
{
    double ops = 0, ops1 = 0, secs = 0, secs1 = 0, gsecs = 0, gsecs1 = 0;
    for (int i = 0; i < n; i++) {
        if (rs[i].threads <= 1)
            continue;
        double tw = ts[i].tput_weight > 0 ? ts[i].tput_weight : 1;
        ops += tw * run_ops(&ts[i], &rs[i]);
        ops1 += tw * ts[i].nops;
        secs += tw * rs[i].secs;
        secs1 += tw * rs[i].secs1;
        gsecs += tw * rs[i].glibc_secs;
        gsecs1 += tw * rs[i].glibc_secs1;
    }
    if (secs <= 0 || secs1 <= 0 || gsecs <= 0 || gsecs1 <= 0)
        return;
    double k = ops / 1000, k1 = ops1 / 1000;
    fprintf(out,
            "\nScaling (all threads vs one, same run): mm %.0f Kops vs %.0f = "
            "%.2f x; glibc %.0f Kops vs %.0f = %.2f x\n",
            k / secs, k1 / secs1, (k / secs) / (k1 / secs1), k / gsecs,
            k1 / gsecs1, (k / gsecs) / (k1 / gsecs1));
}

/* An arena of mm_stats whose byte counts fit in the heap. */
static bool arena_plausible(const arena_stat *a, const trace_result *r)
{
    return a->in_use <= r->heap_bytes && a->free <= r->heap_bytes &&
           a->cached <= r->heap_bytes &&
           a->in_use + a->free + a->cached <= r->heap_bytes;
}

/* mm_stats of a replay with threads (-v). The numbers come from mm.c: a
 * byte count above the heap's size is printed, and named implausible. */
static void print_arenas(FILE *out, const trace_t *t, const trace_result *r)
{
    int kept = r->arenas < STATS_ARENAS_MAX ? r->arenas : STATS_ARENAS_MAX;
    if (r->arenas <= 0)
        return;
    fprintf(out, "  %s: mm_stats, %d arena%s after replay 1 with %d threads\n",
            t->name, (int)r->arenas, r->arenas == 1 ? "" : "s",
            (int)r->threads);
    for (int i = 0; i < kept; i++) {
        const arena_stat *a = &r->arena[i];
        bool sane = arena_plausible(a, r);
        fprintf(out,
                "    arena %llu: ops %llu, remote frees %llu, in use %llu B, "
                "free %llu B, cached %llu B, regions %llu%s\n",
                (unsigned long long)a->arena, (unsigned long long)a->ops,
                (unsigned long long)a->remote_frees,
                (unsigned long long)a->in_use, (unsigned long long)a->free,
                (unsigned long long)a->cached, (unsigned long long)a->regions,
                sane ? "" : " (implausible: more bytes than the heap has)");
    }
    if (r->arenas > kept)
        fprintf(out, "    (%d more arenas not shown)\n", r->arenas - kept);
}

/* -v: one line per trace; with threads timed, the CPU share of their
 * replays (docs/driver.md, "Threads (-T)"). */
static void print_details(FILE *out, const trace_t *t, const trace_result *r)
{
    fprintf(out,
            "  %s: %s, dialect %c (util weight %d, throughput weight %d), %u "
            "ids, heap %llu bytes, peak live %llu bytes, timing samples %d + "
            "%d",
            t->name, t->path, t->dialect, t->util_weight, t->tput_weight,
            (unsigned)t->ids, (unsigned long long)r->heap_bytes,
            (unsigned long long)r->peak_bytes, r->samples, r->glibc_samples);
    if (r->timed && r->cpu_share > 0 && r->glibc_cpu_share > 0)
        fprintf(out, ", CPU share of the %d threads %.2f (glibc %.2f)",
                (int)r->threads, r->cpu_share, r->glibc_cpu_share);
    fputc('\n', out);
}

void report_table(FILE *out, const trace_t *ts, const trace_result *rs, int n,
                  const driver_opts *o)
{
    score_t s = compute_score(ts, rs, n, &o->ramp);
    if (o->glibc_rows && s.timed)
        print_table(out, ts, rs, n, true, &s);
    print_table(out, ts, rs, n, false, &s);
    for (int i = 0; o->verbose > 0 && i < n; i++)
        print_details(out, &ts[i], &rs[i]);
    for (int i = 0; o->verbose > 0 && i < n; i++)
        print_arenas(out, &ts[i], &rs[i]);
    for (int i = 0; i < n; i++)
        if (o->probe && rs[i].kind == KIND_NONE)
            fprintf(out, "checker probe [trace %s]: %s (id %d)\n", ts[i].name,
                    probe_name(rs[i].probe), (int)rs[i].probe_id);
    if (s.timed)
        print_scaling(out, ts, rs, n);
    print_index(out, &s, n, &o->ramp);
}

void report_overhead(FILE *out, const trace_t *ts, const trace_result *rs,
                     int n)
{
    fprintf(out, "%-20s %8s %8s %10s %10s %8s %8s %8s %6s\n", "trace", "ops",
            "max live", "unchecked", "checked", "ns/op u", "ns/op c", "engine",
            "ratio");
    for (int i = 0; i < n; i++) {
        const trace_result *r = &rs[i];
        const char *name = strrchr(ts[i].name, '/');
        name = name ? name + 1 : ts[i].name;
        if (r->kind != KIND_NONE || !r->timed) {
            fprintf(out, "%-20s failed: %s\n", name, kind_name(r->kind));
            continue;
        }
        double ops = ts[i].nops ? ts[i].nops : 1;
        fprintf(out, "%-20s %8u %8llu %9.4fs %9.4fs %8.1f %8.1f %8.1f %6.2f\n",
                name, (unsigned)ts[i].nops, (unsigned long long)r->max_live,
                r->secs, r->checked_secs, 1e9 * r->secs / ops,
                1e9 * r->checked_secs / ops,
                1e9 * (r->checked_secs - r->secs) / ops,
                r->secs > 0 ? r->checked_secs / r->secs : 0);
    }
    fprintf(out, "(one replay, best of the timing samples; engine = checked "
                 "- unchecked, ns per op)\n");
}

/* ---- JSON ---- */

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

/* A number, or null when it is not a finite figure. */
static void json_number(FILE *f, double x, bool known)
{
    if (known && isfinite(x))
        fprintf(f, "%.10g", x);
    else
        fputs("null", f);
}

/* The ops before the failing one in the report's context: [{line, op}]. */
static void json_context_ops(FILE *f, const trace_t *t, int64_t idx)
{
    char op[64];
    fputc('[', f);
    int64_t from = idx - CONTEXT_OPS > 0 ? idx - CONTEXT_OPS : 0;
    for (int64_t i = from; i < idx && (uint64_t)i < t->nops; i++) {
        op_format(&t->ops[i], op, sizeof op);
        fprintf(f, "%s{\"line\": %u, \"op\": ", i > from ? ", " : "",
                (unsigned)t->ops[i].line);
        json_string(f, op);
        fputc('}', f);
    }
    fputc(']', f);
}

static void json_error(FILE *f, const trace_t *t, const trace_result *r)
{
    char op[64];
    if (r->kind == KIND_NONE) {
        fputs("null", f);
        return;
    }
    uint32_t line = error_line(t, r, op, sizeof op);
    fputs("{\"kind\": ", f);
    json_string(f, kind_name(r->kind));
    fprintf(f, ", \"thread\": %d, \"line\": %u, \"op\": ", (int)r->thread,
            (unsigned)line);
    json_string(f, op);
    fputs(", \"phase\": ", f);
    json_string(f, phase_text(r->phase));
    fputs(", \"function\": ", f);
    json_string(f, call_name(t, r));
    fputs(", \"message\": ", f);
    json_string(f, r->details);
    fputs(", \"ops_before\": ", f);
    json_context_ops(f, t, r->op_index);
    fputs(", \"output\": ", f);
    json_string(f, r->output);
    fputs(", \"hint\": ", f);
    if (r->hint[0] != '\0')
        json_string(f, r->hint);
    else
        fputs("null", f);
    fputc('}', f);
}

/* The "mm_stats" member: null, or mm.c's arenas after replay 1 with
 * threads (as -v prints them): their count, and the first
 * STATS_ARENAS_MAX of them. */
static void json_arenas(FILE *f, const trace_result *r)
{
    int kept = r->arenas < STATS_ARENAS_MAX ? r->arenas : STATS_ARENAS_MAX;
    fputs(", \"mm_stats\": ", f);
    if (r->kind != KIND_NONE || r->arenas < 0) {
        fputs("null", f);
        return;
    }
    fprintf(f, "{\"count\": %d, \"arenas\": [", (int)r->arenas);
    for (int i = 0; i < kept; i++) {
        const arena_stat *a = &r->arena[i];
        fprintf(f,
                "%s{\"arena\": %llu, \"ops\": %llu, \"remote_frees\": %llu, "
                "\"in_use\": %llu, \"free\": %llu, \"cached\": %llu, "
                "\"regions\": %llu, \"plausible\": %s}",
                i ? ", " : "", (unsigned long long)a->arena,
                (unsigned long long)a->ops, (unsigned long long)a->remote_frees,
                (unsigned long long)a->in_use, (unsigned long long)a->free,
                (unsigned long long)a->cached, (unsigned long long)a->regions,
                arena_plausible(a, r) ? "true" : "false");
    }
    fputs("]}", f);
}

static void json_trace(FILE *f, const trace_t *t, const trace_result *r)
{
    bool ok = r->kind == KIND_NONE, timed = ok && r->timed;
    fputs("{\"name\": ", f);
    json_string(f, t->name);
    fputs(", \"path\": ", f);
    json_string(f, t->path);
    fprintf(f,
            ", \"weight\": %d, \"dialect\": \"%c\", \"util_weight\": %d, "
            "\"tput_weight\": %d, \"valid\": %s, \"error\": ",
            t->weight, t->dialect, t->util_weight, t->tput_weight,
            ok ? "true" : "false");
    json_error(f, t, r);
    fputs(", \"util\": ", f);
    json_number(f, r->util, ok);
    double ops = run_ops(t, r);
    fprintf(f,
            ", \"heap_bytes\": %llu, \"peak_bytes\": %llu, \"threads\": %d, "
            "\"ops\": %.0f",
            (unsigned long long)r->heap_bytes,
            (unsigned long long)r->peak_bytes, (int)r->threads, ops);
    fputs(", \"secs\": ", f);
    json_number(f, r->secs, timed);
    fputs(", \"kops\": ", f);
    json_number(f, ops / r->secs / 1000, timed && r->secs > 0);
    fputs(", \"glibc_secs\": ", f);
    json_number(f, r->glibc_secs, timed);
    fputs(", \"glibc_kops\": ", f);
    json_number(f, ops / r->glibc_secs / 1000, timed && r->glibc_secs > 0);
    bool mt = timed && r->threads > 1 && r->secs > 0 && r->glibc_secs > 0;
    fputs(", \"scaling\": ", f);
    double copies = ops / (t->nops ? t->nops : 1);
    json_number(f, copies * r->secs1 / r->secs, mt);
    fputs(", \"glibc_scaling\": ", f);
    json_number(f, copies * r->glibc_secs1 / r->glibc_secs, mt);
    fputs(", \"cpu_share\": ", f);
    json_number(f, r->cpu_share, timed && r->cpu_share > 0);
    fputs(", \"glibc_cpu_share\": ", f);
    json_number(f, r->glibc_cpu_share, timed && r->glibc_cpu_share > 0);
    /* ops per CPU-second of each thread, times the threads: the aggregate
     * if each thread had a core of its own all along */
    double threads = r->threads > 0 ? r->threads : 1;
    fputs(", \"cpu_kops\": ", f);
    json_number(f, threads * ops / r->cpu_secs / 1000,
                timed && r->cpu_secs > 0);
    fputs(", \"glibc_cpu_kops\": ", f);
    json_number(f, threads * ops / r->glibc_cpu_secs / 1000,
                timed && r->glibc_cpu_secs > 0);
    json_arenas(f, r);
    fputs(", \"checker_probe\": ", f);
    if (r->probe == PROBE_NOT_RUN)
        fputs("null", f);
    else
        json_string(f, probe_name(r->probe));
    fputc('}', f);
}

static void json_index(FILE *f, const score_t *s, const score_ramp *r)
{
    fputs("{\"total\": ", f);
    json_number(f, s->index, s->timed || s->failed);
    fputs(", \"util_part\": ", f);
    json_number(f, s->util_part, true);
    fputs(", \"tput_part\": ", f);
    json_number(f, s->tput_part, s->timed);
    fprintf(f,
            ", \"util_weight\": %g, \"util_full\": %g, "
            "\"tput_full_ratio\": %g, \"util_min\": %g, "
            "\"tput_min_ratio\": %g, \"few_ops\": %s}",
            UTIL_WEIGHT, r->util_max, r->tput_max, r->util_min, r->tput_min,
            s->few_ops ? "true" : "false");
}

/* The suite's "util", "kops" and "glibc_kops" members (-j and -g). */
static void json_totals(FILE *f, const score_t *s)
{
    fputs("\"util\": ", f);
    json_number(f, s->util, true);
    fputs(", \"kops\": ", f);
    json_number(f, s->kops, s->timed);
    fputs(", \"glibc_kops\": ", f);
    json_number(f, s->glibc_kops, s->timed);
}

bool report_json(const char *path, const trace_t *ts, const trace_result *rs,
                 int n, const driver_opts *o)
{
    FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "ERROR [%s]: cannot write the JSON file: %m\n", path);
        return false;
    }
    score_t s = compute_score(ts, rs, n, &o->ramp);
    fprintf(f,
            "{\"version\": 1, \"valid\": %s, \"failed\": %d, \"debug\": "
            "%d, \"timed\": %s, \"traces\": [",
            s.failed ? "false" : "true", s.failed, o->debug,
            s.timed ? "true" : "false");
    for (int i = 0; i < n; i++) {
        fputs(i ? ",\n  " : "\n  ", f);
        json_trace(f, &ts[i], &rs[i]);
    }
    fputs("],\n ", f);
    json_totals(f, &s);
    fputs(", \"index\": ", f);
    json_index(f, &s, &o->ramp);
    fputs("}\n", f);
    bool ok = fflush(f) == 0 && ferror(f) == 0;
    int err = errno;
    if (f != stdout && fclose(f) != 0 && ok)
        ok = false, err = errno;
    if (!ok)
        fprintf(stderr, "ERROR [%s]: cannot write the JSON file: %s\n",
                strcmp(path, "-") == 0 ? "stdout" : path, strerror(err));
    return ok;
}

void report_grade(FILE *out, const trace_t *ts, const trace_result *rs, int n,
                  const driver_opts *o)
{
    score_t s = compute_score(ts, rs, n, &o->ramp);
    fprintf(out, "{\"correct\": %d, \"traces\": %d, \"valid\": %s, ",
            n - s.failed, n, s.failed ? "false" : "true");
    json_totals(out, &s);
    fputs(", \"perfidx\": ", out);
    json_number(out, s.index, s.timed || s.failed);
    fputs("}\n", out);
}
