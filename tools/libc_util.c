/*
 * libc_util.c - glibc malloc's utilization on .rep traces, measured the way
 * mdriver measures mm.c's: peak live payload / the heap's high-water mark.
 *
 *     make libc-util        (builds build/libc-util)
 *     build/libc-util TRACE.rep ...
 *
 * Prints one line per trace: `name util peak_bytes heap_bytes`. The trace is
 * parsed by mdriver's own parser (malloc/driver_trace.c). Then glibc is told
 * never to mmap (M_MMAP_MAX 0: every block comes from the brk heap) and not
 * to grow the heap by more than a request needs (M_TOP_PAD 0: its default
 * 128 KiB of slack would dwarf the small traces), and the trace is replayed
 * with malloc, realloc, calloc and free. The heap is the break's highest
 * point during the replay minus the break before it. Everything the tool
 * itself allocates (the parsed trace, stdio's buffers, the per-id tables)
 * is mmapped (M_MMAP_THRESHOLD 0 until the replay), so glibc's brk heap
 * holds only the trace's blocks: the tool checks that it is empty when the
 * replay starts.
 */
#include "../malloc/driver.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static uintptr_t brk_now(void)
{
    return (uintptr_t)sbrk(0);
}

/* Replays t with glibc; returns false if a call failed. */
static bool replay(const trace_t *t, void **ptr, size_t *bytes,
                   size_t *peak_live, size_t *heap)
{
    uintptr_t base = brk_now(), top = base;
    size_t live = 0;
    for (uint32_t i = 0; i < t->nops; i++) {
        const trace_op *op = &t->ops[i];
        if (op->kind == OP_FREE && op->id < 0) {
            free(NULL);
            continue;
        }
        size_t was = bytes[op->id], want = op_bytes(op);
        switch (op->kind) {
        case OP_ALLOC:
            ptr[op->id] = malloc(want);
            break;
        case OP_CALLOC:
            ptr[op->id] = calloc(op->nmemb, op->size);
            break;
        case OP_REALLOC:
            ptr[op->id] = realloc(ptr[op->id], want);
            break;
        default:
            free(ptr[op->id]);
            ptr[op->id] = NULL;
            want = 0;
        }
        if (want != 0 && ptr[op->id] == NULL) {
            fprintf(stderr, "libc-util: %s: line %u: glibc returned NULL\n",
                    t->path, op->line);
            return false;
        }
        live = live - was + want;
        bytes[op->id] = want;
        if (live > *peak_live)
            *peak_live = live;
        uintptr_t b = brk_now();
        if (b > top)
            top = b;
    }
    *heap = top - base;
    return true;
}

static void *map_zeroed(size_t n)
{
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* One trace in a child process, so each replay starts from a fresh heap. */
static int one_trace(const char *path)
{
    if (mallopt(M_MMAP_THRESHOLD, 0) != 1) { /* the tool's own: mmapped */
        fprintf(stderr, "libc-util: mallopt refused\n");
        return 1;
    }
    trace_t t;
    if (!trace_load(path, path, &t))
        return 1;
    size_t n = ((size_t)t.slots + 1) * sizeof(void *);
    void **ptr = map_zeroed(n);
    size_t *bytes = map_zeroed(n);
    if (ptr == NULL || bytes == NULL) {
        fprintf(stderr, "libc-util: %s: out of memory\n", path);
        return 1;
    }
    if (mallopt(M_MMAP_MAX, 0) != 1 || mallopt(M_TOP_PAD, 0) != 1) {
        fprintf(stderr, "libc-util: mallopt refused\n");
        return 1;
    }
    struct mallinfo2 before = mallinfo2();
    if (before.arena != 0) {
        fprintf(stderr,
                "libc-util: %s: glibc's heap is not empty before "
                "the replay (%zu bytes)\n",
                path, before.arena);
        return 1;
    }
    size_t peak = 0, heap = 0;
    if (!replay(&t, ptr, bytes, &peak, &heap))
        return 1;
    const char *name = strrchr(path, '/');
    printf("%s %.4f %zu %zu\n", name != NULL ? name + 1 : path,
           heap != 0 ? (double)peak / (double)heap : 1.0, peak, heap);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0) {
        fprintf(stderr,
                "usage: %s TRACE.rep ...\n"
                "glibc malloc's util (peak live payload / heap "
                "high-water) on each trace\n",
                argv[0]);
        return argc < 2 ? 2 : 0;
    }
    int status = 0;
    for (int i = 1; i < argc; i++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0)
            exit(one_trace(argv[i]));
        int st = 1;
        if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) ||
            WEXITSTATUS(st) != 0)
            status = 1;
    }
    return status;
}
