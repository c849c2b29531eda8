/*
 * driver_hint.c - the size-bug hint: which op first put a live payload
 * over the 8 bytes just before another live payload?
 *
 * A CS:APP-style allocator keeps an 8-byte header just before each
 * payload. When a block's size is computed too small (an off-by-one, a
 * forgotten header or footer), the payload the driver fills reaches into
 * the next block's header, and the allocator fails a few ops later, often
 * as a bare "SIGSEGV in mm_free". So when a trace fails, the parent
 * replays the trace's bookkeeping from the address log the checked replay
 * left in shared memory (the payload address of every block an op made)
 * and names the first op after which some payload A covered the word
 * before another live payload B:
 *
 *        A's payload                B's payload
 *   ... [a ............ a+size)     [b ...
 *                  [b-8, b) = where a header sits; a+size > b-8
 *
 * It is a hint, never a failure: a headerless design may legally pack
 * payloads back to back. Blocks do not overlap (the engine checks), so A
 * ends in (b-8, b], and b, 16-aligned, is A's end rounded up to 16: two
 * arrays indexed by 16-byte granule (live payload starting there; live
 * payload whose end rounds up to there) find the pair in O(1) per op.
 * The log is untrusted (mm.c runs in that process): an address outside
 * the heap, or misaligned, ends the search with no hint. A trace replayed
 * over the sparse heap (a request above TRACE_DENSE_MAX_SIZE) gets no
 * hint: its child maps a heap of its own, which the parent cannot check
 * the log against.
 */
#include "driver.h"

#include <stdlib.h>
#include <string.h>

#include "memlib.h"

enum { HEADER_BYTES = 8, GRANULE = 16 };

typedef struct {
    const trace_t *t;
    const uintptr_t *log;
    uintptr_t lo;
    size_t ngran;
    int32_t *start_at; /* granule -> 1 + id of the payload starting there */
    int32_t *end_at;   /* granule -> 1 + id of the payload ending there */
    uintptr_t *start;  /* id -> payload address, 0: no live payload */
    uint64_t *size;    /* id -> payload bytes */
} hint_state;

static size_t round_up(uintptr_t x)
{
    return (x + GRANULE - 1) / GRANULE * GRANULE;
}

static void drop_block(hint_state *h, int32_t id)
{
    uintptr_t p = h->start[id];
    if (p == 0)
        return;
    size_t g = (p - h->lo) / GRANULE;
    size_t ge = (round_up(p + h->size[id]) - h->lo) / GRANULE;
    if (h->start_at[g] == id + 1)
        h->start_at[g] = 0;
    if (h->end_at[ge] == id + 1)
        h->end_at[ge] = 0;
    h->start[id] = 0;
}

/* Adds id's block [p, p + size); true when it forms a pair (*a covers the
 * word before *b's payload). */
static bool add_block(hint_state *h, int32_t id, uintptr_t p, uint64_t size,
                      int32_t *a, int32_t *b)
{
    size_t g = (p - h->lo) / GRANULE;
    size_t ge = (round_up(p + size) - h->lo) / GRANULE;
    int32_t after = h->start_at[ge], before = h->end_at[g];
    h->start[id] = p;
    h->size[id] = size;
    h->start_at[g] = id + 1;
    h->end_at[ge] = id + 1;
    if (after != 0 && after != id + 1 &&
        p + size > h->start[after - 1] - HEADER_BYTES) {
        *a = id, *b = after - 1;
        return true;
    }
    if (before != 0 && before != id + 1 && h->start[before - 1] != 0 &&
        h->start[before - 1] + h->size[before - 1] > p - HEADER_BYTES) {
        *a = before - 1, *b = id;
        return true;
    }
    return false;
}

/* Applies op i; -1 when the log is not believable, 1 on a pair. */
static int apply(hint_state *h, uint32_t i, int32_t *a, int32_t *b)
{
    const trace_op *op = &h->t->ops[i];
    if (op->id < 0)
        return 0;
    drop_block(h, op->id);
    size_t n = op_bytes(op);
    if (op->kind == OP_FREE || n == 0)
        return 0;
    uintptr_t p = h->log[i];
    if (p < h->lo || p % GRANULE != 0 ||
        (p - h->lo + n) / GRANULE + 2 > h->ngran)
        return -1;
    return add_block(h, op->id, p, n, a, b) ? 1 : 0;
}

static bool hint_alloc(hint_state *h)
{
    h->start_at = calloc(h->ngran, sizeof *h->start_at);
    h->end_at = calloc(h->ngran, sizeof *h->end_at);
    h->start = calloc((size_t)h->t->slots + 1, sizeof *h->start);
    h->size = calloc((size_t)h->t->slots + 1, sizeof *h->size);
    return h->start_at && h->end_at && h->start && h->size;
}

static void hint_release(hint_state *h)
{
    free(h->start_at);
    free(h->end_at);
    free(h->start);
    free(h->size);
}

/* Bytes of the heap the log's blocks span before op stop (0: none), or
 * SIZE_MAX when an address is not believable. */
static size_t log_span(const trace_t *t, const uintptr_t *log, uint64_t stop,
                       uintptr_t lo)
{
    size_t span = 0, max = mem_max_heap();
    for (uint64_t i = 0; i < stop; i++) {
        const trace_op *op = &t->ops[i];
        size_t n = op_bytes(op);
        if (op->kind == OP_FREE || op->id < 0 || n == 0)
            continue;
        uintptr_t p = log[i];
        if (p < lo || p % GRANULE != 0 || p - lo > max || n > max - (p - lo))
            return SIZE_MAX;
        span = p - lo + n > span ? p - lo + n : span;
    }
    return span;
}

void hint_find(const trace_t *t, const uintptr_t *addr_log, int64_t failed_op,
               trace_result *r)
{
    hint_state h = {.t = t, .log = addr_log, .lo = (uintptr_t)mem_heap_lo()};
    uint64_t stop = failed_op >= 0 && failed_op < (int64_t)t->nops
                        ? (uint64_t)failed_op
                        : t->nops;
    r->hint[0] = '\0';
    bool dense = t->max_bytes <= TRACE_DENSE_MAX_SIZE;
    size_t span =
        addr_log && dense ? log_span(t, addr_log, stop, h.lo) : SIZE_MAX;
    if (span == SIZE_MAX || span == 0)
        return;
    h.ngran = span / GRANULE + 4;
    int32_t a = 0, b = 0;
    bool ready = hint_alloc(&h);
    for (uint32_t i = 0; ready && i < stop; i++) {
        int found = apply(&h, i, &a, &b);
        if (found < 0)
            break;
        if (found > 0) {
            snprintf(r->hint, sizeof r->hint,
                     "line %u, id %d's payload covers the word before id "
                     "%d's payload: a header? (the likely cause; a hint "
                     "only, since a design without headers may pack "
                     "payloads back to back)",
                     (unsigned)t->ops[i].line, (int)a, (int)b);
            break;
        }
    }
    hint_release(&h);
}
