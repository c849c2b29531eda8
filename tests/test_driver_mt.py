"""mdriver -T N: N threads each replay their own copy of a trace, with every
check on and the figures of all of them (docs/driver.md, "Threads (-T)").

build/mt/mdriver-locked is the driver with tests/mt/locked.c, a thread-safe
allocator (one lock); malloc/mdriver has the plain mm.c, which is not
thread safe: its races must show up as errors, never as a hang.
"""
import json
import os
import re

import kit
from test_driver import BROKEN_TRACE, MDRIVER, broken, expect_error, mdriver

LOCKED = os.path.join(kit.BUILD, "mt", "mdriver-locked")
TRACES = ["random-heavy.rep", "binary.rep", "realloc-small.rep",
          "calloc-short.rep"]


def locked():
    kit.expect(os.path.exists(LOCKED), "%s is missing: run `make test-deps`"
               % LOCKED)
    return LOCKED


def files(names):
    return [a for n in names for a in ("-f", n)]


def test_threads_replay_copies_with_every_check():
    for threads in ("1", "2", "4"):
        proc = mdriver(locked(), "-n", "-T", threads, "-j", "-",
                       *files(TRACES), timeout=120)
        kit.expect(proc.returncode == 0, "exit status", proc)
        doc = json.loads(proc.stdout)
        for t in doc["traces"]:
            kit.expect(t["valid"] and t["threads"] == int(threads), t)
        ops = {t["name"]: t["ops"] for t in doc["traces"]}
        one = json.loads(mdriver(locked(), "-n", "-j", "-",
                                 *files(TRACES)).stdout)
        for t in one["traces"]:
            kit.expect(ops[t["name"]] == int(threads) * t["ops"],
                       "ops of all the threads: %r vs %r" % (ops, t))


def test_timed_threads_report_scaling_and_glibc():
    proc = mdriver(locked(), "-T", "2", "-l", "-f", "binary-short.rep",
                   timeout=120)
    out = kit.output(proc)
    kit.expect(proc.returncode == 0, "exit status", proc)
    kit.expect("Results for glibc malloc (ops and Kops: of all the threads" in out, out)
    m = re.search(r"^Scaling \(all threads vs one, same run\): mm (\d+) Kops vs "
                  r"(\d+) = [\d.]+ x; glibc (\d+) Kops vs (\d+) = [\d.]+ x$",
                  out, re.M)
    kit.expect(m is not None and all(int(g) > 0 for g in m.groups()), out)
    doc = json.loads(mdriver(locked(), "-T", "2", "-j", "-", "-f",
                             "binary-short.rep").stdout)
    t = doc["traces"][0]
    kit.expect(t["scaling"] > 0 and t["glibc_scaling"] > 0, t)
    # the CPU share of the threads' timed replays: a figure in (0, 1]
    # (capped: on a tiny trace the clock reads outlast the window), none
    # with one thread
    kit.expect(0 < t["cpu_share"] <= 1 and 0 < t["glibc_cpu_share"] <= 1, t)
    one = json.loads(mdriver(locked(), "-j", "-", "-f",
                             "binary-short.rep").stdout)["traces"][0]
    kit.expect(one["cpu_share"] is None and one["glibc_cpu_share"] is None,
               one)
    # ops per CPU-second of each thread, times the threads; with -T 1 too,
    # from untimed replays (the CPU-time scaling's denominator); none
    # without -T (the default run does not pay for them)
    one_t = json.loads(mdriver(locked(), "-T", "1", "-j", "-", "-f",
                               "binary-short.rep").stdout)["traces"][0]
    for r in (t, one_t):
        kit.expect(r["cpu_kops"] > 0 and r["glibc_cpu_kops"] > 0, r)
    kit.expect(one["cpu_kops"] is None and one["glibc_cpu_kops"] is None, one)
    out = mdriver(locked(), "-T", "2", "-v", "-f", "binary-short.rep").stdout
    kit.expect(re.search(r"^  binary-short.rep: .*, CPU share of the 2 threads "
                         r"[\d.]+ \(glibc [\d.]+\)$", out, re.M), out)


def test_error_names_the_thread_line_and_op():
    # Every thread meets the trigger on line 8; the first to fail is named.
    for name, kind in (("overlap", "overlap"), ("calloc", "calloc not zeroed"),
                       ("segv", "crashed"), ("loop", "timeout")):
        proc = mdriver(broken(name), "-n", "-T", "3", "-s", "2",
                       trace_text=BROKEN_TRACE.replace("c 3 4 8", "c 3 1 777")
                       if name == "calloc" else BROKEN_TRACE, timeout=60)
        out = kit.output(proc)
        line = 10 if name == "calloc" else 8
        m = re.search(r'^ERROR \[trace [^,]+, thread ([0-2]), line %d, op '
                      r'"[^"]+"\]: %s:' % (line, kind), out, re.M)
        kit.expect(proc.returncode == 1 and m is not None,
                   "%s: the thread, line and kind" % name, proc)


def test_crash_names_the_thread_that_crashed():
    proc = mdriver(broken("segv"), "-n", "-T", "2", "-j", "-",
                   trace_text=BROKEN_TRACE, timeout=60)
    err = json.loads(proc.stdout)["traces"][0]["error"]
    kit.expect(err["kind"] == "crashed" and err["line"] == 8
               and err["thread"] in (0, 1) and "SIGSEGV" in err["message"],
               err)


def test_plain_mm_races_are_errors_never_hangs():
    """mm.c is not thread safe: with 4 threads its races (overlap, a block
    outside the heap, corruption, a crash) must be an ERROR at a line with
    exit status 1, or the run passes by luck; never a hang or a crash of
    the driver itself."""
    for _ in range(3):
        proc = kit.run([MDRIVER, "-t", kit.TRACES, "-n", "-T", "4", "-s", "30",
                        "-f", "random-heavy.rep"], timeout=120)
        out = kit.output(proc)
        if proc.returncode == 0:
            kit.expect("ERROR" not in out, out)
            continue
        kit.expect(proc.returncode == 1 and re.search(
            r'^ERROR \[trace random-heavy\.rep, thread [0-3], line \d+, op '
            r'"[^"]+"\]: [a-z0-9 ]+:',
            out, re.M), "a clear error", proc)


def test_bad_thread_counts_are_usage_errors():
    for bad in ("0", "65", "x", "2x", "-1"):
        proc = kit.run([MDRIVER, "-T", bad, "-f", "short1-bal.rep"])
        kit.expect(proc.returncode == 2 and "-T takes" in proc.stderr, proc)
    proc = kit.run([MDRIVER, "-T", "2", "--heap-map", "/dev/null", "-f",
                    "short1-bal.rep"])
    kit.expect(proc.returncode == 2 and "--heap-map" in proc.stderr, proc)


# An MT trace: thread 1 frees thread 0's blocks, thread 2 reallocs thread
# 1's, thread 0 frees thread 2's.
MT_TRACE = """\
20000
5
11
1
a 0 64
1: a 1 32
1: f 0
2: a 4 %d
a 2 48
2: c 3 4 8
f 3
1: f 2
2: r 1 100
0: f 4
2: f 1
"""


def churn_trace(threads=3, rounds=600, seed=7):
    """Each thread allocates blocks that the next thread frees or reallocs."""
    import random
    rng = random.Random(seed)
    ops, live = [], []
    for i in range(rounds):
        t = i % threads
        ops.append("%s: a %d %d" % (t, i, rng.randint(1, 300)))
        live.append(i)
        if len(live) > 20:
            victim = live.pop(rng.randrange(len(live)))
            kind = "f %d" % victim if rng.random() < 0.7 else None
            if kind is None:
                ops.append("%d: r %d %d" % ((t + 1) % threads, victim,
                                            rng.randint(1, 600)))
                ops.append("%d: f %d" % ((t + 2) % threads, victim))
            else:
                ops.append("%d: %s" % ((t + 1) % threads, kind))
    ops += ["%d: f %d" % (v % threads, v) for v in live]
    return "20000\n%d\n%d\n1\n%s\n" % (rounds, len(ops), "\n".join(ops))


def test_mt_trace_hands_blocks_across_threads():
    for text in (MT_TRACE % 200, churn_trace()):
        proc = mdriver(locked(), "-n", "-j", "-", trace_text=text, timeout=60)
        kit.expect(proc.returncode == 0, "exit status", proc)
        t = json.loads(proc.stdout)["traces"][0]
        kit.expect(t["valid"] and t["threads"] == 3
                   and t["ops"] == text.count("\n") - 4, t)
    proc = mdriver(locked(), "-l", trace_text=churn_trace(), timeout=120)
    kit.expect(proc.returncode == 0 and "Scaling (all threads vs one" in
               proc.stdout, "timed, with the scaling", proc)


COUNT_THREADS = os.path.join(kit.BUILD, "mt", "count_threads.so")


def threads_created(args):
    """pthread_create calls of a timed mdriver-locked run (its children
    too), counted by tests/mt/count_threads.c."""
    kit.expect(os.path.exists(COUNT_THREADS), "%s is missing: run `make "
               "test-deps`" % COUNT_THREADS)
    log = kit.write_temp("", suffix=".log")
    proc = mdriver(locked(), "-j", "-", *args, timeout=300,
                   env={"LD_PRELOAD": COUNT_THREADS,
                        "COUNT_THREADS_FILE": log})
    kit.expect(proc.returncode == 0, "exit status", proc)
    with open(log) as f:
        lines = f.read().split()
    os.unlink(log)
    kit.expect(set(lines) <= {"create"}, "the log: %r" % lines[:5])
    return json.loads(proc.stdout)["traces"][0], len(lines)


def test_timed_replays_reuse_their_threads():
    # A timed trace runs hundreds of timed replays; their threads are one
    # pool per trace (docs/driver.md, "Threads"): the checked replays 1 and
    # 2 start N - 1 threads each, the timed ones N - 1 in all (before: N - 1
    # per timed replay, thousands per trace).
    runs = [(["-T", "2", "-f", "binary-short.rep"], 2),
            (["-T", "4", "-f", "binary-short.rep"], 4),
            (["-f", kit.write_temp(MT_TRACE % 20)], 3)]
    for args, threads in runs:
        t, created = threads_created(args)
        kit.expect(t["valid"] and t["threads"] == threads
                   and t["secs"] is not None and t["scaling"] is not None, t)
        kit.expect(threads - 1 <= created <= 3 * (threads - 1),
                   "%s: %d threads created for a timed trace of %d threads"
                   % (" ".join(args), created, threads))


def test_mt_trace_errors_name_the_thread_of_the_op():
    # 777 bytes: the trigger of the broken allocators, on thread 2, line 8.
    for name, kind in (("overlap", "overlap"), ("segv", "crashed"),
                       ("loop", "timeout"), ("misaligned", "misaligned")):
        proc = mdriver(broken(name), "-n", "-s", "2", timeout=60,
                       trace_text=MT_TRACE % 777)
        out = kit.output(proc)
        kit.expect(proc.returncode == 1 and re.search(
            r'^ERROR \[trace [^,]+, thread 2, line 8, op "2: a 4 777"\]: '
            r'%s:' % kind, out, re.M), name, proc)


def test_threads_options_refuse_mt_traces():
    for opts in (["-T", "2"], ["--heap-map", os.devnull]):
        proc = mdriver(locked(), "-n", *opts, trace_text=MT_TRACE % 8)
        kit.expect(proc.returncode == 2 and "multi-threaded trace" in
                   proc.stderr, opts, proc)


def test_mt_suite_families_and_replays():
    """traces/mt/: each family is multi-threaded as its docstring says, and
    the suite replays valid with threads (the locked allocator) and with
    the plain mm.c on one thread (--serial, as `make run` does)."""
    import sys
    sys.path.insert(0, kit.TOOLS)
    import reptrace
    mt = os.path.join(kit.TRACES, "mt")
    names = [n.strip() for n in open(os.path.join(mt, "suite.txt"))
             if n.strip() and not n.startswith("#")]
    kit.expect(len(names) == 3, names)
    for name in names:
        ops = reptrace.parse(os.path.join(mt, name)).ops
        owner, remote = {}, 0
        for op in ops:
            if op.kind in "ac":
                owner[op.id] = op.thread
            elif op.id >= 0 and owner.get(op.id) != op.thread:
                remote += 1
        threads = {op.thread for op in ops}
        kit.expect(len(threads) >= 2 and (remote > 0 or "churn" in name),
                   "%s: threads %s, remote frees %d" % (name, threads, remote))
    proc = kit.run([locked(), "-t", mt, "-n", "-j", "-"], timeout=300)
    doc = json.loads(proc.stdout)
    kit.expect(proc.returncode == 0 and all(
        t["valid"] and t["threads"] >= 2 for t in doc["traces"]), proc)
    proc = kit.run([MDRIVER, "-t", mt, "-n", "--serial", "-j", "-"],
                   timeout=300)
    doc = json.loads(proc.stdout)
    kit.expect(proc.returncode == 0 and all(
        t["valid"] and t["threads"] == 1 for t in doc["traces"]), proc)


def test_d2_with_threads_checks_at_barriers():
    """-d 2 with threads: every 16 op indexes (MT_CHECK_EVERY, config.h) and
    at the end, all threads stop and one runs mm_checkheap and the full
    payload sweep."""
    proc = mdriver(locked(), "-n", "-d", "2", "-T", "3", "-f",
                   "random-heavy.rep", timeout=120)
    kit.expect(proc.returncode == 0, "valid under -d 2 with threads", proc)
    proc = mdriver(locked(), "-n", "-d", "2", "-t", os.path.join(
        kit.TRACES, "mt"), timeout=120)
    kit.expect(proc.returncode == 0, "the MT suite under -d 2", proc)
    # The checker complains once a 777-byte block exists: at the end.
    proc = mdriver(broken("checker"), "-n", "-d", "2", "-T", "2",
                   trace_text=BROKEN_TRACE)
    kit.expect(proc.returncode == 1 and re.search(
        r'^ERROR \[trace [^,]+, thread [01], line 14, op "f 2"\]: checkheap '
        r'failed:', kit.output(proc), re.M), "checker at the end", proc)
    # a 2 777 corrupts id 1 (its neighbour), freed only at the end: the
    # sweep at the barrier before op index 16 (line 20) finds it first.
    ops = ["a 0 64", "a 1 32", "a 2 777"] + ["a %d 16" % i
                                             for i in range(3, 23)]
    ops += ["f %d" % i for i in range(22, -1, -1)]
    text = "20000\n23\n%d\n1\n%s\n" % (len(ops), "\n".join(ops))
    for debug, line, words in (("2", 20, "full payload sweep (-d 2)"),
                               ("0", 4 + len(ops) - 1, "before mm_free")):
        proc = mdriver(broken("overwrite"), "-n", "-d", debug, "-T", "2",
                       trace_text=text)
        m = re.search(r'^ERROR \[trace [^,]+, thread [01], line (\d+), op '
                      r'"[^"]+"\]: payload corrupted: ([^:]+):',
                      kit.output(proc), re.M)
        kit.expect(proc.returncode == 1 and m is not None and
                   (int(m.group(1)), m.group(2)) == (line, words),
                   "-d %s: line %d, %r" % (debug, line, words), proc)


def test_thread_sanitizer_finds_no_race_in_the_driver():
    """build/mt/mdriver-tsan: the driver and tests/mt/locked.c under
    ThreadSanitizer (halt_on_error: a report aborts the replay, which
    mdriver names) replay the MT suite, and random-heavy with -T 4, with 0
    reports. The control, the plain mm.c under TSan with -T 2, is
    reported."""
    tsan = os.path.join(kit.BUILD, "mt", "mdriver-tsan")
    env = {"TSAN_OPTIONS": "halt_on_error=1"}
    for args in (["-t", os.path.join(kit.TRACES, "mt")],
                 ["-t", kit.TRACES, "-T", "4", "-f", "random-heavy.rep"]):
        proc = kit.run([tsan, "-n", "-s", "300"] + args, env=env,
                       timeout=600)
        out = kit.output(proc)
        kit.expect(proc.returncode == 0 and "ThreadSanitizer" not in out,
                   "TSan reports", proc)
    proc = kit.run([os.path.join(kit.BUILD, "mt", "mdriver-tsan-mm"), "-n",
                    "-t", kit.TRACES, "-T", "2", "-f", "random-heavy.rep"],
                   env=env, timeout=600)
    kit.expect(proc.returncode == 1 and re.search(
        r"^ERROR \[trace random-heavy\.rep, thread [01], line \d+, op "
        r'"[^"]+"\]: crashed: ThreadSanitizer: data race', kit.output(proc),
        re.M), "the plain mm.c's races are reported", proc)


def test_plain_mm_on_the_mt_suite_is_a_clear_error_never_a_hang():
    """The single-threaded mm.c given the MT suite with its threads: each
    trace is valid by luck or an ERROR at a thread and a line; the run ends
    well within its time limit (-s 30 per trace)."""
    proc = kit.run([MDRIVER, "-t", os.path.join(kit.TRACES, "mt"), "-n",
                    "-s", "30"], timeout=300)
    out = kit.output(proc)
    errors = re.findall(r'^ERROR \[trace (mt-[a-z-]+\.rep), thread \d+, line '
                        r'\d+, op "[^"]+"\]: [a-z0-9 ]+:', out, re.M)
    kit.expect(proc.returncode in (0, 1) and len(errors) == out.count("ERROR")
               and (proc.returncode == 1) == bool(errors), "clear errors",
               proc)


MT_ERROR = (r'^ERROR \[trace [^,]+, thread \d+, line \d+, op "[^"]+"\]: '
            r'(overlap|payload corrupted|crashed|outside heap|'
            r'misaligned|timeout)')


def test_unlocked_free_list_is_an_error_every_run():
    """tests/broken/nolock.c: size-class free lists with no lock (and a
    sched_yield inside the unguarded pop and push). Every run with threads
    must be an ERROR (measured: 20 of 20 with -T 2, 10 of 10 on the MT
    suite); the same allocator on one thread is valid."""
    nolock = broken("nolock")
    for args in (["-T", "2", "-f", "random-heavy.rep"],
                 ["-T", "4", "-f", "random-heavy.rep"],
                 ["-T", "2", "-f", "random-heavy.rep"],
                 ["-t", os.path.join(kit.TRACES, "mt")]):
        proc = kit.run([nolock, "-t", kit.TRACES, "-n", "-s", "30"] + args,
                       timeout=120)
        kit.expect(proc.returncode == 1 and re.search(
            MT_ERROR, kit.output(proc), re.M), args, proc)
    proc = mdriver(nolock, "-n", "-f", "random-heavy.rep", timeout=60)
    kit.expect(proc.returncode == 0, "valid on one thread", proc)


# Thread 1 frees thread 0's only block (id 0): the wrong list (thread 1's)
# keeps it while thread 0's arena, now empty, rewinds and carves it again
# (id 2); thread 1 pops it (id 3). The ids order the ops so that ids 2 and
# 3 are both live whichever comes second (ids 5 and 6 hold each thread
# back): an overlap on line 10 or 11, on every run.
REMOTE_TRACE = """\
20000
10
14
1
1: a 9 16
a 0 64
1: f 0
1: a 1 16
0: f 1
a 2 64
1: a 3 64
a 5 8
1: a 6 8
1: f 5
0: f 6
1: f 3
f 2
1: f 9
"""


def test_remote_free_on_the_wrong_list_is_an_overlap():
    """tests/broken/remotefree.c: per-thread arenas whose remote free puts
    the block on the freeing thread's list. REMOTE_TRACE hands a block out
    twice on every run; the locked allocator replays it valid, and so does
    remotefree.c with -T 4 (copies of a trace: no remote free)."""
    for _ in range(3):
        proc = mdriver(broken("remotefree"), "-n", trace_text=REMOTE_TRACE,
                       timeout=60)
        kit.expect(proc.returncode == 1 and re.search(
            r'^ERROR \[trace [^,]+, thread [01], line (10, op "a 2 64"|11, '
            r'op "1: a 3 64")\]: overlap: ', kit.output(proc), re.M),
            "the block handed out twice", proc)
    proc = mdriver(locked(), "-n", trace_text=REMOTE_TRACE)
    kit.expect(proc.returncode == 0, "the trace is valid", proc)
    proc = mdriver(broken("remotefree"), "-n", "-T", "4", "-f",
                   "random-heavy.rep", "-f", "binary.rep", timeout=120)
    kit.expect(proc.returncode == 0, "no remote free, no error", proc)


def test_verbose_prints_the_arena_stats_after_a_threaded_replay():
    """build/mt/mdriver-arenas (mm.c -DMM_ARENAS) replays the MT suite with
    its threads, valid; -v prints mm_stats per trace, and the arenas' ops
    add up to the trace's ops (malloc, free, realloc: one each). The
    locked allocator defines no mm_stats: nothing is printed."""
    arenas = os.path.join(kit.BUILD, "mt", "mdriver-arenas")
    kit.expect(os.path.exists(arenas), "%s is missing: run `make test-deps`"
               % arenas)
    mt = os.path.join(kit.TRACES, "mt")
    proc = kit.run([arenas, "-t", mt, "-n", "-v"], timeout=300)
    out = kit.output(proc)
    kit.expect(proc.returncode == 0 and "ERROR" not in out, proc)
    rows = dict(re.findall(r"^(mt-[a-z-]+\.rep) +1 +yes +[\d.]+% +(\d+)", out,
                           re.M))
    kit.expect(len(rows) == 3, "3 valid traces", out)
    blocks = re.findall(r"^  (mt-[a-z-]+\.rep): mm_stats, (\d+) arenas? after "
                        r"replay 1 with (\d+) threads\n((?:    arena .*\n)+)",
                        out, re.M)
    kit.expect(sorted(b[0] for b in blocks) == sorted(rows), out)
    arena_re = (r"^    arena (\d+): ops (\d+), remote frees (\d+), in use "
                r"(\d+) B, free (\d+) B, cached (\d+) B, regions (\d+)$")
    for name, count, threads, lines in blocks:
        stats = re.findall(arena_re, lines, re.M)
        kit.expect(len(stats) == int(count) >= 1 and int(threads) >= 2
                   and "implausible" not in lines, lines)
        kit.expect(sum(int(s[1]) for s in stats) == int(rows[name]),
                   "%s: the arenas' ops vs the trace's" % name, out)
        kit.expect(all(int(s[6]) >= 1 for s in stats), "regions", lines)
    proc = kit.run([arenas, "-t", kit.TRACES, "-n", "-v", "-T", "2", "-f",
                    "random-heavy.rep"], timeout=120)
    kit.expect(proc.returncode == 0 and re.search(
        r"^  random-heavy\.rep: mm_stats, \d+ arenas? after replay 1 with 2 "
        r"threads$", proc.stdout, re.M), "-T 2 copies", proc)
    proc = kit.run([locked(), "-t", mt, "-n", "-v"], timeout=300)
    kit.expect(proc.returncode == 0 and "mm_stats" not in proc.stdout, proc)


def test_json_has_the_arena_stats_after_a_threaded_replay():
    """-j: per trace "mm_stats" (count and arenas, the figures -v prints)
    after a replay with threads of mm.c's arena build, null otherwise; the
    arenas' ops add up to the trace's. Timed: the MT traces' threaded
    timing (one slot per block) stays valid and gives both scalings."""
    arenas = os.path.join(kit.BUILD, "mt", "mdriver-arenas")
    kit.expect(os.path.exists(arenas), "%s is missing: run `make test-deps`"
               % arenas)
    mt = os.path.join(kit.TRACES, "mt")
    proc = kit.run([arenas, "-t", mt, "-n", "-j", "-"], timeout=300)
    kit.expect(proc.returncode == 0, proc)
    doc = json.loads(proc.stdout)
    kit.expect(len(doc["traces"]) == 3, doc)
    for t in doc["traces"]:
        stats = t["mm_stats"]
        kit.expect(stats is not None and stats["count"] >= 1 and
                   len(stats["arenas"]) == stats["count"], t)
        kit.expect(sum(a["ops"] for a in stats["arenas"]) == t["ops"],
                   "%s: the arenas' ops vs the trace's" % t["name"], t)
        kit.expect(all(a["plausible"] and a["regions"] >= 1 and
                       set(a) == {"arena", "ops", "remote_frees", "in_use",
                                  "free", "cached", "regions", "plausible"}
                       for a in stats["arenas"]), stats)
    one = json.loads(kit.run([arenas, "-t", kit.TRACES, "-n", "-j", "-",
                              "-f", "binary-short.rep"]).stdout)
    kit.expect(one["traces"][0]["mm_stats"] is None, "one thread: null", one)
    lock = json.loads(kit.run([locked(), "-t", mt, "-n", "-j", "-"],
                              timeout=300).stdout)
    kit.expect(all(t["mm_stats"] is None for t in lock["traces"]),
               "no mm_stats in tests/mt/locked.c: null", lock)
    proc = kit.run([arenas, "-t", mt, "-j", "-", "-f",
                    "mt-larson-short.rep", "-f",
                    "mt-producer-consumer-short.rep"], timeout=300)
    kit.expect(proc.returncode == 0, proc)
    for t in json.loads(proc.stdout)["traces"]:
        kit.expect(t["valid"] and t["kops"] > 0 and t["scaling"] > 0 and
                   t["glibc_scaling"] > 0, t)


def test_sbrk_from_threads_checked_and_in_timing_mode():
    """memlib's mem_sbrk from 4 threads at once (tests/mt/sbrk_mt.c): under
    its lock (checked mode), then in timing mode, where a growth inside the
    pages already granted takes no lock and one past them takes it: the
    ranges are disjoint, inside the heap, and add up to the heap; also
    under ThreadSanitizer, with 0 reports. A bad count is a usage error."""
    env = {"TSAN_OPTIONS": "halt_on_error=1"}
    for name, growths in (("sbrk_mt", "3000"), ("sbrk_mt-tsan", "500")):
        proc = kit.run([os.path.join(kit.BUILD, "mt", name), "4", growths],
                       env=env, timeout=120)
        out = kit.output(proc)
        kit.expect(proc.returncode == 0 and "ThreadSanitizer" not in out and
                   out.strip() == "sbrk_mt: 4 threads, %d growths ok"
                   % (3 * int(growths)), name, proc)
    proc = kit.run([os.path.join(kit.BUILD, "mt", "sbrk_mt"), "4", "0"])
    kit.expect(proc.returncode == 2 and "bad argument '0' (expected 1..100000)"
               in kit.output(proc), "bad usage", proc)


def test_harness_ceiling_allocator_replays_with_threads():
    """build/mt/mdriver-bump (tests/mt/bump.c, the harness's ceiling in
    docs/bench-mt.md: per-thread chunks and free lists) passes every check
    with -T 1, 2 and 4, and its timed -T 2 run reports the scalings."""
    bump = os.path.join(kit.BUILD, "mt", "mdriver-bump")
    for threads in ("1", "2", "4"):
        proc = mdriver(bump, "-n", "-T", threads, "-j", "-", *files(TRACES),
                       timeout=120)
        kit.expect(proc.returncode == 0, "exit status", proc)
        for t in json.loads(proc.stdout)["traces"]:
            kit.expect(t["valid"] and t["threads"] == int(threads), t)
    doc = json.loads(mdriver(bump, "-T", "2", "-j", "-", "-f",
                             "binary-short.rep", timeout=120).stdout)
    t = doc["traces"][0]
    kit.expect(t["valid"] and t["scaling"] > 0 and t["glibc_scaling"] > 0, t)
