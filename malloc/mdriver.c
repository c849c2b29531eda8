/*
 * mdriver.c - the malloc lab's trace driver: main parses the command line,
 * finds the traces, and dispatches; the work is in driver_*.c (driver.h).
 *
 *   ./mdriver                  the default suite (<trace dir>/suite.txt)
 *   ./mdriver -f short1-bal.rep
 *
 * Exit status: 0 every trace valid; 1 some trace failed; 2 bad usage or a
 * malformed trace. See docs/driver.md for every option and message.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "driver.h"
#include "memlib.h"

enum { EXIT_VALID = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

static const char USAGE[] =
    "Usage: mdriver [-hlnvVgx] [-f FILE]... [-t DIR] [-d 0|1|2] [-s SECS]\n"
    "               [-m BYTES] [-j FILE] [-T N] [--score SPEC] [--overhead]\n"
    "               [--heap-map FILE] [--probe-checker] [--one-replay]\n"
    "  -f FILE   replay this trace (the path as given, else <trace "
    "dir>/FILE);\n"
    "            may be repeated; default: the names in <trace dir>/suite.txt\n"
    "  -t DIR    the trace dir (default: the kit's traces/, found from the\n"
    "            executable's location)\n"
    "  -l        also show glibc malloc's rows (always measured)\n"
    "  -n        no timing: correctness and utilization only\n"
    "  -d LEVEL  0 engine only; 1 (default) + mm_checkheap after mm_init and\n"
    "            at the end; 2 mm_checkheap and a full payload check after\n"
    "            every op\n"
    "  -s SECS   per-trace time limit (default 20, config.h; 0: none)\n"
    "  -x        stop at the first failing trace\n"
    "  -T N      N threads, each replaying its own copy of every trace\n"
    "            (ids of its own); aggregate figures and the scaling\n"
    "            against one thread, glibc's too\n"
    "  -m BYTES  heap limit, suffixes K, M, G (default 100M)\n"
    "  -g        print one line of JSON for an autograder\n"
    "  -j FILE   write every figure as JSON to FILE ('-': stdout)\n"
    "  -v, -V    more detail (-V: progress as each trace runs)\n"
    "  --score SPEC  the index's ramps (config.h): cap (default: credit in\n"
    "            proportion up to 90% util and 1.0 x glibc), ramp (the CMU\n"
    "            kit's shape), or UMIN,UMAX,TMIN,TMAX (util and throughput\n"
    "            ratio to glibc: no credit below MIN, full from MAX on)\n"
    "  --overhead  measure the checking overhead (checked / unchecked time)\n"
    "  --heap-map FILE  draw the heap of one trace over time into FILE, one\n"
    "            self-contained HTML page (docs/driver.md)\n"
    "  --probe-checker  after the checked replays, mm_checkheap must be\n"
    "            silent, then speak once a live block's header word is\n"
    "            flipped (tools/grade uses it)\n"
    "  --one-replay  one checked replay per trace, not two (tools/grade\n"
    "            counts instructions under callgrind with it)\n"
    "  --serial  replay multi-threaded traces on one thread, in file order\n"
    "            (for an allocator that is not thread safe: the plain mm.c)\n"
    "  -h        this help\n"
    "Exit status: 0 all traces valid, 1 a trace failed, 2 bad usage or a\n"
    "malformed trace.\n";

typedef struct {
    char **names; /* grows as needed */
    int n, cap;
    bool from_suite;
} trace_list;

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt,
                                                             ...)
{
    va_list ap;
    fprintf(stderr, "mdriver: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(mdriver -h lists the options)\n");
    return EXIT_USAGE;
}

/* Appends a trace name (kept, not copied); false when out of memory. */
static bool add_name(trace_list *l, char *name)
{
    if (l->n == l->cap) {
        int cap = l->cap * 2 + 16;
        char **names = realloc(l->names, (size_t)cap * sizeof *names);
        if (names == NULL)
            return false;
        l->names = names;
        l->cap = cap;
    }
    l->names[l->n++] = name;
    return true;
}

/* "64M" -> 67108864; false on junk. */
static bool parse_size(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || s[0] == '-')
        return false;
    int shift = 0;
    if (*end == 'K' || *end == 'k')
        shift = 10;
    else if (*end == 'M' || *end == 'm')
        shift = 20;
    else if (*end == 'G' || *end == 'g')
        shift = 30;
    if (shift != 0)
        end++;
    if (*end != '\0' || v > (SIZE_MAX >> shift))
        return false;
    *out = (size_t)(v << shift);
    return true;
}

static bool parse_seconds(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || !(v >= 0) || v > 1e6)
        return false;
    *out = v;
    return true;
}

static bool parse_threads(const char *s, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 1 || v > STATUS_SLOTS)
        return false;
    *out = (int)v;
    return true;
}

/* One option letter; returns -1 to go on, else the exit status. */
static int apply_option(int c, const char *arg, driver_opts *o, trace_list *l)
{
    switch (c) {
    case 'f':
        return add_name(l, (char *)arg) ? -1 : usage_error("out of memory");
    case 't':
        o->tracedir = arg;
        return -1;
    case 'd':
        if (strlen(arg) != 1 || arg[0] < '0' || arg[0] > '2')
            return usage_error("-d takes 0, 1 or 2, not '%s'", arg);
        o->debug = arg[0] - '0';
        return -1;
    case 's':
        return parse_seconds(arg, &o->timeout)
                   ? -1
                   : usage_error("-s takes seconds (0: none), not '%s'", arg);
    case 'm':
        return parse_size(arg, &o->max_heap) && mem_set_max_heap(o->max_heap)
                   ? -1
                   : usage_error("-m takes a heap size such as 100M (at most "
                                 "64G), not '%s'",
                                 arg);
    case 'l':
        o->glibc_rows = true;
        return -1;
    case 'n':
        o->timing = false;
        return -1;
    case 'v':
    case 'V':
        o->verbose = c == 'v' ? 1 : 2;
        return -1;
    case 'g':
        o->grade = true;
        return -1;
    case 'j':
        o->json = arg;
        return -1;
    case 'O':
        o->overhead = true;
        return -1;
    case 'S':
        return score_parse_ramp(arg, &o->ramp)
                   ? -1
                   : usage_error("--score takes cap, ramp or UMIN,UMAX,TMIN,"
                                 "TMAX with 0 <= MIN < MAX, not '%s'",
                                 arg);
    case 'x':
        o->stop_first = true;
        return -1;
    case 'H':
        o->heap_map = arg;
        return -1;
    case 'P':
        o->probe = true;
        return -1;
    case '1':
        o->one_replay = true;
        return -1;
    case 'L':
        o->serial = true;
        return -1;
    case 'T':
        o->threads_given = true;
        return parse_threads(arg, &o->threads)
                   ? -1
                   : usage_error("-T takes a number of threads from 1 to %d, "
                                 "not '%s'",
                                 STATUS_SLOTS, arg);
    case 'h':
        fputs(USAGE, stdout);
        return EXIT_VALID;
    default:
        return usage_error("unknown option");
    }
}

static int parse_options(int argc, char **argv, driver_opts *o, trace_list *l)
{
    static const struct option LONG[] = {
        {"overhead", no_argument, NULL, 'O'},
        {"score", required_argument, NULL, 'S'},
        {"heap-map", required_argument, NULL, 'H'},
        {"probe-checker", no_argument, NULL, 'P'},
        {"one-replay", no_argument, NULL, '1'},
        {"serial", no_argument, NULL, 'L'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":f:t:d:s:m:j:T:lnvVgxh", LONG,
                            NULL)) != -1) {
        if (c == ':' && optopt == 'H')
            return usage_error("option --heap-map needs a FILE");
        if (c == ':')
            return usage_error("option -%c needs an argument", optopt);
        if (c == '?')
            return optopt ? usage_error("unknown option -%c", optopt)
                          : usage_error("unknown option %s", argv[optind - 1]);
        int status = apply_option(c, optarg, o, l);
        if (status >= 0)
            return status;
    }
    if (optind < argc)
        return usage_error("unexpected argument '%s'", argv[optind]);
    if (o->threads > 1 && o->heap_map)
        return usage_error("--heap-map draws one thread's replay: not with "
                           "-T above 1");
    o->report =
        o->grade || (o->json && strcmp(o->json, "-") == 0) ? stderr : stdout;
    return -1;
}

/* The kit's traces/: <exe dir>/../traces, then <exe dir>/traces. */
static char *find_tracedir(void)
{
    char exe[PATH_MAX], dir[PATH_MAX + 16];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    const char *d = dirname(exe);
    static const char *const TRIES[2] = {"%s/../traces", "%s/traces"};
    for (int i = 0; i < 2; i++) {
        snprintf(dir, sizeof dir, TRIES[i], d);
        if (access(dir, R_OK | X_OK) == 0)
            return realpath(dir, NULL);
    }
    return NULL;
}

static char *join_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p != NULL)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* One line of suite.txt: the name it lists (trimmed, without a comment),
 * or "" for none. */
static char *suite_name(char *line)
{
    char *s = line + strspn(line, " \t");
    s[strcspn(s, "#\r\n")] = '\0';
    for (char *e = s + strlen(s); e > s && (e[-1] == ' ' || e[-1] == '\t');)
        *--e = '\0';
    return s;
}

/* Reads the names of <dir>/suite.txt into l (the strings are kept); a
 * suite that lists no trace is an error. */
static bool read_suite(const char *dir, trace_list *l)
{
    char *path = join_path(dir, "suite.txt"), *line = NULL;
    struct stat sb;
    const char *why = NULL;
    FILE *f = path ? open_regular(path, &sb, &why) : NULL;
    size_t cap = 0;
    unsigned lineno = 0;
    bool ok = f != NULL;
    if (f == NULL)
        fprintf(stderr, "ERROR [%s]: cannot read the default suite: %s\n",
                path ? path : "suite.txt", why ? why : strerror(errno));
    while (ok && getline(&line, &cap, f) > 0) {
        lineno++;
        char *s = suite_name(line), *name = *s ? strdup(s) : NULL;
        if (*s != '\0' && (name == NULL || !add_name(l, name))) {
            fprintf(stderr, "ERROR [%s:%u]: out of memory\n", path, lineno);
            free(name);
            ok = false;
        }
    }
    if (ok && (!feof(f) || l->n == 0)) {
        fprintf(stderr,
                "ERROR [%s:%u]: expected trace file names, one per line, "
                "found %s\n",
                path, lineno, ferror(f) ? strerror(errno) : "none");
        ok = false;
    }
    if (f != NULL)
        fclose(f);
    free(line);
    free(path);
    return ok;
}

/* -f NAME: the path as given if it exists, else <dir>/NAME; a name of
 * suite.txt is looked for in <dir> unless it is an absolute path. */
static char *resolve_trace(const char *name, const char *dir, bool from_suite)
{
    if ((!from_suite || name[0] == '/') && access(name, F_OK) == 0)
        return strdup(name);
    char *p = dir && name[0] != '/' ? join_path(dir, name) : NULL;
    if (p != NULL && access(p, F_OK) == 0)
        return p;
    if (p != NULL)
        fprintf(stderr, "ERROR [%s]: no such trace file (looked for %s%s)\n",
                name, from_suite ? "" : "it here and for ", p);
    else
        fprintf(stderr, "ERROR [%s]: no such trace file%s\n", name,
                name[0] == '/' || dir ? ""
                                      : " (and no trace dir next to the "
                                        "executable: give -t DIR)");
    free(p);
    return NULL;
}

static bool load_traces(const trace_list *l, const char *dir, trace_t *ts)
{
    for (int i = 0; i < l->n; i++) {
        char *path = resolve_trace(l->names[i], dir, l->from_suite);
        bool ok = path != NULL && trace_load(l->names[i], path, &ts[i]);
        free(path);
        if (!ok)
            return false;
    }
    return true;
}

/* -T and --heap-map apply to single-threaded traces only. */
static bool check_threads(const trace_t *ts, int n, const driver_opts *o)
{
    for (int i = 0; i < n; i++) {
        if (ts[i].threads == 1 || o->serial ||
            (o->threads == 1 && !o->heap_map))
            continue;
        fprintf(stderr,
                "ERROR [%s]: a multi-threaded trace (%d threads): %s is for "
                "single-threaded traces only\n",
                ts[i].path, ts[i].threads,
                o->threads > 1 ? "-T" : "--heap-map");
        return false;
    }
    return true;
}

static int run_all(const trace_t *ts, int n, const driver_opts *o)
{
    if (!check_threads(ts, n, o))
        return EXIT_USAGE;
    trace_result *rs = calloc((size_t)n + 1, sizeof *rs);
    int failed = 0, child_exit = 0, all = n;
    if (rs == NULL || !mem_init() || !run_setup() ||
        (o->heap_map && !heapmap_setup()))
        return EXIT_USAGE;
    bool map_ok = true;
    for (int i = 0; i < n; i++) {
        if (o->stop_first && failed > 0) {
            fprintf(o->report,
                    "note: -x: stopped after the first failing trace; %d of "
                    "%d traces not replayed\n",
                    all - i, all);
            n = i;
            break;
        }
        if (o->verbose > 1)
            fprintf(o->report, "trace %s: %u ops, %u ids, weight %d\n",
                    ts[i].name, (unsigned)ts[i].nops, (unsigned)ts[i].ids,
                    ts[i].weight);
        heapmap_begin();
        run_trace(&ts[i], o, &rs[i]);
        if (o->heap_map)
            map_ok = heapmap_write(o->heap_map, &ts[i], &rs[i], o->report);
        failed += rs[i].kind != KIND_NONE;
        child_exit = rs[i].child_exit ? rs[i].child_exit : child_exit;
    }
    bool json_ok = true;
    if (o->overhead)
        report_overhead(stdout, ts, rs, n);
    else if (!o->grade && !(o->json && strcmp(o->json, "-") == 0))
        report_table(stdout, ts, rs, n, o);
    if (o->grade)
        report_grade(stdout, ts, rs, n, o);
    if (o->json)
        json_ok = report_json(o->json, ts, rs, n, o);
    free(rs);
    mem_deinit();
    if (child_exit != 0)
        return child_exit;
    return !json_ok || !map_ok ? EXIT_USAGE : failed ? EXIT_FAILED : EXIT_VALID;
}

int main(int argc, char **argv)
{
    driver_opts o = {.debug = 1,
                     .timeout = DEFAULT_TIMEOUT_SECS,
                     .max_heap = MEM_DEFAULT_MAX_HEAP,
                     .timing = true,
                     .threads = 1,
                     .ramp = {0, UTIL_FULL, 0, TPUT_FULL_RATIO}};
    static trace_list l;
    int status = parse_options(argc, argv, &o, &l);
    if (status >= 0)
        return status;
    char *dir = o.tracedir ? realpath(o.tracedir, NULL) : find_tracedir();
    if (o.tracedir && dir == NULL)
        return usage_error("-t %s: %s", o.tracedir, strerror(errno));
    if (l.n == 0) {
        if (dir == NULL)
            return usage_error("cannot find the kit's traces/ directory next "
                               "to the executable: give -t DIR or -f FILE");
        l.from_suite = true;
        if (!read_suite(dir, &l)) {
            free(dir);
            return EXIT_USAGE;
        }
    }
    if (o.heap_map && l.n != 1)
        return usage_error("--heap-map draws one trace: give exactly one -f "
                           "(not %d traces)",
                           l.n);
    /* Every path frees what it loaded: under ASan, LeakSanitizer would
     * otherwise turn a malformed trace's exit status 2 into 1. */
    trace_t *ts = calloc((size_t)l.n + 1, sizeof *ts);
    status = ts != NULL && load_traces(&l, dir, ts) ? run_all(ts, l.n, &o)
                                                    : EXIT_USAGE;
    for (int i = 0; ts != NULL && i < l.n; i++)
        trace_free(&ts[i]);
    free(ts);
    free(dir);
    return status;
}
