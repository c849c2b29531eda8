/*
 * driver_trace.c - reads a .rep trace (docs/CONTRACTS.md section 3).
 *
 * The whole file is read into memory, then scanned line by line. Blank
 * lines and lines whose first non-blank character is '#' are skipped. A
 * CRLF line ending is accepted (the '\r' is dropped); any other control
 * byte (binary junk, NUL) is an error. The first problem is reported as
 * `ERROR [path:line]: what was expected` and parsing stops.
 */
#include "driver.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { MAX_TOKENS = 6, ID_NEVER = 0, ID_LIVE = 1, ID_DEAD = 2 };

static const char *const HEADER_WHAT[4] = {
    "header line 1 (suggested heap size, or CMU weight)",
    "header line 2 (number of ids)",
    "header line 3 (number of ops)",
    "header line 4 (weight, or max bytes)",
};

typedef struct {
    const char *path;
    uint32_t line;
    char *tok[MAX_TOKENS];
    int ntok;
    unsigned long header[4];
    int nheader;
    uint8_t *id_state;
    trace_t *t;
    size_t cap;
} parser;

/* The one error path of the parser. */
__attribute__((format(printf, 2, 3))) static bool
parse_error(const parser *p, const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fprintf(stderr, "ERROR [%s:%u]: ", p->path, (unsigned)p->line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return false;
}

/* What kind of file this is, for an error ("a directory", ...). */
static const char *file_kind(mode_t mode)
{
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISFIFO(mode))
        return "a FIFO (named pipe)";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISSOCK(mode))
        return "a socket";
    return "not a regular file";
}

/* Opens a regular file for reading, its type checked before it is opened
 * (a FIFO would block in open) and again after (it may have changed);
 * NULL with *why set on error. */
FILE *open_regular(const char *path, struct stat *sb, const char **why)
{
    *why = NULL;
    if (stat(path, sb) != 0)
        return NULL;
    if (!S_ISREG(sb->st_mode)) {
        *why = file_kind(sb->st_mode);
        return NULL;
    }
    int fd = open(path, O_RDONLY | O_NONBLOCK);
    FILE *f = fd >= 0 ? fdopen(fd, "rb") : NULL;
    if (f == NULL || fstat(fd, sb) != 0 || !S_ISREG(sb->st_mode)) {
        *why = f != NULL ? file_kind(sb->st_mode) : NULL;
        if (f != NULL)
            fclose(f);
        else if (fd >= 0)
            close(fd);
        return NULL;
    }
    return f;
}

static const char TOO_BIG[] = "a file too big";

/* The whole file, NUL-terminated; NULL with the reason in *why (or errno). */
static char *read_file(const char *path, size_t *len, const char **why)
{
    struct stat sb;
    FILE *f = open_regular(path, &sb, why);
    if (f == NULL)
        return NULL;
    if ((uint64_t)sb.st_size > TRACE_MAX_FILE_BYTES) {
        fclose(f);
        *why = TOO_BIG;
        return NULL;
    }
    char *buf = malloc((size_t)sb.st_size + 1);
    size_t n = buf ? fread(buf, 1, (size_t)sb.st_size, f) : 0;
    fclose(f);
    if (buf == NULL)
        return NULL;
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Splits the line into blank-separated tokens; checks for binary bytes. */
static bool tokenize(parser *p, char *s, char *end)
{
    if (end > s && end[-1] == '\r')
        *--end = '\0';
    p->ntok = 0;
    for (char *c = s; c < end; c++) {
        unsigned char b = (unsigned char)*c;
        if (b < 0x20 && b != '\t')
            return parse_error(p,
                               "expected a line of text, found the control "
                               "byte 0x%02x (is this a binary file?)",
                               b);
    }
    char *save = NULL;
    for (char *w = strtok_r(s, " \t", &save); w != NULL;
         w = strtok_r(NULL, " \t", &save)) {
        if (p->ntok == MAX_TOKENS)
            break;
        p->tok[p->ntok++] = w;
    }
    return true;
}

/* A decimal number in [0, max], or -1 when allow_minus_one. */
static bool parse_number(parser *p, const char *tok, unsigned long max,
                         const char *what, bool allow_minus_one, long *out)
{
    if (allow_minus_one && strcmp(tok, "-1") == 0) {
        *out = -1;
        return true;
    }
    if (tok[0] == '-' && tok[1] >= '0' && tok[1] <= '9')
        return parse_error(p,
                           "expected %s (a non-negative decimal), found "
                           "the negative number '%s'",
                           what, tok);
    unsigned long v = 0;
    bool too_big = false;
    for (const char *c = tok; *c; c++) {
        if (*c < '0' || *c > '9')
            return parse_error(p, "expected %s (a decimal number), found '%s'",
                               what, tok);
        unsigned long digit = (unsigned long)(*c - '0');
        too_big = too_big || digit > max || v > (max - digit) / 10;
        v = too_big ? v : v * 10 + digit;
    }
    if (too_big)
        return parse_error(p, "expected %s of at most %lu, found '%s'", what,
                           max, tok);
    *out = (long)v;
    return true;
}

/* Fast path: a plain decimal <= max (the common case, no formatting). */
static bool quick_decimal(const char *tok, unsigned long max, long *out)
{
    unsigned long v = 0;
    int digits = 0;
    for (; *tok >= '0' && *tok <= '9' && digits < 12; tok++, digits++)
        v = v * 10 + (unsigned long)(*tok - '0');
    if (*tok != '\0' || digits == 0 || digits == 12 || v > max)
        return false;
    *out = (long)v;
    return true;
}

static bool parse_id(parser *p, const char *tok, bool allow_null, long *id)
{
    unsigned long max = p->t->ids - 1;
    if (quick_decimal(tok, max, id))
        return true;
    char what[64];
    snprintf(what, sizeof what, "an id (0..%lu%s)", max,
             allow_null ? ", or -1" : "");
    return parse_number(p, tok, max, what, allow_null, id);
}

static bool parse_header_line(parser *p)
{
    static const unsigned long limits[4] = {(unsigned long)1 << 62,
                                            TRACE_MAX_IDS, TRACE_MAX_OPS,
                                            (unsigned long)1 << 62};
    const char *what = HEADER_WHAT[p->nheader];
    if (p->ntok != 1)
        return parse_error(p, "expected %s: one number alone on its line",
                           what);
    long v;
    if (!parse_number(p, p->tok[0], limits[p->nheader], what,
                      /*allow_minus_one=*/false, &v))
        return false;
    p->header[p->nheader++] = (unsigned long)v;
    return true;
}

/*
 * The dialect, by what the header numbers mean (CONTRACTS.md section 3):
 * A is (heap size, ids, ops, weight 0..100), B, the CMU kit's, is (weight
 * class 0..3, ids, ops, max bytes). Line 1 of A and line 4 of B are not
 * used, so a header that reads both ways is refused with the fix.
 */
static bool pick_dialect(parser *p)
{
    trace_t *t = p->t;
    unsigned long first = p->header[0], fourth = p->header[3];
    bool a = fourth <= TRACE_MAX_WEIGHT_A, b = first <= TRACE_MAX_WEIGHT_B;
    static const int UTIL_B[4] = {0, 1, 1, 0}, TPUT_B[4] = {0, 1, 0, 1};
    if (a && b)
        return parse_error(
            p,
            "ambiguous header: line 1 (%lu) reads as a CMU weight class "
            "(dialect B: weight 0..3, ids, ops, max bytes) and line 4 (%lu) "
            "as a weight (dialect A: heap size, ids, ops, weight 0..100); "
            "for a CMU trace set line 4 (max bytes, not used) above %lu, for "
            "dialect A set line 1 (suggested heap size, not used) above %lu",
            first, fourth, TRACE_MAX_WEIGHT_A, TRACE_MAX_WEIGHT_B);
    if (!a && !b)
        return parse_error(p,
                           "expected a weight: 0..100 on header line 4 "
                           "(dialect A) or 0..3 on line 1 (dialect B, CMU), "
                           "found %lu and %lu",
                           fourth, first);
    t->dialect = a ? 'A' : 'B';
    t->weight = (int)(a ? fourth : first);
    t->util_weight = a ? t->weight : UTIL_B[t->weight];
    t->tput_weight = a ? t->weight : TPUT_B[t->weight];
    return true;
}

/* After the fourth header number: sizes the arrays, picks the dialect. */
static bool finish_header(parser *p, size_t file_len)
{
    trace_t *t = p->t;
    if (!pick_dialect(p))
        return false;
    t->ids = (uint32_t)p->header[1];
    t->init_line = p->line;
    p->cap = p->header[2] < file_len / 4 + 1 ? p->header[2] : file_len / 4 + 1;
    t->ops = malloc((p->cap + 1) * sizeof *t->ops);
    p->id_state = calloc(t->ids + 1, 1);
    if (t->ops == NULL || p->id_state == NULL)
        return parse_error(p, "out of memory for %lu ops", p->header[2]);
    return true;
}

static bool check_token_count(parser *p, int want, const char *form)
{
    if (p->ntok < want)
        return parse_error(p, "expected '%s', found too few fields", form);
    if (p->ntok > want)
        return parse_error(p, "expected '%s' and nothing after it, found '%s'",
                           form, p->tok[want]);
    return true;
}

/* Applies the op to the id states (an id is live, dead or never used). */
static bool track_id(parser *p, trace_op *op)
{
    if (op->id < 0)
        return true;
    uint8_t *s = &p->id_state[op->id];
    if (op->kind != OP_FREE && *s != ID_LIVE)
        op->sync |= OP_FRESH; /* a new block: a, c, or r on a dead id */
    if (op->kind == OP_ALLOC || op->kind == OP_CALLOC) {
        if (*s == ID_LIVE)
            return parse_error(p,
                               "expected a free id: id %d is still live "
                               "(free it before allocating it again)",
                               op->id);
        *s = ID_LIVE;
    } else if (op->kind == OP_FREE) {
        if (*s != ID_LIVE)
            return parse_error(p, "expected a live id: id %d %s", op->id,
                               *s == ID_NEVER
                                   ? "was never allocated"
                                   : "is already free (double free)");
        *s = ID_DEAD;
    } else {
        if (*s == ID_NEVER)
            return parse_error(p,
                               "expected an allocated id: realloc of id "
                               "%d, which was never allocated",
                               op->id);
        if (*s == ID_LIVE && op->size == 0)
            *s = ID_DEAD;
        else if (op->size > 0)
            *s = ID_LIVE;
    }
    return true;
}

static bool parse_op_fields(parser *p, trace_op *op)
{
    static const char *const FORMS[4] = {"a ID SIZE", "r ID SIZE",
                                         "c ID NMEMB SIZE", "f ID"};
    static const int NFIELDS[4] = {3, 3, 4, 2};
    long id, v;
    if (!check_token_count(p, NFIELDS[op->kind], FORMS[op->kind]))
        return false;
    if (p->t->ids == 0)
        return parse_error(p, "expected no ops: the header says 0 ids");
    if (!parse_id(p, p->tok[1], op->kind == OP_FREE, &id))
        return false;
    op->id = (int32_t)id;
    if (id >= (long)p->t->slots)
        p->t->slots = (uint32_t)id + 1;
    if (op->kind == OP_FREE)
        return true;
    if (!parse_number(p, p->tok[2], TRACE_MAX_SIZE,
                      op->kind == OP_CALLOC ? "a member count" : "a size",
                      /*allow_minus_one=*/false, &v))
        return false;
    op->size = (uint64_t)v;
    if (op->kind == OP_CALLOC) {
        op->nmemb = op->size;
        if (!parse_number(p, p->tok[3], TRACE_MAX_SIZE, "a member size",
                          /*allow_minus_one=*/false, &v))
            return false;
        op->size = (uint64_t)v;
        if (op->nmemb != 0 && op->size > TRACE_MAX_SIZE / op->nmemb)
            return parse_error(p,
                               "expected NMEMB * SIZE <= %llu, found %llu * "
                               "%llu",
                               (unsigned long long)TRACE_MAX_SIZE,
                               (unsigned long long)op->nmemb,
                               (unsigned long long)op->size);
    }
    if (op_bytes(op) > p->t->max_bytes)
        p->t->max_bytes = op_bytes(op);
    return true;
}

/* The thread prefix of an MT trace's op line ("2:" before the op): the
 * thread into *thread, the prefix taken off the tokens; 0 without one. */
static bool parse_thread_prefix(parser *p, int *thread)
{
    char *tok = p->tok[0];
    size_t n = strlen(tok);
    *thread = 0;
    if (tok[n - 1] != ':' && strchr(tok, ':') == NULL)
        return true;
    if (n < 2 || tok[n - 1] != ':' || strspn(tok, "0123456789") != n - 1)
        return parse_error(p,
                           "expected a thread prefix 'T: ' (a decimal and a "
                           "colon, then a blank, then the op), found '%s'",
                           tok);
    long v;
    tok[n - 1] = '\0';
    bool ok =
        parse_number(p, tok, STATUS_SLOTS - 1, "a thread number", false, &v);
    tok[n - 1] = ':';
    if (!ok)
        return false;
    if (p->ntok == 1)
        return parse_error(p, "expected an op after the thread prefix '%s'",
                           tok);
    memmove(p->tok, p->tok + 1, (size_t)(p->ntok - 1) * sizeof p->tok[0]);
    p->ntok--;
    *thread = (int)v;
    return true;
}

static bool parse_op_line(parser *p)
{
    trace_t *t = p->t;
    const char *letters = "arcf";
    int thread;
    if (!parse_thread_prefix(p, &thread))
        return false;
    const char *k = strchr(letters, p->tok[0][0]);
    if (p->tok[0][1] != '\0' || k == NULL || *k == '\0')
        return parse_error(p,
                           "expected an op 'a', 'r', 'c' or 'f', found "
                           "'%s'",
                           p->tok[0]);
    if (t->nops == p->header[2])
        return parse_error(p,
                           "expected at most %lu ops (header line 3), "
                           "found more",
                           p->header[2]);
    if (t->nops == p->cap) {
        p->cap = p->cap * 2 + 16;
        trace_op *ops = realloc(t->ops, p->cap * sizeof *ops);
        if (ops == NULL)
            return parse_error(p, "out of memory");
        t->ops = ops;
    }
    trace_op *op = &t->ops[t->nops];
    memset(op, 0, sizeof *op);
    op->kind = (uint8_t)(k - letters);
    op->line = p->line;
    op->thread = (uint8_t)thread;
    if (thread >= t->threads)
        t->threads = thread + 1;
    if (!parse_op_fields(p, op) || !track_id(p, op))
        return false;
    t->nops++;
    return true;
}

static bool parse_line(parser *p, char *s, char *end, size_t file_len)
{
    if (!tokenize(p, s, end))
        return false;
    if (p->ntok == 0 || p->tok[0][0] == '#')
        return true;
    if (p->nheader < 4) {
        if (!parse_header_line(p))
            return false;
        return p->nheader < 4 || finish_header(p, file_len);
    }
    return parse_op_line(p);
}

static bool parse_buffer(parser *p, char *buf, size_t len)
{
    char *s = buf, *end = buf + len;
    while (s < end) {
        char *nl = memchr(s, '\n', (size_t)(end - s));
        char *eol = nl ? nl : end;
        p->line++;
        *eol = '\0';
        if (strlen(s) != (size_t)(eol - s))
            return parse_error(p, "expected a line of text, found a NUL byte "
                                  "(is this a binary file?)");
        if (!parse_line(p, s, eol, len))
            return false;
        s = eol + 1;
    }
    if (p->line == 0)
        p->line = 1;
    if (p->nheader < 4)
        return parse_error(p, "expected %s, found the end of the file%s",
                           HEADER_WHAT[p->nheader],
                           len == 0 ? " (the file is empty)" : "");
    if (p->t->nops < p->header[2])
        return parse_error(p,
                           "expected %lu ops (header line 3), found only "
                           "%u before the end of the file",
                           p->header[2], (unsigned)p->t->nops);
    return true;
}

/* An MT trace: each thread's ops, in file order (t->order, t->first). */
static bool order_threads(parser *p)
{
    trace_t *t = p->t;
    uint32_t n = (uint32_t)t->threads;
    size_t words = 2 * (size_t)t->nops + 2 * n + 1;
    t->order = malloc(words * sizeof *t->order);
    if (t->order == NULL)
        return parse_error(p, "out of memory for %u ops", (unsigned)t->nops);
    t->block = t->order + t->nops;
    t->first = t->block + t->nops;
    uint32_t *next = t->first + n + 1;
    memset(t->first, 0, (n + 1) * sizeof *t->first);
    for (uint32_t i = 0; i < t->nops; i++)
        t->first[t->ops[i].thread + 1]++;
    for (uint32_t k = 0; k < n; k++)
        t->first[k + 1] += t->first[k];
    memcpy(next, t->first, n * sizeof *next);
    for (uint32_t i = 0; i < t->nops; i++)
        t->order[next[t->ops[i].thread]++] = i;
    return true;
}

/* An MT trace: each op's block, a new one from each OP_FRESH op on
 * (last: per id, its block now). */
static void number_blocks(trace_t *t, int32_t *last)
{
    for (uint32_t i = 0; i <= t->slots; i++)
        last[i] = -1;
    t->blocks = 0;
    for (uint32_t i = 0; i < t->nops; i++) {
        const trace_op *op = &t->ops[i];
        if (op->id < 0) { /* f -1: a block of its own, never used */
            t->block[i] = t->blocks++;
            continue;
        }
        if ((op->sync & OP_FRESH) || last[op->id] < 0)
            last[op->id] = (int32_t)t->blocks++;
        t->block[i] = (uint32_t)last[op->id];
    }
}

/* An MT trace: each op's prev, the op on its id that it waits for, and
 * whether it meets another thread there (sync: the prev is another
 * thread's, or the next op on the id is). Both waits (an op after the
 * previous op of its thread, and after the previous op on its id) point
 * back in the file, so the file's order is a schedule that meets them all:
 * no MT trace can deadlock (CONTRACTS.md section 3). */
static bool link_ids(parser *p)
{
    trace_t *t = p->t;
    if (t->threads == 1)
        return true;
    int32_t *last = malloc(((size_t)t->slots + 1) * sizeof *last);
    if (last == NULL || !order_threads(p)) {
        free(last);
        return last ? false
                    : parse_error(p, "out of memory for %u ids",
                                  (unsigned)t->slots);
    }
    for (uint32_t i = 0; i <= t->slots; i++)
        last[i] = -1;
    for (uint32_t i = 0; i < t->nops; i++) {
        trace_op *op = &t->ops[i];
        op->prev = op->id >= 0 ? last[op->id] : -1;
        if (op->prev >= 0 && t->ops[op->prev].thread != op->thread) {
            op->sync |= OP_WAITS;
            t->ops[op->prev].sync |= OP_POSTS;
        }
        if (op->id >= 0)
            last[op->id] = (int32_t)i;
    }
    number_blocks(t, last);
    free(last);
    return true;
}

bool trace_load(const char *name, const char *path, trace_t *t)
{
    parser p = {.path = path, .t = t};
    size_t len = 0;
    const char *why = NULL;
    memset(t, 0, sizeof *t);
    char *buf = read_file(path, &len, &why);
    if (buf == NULL && why == TOO_BIG)
        return parse_error(&p,
                           "expected a trace file of at most %llu bytes, "
                           "found a larger file",
                           (unsigned long long)TRACE_MAX_FILE_BYTES);
    if (buf == NULL)
        return parse_error(&p, "expected a readable trace file, found %s",
                           why ? why : strerror(errno));
    t->name = strdup(name);
    t->path = strdup(path);
    t->threads = 1;
    bool ok = parse_buffer(&p, buf, len) && link_ids(&p);
    free(buf);
    free(p.id_state);
    if (!ok)
        trace_free(t);
    return ok;
}

void trace_free(trace_t *t)
{
    free(t->name);
    free(t->path);
    free(t->ops);
    free(t->order);
    memset(t, 0, sizeof *t);
}

void op_format(const trace_op *op, char *buf, size_t n)
{
    static const char LETTER[4] = {'a', 'r', 'c', 'f'};
    char k = LETTER[op->kind];
    if (op->thread > 0) {
        int w = snprintf(buf, n, "%d: ", (int)op->thread);
        if (w > 0 && (size_t)w < n)
            buf += w, n -= (size_t)w;
    }
    if (op->kind == OP_FREE)
        snprintf(buf, n, "f %d", (int)op->id);
    else if (op->kind == OP_CALLOC)
        snprintf(buf, n, "c %d %llu %llu", (int)op->id,
                 (unsigned long long)op->nmemb, (unsigned long long)op->size);
    else
        snprintf(buf, n, "%c %d %llu", k, (int)op->id,
                 (unsigned long long)op->size);
}
