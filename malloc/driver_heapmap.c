/*
 * driver_heapmap.c - the driver's pictures of the heap: mdriver --heap-map
 * (one self-contained HTML file) and the helpers that tools/mm-gdb.py calls
 * inside a stopped replay.
 *
 *   parent                                    child (the replay)
 *   ------                                    ------------------
 *   heapmap_setup: one shared mapping  <----  heapmap_after_op, after mm_init
 *   heapmap_begin: empties it                 and each op of replay 1: a util
 *   heapmap_write: reads what is there,       point, and every `stride` ops a
 *     checks every number, writes HTML        frame (payloads, mm_heap_walk)
 *
 * The frames live in memory shared with the parent, so whatever kills the
 * child (a signal, the time limit) leaves the frames recorded so far. mm.c
 * can write anywhere in the child, that mapping included: the parent reads
 * each value once and clamps it (frame and block counts, offsets inside the
 * heap, op indexes inside the trace, kinds). What mm_heap_walk reports is
 * clamped the same way in the child before it is stored.
 *
 * mm_heap_walk (mm.h) is optional: a weak reference, NULL when mm.c does not
 * define it. Without it a frame holds the driver's own view: the live
 * payloads, and the bytes between them drawn as "no live payload".
 */
#define _GNU_SOURCE
#include "driver.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "memlib.h"
#include "mm.h"

#pragma weak mm_heap_walk

enum {
    HM_FRAMES = 200,             /* frames of the ops, at most */
    HM_SLOTS = HM_FRAMES + 2,    /* + mm_init's and the failing op's */
    HM_PAYLOADS = 2048,          /* payloads kept per frame */
    HM_BLOCKS = 2048,            /* mm_heap_walk blocks kept per frame */
    HM_POINTS = 1000,            /* points of the util curve */
    HM_LIST_MAX = 1 << 20,       /* a larger free-list index is nonsense */
    HM_LISTING_MAX = 1000000,    /* lines of a gdb listing, at most */
    HM_CHECK_OUTPUT_MAX = 65536, /* bytes of mm_checkheap output shown */
};

/* A span of the heap: [off, off + size) from mem_heap_lo(). */
typedef struct {
    uint64_t off, size;
    int32_t tag;   /* a payload: its id; a block: its free list or -1 */
    uint32_t kind; /* a block: mm_block_kind */
} hm_seg;

typedef struct {
    int64_t op; /* -1: after mm_init */
    uint64_t heap, live;
    uint32_t npay, nblocks;    /* stored */
    uint32_t pay_seen, blocks; /* before the caps */
    uint32_t failed;
} hm_frame;

typedef struct {
    int64_t op;
    uint64_t live, heap; /* live: the most in the point's ops */
} hm_point;

typedef struct {
    uint32_t nframes, npoints;
    int64_t peak_op;
    uint64_t peak_live, peak_heap;
    hm_frame frames[HM_SLOTS];
    hm_point points[HM_POINTS];
    hm_seg pay[HM_SLOTS][HM_PAYLOADS];
    hm_seg blocks[HM_SLOTS][HM_BLOCKS];
} hm_shared;

static hm_shared *shared; /* NULL unless --heap-map */

/* What the gdb helpers look at: the replay in progress. */
static const engine *cur_engine;
static const trace_t *cur_trace;
static int64_t cur_op;

bool heapmap_setup(void)
{
    void *p = mmap(NULL, sizeof(hm_shared), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        perror("ERROR: mdriver: mmap of the heap map's frames");
        return false;
    }
    shared = p;
    return true;
}

void heapmap_begin(void)
{
    if (shared == NULL)
        return;
    shared->nframes = shared->npoints = 0;
    shared->peak_op = -1;
    shared->peak_live = shared->peak_heap = 0;
}

/* Ops per frame: every op up to HM_FRAMES ops. */
static uint32_t frame_stride(const trace_t *t)
{
    return t->nops > HM_FRAMES ? (t->nops + HM_FRAMES - 1) / HM_FRAMES : 1;
}

static uint32_t point_stride(const trace_t *t)
{
    return t->nops > HM_POINTS ? (t->nops + HM_POINTS - 1) / HM_POINTS : 1;
}

/* ---- the child: recording ---- */

static void note_point(const trace_t *t, int64_t op, uint64_t live,
                       uint64_t heap)
{
    if (live > shared->peak_live) {
        shared->peak_live = live;
        shared->peak_op = op;
        shared->peak_heap = heap;
    }
    uint64_t b = op < 0 ? 0 : (uint64_t)op / point_stride(t);
    if (op < 0 || b >= HM_POINTS)
        return;
    hm_point *p = &shared->points[b];
    if (b >= shared->npoints) {
        *p = (hm_point){op, live, heap};
        shared->npoints = (uint32_t)b + 1;
    } else {
        *p = (hm_point){op, live > p->live ? live : p->live, heap};
    }
}

static void store_payloads(const engine *e, hm_frame *f, hm_seg *segs)
{
    uint32_t n = 0;
    const int32_t *ids = engine_live_ids(e, &n);
    uintptr_t lo = (uintptr_t)mem_heap_lo();
    f->pay_seen = n;
    for (uint32_t i = 0; i < n && f->npay < HM_PAYLOADS; i++) {
        uintptr_t start = 0;
        uint64_t size = 0;
        uint32_t line = 0;
        engine_payload(e, ids[i], &start, &size, &line);
        segs[f->npay++] = (hm_seg){start - lo, size, ids[i], 0};
    }
}

/*
 * A block of mm_heap_walk as [*off, *off + *size) inside a heap of `heap`
 * bytes from lo; false when it says nonsense (not in the heap, no size, an
 * unknown kind). A block running past the break is cut at the break.
 */
static bool clamp_block(const mm_block_info *b, uintptr_t lo, uint64_t heap,
                        uint64_t *off, uint64_t *size)
{
    if (b == NULL || (uintptr_t)b->start < lo ||
        (uintptr_t)b->start - lo >= heap || b->size == 0 ||
        (unsigned)b->kind > MM_BLOCK_OVERHEAD)
        return false;
    *off = (uintptr_t)b->start - lo;
    *size = b->size < heap - *off ? b->size : heap - *off;
    return true;
}

static int clamp_list(int list)
{
    return list < 0 || list > HM_LIST_MAX ? -1 : list;
}

/* The walk in progress; visit() ignores calls when segs is NULL. */
static struct {
    hm_frame *f;
    hm_seg *segs;
    uintptr_t lo;
    uint64_t heap;
} walk;

static void visit(const mm_block_info *b, void *arg)
{
    uint64_t off, size;
    (void)arg;
    if (walk.segs == NULL)
        return;
    walk.f->blocks += walk.f->blocks < UINT32_MAX;
    if (walk.f->nblocks < HM_BLOCKS &&
        clamp_block(b, walk.lo, walk.heap, &off, &size))
        walk.segs[walk.f->nblocks++] =
            (hm_seg){off, size, clamp_list(b->list), (uint32_t)b->kind};
}

static void store_walk(hm_frame *f, hm_seg *segs, volatile replay_slot *st)
{
    walk.f = f;
    walk.segs = segs;
    walk.lo = (uintptr_t)mem_heap_lo();
    walk.heap = mem_heapsize();
    int32_t where = st->where;
    st->where = WHERE_HEAP_WALK;
    mm_heap_walk(visit, NULL);
    st->where = where;
    walk.segs = NULL;
}

static void record_frame(const engine *e, int64_t op, bool ok,
                         volatile replay_slot *st)
{
    uint32_t n = shared->nframes;
    if (n >= HM_SLOTS)
        return;
    hm_frame *f = &shared->frames[n];
    *f = (hm_frame){.op = op,
                    .heap = mem_heapsize(),
                    .live = engine_live_bytes(e),
                    .failed = !ok};
    store_payloads(e, f, shared->pay[n]);
    /* After a failure the heap may be broken: no walk, the report stays
     * the engine's. */
    if (ok && mm_heap_walk)
        store_walk(f, shared->blocks[n], st);
    shared->nframes = n + 1;
}

void heapmap_after_op(const engine *e, const trace_t *t,
                      volatile replay_slot *st, int64_t op, bool ok)
{
    cur_engine = e;
    cur_trace = t;
    cur_op = op;
    if (shared == NULL || st->phase != PHASE_REPLAY1)
        return;
    note_point(t, op, engine_live_bytes(e), mem_heapsize());
    bool due =
        op < 0 || op + 1 == (int64_t)t->nops || (op + 1) % frame_stride(t) == 0;
    if (due || !ok)
        record_frame(e, op, ok, st);
}

/* ---- the parent: the HTML file ---- */

/* The page: the data (const D) goes between these two. */
static const char PAGE_HEAD[] =
    "<!DOCTYPE html>\n"
    "<html><head><meta charset=\"utf-8\"><title>mdriver heap map</title>\n"
    "<style>\n"
    "body{font:14px sans-serif;margin:16px;color:#222;background:#fff}\n"
    "svg,canvas{display:block;border:1px solid #ccc;margin:6px "
    "0;background:#fff}\n"
    ".payload{fill:#2b6cb0}.gap{fill:#f6ad55}.allocated{fill:#90cdf4}\n"
    ".free{fill:#48bb78}.overhead{fill:#a0aec0}\n"
    "rect.allocated,rect.free,rect.overhead{stroke:#fff;stroke-width:0.5}\n"
    ".legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 "
    "12px}\n"
    "#err{color:#e53e3e;font-weight:bold}\n"
    "</style></head><body>\n"
    "<h2 id=\"title\"></h2><p id=\"summary\"></p><p id=\"err\"></p>\n"
    "<div class=\"legend\" id=\"legend\"></div>\n"
    "<div><button id=\"prev\">&lt;</button>\n"
    "<input type=\"range\" id=\"slider\" min=\"0\" max=\"0\" value=\"0\" "
    "style=\"width:600px\">\n"
    "<button id=\"next\">&gt;</button> <span id=\"label\"></span></div>\n"
    "<svg id=\"strip\" width=\"1000\" height=\"80\"></svg>\n"
    "<p id=\"info\">&nbsp;</p>\n"
    "<p>The heap over time: one row per frame, from the top (click a row to "
    "show it).</p>\n"
    "<canvas id=\"overview\" width=\"1000\" height=\"100\"></canvas>\n"
    "<p>Utilization over time: live payload / heap size (solid), heap size / "
    "its maximum (dashed).</p>\n"
    "<svg id=\"util\" width=\"1000\" height=\"220\"></svg>\n";

static const char PAGE_SCRIPT[] =
    "\"use strict\";\n"
    "const NS = \"http://www.w3.org/2000/svg\", W = 1000;\n"
    "const COLORS = {payload: \"#2b6cb0\", gap: \"#f6ad55\", allocated: "
    "\"#90cdf4\",\n"
    "                free: \"#48bb78\", overhead: \"#a0aec0\"};\n"
    "const KINDS = [\"allocated\", \"free\", \"overhead\"];\n"
    "const $ = id => document.getElementById(id);\n"
    "const F = D.frames, fail = F.findIndex(f => f.failed);\n"
    "const maxHeap = Math.max(1, ...F.map(f => f.heap));\n"
    "const sx = b => b * W / maxHeap;\n"
    "function el(name, attrs, parent) {\n"
    "  const e = document.createElementNS(NS, name);\n"
    "  for (const k in attrs) e.setAttribute(k, attrs[k]);\n"
    "  parent.appendChild(e);\n"
    "  return e;\n"
    "}\n"
    "function segments(f) {\n"
    "  const out = [];\n"
    "  if (D.hook) {\n"
    "    for (const w of f.w) out.push([KINDS[w[2]], w[0], w[1], w[3]]);\n"
    "  } else {\n"
    "    let at = 0;\n"
    "    for (const q of f.p.slice().sort((a, b) => a[0] - b[0])) {\n"
    "      if (q[0] > at) out.push([\"gap\", at, q[0] - at, -1]);\n"
    "      at = Math.max(at, q[0] + Math.max(q[1], 1));\n"
    "    }\n"
    "    if (f.heap > at) out.push([\"gap\", at, f.heap - at, -1]);\n"
    "  }\n"
    "  for (const q of f.p) out.push([\"payload\", q[0], q[1], q[2]]);\n"
    "  return out;\n"
    "}\n"
    "function describe(s) {\n"
    "  const where = s[2] + \" bytes at heap offset \" + s[1];\n"
    "  if (s[0] === \"payload\") return \"live payload of id \" + s[3] + \": "
    "\" + where;\n"
    "  if (s[0] === \"gap\") return where + \": no live payload (headers, "
    "padding or free space)\";\n"
    "  return s[0] + \" block: \" + where + (s[3] >= 0 ? \", on free list \" + "
    "s[3] : \"\");\n"
    "}\n"
    "function opText(op, line, text) {\n"
    "  return op < 0 ? \"mm_init\" : \"op \" + op + \" (line \" + line + \": "
    "\" + text + \")\";\n"
    "}\n"
    "function drawStrip(f) {\n"
    "  const svg = $(\"strip\"), segs = segments(f);\n"
    "  svg.textContent = \"\";\n"
    "  el(\"rect\", {x: sx(f.heap), y: 4, width: 1.5, height: 72, fill: "
    "\"#000\"}, svg);\n"
    "  segs.forEach((s, i) => {\n"
    "    const inset = s[0] === \"payload\" && D.hook ? 20 : 10;\n"
    "    el(\"rect\", {class: \"blk \" + s[0], x: sx(s[1]), y: inset, "
    "\"data-i\": i,\n"
    "                width: Math.max(sx(s[2]), 0.5), height: 80 - 2 * inset}, "
    "svg);\n"
    "  });\n"
    "  svg.onmousemove = ev => {\n"
    "    const i = ev.target.getAttribute(\"data-i\");\n"
    "    $(\"info\").textContent = i === null ? \"\\u00a0\" : "
    "describe(segs[i]);\n"
    "  };\n"
    "}\n"
    "const rowH = Math.max(1, Math.floor(300 / Math.max(1, F.length)));\n"
    "const base = document.createElement(\"canvas\");\n"
    "function drawBase() {\n"
    "  base.width = W; base.height = Math.max(1, F.length * rowH);\n"
    "  const g = base.getContext(\"2d\");\n"
    "  F.forEach((f, r) => {\n"
    "    for (const s of segments(f)) {\n"
    "      g.fillStyle = COLORS[s[0]];\n"
    "      g.fillRect(sx(s[1]), r * rowH, Math.max(sx(s[2]), 0.5), rowH);\n"
    "    }\n"
    "  });\n"
    "}\n"
    "function drawOverview(i) {\n"
    "  const c = $(\"overview\"), g = c.getContext(\"2d\");\n"
    "  c.height = base.height;\n"
    "  g.drawImage(base, 0, 0);\n"
    "  g.lineWidth = 2;\n"
    "  if (fail >= 0) { g.strokeStyle = \"#e53e3e\"; g.strokeRect(1, fail * "
    "rowH, W - 2, rowH); }\n"
    "  g.strokeStyle = \"#000\";\n"
    "  g.strokeRect(1, i * rowH, W - 2, rowH);\n"
    "}\n"
    "function drawUtil(f) {\n"
    "  const svg = $(\"util\"), H = 180, top = 20, L = 50;\n"
    "  const x = op => L + (op + 1) * (W - L - 10) / Math.max(1, D.nops);\n"
    "  const y = u => top + H - Math.min(1, u) * H;\n"
    "  svg.textContent = \"\";\n"
    "  el(\"line\", {x1: L, y1: y(0), x2: W - 10, y2: y(0), stroke: \"#888\"}, "
    "svg);\n"
    "  el(\"line\", {x1: L, y1: y(0), x2: L, y2: y(1), stroke: \"#888\"}, "
    "svg);\n"
    "  el(\"text\", {x: 4, y: y(1) + 4}, svg).textContent = \"100%\";\n"
    "  el(\"text\", {x: 14, y: y(0) + 4}, svg).textContent = \"0%\";\n"
    "  const P = D.points.filter(p => p[2] > 0);\n"
    "  el(\"polyline\", {fill: \"none\", stroke: \"#a0aec0\", "
    "\"stroke-dasharray\": \"4 3\",\n"
    "                  points: P.map(p => x(p[0]) + \",\" + y(p[2] / "
    "maxHeap)).join(\" \")}, svg);\n"
    "  el(\"polyline\", {fill: \"none\", stroke: COLORS.payload, "
    "\"stroke-width\": 2,\n"
    "                  points: P.map(p => x(p[0]) + \",\" + y(p[1] / "
    "p[2])).join(\" \")}, svg);\n"
    "  el(\"line\", {x1: x(f.op), y1: y(0), x2: x(f.op), y2: y(1), stroke: "
    "\"#000\"}, svg);\n"
    "  if (D.error) el(\"line\", {x1: x(D.error.op), y1: y(0), x2: "
    "x(D.error.op), y2: y(1),\n"
    "                           stroke: \"#e53e3e\", \"stroke-width\": 2}, "
    "svg);\n"
    "  if (D.peak.op >= 0 && D.peak.heap > 0) {\n"
    "    const px = x(D.peak.op), py = y(D.peak.live / D.peak.heap);\n"
    "    el(\"circle\", {cx: px, cy: py, r: 5, fill: \"#e53e3e\"}, svg);\n"
    "    el(\"text\", {x: Math.min(px + 8, W - 330), y: Math.max(py - 8, 14)}, "
    "svg).textContent =\n"
    "      \"peak: \" + D.peak.live + \" bytes live at line \" + D.peak.line;\n"
    "  }\n"
    "}\n"
    "function show(i) {\n"
    "  i = Math.max(0, Math.min(F.length - 1, i));\n"
    "  const f = F[i], cut = f.p_seen > f.p.length || f.w_seen > f.w.length;\n"
    "  $(\"slider\").value = i;\n"
    "  $(\"label\").textContent = \"frame \" + (i + 1) + \"/\" + F.length + "
    "\": after \" +\n"
    "    opText(f.op, f.line, f.text) + \"; heap \" + f.heap + \" bytes, live "
    "\" + f.live +\n"
    "    (f.failed ? \"; THE FAILING OP\" : \"\") +\n"
    "    (cut ? \"; only \" + f.p.length + \" of \" + f.p_seen + \" payloads "
    "and \" + f.w.length +\n"
    "           \" of \" + f.w_seen + \" blocks drawn\" : \"\");\n"
    "  drawStrip(f); drawOverview(i); drawUtil(f);\n"
    "}\n"
    "function init() {\n"
    "  $(\"title\").textContent = \"Heap map: \" + D.trace + \" (\" + D.nops + "
    "\" ops)\";\n"
    "  $(\"summary\").textContent = (D.hook\n"
    "    ? \"mm.c defines mm_heap_walk: its allocated blocks (light: header "
    "and padding; dark: the payload), free blocks and overhead as it reports "
    "them. \"\n"
    "    : \"mm.c defines no mm_heap_walk: the driver's own view, live "
    "payloads and the bytes between them. \") +\n"
    "    (D.stride === 1 ? \"One frame per op\" : \"One frame every \" + "
    "D.stride + \" ops\") + \" (at most \" + D.max_frames + "
    "\", plus mm_init and the failing op). \" +\n"
    "    (D.error ? \"\" : \"Valid: util \" + (100 * D.util).toFixed(1) + \"% "
    "(peak live / final heap).\");\n"
    "  if (D.error) $(\"err\").textContent = \"ERROR at \" + "
    "opText(D.error.op, D.error.line, D.error.text) +\n"
    "    \": \" + D.error.kind + \": \" + D.error.details;\n"
    "  const lg = $(\"legend\");\n"
    "  for (const k of D.hook ? [\"payload\", \"allocated\", \"free\", "
    "\"overhead\"] : [\"payload\", \"gap\"]) {\n"
    "    const s = document.createElement(\"span\");\n"
    "    s.style.background = COLORS[k];\n"
    "    lg.appendChild(s);\n"
    "    lg.appendChild(document.createTextNode(k === \"gap\" ? \"no live "
    "payload\" : k));\n"
    "  }\n"
    "  if (F.length === 0) { $(\"label\").textContent = \"no frame: the replay "
    "ended before mm_init returned\"; return; }\n"
    "  drawBase();\n"
    "  $(\"slider\").max = F.length - 1;\n"
    "  $(\"slider\").oninput = () => show(+$(\"slider\").value);\n"
    "  $(\"prev\").onclick = () => show(+$(\"slider\").value - 1);\n"
    "  $(\"next\").onclick = () => show(+$(\"slider\").value + 1);\n"
    "  $(\"overview\").onclick = ev => show(Math.floor(ev.offsetY / rowH));\n"
    "  show(fail >= 0 ? fail : F.length - 1);\n"
    "}\n"
    "init();\n";

/* A JSON string that is also safe inside <script>: only [A-Za-z0-9 ...]
 * are written as they are. */
static void js_string(FILE *f, const char *s, size_t max)
{
    fputc('"', f);
    for (size_t i = 0; i < max && s[i] != '\0'; i++) {
        unsigned char c = (unsigned char)s[i];
        if (strchr(" .,:;_-+=*()[]{}'!?#%/@|", c) != NULL ||
            (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'))
            fputc(c, f);
        else
            fprintf(f, "\\u%04x", c);
    }
    fputc('"', f);
}

/* "line": N, "text": "a 0 64" of an op index (-1: mm_init). */
static void json_op(FILE *f, const trace_t *t, int64_t op)
{
    char text[64] = "mm_init";
    uint32_t line = t->init_line;
    if (op >= 0) {
        op_format(&t->ops[op], text, sizeof text);
        line = t->ops[op].line;
    }
    fprintf(f, "\"op\": %lld, \"line\": %u, \"text\": ", (long long)op,
            (unsigned)line);
    js_string(f, text, sizeof text);
}

/* The largest heap the trace can have: the limit, or the sparse heap's
 * (the replay process takes it for a giant request: driver_run.c). */
static uint64_t heap_bound(const trace_t *t)
{
    return t->max_bytes > TRACE_DENSE_MAX_SIZE ? MEM_SPARSE_MAX_HEAP
                                               : mem_max_heap();
}

static bool op_valid(const trace_t *t, int64_t op)
{
    return op >= -1 && op < (int64_t)t->nops;
}

/* The segments of a frame that lie in its heap: [[off, size, tag(, kind)]]. */
static void json_segs(FILE *f, const hm_seg *segs, uint32_t n, uint64_t heap,
                      bool blocks)
{
    const char *sep = "";
    fputc('[', f);
    for (uint32_t i = 0; i < n; i++) {
        hm_seg s = segs[i];
        if (s.off >= heap || s.size > heap - s.off ||
            (blocks && s.kind > MM_BLOCK_OVERHEAD))
            continue;
        if (blocks)
            fprintf(f, "%s[%llu,%llu,%u,%d]", sep, (unsigned long long)s.off,
                    (unsigned long long)s.size, (unsigned)s.kind,
                    clamp_list(s.tag));
        else
            fprintf(f, "%s[%llu,%llu,%d]", sep, (unsigned long long)s.off,
                    (unsigned long long)s.size, (int)s.tag);
        sep = ",";
    }
    fputc(']', f);
}

static void json_frames(FILE *f, const trace_t *t)
{
    uint32_t n = shared->nframes;
    const char *sep = "";
    fputs("\"frames\": [", f);
    for (uint32_t i = 0; i < n && i < HM_SLOTS; i++) {
        hm_frame fr = shared->frames[i];
        if (!op_valid(t, fr.op) || fr.heap > heap_bound(t))
            continue;
        fprintf(f, "%s\n{", sep);
        json_op(f, t, fr.op);
        fprintf(f,
                ", \"heap\": %llu, \"live\": %llu, \"failed\": %d, "
                "\"p_seen\": %u, \"w_seen\": %u, \"p\": ",
                (unsigned long long)fr.heap, (unsigned long long)fr.live,
                fr.failed != 0, (unsigned)fr.pay_seen, (unsigned)fr.blocks);
        json_segs(f, shared->pay[i], fr.npay <= HM_PAYLOADS ? fr.npay : 0,
                  fr.heap, /*blocks=*/false);
        fputs(", \"w\": ", f);
        json_segs(f, shared->blocks[i],
                  fr.nblocks <= HM_BLOCKS ? fr.nblocks : 0, fr.heap,
                  /*blocks=*/true);
        fputc('}', f);
        sep = ",";
    }
    fputs("]", f);
}

static void json_points(FILE *f, const trace_t *t)
{
    uint32_t n = shared->npoints;
    const char *sep = "";
    fputs(",\n\"points\": [", f);
    for (uint32_t i = 0; i < n && i < HM_POINTS; i++) {
        hm_point p = shared->points[i];
        if (!op_valid(t, p.op) || p.heap > heap_bound(t) || p.live > p.heap)
            continue;
        fprintf(f, "%s[%lld,%llu,%llu]", sep, (long long)p.op,
                (unsigned long long)p.live, (unsigned long long)p.heap);
        sep = ",";
    }
    int64_t op = shared->peak_op;
    uint64_t live = shared->peak_live, heap = shared->peak_heap;
    if (!op_valid(t, op) || op < 0 || live > heap)
        op = -1, live = heap = 0;
    fputs("],\n\"peak\": {", f);
    json_op(f, t, op);
    fprintf(f, ", \"live\": %llu, \"heap\": %llu}", (unsigned long long)live,
            (unsigned long long)heap);
}

/* The error of the trace, as the report names it (r comes from the child:
 * its numbers are checked here too). */
static void json_error(FILE *f, const trace_t *t, const trace_result *r)
{
    fputs(",\n\"error\": ", f);
    if (r->kind == KIND_NONE) {
        fputs("null", f);
        return;
    }
    int64_t op = op_valid(t, r->op_index) ? r->op_index : -1;
    fputc('{', f);
    json_op(f, t, op);
    fputs(", \"kind\": ", f);
    const char *kind = r->kind > KIND_NONE && r->kind < KIND_COUNT
                           ? kind_name((error_kind)r->kind)
                           : "unknown";
    js_string(f, kind, strlen(kind));
    fputs(", \"details\": ", f);
    js_string(f, r->details, sizeof r->details);
    fputc('}', f);
}

static void write_page(FILE *f, const trace_t *t, const trace_result *r)
{
    fputs(PAGE_HEAD, f);
    fputs("<script>\nconst D = {\"trace\": ", f);
    js_string(f, t->name, strlen(t->name));
    fprintf(f,
            ", \"nops\": %u, \"hook\": %s, \"stride\": %u, "
            "\"max_frames\": %d, \"util\": %.6f,\n",
            (unsigned)t->nops, mm_heap_walk ? "true" : "false",
            (unsigned)frame_stride(t), HM_FRAMES,
            r->util >= 0 && r->util <= 1 ? r->util : 0.0);
    json_frames(f, t);
    json_points(f, t);
    json_error(f, t, r);
    fputs("};\n</script>\n<script>\n", f);
    fputs(PAGE_SCRIPT, f);
    fputs("</script>\n</body></html>\n", f);
}

bool heapmap_write(const char *path, const trace_t *t, const trace_result *r,
                   FILE *report)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "ERROR [%s]: cannot write the heap map: %s\n", path,
                strerror(errno));
        return false;
    }
    write_page(f, t, r);
    bool ok = !ferror(f);
    ok = fclose(f) == 0 && ok;
    if (!ok) {
        fprintf(stderr, "ERROR [%s]: writing the heap map failed: %s\n", path,
                strerror(errno));
        return false;
    }
    fprintf(
        report, "heap map of %s: %s (%u frames)\n", t->name, path,
        (unsigned)(shared->nframes < HM_SLOTS ? shared->nframes : HM_SLOTS));
    return true;
}

/* ---- the gdb helpers (tools/mm-gdb.py calls them in a stopped replay) ---- */

static const char *const KIND_TEXT[3] = {"allocated", "free", "overhead"};

/* The live payload that lies in [start, start + size), or -1. */
static int32_t payload_in(uintptr_t start, uint64_t size)
{
    uint32_t n = 0;
    const int32_t *ids = engine_live_ids(cur_engine, &n);
    for (uint32_t i = 0; i < n; i++) {
        uintptr_t p = 0;
        uint64_t psize = 0;
        uint32_t line = 0;
        engine_payload(cur_engine, ids[i], &p, &psize, &line);
        if (p >= start && p - start < size)
            return ids[i];
    }
    return -1;
}

static void print_payload(FILE *f, int32_t id)
{
    uintptr_t p = 0;
    uint64_t size = 0;
    uint32_t line = 0;
    if (id < 0)
        return;
    engine_payload(cur_engine, id, &p, &size, &line);
    fprintf(f, "  id %d: payload %p, %llu bytes (line %u)", (int)id, (void *)p,
            (unsigned long long)size, (unsigned)line);
}

/* The listing in progress: all blocks, or the one that contains addr. */
static struct {
    FILE *f;
    uintptr_t addr;
    unsigned lines, shown;
} listing;

static void list_block(const mm_block_info *b, void *arg)
{
    uintptr_t lo = (uintptr_t)mem_heap_lo();
    uint64_t off, size;
    (void)arg;
    if (listing.f == NULL || ++listing.lines > HM_LISTING_MAX)
        return;
    if (!clamp_block(b, lo, mem_heapsize(), &off, &size)) {
        fprintf(listing.f, "  (mm_heap_walk reported a block outside the "
                           "heap or with no size or kind: ignored)\n");
        return;
    }
    uintptr_t start = lo + off;
    if (listing.addr != 0 &&
        (listing.addr < start || listing.addr >= start + size))
        return;
    listing.shown++;
    int list = clamp_list(b->list);
    fprintf(listing.f, "  %p %10llu  %-9s", (void *)start,
            (unsigned long long)size, KIND_TEXT[b->kind]);
    fprintf(listing.f, list < 0 ? "  -   " : "  %-4d", list);
    int32_t id = b->kind == MM_BLOCK_ALLOCATED ? payload_in(start, size) : -1;
    print_payload(listing.f, id);
    if (b->kind == MM_BLOCK_ALLOCATED && id < 0)
        fputs("  no live id (the op in progress frees it?)", listing.f);
    fputc('\n', listing.f);
}

static int cmp_payload(const void *a, const void *b)
{
    uintptr_t x = 0, y = 0;
    uint64_t size = 0;
    uint32_t line = 0;
    engine_payload(cur_engine, *(const int32_t *)a, &x, &size, &line);
    engine_payload(cur_engine, *(const int32_t *)b, &y, &size, &line);
    return (x > y) - (x < y);
}

/* Without mm_heap_walk: the driver's table of live payloads, by address. */
static void list_payloads(FILE *f, uintptr_t addr)
{
    uint32_t n = 0;
    const int32_t *live = engine_live_ids(cur_engine, &n);
    int32_t *ids = malloc(((size_t)n + 1) * sizeof *ids);
    if (ids == NULL)
        return;
    memcpy(ids, live, (size_t)n * sizeof *ids);
    qsort(ids, n, sizeof *ids, cmp_payload);
    for (uint32_t i = 0; i < n; i++) {
        uintptr_t p = 0;
        uint64_t size = 0;
        uint32_t line = 0;
        engine_payload(cur_engine, ids[i], &p, &size, &line);
        if (addr != 0 && (addr < p || addr >= p + (size ? size : 1)))
            continue;
        listing.shown++;
        fprintf(f, "  %p %10llu  %-9s  -   ", (void *)p,
                (unsigned long long)size, "payload");
        print_payload(f, ids[i]);
        fputc('\n', f);
    }
    free(ids);
}

static void listing_header(FILE *f)
{
    char text[64] = "mm_init";
    int64_t next = cur_op + 1;
    if (next < (int64_t)cur_trace->nops)
        op_format(&cur_trace->ops[next], text, sizeof text);
    fprintf(f, "trace %s, heap [%p, %p] (%zu bytes), ", cur_trace->name,
            mem_heap_lo(), mem_heap_hi(), mem_heapsize());
    if (next < (int64_t)cur_trace->nops)
        fprintf(f, "during op %lld (line %u: %s)\n", (long long)next,
                (unsigned)cur_trace->ops[next].line, text);
    else
        fprintf(f, "after the last op\n");
    if (!mm_heap_walk)
        fprintf(f, "mm.c defines no mm_heap_walk: the driver's view, the live "
                   "payloads only (the bytes between them are headers, "
                   "padding or free space)\n");
    fprintf(f, "  %-14s %10s  %-9s  %s\n", "address", "size", "kind", "list");
}

/*
 * The blocks of the heap (addr 0), or the one that contains addr, as text
 * in a malloc'd string (the caller frees it): what `mm-heap` and `mm-block`
 * print. NULL when out of memory.
 */
char *mdriver_heap_listing(unsigned long addr)
{
    char *text = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&text, &n);
    if (f == NULL)
        return NULL;
    if (cur_engine == NULL) {
        fprintf(f, "no replay in progress: stop in mm.c first (e.g. "
                   "`break mm_malloc`, `run`)\n");
    } else {
        listing_header(f);
        listing = (typeof(listing)){f, addr, 0, 0};
        if (mm_heap_walk)
            mm_heap_walk(list_block, NULL);
        else
            list_payloads(f, addr);
        listing.f = NULL;
        if (addr != 0 && listing.shown == 0)
            fprintf(f, "no block contains %p\n", (void *)addr);
    }
    fclose(f);
    return text;
}

/* The trace line of the op in progress, for mm_checkheap. */
static int current_line(void)
{
    int64_t next = cur_op + 1;
    if (cur_trace == NULL)
        return 0;
    return next < (int64_t)cur_trace->nops ? (int)cur_trace->ops[next].line
                                           : (int)cur_trace->init_line;
}

/*
 * Runs mm_checkheap(line of the op in progress) and returns its verdict and
 * what it printed (the replay's stdout is the driver's capture file) as a
 * malloc'd string: what `mm-check` prints.
 */
char *mdriver_check_listing(void)
{
    char *text = NULL, out[HM_CHECK_OUTPUT_MAX];
    size_t n = 0;
    FILE *f = open_memstream(&text, &n);
    if (f == NULL)
        return NULL;
    int line = current_line();
    fflush(stdout);
    off_t before = lseek(STDOUT_FILENO, 0, SEEK_CUR);
    bool ok = mm_checkheap(line);
    fflush(stdout);
    off_t after = lseek(STDOUT_FILENO, 0, SEEK_CUR);
    fprintf(f, "mm_checkheap(%d) returned %s\n", line, ok ? "true" : "false");
    if (before >= 0 && after > before) {
        size_t want = (size_t)(after - before) < sizeof out
                          ? (size_t)(after - before)
                          : sizeof out;
        ssize_t got = pread(STDOUT_FILENO, out, want, before);
        fprintf(f, "it printed %lld bytes:\n%.*s", (long long)(after - before),
                (int)(got > 0 ? got : 0), out);
    }
    fclose(f);
    return text;
}
