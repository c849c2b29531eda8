/*
 * mmrecord.c - an LD_PRELOAD library that records a program's heap calls as
 * a malloclab trace (.rep, docs/CONTRACTS.md section 3).
 *
 *   MMRECORD_OUT=/tmp/t.%p.rep LD_PRELOAD=build/mmrecord.so program args...
 *   (tools/record does this, then picks and checks the result)
 *
 * %p in MMRECORD_OUT becomes the process id, so every process of a command
 * (gcc runs cc1 and as) writes its own trace; %% is a '%'. Without %p only
 * the process that loaded the library first records: a child made by fork
 * stops recording (a child made by exec starts afresh and overwrites the
 * file, since it has the same pid and path).
 *
 * How one call flows:
 *
 *   program: malloc(n)
 *      |
 *      v
 *   malloc() here --- rec_lock held for the whole call ------------------+
 *      |  p = __libc_malloc(n)          (glibc's own allocator)          |
 *      |  table: p -> {id, n}           (ids reused once dead)           |
 *      |  "a ID n\n" -> out_buf -> OUT.part   (ops only, no header)      |
 *      +-----------------------------------------------------------------+
 *   exit(): destructor
 *      "f ID" for every block still live, then
 *      OUT = "# comments" + 4 header lines + OUT.part;  OUT.part removed
 *
 * The address table (mmap'ed; open addressing, linear probing):
 *
 *   slot i: +------------+--------+------------+
 *           | addr (0 =  | id     | size       |
 *           |  empty)    | uint32 | bytes      |
 *           +------------+--------+------------+
 *   home(addr) = top table_bits of (addr >> 4) * 0x9E3779B97F4A7C15
 *
 * Invariants (check_table() in the comment of each helper names them):
 *  1. A block is in the table iff its id is live in the trace written so
 *     far; each live id is in exactly one slot.
 *  2. An id is on the free-id stack iff it is below next_id and dead, so an
 *     `a` may reuse it.
 *  3. Every slot between a key's home and its slot is full (linear probing
 *     without tombstones: removal shifts later keys back).
 *  4. The table is at most half full.
 *  5. The real call and its record happen under rec_lock together, so the
 *     trace's order is the order in which glibc gave and took addresses,
 *     across all threads.
 *  6. The recorder never calls the functions it interposes: its tables come
 *     from mmap, its output goes through write(2), formatting is by hand.
 *  7. Each op names its thread (`T: ` prefix but for thread 0, the first
 *     thread to call), so a multi-threaded program gives an MT trace.
 *
 * What is recorded (the rest is in docs/tools.md):
 *   malloc(n)            a ID n          free(p), p known    f ID
 *   calloc(k, n)         c ID k n        free(NULL)          f -1
 *   realloc(NULL, n)     a ID n          free(p), p unknown  (nothing)
 *   realloc(p, n), p known    r ID n     realloc(p, 0)       r ID 0 (glibc
 *   realloc(p, n), p unknown  a ID n                          frees p)
 *   memalign, posix_memalign, aligned_alloc, valloc, pvalloc: a ID n
 *   reallocarray(p, k, n): as realloc(p, k * n)
 *   failed calls (NULL) and requests above 2^30 bytes: nothing (the block
 *   stays unknown, so its free is ignored too).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* glibc's allocator under its exported internal names (no dlsym needed). */
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t nmemb, size_t size);
extern void *__libc_realloc(void *ptr, size_t size);
extern void __libc_free(void *ptr);
extern void *__libc_memalign(size_t alignment, size_t size);
extern void *__libc_valloc(size_t size);
extern void *__libc_pvalloc(size_t size);

enum {
    OUT_BUF_SIZE = 1 << 16, /* ops are written in chunks of this size */
    PATH_SIZE = 4096,
    CMDLINE_SHOWN = 400 /* bytes of /proc/self/cmdline in the comment */
};
static const size_t MAX_TRACE_SIZE = (size_t)1 << 30; /* CONTRACTS.md 3 */
static const unsigned TABLE_BITS_MIN = 16;
static const uint64_t HASH_MULT = 0x9E3779B97F4A7C15ull;

enum rec_state {
    REC_UNINIT, /* nothing decided yet (first call not seen) */
    REC_ON,     /* recording into out_fd */
    REC_OFF,    /* not recording: no MMRECORD_OUT, an error, a fork child */
    REC_DONE    /* the trace is written; later calls pass through */
};

struct slot {
    uintptr_t addr; /* 0: empty */
    uint32_t id;
    size_t size; /* bytes of the request (nmemb * size for calloc) */
};

struct recorder {
    enum rec_state state;
    pid_t pid;
    int out_fd;                /* OUT.part, ops only */
    char pattern[PATH_SIZE];   /* MMRECORD_OUT as given */
    char out_path[PATH_SIZE];  /* pattern with %p expanded */
    char part_path[PATH_SIZE]; /* out_path + ".part" */
    char out_buf[OUT_BUF_SIZE];
    size_t out_len;
    struct slot *table;
    unsigned table_bits;
    size_t table_used;
    uint32_t *free_ids; /* stack of dead ids (invariant 2) */
    size_t free_ids_len, free_ids_cap;
    uint32_t next_id; /* ids 0 .. next_id-1 have been used */
    uint64_t ops;
    uint64_t live_ideal, peak_ideal; /* reptrace.suggested_heap() */
};

static struct recorder rec = {.state = REC_UNINIT, .out_fd = -1};
static pthread_mutex_t rec_lock = PTHREAD_MUTEX_INITIALIZER;

/* The trace's thread numbers (the `T: ` prefix of an MT trace): in the
 * order the threads first call the allocator, modulo the 64 a trace may
 * have (two threads merged into one trace thread still replay correctly:
 * the file's order is a schedule). initial-exec: the TLS of a preloaded
 * library needs no allocation, which would recurse into malloc here. */
enum { TRACE_THREADS = 64 };
static __thread int rec_thread __attribute__((tls_model("initial-exec"))) = -1;
static int rec_threads; /* threads numbered so far, under rec_lock */

/* This thread's number in the trace; called under rec_lock. */
static int trace_thread(void)
{
    if (rec_thread < 0)
        rec_thread = rec_threads++ % TRACE_THREADS;
    return rec_thread;
}

/* ------------------------------------------------------------ raw memory */

static void *map_zeroed(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static size_t table_cap(void)
{
    return (size_t)1 << rec.table_bits;
}

static size_t home_slot(uintptr_t addr, unsigned bits)
{
    return (size_t)(((uint64_t)(addr >> 4) * HASH_MULT) >> (64 - bits));
}

/* Any failure of the recorder itself: stop recording, keep the program. */
static void give_up(const char *why)
{
    static const char prefix[] = "mmrecord: stopped recording: ";
    if (write(2, prefix, sizeof prefix - 1) < 0 ||
        write(2, why, strlen(why)) < 0 || write(2, "\n", 1) < 0) {
        /* nothing more to do: stderr is gone too */
    }
    rec.state = REC_OFF;
}

/* ---------------------------------------------- address table (inv. 1-4) */

/* The slot holding addr, or the empty slot where it would go. */
static size_t find_slot(const struct slot *table, unsigned bits, uintptr_t addr)
{
    size_t mask = ((size_t)1 << bits) - 1;
    size_t i = home_slot(addr, bits);
    while (table[i].addr != 0 && table[i].addr != addr)
        i = (i + 1) & mask;
    return i;
}

static bool grow_table(void)
{
    unsigned bits = rec.table ? rec.table_bits + 1 : TABLE_BITS_MIN;
    struct slot *fresh = map_zeroed(sizeof(struct slot) << bits);
    if (fresh == NULL)
        return false;
    if (rec.table != NULL) {
        for (size_t i = 0; i < table_cap(); i++) {
            if (rec.table[i].addr != 0)
                fresh[find_slot(fresh, bits, rec.table[i].addr)] = rec.table[i];
        }
        munmap(rec.table, sizeof(struct slot) << rec.table_bits);
    }
    rec.table = fresh;
    rec.table_bits = bits;
    return true;
}

/* The live block at addr, or NULL. */
static struct slot *lookup_block(uintptr_t addr)
{
    struct slot *s = &rec.table[find_slot(rec.table, rec.table_bits, addr)];
    return s->addr == addr ? s : NULL;
}

static bool insert_block(uintptr_t addr, uint32_t id, size_t size)
{
    if (2 * (rec.table_used + 1) > table_cap() && !grow_table())
        return false; /* invariant 4 */
    struct slot *s = &rec.table[find_slot(rec.table, rec.table_bits, addr)];
    *s = (struct slot){.addr = addr, .id = id, .size = size};
    rec.table_used++;
    return true;
}

/* Is home h outside the cyclic range (hole, j]? Then j may move to hole. */
static bool may_shift_back(size_t h, size_t hole, size_t j)
{
    if (hole <= j)
        return h <= hole || h > j;
    return h <= hole && h > j;
}

/* Empties slot s and shifts later keys back (invariant 3). */
static void remove_block(struct slot *s)
{
    size_t mask = table_cap() - 1;
    size_t hole = (size_t)(s - rec.table);
    for (size_t j = (hole + 1) & mask; rec.table[j].addr != 0;
         j = (j + 1) & mask) {
        size_t h = home_slot(rec.table[j].addr, rec.table_bits);
        if (may_shift_back(h, hole, j)) {
            rec.table[hole] = rec.table[j];
            hole = j;
        }
    }
    rec.table[hole].addr = 0;
    rec.table_used--;
}

/* ----------------------------------------------------- ids (invariant 2) */

static bool release_id(uint32_t id)
{
    if (rec.free_ids_len == rec.free_ids_cap) {
        size_t cap = rec.free_ids_cap ? 2 * rec.free_ids_cap : 1 << 14;
        uint32_t *fresh = map_zeroed(cap * sizeof *fresh);
        if (fresh == NULL)
            return false;
        if (rec.free_ids != NULL) {
            memcpy(fresh, rec.free_ids, rec.free_ids_len * sizeof *fresh);
            munmap(rec.free_ids, rec.free_ids_cap * sizeof *fresh);
        }
        rec.free_ids = fresh;
        rec.free_ids_cap = cap;
    }
    rec.free_ids[rec.free_ids_len++] = id;
    return true;
}

static uint32_t take_id(void)
{
    if (rec.free_ids_len > 0)
        return rec.free_ids[--rec.free_ids_len];
    return rec.next_id++;
}

/* ---------------------------------------------------------------- output */

static bool write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        data += n;
        len -= (size_t)n;
    }
    return true;
}

static void flush_ops(void)
{
    if (rec.out_len > 0 && !write_all(rec.out_fd, rec.out_buf, rec.out_len))
        give_up("cannot write the trace");
    rec.out_len = 0;
}

/* Appends the decimal digits of value to buf at *len. */
static void append_u64(char *buf, size_t *len, uint64_t value)
{
    char digits[24];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + value % 10);
        value /= 10;
    } while (value != 0);
    while (n > 0)
        buf[(*len)++] = digits[--n];
}

static void append_text(char *buf, size_t *len, const char *text)
{
    size_t n = strlen(text);
    memcpy(buf + *len, text, n);
    *len += n;
}

/* Writes one op line: "K ID", then the numbers args[0 .. nargs-1]. */
static void emit_op(char kind, long id, const size_t *args, int nargs)
{
    char line[112];
    size_t len = 0;
    int thread = trace_thread();
    if (thread > 0) {
        append_u64(line, &len, (uint64_t)thread);
        append_text(line, &len, ": ");
    }
    line[len++] = kind;
    line[len++] = ' ';
    if (id < 0)
        line[len++] = '-';
    append_u64(line, &len, (uint64_t)(id < 0 ? -id : id));
    for (int i = 0; i < nargs; i++) {
        line[len++] = ' ';
        append_u64(line, &len, args[i]);
    }
    line[len++] = '\n';
    if (rec.out_len + len > OUT_BUF_SIZE)
        flush_ops();
    memcpy(rec.out_buf + rec.out_len, line, len);
    rec.out_len += len;
    rec.ops++;
}

/* reptrace.ideal_block(): 8-byte header, 16-byte alignment, 16 at least. */
static uint64_t ideal_block(size_t size)
{
    uint64_t block = ((uint64_t)size + 8 + 15) / 16 * 16;
    return block < 16 ? 16 : block;
}

static void count_live(size_t size, bool alive)
{
    if (alive) {
        rec.live_ideal += ideal_block(size);
        if (rec.live_ideal > rec.peak_ideal)
            rec.peak_ideal = rec.live_ideal;
    } else {
        rec.live_ideal -= ideal_block(size);
    }
}

/* ------------------------------------------------- recording (inv. 1, 2) */

/* Removes a known block from the table and makes its id reusable. */
static void forget_block(struct slot *s)
{
    uint32_t id = s->id;
    count_live(s->size, false);
    remove_block(s);
    if (!release_id(id))
        give_up("no memory for the id stack");
}

static void record_free_block(struct slot *s)
{
    emit_op('f', s->id, NULL, 0);
    forget_block(s);
}

/* A new block p of `bytes` bytes gets an id; returns the id or -1. */
static long adopt_block(void *p, size_t bytes)
{
    struct slot *stale = lookup_block((uintptr_t)p);
    if (stale != NULL) /* freed behind the recorder's back: say so first */
        record_free_block(stale);
    uint32_t id = take_id();
    if (!insert_block((uintptr_t)p, id, bytes)) {
        give_up("no memory for the address table");
        return -1;
    }
    count_live(bytes, true);
    return id;
}

static void record_malloc(void *p, size_t size)
{
    if (p == NULL || size > MAX_TRACE_SIZE)
        return;
    long id = adopt_block(p, size);
    if (id >= 0)
        emit_op('a', id, &size, 1);
}

static void record_calloc(void *p, size_t nmemb, size_t size)
{
    if (p == NULL || nmemb > MAX_TRACE_SIZE || size > MAX_TRACE_SIZE ||
        nmemb * size > MAX_TRACE_SIZE) /* no overflow: both <= 2^30 */
        return;
    long id = adopt_block(p, nmemb * size);
    size_t args[2] = {nmemb, size};
    if (id >= 0)
        emit_op('c', id, args, 2);
}

static void record_free(void *p)
{
    if (p == NULL) {
        emit_op('f', -1, NULL, 0);
        return;
    }
    struct slot *s = lookup_block((uintptr_t)p);
    if (s != NULL) /* a pointer never seen is ignored */
        record_free_block(s);
}

/* realloc(old, size) returned fresh. */
static void record_realloc(void *old, void *fresh, size_t size)
{
    struct slot *s = old ? lookup_block((uintptr_t)old) : NULL;
    if (s == NULL) { /* realloc(NULL, n) or of an unknown block: a malloc */
        record_malloc(fresh, size);
        return;
    }
    if (size == 0) { /* glibc frees old and returns NULL */
        size_t zero = 0;
        emit_op('r', s->id, &zero, 1);
        forget_block(s);
        record_malloc(fresh, 0);
        return;
    }
    if (fresh == NULL) /* failed: old is still live and unchanged */
        return;
    if (size > MAX_TRACE_SIZE) { /* the trace cannot say it: old is gone */
        record_free_block(s);
        return;
    }
    uint32_t id = s->id;
    count_live(s->size, false);
    remove_block(s);
    struct slot *stale = lookup_block((uintptr_t)fresh);
    if (stale != NULL)
        record_free_block(stale);
    if (!insert_block((uintptr_t)fresh, id, size)) {
        give_up("no memory for the address table");
        return;
    }
    count_live(size, true);
    emit_op('r', id, &size, 1);
}

/* ------------------------------------------------- starting and stopping */

/* out = pattern with %p -> pid and %% -> %; false when it does not fit. */
static bool expand_pattern(char *out, const char *pattern, pid_t pid)
{
    char *buf = out;
    size_t len = 0;
    for (const char *c = pattern; *c != '\0'; c++) {
        if (len + 24 >= PATH_SIZE)
            return false;
        if (c[0] == '%' && c[1] == 'p') {
            append_u64(buf, &len, (uint64_t)pid);
            c++;
        } else {
            buf[len++] = *c;
            c += c[0] == '%' && c[1] == '%';
        }
    }
    buf[len] = '\0';
    return true;
}

static bool pattern_has_pid(void)
{
    return strstr(rec.pattern, "%p") != NULL;
}

/* Opens OUT.part of this process for the ops. */
static bool open_part(void)
{
    if (!expand_pattern(rec.out_path, rec.pattern, rec.pid) ||
        strlen(rec.out_path) + 6 > PATH_SIZE) {
        give_up("MMRECORD_OUT is too long");
        return false;
    }
    strcpy(rec.part_path, rec.out_path);
    strcat(rec.part_path, ".part");
    rec.out_fd =
        open(rec.part_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (rec.out_fd < 0) {
        give_up("cannot create MMRECORD_OUT.part");
        return false;
    }
    return true;
}

/* Called under rec_lock by the first interposed call or the constructor. */
static void init_recorder(void)
{
    const char *pattern = getenv("MMRECORD_OUT");
    rec.state = REC_OFF;
    if (pattern == NULL || pattern[0] == '\0')
        return;
    if (strlen(pattern) >= PATH_SIZE) {
        give_up("MMRECORD_OUT is too long");
        return;
    }
    strcpy(rec.pattern, pattern);
    rec.pid = getpid();
    if (!grow_table()) {
        give_up("no memory for the address table");
        return;
    }
    if (open_part())
        rec.state = REC_ON;
}

/* Appends the process's command line, made printable, to buf. */
static void append_cmdline(char *buf, size_t *len)
{
    char cmd[CMDLINE_SHOWN];
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : read(fd, cmd, sizeof cmd);
    if (fd >= 0)
        close(fd);
    bool cut = n == (ssize_t)sizeof cmd;
    if (n > 0 && cmd[n - 1] == '\0') /* the last argument's end */
        n--;
    for (ssize_t i = 0; i < n; i++) {
        char c = cmd[i] == '\0' ? ' ' : cmd[i];
        buf[(*len)++] = c >= ' ' && c < 0x7f ? c : '?';
    }
    if (cut)
        append_text(buf, len, "...");
}

static bool write_header(int fd)
{
    char text[CMDLINE_SHOWN + 512];
    size_t len = 0;
    append_text(text, &len,
                "# recorded by mmrecord.so (malloclab "
                "tools/recorder), process ");
    append_u64(text, &len, (uint64_t)rec.pid);
    append_text(text, &len, ":\n# ");
    append_cmdline(text, &len);
    append_text(text, &len,
                "\n# blocks still live at exit are freed at "
                "the end\n");
    /* As reptrace.suggested_heap: at least 4, so that line 1 never reads
     * as a CMU weight class (CONTRACTS.md section 3). */
    uint64_t heap = rec.peak_ideal > 3 ? rec.peak_ideal : 4;
    uint64_t header[4] = {heap, rec.next_id, rec.ops, 1};
    for (int i = 0; i < 4; i++) {
        append_u64(text, &len, header[i]);
        text[len++] = '\n';
    }
    return write_all(fd, text, len);
}

/* OUT = header + OUT.part; removes OUT.part. */
static void assemble_trace(void)
{
    close(rec.out_fd);
    rec.out_fd = -1;
    int from = open(rec.part_path, O_RDONLY | O_CLOEXEC);
    int to = open(rec.out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    bool ok = from >= 0 && to >= 0 && write_header(to);
    ssize_t n;
    while (ok && (n = read(from, rec.out_buf, OUT_BUF_SIZE)) != 0)
        ok = n > 0 ? write_all(to, rec.out_buf, (size_t)n) : errno == EINTR;
    if (from >= 0)
        close(from);
    if (to >= 0 && close(to) != 0)
        ok = false;
    if (ok)
        unlink(rec.part_path);
    else
        give_up("cannot write MMRECORD_OUT");
}

/* Frees every live block in the trace, then writes the whole file. */
/* Emits `f ID` (kind 'f') or `a ID SIZE` (kind 'a') for every live block,
 * in id order so that a re-recording gives the same file. */
static void emit_live_blocks(char kind)
{
    size_t bytes = (size_t)rec.next_id * sizeof(uint32_t) + 1;
    uint32_t *slot_of_id = map_zeroed(bytes); /* slot + 1; 0: dead id */
    if (slot_of_id == NULL) {
        give_up("no memory to list the live blocks");
        return;
    }
    for (size_t i = 0; i < table_cap(); i++) {
        if (rec.table[i].addr != 0)
            slot_of_id[rec.table[i].id] = (uint32_t)i + 1;
    }
    for (uint32_t id = 0; id < rec.next_id; id++) {
        if (slot_of_id[id] != 0)
            emit_op(kind, id, &rec.table[slot_of_id[id] - 1].size, kind == 'a');
    }
    munmap(slot_of_id, bytes);
}

static void finish_trace(void)
{
    emit_live_blocks('f');
    flush_ops();
    if (rec.state == REC_ON)
        assemble_trace();
    rec.state = REC_DONE;
}

/* ------------------------------------------- fork, constructor, destructor */

static void lock_for_fork(void)
{
    pthread_mutex_lock(&rec_lock);
}

static void unlock_in_parent(void)
{
    pthread_mutex_unlock(&rec_lock);
}

/* The child inherits the parent's live blocks: with %p it starts its own
 * trace by allocating them (same ids); without %p it stops recording. */
static void restart_in_child(void)
{
    if (rec.state == REC_ON) {
        close(rec.out_fd);
        rec.out_fd = -1;
        rec.out_len = 0; /* the parent writes its own unwritten ops */
        rec.state = REC_OFF;
        rec.pid = getpid();
        rec.ops = 0;
        rec.peak_ideal = rec.live_ideal;
        if (pattern_has_pid() && open_part()) {
            rec.state = REC_ON;
            emit_live_blocks('a');
        }
    }
    pthread_mutex_unlock(&rec_lock);
}

__attribute__((constructor)) static void start_recording(void)
{
    pthread_mutex_lock(&rec_lock);
    if (rec.state == REC_UNINIT)
        init_recorder();
    pthread_mutex_unlock(&rec_lock);
    pthread_atfork(lock_for_fork, unlock_in_parent, restart_in_child);
}

__attribute__((destructor)) static void stop_recording(void)
{
    pthread_mutex_lock(&rec_lock);
    if (rec.state == REC_ON)
        finish_trace();
    pthread_mutex_unlock(&rec_lock);
}

/* _exit and _Exit skip the destructor: write the trace first. Only the
 * process that owns the recorder does (a vfork child shares its memory but
 * not its pid), and only if rec_lock can be had soon: _exit from a signal
 * handler that interrupted a recorded call must not wait for itself. */
static void finish_before_exit(void)
{
    static const int tries = 1000;
    if (getpid() != rec.pid)
        return;
    for (int i = 0; i < tries; i++) {
        if (pthread_mutex_trylock(&rec_lock) == 0) {
            if (rec.state == REC_ON)
                finish_trace();
            pthread_mutex_unlock(&rec_lock);
            return;
        }
        sched_yield();
    }
}

void _exit(int status)
{
    finish_before_exit();
    for (;;) /* what glibc's _exit does, without calling ourselves */
        syscall(SYS_exit_group, status);
}

void _Exit(int status)
{
    _exit(status);
}

/* True, with rec_lock held, when this call is to be recorded. */
static bool begin_record(void)
{
    pthread_mutex_lock(&rec_lock);
    if (rec.state == REC_UNINIT)
        init_recorder();
    if (rec.state == REC_ON)
        return true;
    pthread_mutex_unlock(&rec_lock);
    return false;
}

static void end_record(int saved_errno)
{
    pthread_mutex_unlock(&rec_lock);
    errno = saved_errno;
}

/* ------------------------------------------------ the interposed functions */

void *malloc(size_t size)
{
    if (!begin_record())
        return __libc_malloc(size);
    void *p = __libc_malloc(size);
    int saved_errno = errno;
    record_malloc(p, size);
    end_record(saved_errno);
    return p;
}

void *calloc(size_t nmemb, size_t size)
{
    if (!begin_record())
        return __libc_calloc(nmemb, size);
    void *p = __libc_calloc(nmemb, size);
    int saved_errno = errno;
    record_calloc(p, nmemb, size);
    end_record(saved_errno);
    return p;
}

void *realloc(void *ptr, size_t size)
{
    if (!begin_record())
        return __libc_realloc(ptr, size);
    void *p = __libc_realloc(ptr, size);
    int saved_errno = errno;
    record_realloc(ptr, p, size);
    end_record(saved_errno);
    return p;
}

void free(void *ptr)
{
    if (!begin_record()) {
        __libc_free(ptr);
        return;
    }
    int saved_errno = errno;
    __libc_free(ptr);
    record_free(ptr);
    end_record(saved_errno);
}

void *reallocarray(void *ptr, size_t nmemb, size_t size)
{
    size_t bytes;
    if (__builtin_mul_overflow(nmemb, size, &bytes)) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(ptr, bytes);
}

void *memalign(size_t alignment, size_t size)
{
    if (!begin_record())
        return __libc_memalign(alignment, size);
    void *p = __libc_memalign(alignment, size);
    int saved_errno = errno;
    record_malloc(p, size);
    end_record(saved_errno);
    return p;
}

static bool is_power_of_2(size_t n)
{
    return n != 0 && (n & (n - 1)) == 0;
}

/* glibc 2.36's aligned_alloc is its memalign (2.38 refuses alignments
 * that are not powers of 2; this forwards as the glibc underneath does). */
void *aligned_alloc(size_t alignment, size_t size)
{
    return memalign(alignment, size);
}

int posix_memalign(void **memptr, size_t alignment, size_t size)
{
    if (alignment % sizeof(void *) != 0 || !is_power_of_2(alignment))
        return EINVAL;
    int saved_errno = errno;
    void *p = memalign(alignment, size);
    errno = saved_errno;
    if (p == NULL)
        return ENOMEM;
    *memptr = p;
    return 0;
}

void *valloc(size_t size)
{
    if (!begin_record())
        return __libc_valloc(size);
    void *p = __libc_valloc(size);
    int saved_errno = errno;
    record_malloc(p, size);
    end_record(saved_errno);
    return p;
}

void *pvalloc(size_t size)
{
    if (!begin_record())
        return __libc_pvalloc(size);
    void *p = __libc_pvalloc(size);
    int saved_errno = errno;
    record_malloc(p, size);
    end_record(saved_errno);
    return p;
}
