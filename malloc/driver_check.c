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
#define _GNU_SOURCE
#include "driver.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "config.h"
#include "memlib.h"

static const uint64_t GOLDEN = 0x9e3779b97f4a7c15u;
static const uintptr_t ALIGNMENT = 16; /* also the granule of the shadow */
enum { NIL = -1 };

typedef struct {
    uintptr_t start; /* payload address; 0 when the id is dead */
    uint64_t size;
    uint64_t seed;
    uint32_t line;    /* line of the op that made the block */
    int32_t live_pos; /* index in engine.live while live */
    int32_t thread;   /* the thread whose op made the block */
    int32_t id_base;  /* that thread's first id: id - id_base is the
                         trace's id */
} block_rec;

/* The engine: the ledger of the live blocks of every replaying thread,
 * shared by them; the per-thread state is a replayer (below). */
struct engine {
    block_rec *b; /* one per id of every thread's copy */
    int32_t *live;
    uint32_t nlive, max_live;
    uint64_t *shadow; /* one bit per granule of the heap; NULL if sparse */
    uintptr_t base;   /* mem_heap_lo() */
    size_t granules;
    uint64_t live_bytes, peak_bytes;
    uint32_t slots;       /* trace_t.slots: the ids of one copy */
    uint32_t ids;         /* slots * threads */
    int threads;          /* replaying threads, 1 .. STATUS_SLOTS */
    bool mt;              /* an MT trace: its threads share its ids */
    int32_t *done;        /* MT: per id, the last op done on it */
    const alloc_api *api; /* every call to the allocator goes through it */
    pthread_mutex_t lock; /* the ledger's, when threads > 1 */
    int failures;         /* atomic: failures so far in this replay */
    int bar_arrived;      /* atomic: threads at the -d 2 barrier */
    int bar_gen;          /* atomic: barriers passed in this replay */
    trace_result *r;      /* the first failure goes here */
    uint32_t last_line;   /* of the last op replayed: the probe's line */
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

engine *engine_new(const trace_t *t, const alloc_api *api, int threads)
{
    engine *e = calloc(1, sizeof *e);
    if (e == NULL)
        return NULL;
    e->mt = t->threads > 1 && threads > 1; /* else: in file order */
    e->slots = t->slots;
    e->threads = threads;
    if ((uint64_t)t->slots * (uint64_t)threads > INT32_MAX) {
        free(e);
        return NULL;
    }
    e->ids = e->mt ? t->slots : t->slots * (uint32_t)threads;
    e->api = api;
    pthread_mutex_init(&e->lock, NULL);
    e->b = calloc(e->ids + 1, sizeof *e->b);
    e->live = calloc(e->ids + 1, sizeof *e->live);
    e->done = e->mt ? calloc(e->ids + 1, sizeof *e->done) : NULL;
    e->base = (uintptr_t)mem_heap_lo();
    e->granules = mem_max_heap() / ALIGNMENT + 2 * 64;
    if (!mem_sparse())
        e->shadow = calloc(e->granules / 64 + 1, sizeof *e->shadow);
    if (e->b == NULL || e->live == NULL || (e->mt && e->done == NULL) ||
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
    pthread_mutex_destroy(&e->lock);
    free(e->b);
    free(e->live);
    free(e->done);
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

/* The ledger (block records' liveness, the live list, the shadow, the
 * byte counts) is shared by the replaying threads: one lock, taken only
 * when there are several. Payloads are filled and checked outside it: a
 * live block belongs to one thread at a time. */
static void ledger_lock(engine *e)
{
    if (e->threads > 1)
        pthread_mutex_lock(&e->lock);
}

static void ledger_unlock(engine *e)
{
    if (e->threads > 1)
        pthread_mutex_unlock(&e->lock);
}

static bool stopped(engine *e)
{
    return __atomic_load_n(&e->failures, __ATOMIC_ACQUIRE) != 0;
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
    e->failures = 0;
    e->bar_arrived = e->bar_gen = 0;
    for (uint32_t i = 0; e->done != NULL && i <= e->ids; i++)
        e->done[i] = -1;
}

/* One replaying thread: its copy of the trace (ids from id_base on), its
 * status slot, its position. */
typedef struct {
    engine *e;
    const trace_t *t;
    int thread;
    int debug;
    int32_t id_base;
    uint64_t next_seed;
    volatile replay_slot *st;
    int64_t op_index;
    uint32_t line;       /* trace line just replayed: mm_checkheap's arg */
    uintptr_t *addr_log; /* per op: the block it left live (or NULL) */
} replayer;

static inline int32_t op_id(const replayer *w, const trace_op *op)
{
    return w->id_base + op->id;
}

/* " of thread K" when several threads replay, else "". */
static const char *thread_of(const engine *e, int thread, char *buf, size_t n)
{
    if (e->threads == 1)
        return "";
    snprintf(buf, n, " of thread %d", thread);
    return buf;
}

static bool fail(replayer *w, error_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The first failure of any thread is the trace's; the others stop. */
static bool fail(replayer *w, error_kind kind, const char *fmt, ...)
{
    va_list ap;
    char msg[DETAILS_MAX];
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (__atomic_fetch_add(&w->e->failures, 1, __ATOMIC_ACQ_REL) == 0) {
        result_fail(w->e->r, w->st, kind, w->op_index, "%s", msg);
        w->e->r->thread = w->thread;
    }
    return false;
}

/* Checks 1-3 of the header comment for a block the allocator returned;
 * the caller holds the ledger. */
static bool check_new_block(replayer *w, int32_t id, uintptr_t p, size_t size,
                            const char *call)
{
    engine *e = w->e;
    uintptr_t lo = (uintptr_t)mem_heap_lo(), hi = (uintptr_t)mem_heap_hi();
    int trace_id = id - w->id_base;
    char th[32];
    if (p % ALIGNMENT != 0)
        return fail(w, KIND_MISALIGNED,
                    "%s returned %p for id %d, which is not a multiple of "
                    "%u",
                    call, (void *)p, trace_id, (unsigned)ALIGNMENT);
    if (p < lo || p + size > hi + 1 || p + size < p)
        return fail(w, KIND_OUTSIDE_HEAP,
                    "%s returned %p for id %d (%zu bytes), but the payload "
                    "must lie inside the heap [%p, %p]",
                    call, (void *)p, trace_id, size, (void *)lo, (void *)hi);
    int32_t o = find_overlap(e, p, size > 0 ? size : 1);
    if (o != NIL)
        return fail(w, KIND_OVERLAP,
                    "%s returned [%p, %p) for id %d, which overlaps the live "
                    "block [%p, %p) of id %d%s (allocated on line %u)",
                    call, (void *)p, (void *)(p + size), trace_id,
                    (void *)e->b[o].start,
                    (void *)(e->b[o].start + e->b[o].size),
                    (int)(o - e->b[o].id_base),
                    thread_of(e, e->b[o].thread, th, sizeof th),
                    (unsigned)e->b[o].line);
    return true;
}

/* Enters a checked block in the ledger; the caller holds it. */
static void add_block(replayer *w, int32_t id, uintptr_t p, size_t size,
                      uint64_t seed)
{
    engine *e = w->e;
    block_rec *b = &e->b[id];
    b->start = p;
    b->size = size;
    b->seed = seed;
    b->line = w->line;
    b->thread = w->thread;
    b->id_base = w->id_base;
    mark_block(e, b, /*live=*/true);
    if (w->addr_log != NULL && w->op_index >= 0)
        w->addr_log[w->op_index] = p;
    b->live_pos = (int32_t)e->nlive;
    e->live[e->nlive++] = id;
    if (e->nlive > e->max_live)
        e->max_live = e->nlive;
    e->live_bytes += size;
    if (e->live_bytes > e->peak_bytes)
        e->peak_bytes = e->live_bytes;
}

/* Checks a block the allocator returned and enters it in the ledger. */
static bool claim_block(replayer *w, int32_t id, uintptr_t p, size_t size,
                        uint64_t seed, const char *call)
{
    ledger_lock(w->e);
    bool ok = check_new_block(w, id, p, size, call);
    if (ok)
        add_block(w, id, p, size, seed);
    ledger_unlock(w->e);
    return ok;
}

/* Takes a block out of the ledger, before the allocator may reuse it. */
static void remove_block(engine *e, int32_t id)
{
    ledger_lock(e);
    block_rec *b = &e->b[id];
    mark_block(e, b, /*live=*/false);
    int32_t last = e->live[--e->nlive];
    e->live[b->live_pos] = last;
    e->b[last].live_pos = b->live_pos;
    e->live_bytes -= b->size;
    b->start = 0;
    ledger_unlock(e);
}

/* Verifies the whole payload of a live block (payload corrupted). */
static bool verify_block(replayer *w, int32_t id, const char *when)
{
    const block_rec *b = &w->e->b[id];
    char th[32];
    size_t bad = verify_checked((const unsigned char *)b->start, b->seed,
                                b->size, b->size);
    if (bad == SIZE_MAX)
        return true;
    return fail(w, KIND_PAYLOAD_CORRUPTED,
                "%s: byte %zu of id %d%s's payload (%llu bytes at %p, "
                "allocated on line %u) is 0x%02x, the driver wrote 0x%02x: "
                "something wrote into this block while it was allocated",
                when, bad, (int)(id - b->id_base),
                thread_of(w->e, b->thread, th, sizeof th),
                (unsigned long long)b->size, (void *)b->start,
                (unsigned)b->line, ((const unsigned char *)b->start)[bad],
                expected_byte(b->seed, bad));
}

/* A NULL where a block was due: out of memory or a plain bug; on the
 * sparse heap, a giant request may be refused. */
static bool fail_null(replayer *w, const char *call, size_t size)
{
    if (mem_sparse() && size > GIANT_REFUSABLE_BYTES)
        return true;
    if (mem_limit_reached())
        return fail(w, KIND_OUT_OF_MEMORY,
                    "%s(%zu) returned NULL after mem_sbrk refused to grow "
                    "the heap past its limit of %zu bytes (heap size %zu, "
                    "live payload %llu bytes)",
                    call, size, mem_max_heap(), mem_heapsize(),
                    (unsigned long long)w->e->live_bytes);
    return fail(w, KIND_NULL_RETURN,
                "%s(%zu) returned NULL, but the heap limit was not reached "
                "(heap size %zu of at most %zu)",
                call, size, mem_heapsize(), mem_max_heap());
}

static bool new_block(replayer *w, const trace_op *op, void *p, size_t size,
                      const char *call)
{
    if (p == NULL)
        return size == 0 ? true : fail_null(w, call, size);
    uint64_t seed = mix64(w->next_seed++);
    if (!claim_block(w, op_id(w, op), (uintptr_t)p, size, seed, call))
        return false;
    fill_checked(p, seed, 0, size);
    return true;
}

static bool do_alloc(replayer *w, const trace_op *op)
{
    return new_block(w, op, api_apply(w->e->api, op, NULL), op->size,
                     "mm_malloc");
}

static bool do_calloc(replayer *w, const trace_op *op)
{
    size_t n = op_bytes(op);
    void *p = api_apply(w->e->api, op, NULL);
    if (p == NULL)
        return new_block(w, op, p, n, "mm_calloc");
    uint64_t seed = mix64(w->next_seed++);
    if (!claim_block(w, op_id(w, op), (uintptr_t)p, n, seed, "mm_calloc"))
        return false;
    size_t bad = verify_zero_checked(p, n);
    if (bad != SIZE_MAX)
        return fail(w, KIND_CALLOC_NOT_ZEROED,
                    "mm_calloc(%llu, %llu) returned %p whose byte %zu is "
                    "0x%02x, not 0",
                    (unsigned long long)op->nmemb, (unsigned long long)op->size,
                    p, bad, ((unsigned char *)p)[bad]);
    fill_checked(p, seed, 0, n);
    return true;
}

static bool do_free(replayer *w, const trace_op *op)
{
    if (op->id < 0) {
        api_apply(w->e->api, op, NULL);
        return true;
    }
    int32_t id = op_id(w, op);
    void *p = (void *)w->e->b[id].start;
    if (p != NULL) {
        if (!verify_block(w, id, "before mm_free"))
            return false;
        remove_block(w->e, id);
    }
    api_apply(w->e->api, op, p);
    return true;
}

/* realloc(p, 0) must free the block and return NULL. */
static bool do_realloc_zero(replayer *w, const trace_op *op, void *old)
{
    if (old != NULL)
        remove_block(w->e, op_id(w, op));
    void *q = api_apply(w->e->api, op, old);
    if (old != NULL && q != NULL)
        return fail(w, KIND_REALLOC0_NOT_FREED,
                    "mm_realloc(%p, 0) returned %p; it must free the block "
                    "and return NULL",
                    old, q);
    if (q != NULL) { /* realloc(NULL, 0): a unique pointer is allowed */
        if (!new_block(w, op, q, 0, "mm_realloc(NULL, 0)"))
            return false;
        remove_block(w->e, op_id(w, op));
        w->e->api->free(q);
    }
    return true;
}

static bool do_realloc(replayer *w, const trace_op *op)
{
    int32_t id = op_id(w, op);
    block_rec *b = &w->e->b[id];
    void *old = (void *)b->start;
    if (old != NULL && !verify_block(w, id, "before mm_realloc"))
        return false;
    if (op->size == 0)
        return do_realloc_zero(w, op, old);
    if (old == NULL)
        return new_block(w, op, api_apply(w->e->api, op, NULL), op->size,
                         "mm_realloc(NULL, size)");
    size_t old_size = b->size;
    uint64_t seed = b->seed;
    /* Out of the ledger first: the allocator may hand the old block to
     * another thread before it returns. */
    remove_block(w->e, id);
    void *q = api_apply(w->e->api, op, old);
    if (q == NULL) { /* true: a giant request refused, the old block kept */
        if (fail_null(w, "mm_realloc", op->size))
            return claim_block(w, id, (uintptr_t)old, old_size, seed,
                               "mm_realloc (refused, old block kept)");
        return false;
    }
    size_t keep = old_size < op->size ? old_size : op->size;
    if (!claim_block(w, id, (uintptr_t)q, op->size, seed, "mm_realloc"))
        return false;
    size_t bad = verify_checked(q, seed, old_size, keep);
    if (bad != SIZE_MAX)
        return fail(w, KIND_REALLOC_LOST_DATA,
                    "mm_realloc(%p, %llu) returned %p whose byte %zu is "
                    "0x%02x, but the old block's byte %zu was 0x%02x (the "
                    "first %zu bytes must be kept)",
                    old, (unsigned long long)op->size, q, bad,
                    ((unsigned char *)q)[bad], bad, expected_byte(seed, bad),
                    keep);
    /* On the sparse heap the new block's windows differ from the old's. */
    fill_checked(q, seed, mem_sparse() ? 0 : keep, op->size);
    return true;
}

/* Calls mm_checkheap and returns what it returned; what it printed is
 * [*from, *to) of the capture (stdout is a file: see driver_run.c). */
static bool call_checkheap(replayer *w, off_t *from, off_t *to)
{
    w->st->where = WHERE_CHECKHEAP;
    *from = lseek(STDOUT_FILENO, 0, SEEK_CUR);
    bool ok = w->e->api->checkheap((int)w->line);
    *to = lseek(STDOUT_FILENO, 0, SEEK_CUR);
    w->st->where = WHERE_OP;
    return ok;
}

/* Runs mm_checkheap with the trace line just replayed (the line of the
 * last header number after mm_init); a false result or any output fails
 * the trace. Only one thread runs at the time. */
static bool run_checkheap(replayer *w)
{
    if (w->e->api->checkheap == NULL)
        return true;
    off_t before, after;
    bool ok = call_checkheap(w, &before, &after);
    if (ok && after == before)
        return true;
    fail(w, KIND_CHECKHEAP_FAILED,
         "mm_checkheap returned %s and printed %lld bytes",
         ok ? "true" : "false", (long long)(after - before));
    w->e->r->out_from = before;
    w->e->r->out_to = after;
    return false;
}

/* -d 2: every live payload, after every op. */
static bool verify_all(replayer *w)
{
    engine *e = w->e;
    for (uint32_t i = 0; i < e->nlive; i++)
        if (!verify_block(w, e->live[i], "full payload sweep (-d 2)"))
            return false;
    return true;
}

static bool apply_op(replayer *w, const trace_op *op)
{
    switch (op->kind) {
    case OP_ALLOC:
        return do_alloc(w, op);
    case OP_CALLOC:
        return do_calloc(w, op);
    case OP_REALLOC:
        return do_realloc(w, op);
    default:
        return do_free(w, op);
    }
}

static bool start_replay(replayer *w)
{
    w->op_index = -1;
    w->line = w->t->init_line;
    w->st->op_index = -1;
    w->st->where = WHERE_INIT;
    mem_reset_brk();
    mem_reset_peak(); /* util divides by the high-water mark of this replay */
    bool ok = w->e->api->init == NULL || w->e->api->init();
    w->st->where = WHERE_OP;
    if (!ok)
        return fail(w, KIND_INIT_FAILED, "mm_init returned false");
    return w->debug < 1 || run_checkheap(w);
}

/* MT traces: waits for the op that op waits for (another thread's);
 * false when it will never be done (a failure stopped the replay). */
static bool my_turn(replayer *w, const trace_op *op)
{
    if (!w->e->mt || !(op->sync & OP_WAITS))
        return true;
    w->st->waiting = 1;
    bool ok = op_wait(op, &w->e->done[op->id], &w->e->failures);
    w->st->waiting = 0;
    return ok;
}

/* -d 2 with several threads: waits until every thread is here; the last
 * one to come runs mm_checkheap (with the line of op at - 1) and the
 * payload sweep while the others wait, then lets them go. False when the
 * replay failed (here or in any thread). */
static bool barrier_check(replayer *w, uint32_t at)
{
    engine *e = w->e;
    int gen = __atomic_load_n(&e->bar_gen, __ATOMIC_ACQUIRE);
    bool ok = true;
    w->st->waiting = 1;
    if (__atomic_add_fetch(&e->bar_arrived, 1, __ATOMIC_ACQ_REL) ==
        e->threads) {
        __atomic_store_n(&e->bar_arrived, 0, __ATOMIC_RELAXED);
        w->line = w->t->ops[at - 1].line;
        w->op_index = at - 1;
        ok = run_checkheap(w) && verify_all(w);
        __atomic_store_n(&e->bar_gen, gen + 1, __ATOMIC_RELEASE);
    } else {
        unsigned spins = 0;
        while (__atomic_load_n(&e->bar_gen, __ATOMIC_ACQUIRE) == gen &&
               !stopped(e))
            wait_step(&spins);
    }
    w->st->waiting = 0;
    return ok && !stopped(e);
}

/* -d 2 with several threads: the barriers of the op indexes up to upto
 * (every MT_CHECK_EVERY-th; one more at the end of the trace); *next is
 * the next one due. Every thread meets each of them, whether or not the
 * ops before it were its own. */
static bool pass_barriers(replayer *w, uint32_t upto, uint32_t *next)
{
    if (w->debug < 2 || w->e->threads == 1)
        return true;
    for (; *next <= upto; *next += MT_CHECK_EVERY)
        if (!barrier_check(w, *next))
            return false;
    return true;
}

/* Replays op i: waits for it (MT trace), runs and checks it, and lets
 * the op waiting for it go. False on a failure, or when stopped. */
static bool replay_one(replayer *w, uint32_t i)
{
    const trace_t *t = w->t;
    bool one = w->e->threads == 1;
    if (!my_turn(w, &t->ops[i]))
        return false;
    w->op_index = i;
    w->line = t->ops[i].line;
    w->st->op_index = i;
    bool ok = apply_op(w, &t->ops[i]) &&
              (w->debug < 2 || !one || (run_checkheap(w) && verify_all(w)));
    if (one) /* heap maps are of one thread's replay */
        heapmap_after_op(w->e, t, w->st, i, ok);
    if (ok && w->e->mt)
        op_done(&t->ops[i], i, &w->e->done[t->ops[i].id]);
    return ok;
}

/* One thread's replay of its copy (or of its ops of an MT trace: the
 * loader listed them), until its end or any failure. */
static void *replay_copy(void *arg)
{
    replayer *w = arg;
    const trace_t *t = w->t;
    uint32_t next = MT_CHECK_EVERY, k = 0, n = t->nops;
    const uint32_t *mine = w->e->mt ? thread_ops(t, w->thread, &n) : NULL;
    w->st->tid = (int32_t)syscall(SYS_gettid);
    for (; k < n && !stopped(w->e); k++) {
        uint32_t i = mine ? mine[k] : k;
        if (!pass_barriers(w, i, &next) || !replay_one(w, i))
            break;
    }
    if (k == n && t->nops > 0 && pass_barriers(w, t->nops - 1, &next) &&
        w->debug >= 2 && w->e->threads > 1)
        barrier_check(w, t->nops); /* and one at the end */
    w->st->done = 1;
    return NULL;
}

/* Runs the replayers on their threads (the first on this one). */
static void run_threads(engine *e, replayer *ws)
{
    pthread_t tid[STATUS_SLOTS];
    int started = 1;
    for (; started < e->threads; started++) {
        int err =
            pthread_create(&tid[started], NULL, replay_copy, &ws[started]);
        if (err != 0) {
            fail(&ws[0], KIND_OUT_OF_MEMORY,
                 "mdriver could not start replay thread %d: %s", started,
                 strerror(err));
            break;
        }
    }
    replay_copy(&ws[0]);
    for (int k = 1; k < started; k++)
        pthread_join(tid[k], NULL);
}

bool engine_replay(engine *e, const trace_t *t, int debug,
                   volatile replay_slot *slots, trace_result *r,
                   uintptr_t *addr_log)
{
    replayer ws[STATUS_SLOTS];
    e->r = r;
    engine_reset(e);
    for (int k = 0; k < e->threads; k++) {
        ws[k] =
            (replayer){.e = e,
                       .t = t,
                       .thread = k,
                       .debug = debug,
                       .id_base = e->mt ? 0 : (int32_t)(e->slots * (uint32_t)k),
                       .next_seed = 1 + ((uint64_t)k << 40),
                       .st = &slots[k],
                       .addr_log = k == 0 || e->mt ? addr_log : NULL};
        slots[k].done = 0;
        slots[k].op_index = -1;
        slots[k].phase = slots[0].phase;
    }
    bool ok = start_replay(&ws[0]);
    if (e->threads == 1)
        heapmap_after_op(e, t, ws[0].st, -1, ok);
    if (!ok)
        return false;
    run_threads(e, ws);
    if (stopped(e) || (debug == 1 && !run_checkheap(&ws[0])))
        return false;
    e->last_line = t->nops > 0 ? t->ops[t->nops - 1].line : t->init_line;
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
void engine_probe_checker(engine *e, volatile replay_slot *slot,
                          trace_result *r)
{
    off_t from, to;
    replayer w = {.e = e, .st = slot, .line = e->last_line};
    e->r = r;
    r->probe_id = -1;
    if (e->api->checkheap == NULL) {
        r->probe = PROBE_NOT_RUN;
        return;
    }
    if (!call_checkheap(&w, &from, &to) || to != from) {
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
    bool ok = call_checkheap(&w, &from, &to);
    memcpy((void *)word, &saved, sizeof saved);
    r->probe = ok && to == from ? PROBE_MUTE : PROBE_OK;
    r->probe_id = id;
}
