"""The LD_PRELOAD recorder (tools/recorder/mmrecord.c) and tools/record.

Each test compiles a small C program whose heap calls are known, records it
with tools/record and compares the trace's ops with what the program did.
"""
import os
import shutil
import sys
import tempfile

import kit

sys.path.insert(0, kit.TOOLS)
import reptrace  # noqa: E402

RECORD = os.path.join(kit.TOOLS, "record")

# Every interposed function once, a free of a pointer the recorder never saw
# (from __libc_malloc, which is not interposed), free(NULL), realloc(NULL),
# realloc(p, 0), and three blocks left live at exit.
KNOWN_CALLS = r"""
#include <malloc.h>
#include <stdlib.h>
extern void *__libc_malloc(size_t size);
int main(void)
{
    char *a = malloc(100);
    char *b = calloc(3, 40);
    a = realloc(a, 200);
    void *c = NULL;
    if (posix_memalign(&c, 64, 300) != 0)
        return 1;
    free(b);
    free(__libc_malloc(24));
    free(NULL);
    char *d = realloc(NULL, 50);
    d = realloc(d, 0);
    void *e = memalign(32, 70);
    void *g = aligned_alloc(16, 32);
    free(e);
    void *h = valloc(10);
    char *i = reallocarray(NULL, 4, 25);
    free(h);
    free(i);
    return a == NULL || c == NULL || d != NULL || g == NULL;
}
"""

# The ops KNOWN_CALLS must produce, in order; ids are reused once dead.
KNOWN_OPS = """a 0 100
c 1 3 40
r 0 200
a 2 300
f 1
f -1
a 1 50
r 1 0
a 1 70
a 3 32
f 1
a 1 10
a 4 100
f 1
f 4
f 0
f 2
f 3""".splitlines()

THREADS, ROUNDS = 4, 300

# THREADS threads each malloc (size 5000 + thread) and free ROUNDS blocks,
# reallocating every third one, with blocks of other threads interleaved.
THREADED = r"""
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
enum { THREADS = %d, ROUNDS = %d };
static void *work(void *arg)
{
    size_t size = 5000 + (size_t)arg;
    for (int i = 0; i < ROUNDS; i++) {
        char *p = malloc(size);
        memset(p, i, size);
        if (i %% 3 == 0)
            p = realloc(p, size);
        free(p);
    }
    return NULL;
}
int main(void)
{
    pthread_t t[THREADS];
    for (long i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, work, (void *)i);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    return 0;
}
""" % (THREADS, ROUNDS)

# The parent keeps a block live across fork; the child and the parent then
# each allocate a block of their own size.
FORKING = r"""
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void)
{
    void *kept = malloc(4321);
    pid_t pid = fork();
    if (pid == 0) {
        free(malloc(777));
        free(kept);
        exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    free(malloc(888));
    free(kept);
    return status != 0;
}
"""


# Ends by _exit (no destructor runs) or by abort (nothing can be written).
ENDINGS = r"""
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv)
{
    char *kept = malloc(4242);
    free(malloc(99));
    if (argc > 1 && strcmp(argv[1], "abort") == 0)
        abort();
    _exit(kept == NULL);
}
"""


def compile_program(source, folder, name):
    """Compiles source at -O0 (so no call is optimized away)."""
    src = os.path.join(folder, name + ".c")
    with open(src, "w") as f:
        f.write(source)
    exe = os.path.join(folder, name)
    proc = kit.run(["gcc", "-std=gnu99", "-O0", "-fno-builtin", "-pthread",
                    "-o", exe, src])
    kit.expect(proc.returncode == 0, "cannot compile %s" % name, proc)
    return exe


def record(args, timeout=120):
    """Runs tools/record ARGS; returns the finished process."""
    return kit.run([sys.executable, RECORD] + args, timeout=timeout)


def recorded_trace(out, proc):
    kit.expect(proc.returncode == 0, "tools/record failed", proc)
    kit.expect(reptrace.check_file(out, balanced=True) == [],
               "invalid trace: %s" % reptrace.check_file(out, True)[:3], proc)
    return reptrace.parse(out)


def test_records_every_function_exactly():
    with tempfile.TemporaryDirectory() as folder:
        exe = compile_program(KNOWN_CALLS, folder, "known")
        out = os.path.join(folder, "known.rep")
        proc = record(["-o", out, "--", exe])
        trace = recorded_trace(out, proc)
        got = [op.text() for op in trace.ops]
        kit.expect(got == KNOWN_OPS, "ops differ:\n  expected %s\n  got      "
                   "%s" % (KNOWN_OPS, got), proc)
        kit.expect(trace.ids == 5, "header says %d ids, expected 5"
                   % trace.ids)
        kit.expect(trace.header[0] == reptrace.suggested_heap(trace),
                   "header line 1 is %d, reptrace.suggested_heap says %d"
                   % (trace.header[0], reptrace.suggested_heap(trace)))
        with open(out) as f:
            head = f.read(2000)
        kit.expect("# made by: tools/record -o" in head and exe in head,
                   "the header comment does not say how it was made:\n"
                   + head)


def test_threads_go_into_one_trace():
    with tempfile.TemporaryDirectory() as folder:
        exe = compile_program(THREADED, folder, "threads")
        out = os.path.join(folder, "threads.rep")
        trace = recorded_trace(out, record(["-o", out, "--", exe]))
        owner = {}
        for thread in range(THREADS):
            size = 5000 + thread
            ids = {op.id for op in trace.ops if op.kind == "a"
                   and op.size == size}
            allocs = sum(op.kind == "a" and op.size == size
                         for op in trace.ops)
            reallocs = sum(op.kind == "r" and op.size == size
                           for op in trace.ops)
            kit.expect(allocs == ROUNDS and reallocs == (ROUNDS + 2) // 3,
                       "thread %d: %d mallocs and %d reallocs of %d bytes, "
                       "expected %d and %d" % (thread, allocs, reallocs, size,
                                               ROUNDS, (ROUNDS + 2) // 3))
            kit.expect(len(ids) < 10, "ids were not reused: %d" % len(ids))
            # Each worker's blocks carry one thread prefix, its own.
            threads = {op.thread for op in trace.ops if op.kind == "a"
                       and op.size == size}
            kit.expect(len(threads) == 1 and 0 not in threads,
                       "thread %d's mallocs on trace threads %s"
                       % (thread, threads))
            owner[thread] = threads.pop()
        kit.expect(len(set(owner.values())) == THREADS,
                   "the workers share trace threads: %s" % owner)
        frees = sum(op.kind == "f" for op in trace.ops)
        kit.expect(frees >= THREADS * ROUNDS,
                   "%d frees, expected at least %d" % (frees, THREADS * ROUNDS))


def test_fork_child_records_its_own_trace():
    with tempfile.TemporaryDirectory() as folder:
        exe = compile_program(FORKING, folder, "forking")
        keep = os.path.join(folder, "all")
        out = os.path.join(folder, "fork.rep")
        proc = record(["-o", out, "--all", keep, "--", exe])
        recorded_trace(out, proc)
        traces = [reptrace.parse(os.path.join(keep, name))
                  for name in sorted(os.listdir(keep))]
        kit.expect(len(traces) == 2, "expected 2 traces (parent, child), "
                   "found %d" % len(traces), proc)
        sizes = [[op.size for op in t.ops if op.kind == "a"] for t in traces]
        kinds = sorted((777 in s, 888 in s) for s in sizes)
        kit.expect(kinds == [(False, True), (True, False)],
                   "child must hold 777 only, parent 888 only: %s" % sizes)
        for t, s in zip(traces, sizes):
            kit.expect(s[0] == 4321, "each trace must start with the block "
                       "live at fork (4321): %s" % s)
            kit.expect(reptrace.validate(t, balanced=True) == [],
                       "%s invalid" % t.path)


def test_exit_without_destructor_still_writes_the_trace():
    with tempfile.TemporaryDirectory() as folder:
        exe = compile_program(ENDINGS, folder, "endings")
        out = os.path.join(folder, "exit.rep")
        trace = recorded_trace(out, record(["-o", out, "--", exe]))
        got = [op.text() for op in trace.ops]
        kit.expect(got == ["a 0 4242", "a 1 99", "f 1", "f 0"],
                   "after _exit: expected the block freed at the end, got %s"
                   % got)
        proc = record(["-o", out + "2", "--", exe, "abort"])
        kit.expect(proc.returncode == 1 and "ended without" in proc.stderr
                   and not os.path.exists(out + "2"),
                   "a crashed program has no trace: must say so", proc)


def test_python_program_records_valid_trace():
    with tempfile.TemporaryDirectory() as folder:
        out = os.path.join(folder, "py.rep")
        script = ("import json, re\n"
                  "d = [{'k%d' % i: list(range(i % 50))} for i in range(300)]\n"
                  "s = json.dumps(d)\n"
                  "print(len(re.findall(r'k\\d+', s)))\n")
        proc = record(["-o", out, "--", sys.executable, "-c", script])
        trace = recorded_trace(out, proc)
        kit.expect(proc.stdout.strip() == "300",
                   "the program's own output was lost", proc)
        kit.expect(len(trace.ops) > 1000, "only %d ops" % len(trace.ops),
                   proc)
        kinds = {op.kind for op in trace.ops}
        kit.expect(kinds >= {"a", "f", "r"}, "missing kinds: %s" % kinds)


def test_record_errors_are_clear():
    with tempfile.TemporaryDirectory() as folder:
        out = os.path.join(folder, "x.rep")
        proc = record(["-o", out, "--", os.path.join(folder, "missing")])
        kit.expect(proc.returncode == 1 and "cannot run" in proc.stderr
                   and "Traceback" not in proc.stderr,
                   "a missing program must give a clear error", proc)
        proc = record(["-o", out])
        kit.expect(proc.returncode == 2 and "no command" in proc.stderr,
                   "no command must be a usage error", proc)
        proc = record(["-o", out, "--process", "nosuchname", "--", "true"])
        kit.expect(proc.returncode == 1 and "nosuchname" in proc.stderr
                   and not os.path.exists(out),
                   "--process matching nothing must fail clearly", proc)


def test_recorder_builds_with_gcc_and_clang():
    if shutil.which("clang") is None:
        raise AssertionError("clang is missing: tools/setup.sh --test "
                             "installs it")
    with tempfile.TemporaryDirectory() as folder:
        for cc in ("gcc", "clang"):
            proc = kit.run(["make", "-s", "-C", "tools/recorder", "CC=" + cc,
                            "OUT=" + os.path.join(folder, cc + ".so")])
            kit.expect(proc.returncode == 0, "%s build failed" % cc, proc)


def test_shipped_real_traces_are_valid_documented_and_replay():
    names = sorted(n for n in os.listdir(kit.TRACES)
                   if n.startswith("real-") and n.endswith(".rep"))
    kit.expect(len(names) >= 4, "expected the recorded traces in traces/, "
               "found %s" % names)
    with open(os.path.join(kit.TRACES, "RECORDED.md")) as f:
        recorded_md = f.read()
    mdriver = os.path.join(kit.MALLOC, "mdriver")
    kit.expect(os.access(mdriver, os.X_OK), "malloc/mdriver is missing: "
               "`make -C malloc` (make test builds it)")
    for name in names:
        path = os.path.join(kit.TRACES, name)
        problems = reptrace.check_file(path, balanced=True)
        kit.expect(problems == [], "%s: %s" % (name, problems[:2]))
        with open(path) as f:
            head = f.read(600)
        kit.expect("# made by: tools/record " in head, "%s does not say "
                   "how it was recorded" % name)
        kit.expect("`%s`" % name in recorded_md, "traces/RECORDED.md does "
                   "not list %s" % name)
        proc = kit.run([mdriver, "-n", "-f", path])
        kit.expect(proc.returncode == 0, "%s does not replay validly on the "
                   "reference allocator" % name, proc)
