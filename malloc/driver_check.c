/*
 * driver_check.c - the correctness engine: one checked replay of a trace.
 *
 * Every block the allocator returns is checked, in this order:
 *   1. its address is a multiple of 16                       (misaligned)
 *   2. [p, p + size) lies inside [mem_heap_lo, mem_heap_hi]  (outside heap)
 *   3. it overlaps no live block                             (overlap)
 * then its payload is filled with a pattern that depends only on the
 * block's seed s and the offset i, never copied anywhere:
 *
 *     word k (bytes 8k .. 8k+7) of a block with seed s = s + k * GOLDEN
 *
 * so a realloc that grows a block only fills [old size, new size) with the
 * same seed, and verification compares 64-bit words. Payloads are verified
 * at free and realloc (payload corrupted), after realloc for the first
 * min(old, new) bytes (realloc lost data); calloc'd blocks must read zero.
 *
 * Live blocks are also marked in a shadow map of the heap: one bit per
 * 16-byte granule, set while a live block covers it. Every block starts on
 * a granule (check 1 comes first), so two blocks overlap exactly when
 * their granule ranges share a bit:
 *
 *   heap     |g0 |g1 |g2 |g3 |g4 |g5 |g6 |g7 |...   granule = 16 bytes
 *   blocks   [id 3, 40 B][id0 32]        [id 7 ...
 *   shadow     1   1   1   1   1   0   0   1  ...
 *
 * A check costs O(1 + size / 1024) word operations whatever the number of
 * live blocks, less than writing the payload's pattern (docs/driver.md and
 * docs/bench-driver.md say why this replaced a balanced tree). A 0-byte
 * block counts as one byte: it must still have an address of its own.
 * Only when an overlap is found are the live blocks searched for the
 * culprit, to name it.
 *
 * On the sparse heap (memlib.h: traces with requests above 1 GiB) there is
 * no shadow map (it would be as large as the heap / 128): overlaps are
 * found by comparing with every live block, and a giant block's pattern is
 * written and checked only in its sampled windows (mem_sample_ranges),
 * which are what mem_memcpy copies. A request above GIANT_REFUSABLE_BYTES
 * (config.h) may get NULL there: an allocator may refuse it, and C's
 * realloc then leaves the old block as it was.
 */
#include "driver.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "memlib.h"
#include "mm.h"

static const uint64_t GOLDEN = 0x9e3779b97f4a7c15u;
static const uintptr_t ALIGNMENT = 16; /* also the granule of the shadow */
enum { NIL = -1 };

typedef struct {
    uintptr_t start; /* payload address; 0 when the id is dead */
    uint64_t size;
    uint64_t seed;
    uint32_t line;    /* line of the op that made the block */
    int32_t live_pos; /* index in engine.live while live */
} block_rec;

struct engine {
    block_rec *b; /* one per id */
    int32_t *live;
    uint32_t nlive, max_live;
    uint64_t *shadow; /* one bit per granule of the heap; NULL if sparse */
    uintptr_t base;   /* mem_heap_lo() */
    size_t granules;
    uint64_t next_seed;
    uint64_t live_bytes, peak_bytes;
    uint32_t slots; /* trace_t.slots */
    trace_result *r;
    volatile child_status *st;
    int64_t op_index;
    uint32_t line;       /* trace line just replayed: mm_checkheap's arg */
    uintptr_t *addr_log; /* per op: the block it left live (or NULL) */
};

static inline uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9u;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebu;
    return x ^ (x >> 31);
}

static inline uintptr_t extent(const block_rec *b)
{
    return b->size > 0 ? b->size : 1;
}

/* ---- the payload pattern ---- */

static void fill_pattern(unsigned char *p, uint64_t seed, size_t from,
                         size_t to)
{
    size_t k = from / 8;
    if (from % 8 != 0) {
        uint64_t w = seed + k * GOLDEN;
        unsigned char tmp[8];
        memcpy(tmp, &w, 8);
        size_t stop = to < (k + 1) * 8 ? to : (k + 1) * 8;
        memcpy(p + from, tmp + from % 8, stop - from);
        k++;
    }
    for (; (k + 1) * 8 <= to; k++) {
        uint64_t w = seed + k * GOLDEN;
        memcpy(p + k * 8, &w, 8);
    }
    if (k * 8 < to && k * 8 >= from) {
        uint64_t w = seed + k * GOLDEN;
        memcpy(p + k * 8, &w, to - k * 8);
    }
}

/* Offset of the first byte in [0, n) that differs, or SIZE_MAX. */
static size_t verify_pattern(const unsigned char *p, uint64_t seed, size_t n)
{
    size_t k = 0;
    for (; (k + 1) * 8 <= n; k++) {
        uint64_t got, want = seed + k * GOLDEN;
        memcpy(&got, p + k * 8, 8);
        if (got != want)
            break;
    }
    for (size_t i = k * 8; i < n; i++) {
        uint64_t w = seed + (i / 8) * GOLDEN;
        unsigned char tmp[8];
        memcpy(tmp, &w, 8);
        if (p[i] != tmp[i % 8])
            return i;
    }
    return SIZE_MAX;
}

static unsigned expected_byte(uint64_t seed, size_t i)
{
    uint64_t w = seed + (i / 8) * GOLDEN;
    unsigned char tmp[8];
    memcpy(tmp, &w, 8);
    return tmp[i % 8];
}

static size_t verify_zero(const unsigned char *p, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if (w != 0)
            break;
    }
    for (; i < n; i++)
        if (p[i] != 0)
            return i;
    return SIZE_MAX;
}

/* ---- the bytes of a block that the engine writes and checks ---- */

/* Fills the pattern into the checked bytes of a size-byte block at p that
 * lie in [from, size). */
static void fill_checked(unsigned char *p, uint64_t seed, size_t from,
                         size_t size)
{
    size_t r[MEM_MAX_SAMPLES][2];
    size_t k = mem_sample_ranges(size, r);
    for (size_t i = 0; i < k; i++)
        if (r[i][1] > from)
            fill_pattern(p, seed, r[i][0] > from ? r[i][0] : from, r[i][1]);
}

/* The first byte that differs among the checked bytes of a size-byte
 * block that lie in [0, upto), or SIZE_MAX (verify_pattern's contract). */
static size_t verify_checked(const unsigned char *p, uint64_t seed, size_t size,
                             size_t upto)
{
    size_t r[MEM_MAX_SAMPLES][2];
    size_t k = mem_sample_ranges(size, r);
    for (size_t i = 0; i < k && r[i][0] < upto; i++) {
        size_t a = r[i][0], b = r[i][1] < upto ? r[i][1] : upto;
        size_t bad = verify_pattern(p + a, seed + (a / 8) * GOLDEN, b - a);
        if (bad != SIZE_MAX)
            return a + bad;
    }
    return SIZE_MAX;
}

static size_t verify_zero_checked(const unsigned char *p, size_t size)
{
    size_t r[MEM_MAX_SAMPLES][2];
    size_t k = mem_sample_ranges(size, r);
    for (size_t i = 0; i < k; i++) {
        size_t bad = verify_zero(p + r[i][0], r[i][1] - r[i][0]);
        if (bad != SIZE_MAX)
            return r[i][0] + bad;
    }
    return SIZE_MAX;
}

/* ---- the shadow map of live blocks ---- */

/* The bits of word i that lie in the granule range [g0, g1). */
static inline uint64_t range_mask(size_t i, size_t g0, size_t g1)
{
    uint64_t m = ~(uint64_t)0;
    if (i == g0 / 64)
        m &= m << (g0 % 64);
    if (i == (g1 - 1) / 64)
        m &= ~(uint64_t)0 >> (63 - (g1 - 1) % 64);
    return m;
}

static bool shadow_any(const uint64_t *w, size_t g0, size_t g1)
{
    for (size_t i = g0 / 64; i <= (g1 - 1) / 64; i++)
        if (w[i] & range_mask(i, g0, g1))
            return true;
    return false;
}

static void shadow_mark(uint64_t *w, size_t g0, size_t g1, bool live)
{
    for (size_t i = g0 / 64; i <= (g1 - 1) / 64; i++)
        w[i] =
            live ? w[i] | range_mask(i, g0, g1) : w[i] & ~range_mask(i, g0, g1);
}

/* The granules [*g0, *g1) of the block [p, p + ext); p is in the heap. */
static inline void granules_of(const engine *e, uintptr_t p, uintptr_t ext,
                               size_t *g0, size_t *g1)
{
    *g0 = (p - e->base) / ALIGNMENT;
    *g1 = (p - e->base + ext + ALIGNMENT - 1) / ALIGNMENT;
}

static void mark_block(engine *e, const block_rec *b, bool live)
{
    if (e->shadow == NULL)
        return;
    size_t g0, g1;
    granules_of(e, b->start, extent(b), &g0, &g1);
    shadow_mark(e->shadow, g0, g1, live);
}

/* The live block that overlaps [p, p + ext), or NIL. */
static int32_t find_overlap(const engine *e, uintptr_t p, uintptr_t ext)
{
    size_t g0, g1;
    if (e->shadow != NULL) {
        granules_of(e, p, ext, &g0, &g1);
        if (!shadow_any(e->shadow, g0, g1))
            return NIL;
    }
    for (uint32_t i = 0; i < e->nlive; i++) {
        const block_rec *b = &e->b[e->live[i]];
        if (b->start < p + ext && p < b->start + extent(b))
            return e->live[i];
    }
    return NIL;
}

/* ---- the engine ---- */

engine *engine_new(const trace_t *t)
{
    engine *e = calloc(1, sizeof *e);
    if (e == NULL)
        return NULL;
    e->slots = t->slots;
    e->b = calloc(t->slots + 1, sizeof *e->b);
    e->live = calloc(t->slots + 1, sizeof *e->live);
    e->base = (uintptr_t)mem_heap_lo();
    e->granules = mem_max_heap() / ALIGNMENT + 2 * 64;
    if (!mem_sparse())
        e->shadow = calloc(e->granules / 64 + 1, sizeof *e->shadow);
    if (e->b == NULL || e->live == NULL ||
        (e->shadow == NULL && !mem_sparse())) {
        engine_delete(e);
        return NULL;
    }
    return e;
}

void engine_delete(engine *e)
{
    if (e == NULL)
        return;
    free(e->b);
    free(e->live);
    free(e->shadow);
    free(e);
}

uint64_t engine_max_live(const engine *e)
{
    return e->max_live;
}

const int32_t *engine_live_ids(const engine *e, uint32_t *n)
{
    *n = e->nlive;
    return e->live;
}

void engine_payload(const engine *e, int32_t id, uintptr_t *start,
                    uint64_t *size, uint32_t *line)
{
    const block_rec *b = &e->b[id];
    *start = b->start;
    *size = b->size;
    *line = b->line;
}

uint64_t engine_live_bytes(const engine *e)
{
    return e->live_bytes;
}

static void engine_reset(engine *e)
{
    for (uint32_t i = 0; i < e->nlive; i++) { /* O(live), not O(ids) */
        block_rec *b = &e->b[e->live[i]];
        mark_block(e, b, /*live=*/false);
        b->start = 0;
    }
    e->nlive = e->max_live = 0;
    e->live_bytes = e->peak_bytes = 0;
    e->next_seed = 1;
}

static bool fail(engine *e, error_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool fail(engine *e, error_kind kind, const char *fmt, ...)
{
    va_list ap;
    char msg[DETAILS_MAX];
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    result_fail(e->r, kind, e->op_index, "%s", msg);
    return false;
}

/* Checks 1-3 of the header comment for a block the allocator returned. */
static bool check_new_block(engine *e, int32_t id, uintptr_t p, size_t size,
                            const char *call)
{
    uintptr_t lo = (uintptr_t)mem_heap_lo(), hi = (uintptr_t)mem_heap_hi();
    if (p % ALIGNMENT != 0)
        return fail(e, KIND_MISALIGNED,
                    "%s returned %p for id %d, which is not a multiple of "
                    "%u",
                    call, (void *)p, (int)id, (unsigned)ALIGNMENT);
    if (p < lo || p + size > hi + 1 || p + size < p)
        return fail(e, KIND_OUTSIDE_HEAP,
                    "%s returned %p for id %d (%zu bytes), but the payload "
                    "must lie inside the heap [%p, %p]",
                    call, (void *)p, (int)id, size, (void *)lo, (void *)hi);
    int32_t o = find_overlap(e, p, size > 0 ? size : 1);
    if (o != NIL)
        return fail(e, KIND_OVERLAP,
                    "%s returned [%p, %p) for id %d, which overlaps the live "
                    "block [%p, %p) of id %d (allocated on line %u)",
                    call, (void *)p, (void *)(p + size), (int)id,
                    (void *)e->b[o].start,
                    (void *)(e->b[o].start + e->b[o].size), (int)o,
                    (unsigned)e->b[o].line);
    return true;
}

static void add_block(engine *e, int32_t id, uintptr_t p, size_t size,
                      uint64_t seed, uint32_t line)
{
    block_rec *b = &e->b[id];
    b->start = p;
    b->size = size;
    b->seed = seed;
    b->line = line;
    mark_block(e, b, /*live=*/true);
    if (e->addr_log != NULL && e->op_index >= 0)
        e->addr_log[e->op_index] = p;
    b->live_pos = (int32_t)e->nlive;
    e->live[e->nlive++] = id;
    if (e->nlive > e->max_live)
        e->max_live = e->nlive;
    e->live_bytes += size;
    if (e->live_bytes > e->peak_bytes)
        e->peak_bytes = e->live_bytes;
}

static void remove_block(engine *e, int32_t id)
{
    block_rec *b = &e->b[id];
    mark_block(e, b, /*live=*/false);
    int32_t last = e->live[--e->nlive];
    e->live[b->live_pos] = last;
    e->b[last].live_pos = b->live_pos;
    e->live_bytes -= b->size;
    b->start = 0;
}

/* Verifies the whole payload of a live block (payload corrupted). */
static bool verify_block(engine *e, int32_t id, const char *when)
{
    const block_rec *b = &e->b[id];
    size_t bad = verify_checked((const unsigned char *)b->start, b->seed,
                                b->size, b->size);
    if (bad == SIZE_MAX)
        return true;
    return fail(e, KIND_PAYLOAD_CORRUPTED,
                "%s: byte %zu of id %d's payload (%llu bytes at %p, allocated "
                "on line %u) is 0x%02x, the driver wrote 0x%02x: something "
                "wrote into this block while it was allocated",
                when, bad, (int)id, (unsigned long long)b->size,
                (void *)b->start, (unsigned)b->line,
                ((const unsigned char *)b->start)[bad],
                expected_byte(b->seed, bad));
}

/* A NULL where a block was due: out of memory or a plain bug; on the
 * sparse heap, a giant request may be refused. */
static bool fail_null(engine *e, const char *call, size_t size)
{
    if (mem_sparse() && size > GIANT_REFUSABLE_BYTES)
        return true;
    if (mem_limit_reached())
        return fail(e, KIND_OUT_OF_MEMORY,
                    "%s(%zu) returned NULL after mem_sbrk refused to grow "
                    "the heap past its limit of %zu bytes (heap size %zu, "
                    "live payload %llu bytes)",
                    call, size, mem_max_heap(), mem_heapsize(),
                    (unsigned long long)e->live_bytes);
    return fail(e, KIND_NULL_RETURN,
                "%s(%zu) returned NULL, but the heap limit was not reached "
                "(heap size %zu of at most %zu)",
                call, size, mem_heapsize(), mem_max_heap());
}

static bool new_block(engine *e, const trace_op *op, void *p, size_t size,
                      const char *call)
{
    if (p == NULL)
        return size == 0 ? true : fail_null(e, call, size);
    if (!check_new_block(e, op->id, (uintptr_t)p, size, call))
        return false;
    uint64_t seed = mix64(e->next_seed++);
    fill_checked(p, seed, 0, size);
    add_block(e, op->id, (uintptr_t)p, size, seed, op->line);
    return true;
}

static bool do_alloc(engine *e, const trace_op *op)
{
    return new_block(e, op, mm_malloc(op->size), op->size, "mm_malloc");
}

static bool do_calloc(engine *e, const trace_op *op)
{
    size_t n = op_bytes(op);
    void *p = mm_calloc(op->nmemb, op->size);
    if (p != NULL && !check_new_block(e, op->id, (uintptr_t)p, n, "mm_calloc"))
        return false;
    size_t bad = p ? verify_zero_checked(p, n) : SIZE_MAX;
    if (bad != SIZE_MAX)
        return fail(e, KIND_CALLOC_NOT_ZEROED,
                    "mm_calloc(%llu, %llu) returned %p whose byte %zu is "
                    "0x%02x, not 0",
                    (unsigned long long)op->nmemb, (unsigned long long)op->size,
                    p, bad, ((unsigned char *)p)[bad]);
    return new_block(e, op, p, n, "mm_calloc");
}

static bool do_free(engine *e, const trace_op *op)
{
    if (op->id < 0) {
        mm_free(NULL);
        return true;
    }
    void *p = (void *)e->b[op->id].start;
    if (p != NULL) {
        if (!verify_block(e, op->id, "before mm_free"))
            return false;
        remove_block(e, op->id);
    }
    e->b[op->id].start = 0;
    mm_free(p);
    return true;
}

/* realloc(p, 0) must free the block and return NULL. */
static bool do_realloc_zero(engine *e, const trace_op *op, void *old)
{
    if (old != NULL)
        remove_block(e, op->id);
    void *q = mm_realloc(old, 0);
    if (old != NULL && q != NULL)
        return fail(e, KIND_REALLOC0_NOT_FREED,
                    "mm_realloc(%p, 0) returned %p; it must free the block "
                    "and return NULL",
                    old, q);
    if (q != NULL) { /* realloc(NULL, 0): a unique pointer is allowed */
        trace_op probe = *op;
        if (!new_block(e, &probe, q, 0, "mm_realloc(NULL, 0)"))
            return false;
        remove_block(e, op->id);
        mm_free(q);
    }
    return true;
}

static bool do_realloc(engine *e, const trace_op *op)
{
    block_rec *b = &e->b[op->id];
    void *old = (void *)b->start;
    if (old != NULL && !verify_block(e, op->id, "before mm_realloc"))
        return false;
    if (op->size == 0)
        return do_realloc_zero(e, op, old);
    if (old == NULL)
        return new_block(e, op, mm_realloc(NULL, op->size), op->size,
                         "mm_realloc(NULL, size)");
    size_t old_size = b->size;
    uint64_t seed = b->seed;
    void *q = mm_realloc(old, op->size);
    if (q == NULL) /* true: a giant request refused, the old block kept */
        return fail_null(e, "mm_realloc", op->size);
    remove_block(e, op->id);
    if (!check_new_block(e, op->id, (uintptr_t)q, op->size, "mm_realloc"))
        return false;
    size_t keep = old_size < op->size ? old_size : op->size;
    size_t bad = verify_checked(q, seed, old_size, keep);
    if (bad != SIZE_MAX)
        return fail(e, KIND_REALLOC_LOST_DATA,
                    "mm_realloc(%p, %llu) returned %p whose byte %zu is "
                    "0x%02x, but the old block's byte %zu was 0x%02x (the "
                    "first %zu bytes must be kept)",
                    old, (unsigned long long)op->size, q, bad,
                    ((unsigned char *)q)[bad], bad, expected_byte(seed, bad),
                    keep);
    /* On the sparse heap the new block's windows differ from the old's. */
    fill_checked(q, seed, mem_sparse() ? 0 : keep, op->size);
    add_block(e, op->id, (uintptr_t)q, op->size, seed, op->line);
    return true;
}

/* Calls mm_checkheap and returns what it returned; what it printed is
 * [*from, *to) of the capture (stdout is a file: see driver_run.c). */
static bool call_checkheap(engine *e, off_t *from, off_t *to)
{
    e->st->where = WHERE_CHECKHEAP;
    *from = lseek(STDOUT_FILENO, 0, SEEK_CUR);
    bool ok = mm_checkheap((int)e->line);
    *to = lseek(STDOUT_FILENO, 0, SEEK_CUR);
    e->st->where = WHERE_OP;
    return ok;
}

/* Runs mm_checkheap with the trace line just replayed (the line of the
 * last header number after mm_init); a false result or any output fails
 * the trace. */
static bool run_checkheap(engine *e)
{
    off_t before, after;
    bool ok = call_checkheap(e, &before, &after);
    if (ok && after == before)
        return true;
    fail(e, KIND_CHECKHEAP_FAILED,
         "mm_checkheap returned %s and printed %lld bytes",
         ok ? "true" : "false", (long long)(after - before));
    e->r->out_from = before;
    e->r->out_to = after;
    return false;
}

/* -d 2: every live payload, after every op. */
static bool verify_all(engine *e)
{
    for (uint32_t i = 0; i < e->nlive; i++)
        if (!verify_block(e, e->live[i], "full payload sweep (-d 2)"))
            return false;
    return true;
}

static bool apply_op(engine *e, const trace_op *op)
{
    switch (op->kind) {
    case OP_ALLOC:
        return do_alloc(e, op);
    case OP_CALLOC:
        return do_calloc(e, op);
    case OP_REALLOC:
        return do_realloc(e, op);
    default:
        return do_free(e, op);
    }
}

static bool start_replay(engine *e, const trace_t *t, int debug)
{
    e->op_index = -1;
    e->line = t->init_line;
    e->st->op_index = -1;
    e->st->where = WHERE_INIT;
    mem_reset_brk();
    mem_reset_peak(); /* util divides by the high-water mark of this replay */
    bool ok = mm_init();
    e->st->where = WHERE_OP;
    if (!ok)
        return fail(e, KIND_INIT_FAILED, "mm_init returned false");
    return debug < 1 || run_checkheap(e);
}

bool engine_replay(engine *e, const trace_t *t, int debug,
                   volatile child_status *st, trace_result *r,
                   uintptr_t *addr_log)
{
    e->r = r;
    e->st = st;
    e->addr_log = addr_log;
    engine_reset(e);
    bool ok = start_replay(e, t, debug);
    heapmap_after_op(e, t, st, -1, ok);
    if (!ok)
        return false;
    for (uint32_t i = 0; i < t->nops; i++) {
        e->op_index = i;
        e->line = t->ops[i].line;
        st->op_index = i;
        ok = apply_op(e, &t->ops[i]) &&
             (debug < 2 || (run_checkheap(e) && verify_all(e)));
        heapmap_after_op(e, t, st, i, ok);
        if (!ok)
            return false;
    }
    if (debug == 1 && !run_checkheap(e))
        return false;
    r->heap_bytes = mem_heap_peak();
    r->peak_bytes = e->peak_bytes;
    r->util = r->heap_bytes ? (double)e->peak_bytes / (double)r->heap_bytes
                            : (e->peak_bytes ? 0.0 : 1.0);
    return true;
}

/*
 * The heap-checker probe (--probe-checker, for tools/grade). On the heap the
 * last replay left, mm_checkheap must stay silent; then every bit of the
 * word before one live payload (the header in the textbook's layouts) is
 * flipped, and it must speak: return false or print something. The word
 * is restored afterwards. A checker that crashes on the corrupted heap
 * kills the child: the parent reports it as a crash in PHASE_PROBE.
 */
void engine_probe_checker(engine *e, trace_result *r)
{
    off_t from, to;
    e->r = r;
    r->probe_id = -1;
    if (!call_checkheap(e, &from, &to) || to != from) {
        r->probe = PROBE_NOISY;
        return;
    }
    int32_t id = e->nlive > 0 ? e->live[e->nlive / 2] : NIL;
    uintptr_t word = id != NIL ? e->b[id].start - sizeof(uint64_t) : 0;
    if (id == NIL || word < (uintptr_t)mem_heap_lo()) {
        r->probe = PROBE_NO_BLOCK;
        return;
    }
    uint64_t saved;
    memcpy(&saved, (void *)word, sizeof saved);
    uint64_t flipped = ~saved;
    memcpy((void *)word, &flipped, sizeof flipped);
    bool ok = call_checkheap(e, &from, &to);
    memcpy((void *)word, &saved, sizeof saved);
    r->probe = ok && to == from ? PROBE_MUTE : PROBE_OK;
    r->probe_id = id;
}
