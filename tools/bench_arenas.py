#!/usr/bin/env python3
"""Benchmark of mm.c's arena mode (docs/bench-arenas.md, docs/design.md).

Usage: tools/bench_arenas.py [--rounds N] [--ops N] [--no-mt] [--out FILE]
                             [-t DIR]

The builds (mdriver under build/allocator/bench-arenas-*, bench_mt under
build/allocator/bench_mt-*): plain (students' mm.c), bound (-DMM_ARENAS:
threads bound at their first call, thread caches, the spinlock: the
default), getcpu (+ -DMM_ARENA_GETCPU: sched_getcpu() at every call), mutex
(+ -DMM_ARENA_MUTEX: a pthread mutex per arena instead of the spinlock),
nocache (+ -DMM_NO_THREAD_CACHE: no thread caches, the spinlock).
1. Single-threaded cost: replays the default suite with each mdriver build,
   N rounds interleaved (plain, bound, ..., then again). Prints the median
   of mdriver's total Kops (and glibc's Kops of the same runs) per build,
   each arena build's median Kops against the plain build's, and the same
   ratio normalized by glibc (median of mm/glibc Kops within each run, over
   the plain build's): on a loaded machine the load hits both alike.
2. Single-threaded cost, in CPU time: tools/bench_mt.c's THREADS=0 mode
   (the main thread alone, 4M ops) built with the plain mm.c and with both
   arena builds, N rounds interleaved: the median Kops of each, and against
   the plain build's.
3. Single-threaded cost, in instructions (deterministic, unlike time on a
   shared machine): valgrind --tool=callgrind --toggle-collect='mm_*' over
   `mdriver -n -d 0` on the suite (one replay per trace), and on its
   traces recorded from real programs (traces/real-*.rep) alone, with each
   build; the instructions executed inside mm_* (memlib's calls included:
   mem_sbrk's garbage fill is most of them) and their ratio to the plain
   build's (skipped when valgrind is missing).
4. Multi-threaded throughput: tools/bench_mt.c with every arena build at
   1, 2 and 4 threads, without and with remote frees (every 4th free is of
   a neighbour's block), N rounds interleaved; prints the medians of mm.c
   against glibc in the same process, in wall-clock time and per CPU
   second (--no-mt: not run, nor 5 and 6).
5. mdriver -T 1, 2 and 4 on the suite with the bound build, N rounds
   interleaved: the medians of the aggregate Kops of mm.c and glibc (the
   same run), mm/glibc, and the scaling against -T 1; util.
6. The multi-threaded suite (traces/mt/) with the bound build, threaded
   (its own threads) and --serial (one thread, the ops in file order):
   util per trace and in total (-n: correctness and util only).
Prints markdown; --out FILE also writes it, with the command line, to FILE.
Standard library only.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys

import bench_allocator as ba

ROOT = ba.ROOT
OUTDIR = ba.OUTDIR
MDRIVERS = [("plain", ""), ("bound", "-DMM_ARENAS"),
            ("getcpu", "-DMM_ARENAS -DMM_ARENA_GETCPU"),
            ("mutex", "-DMM_ARENAS -DMM_ARENA_MUTEX"),
            ("nocache", "-DMM_ARENAS -DMM_NO_THREAD_CACHE")]
THREADS = [1, 2, 4]
CROSS = [0, 4]


def build_bench_mt(name, flags):
    out = os.path.join(OUTDIR, "bench_mt-" + name)
    cmd = (["gcc", "-std=gnu99", "-Wall", "-Wextra", "-Werror", "-O2", "-g"] +
           flags.split() + ["-o", out, os.path.join(ROOT, "tools/bench_mt.c"),
                            os.path.join(ROOT, "malloc/mm.c"),
                            os.path.join(ROOT, "malloc/memlib.c"), "-pthread"])
    proc = subprocess.run(cmd, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        ba.fail("building %s failed:\n%s" % (out, proc.stdout))
    return out


def bench_mt(binary, threads, ops, cross):
    """(mm Kops, glibc Kops, mm Kops per CPU second, glibc's)."""
    proc = subprocess.run([binary, str(threads), str(ops), str(cross)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)
    words = proc.stdout.split()
    if proc.returncode != 0 or len(words) != 14:
        ba.fail("%s failed: %s" % (binary, proc.stderr))
    return tuple(float(words[i]) for i in (7, 9, 11, 13))


def single_threaded(rounds, trace_dir):
    bins = [(n, ba.build("arenas-" + n, f)) for n, f in MDRIVERS]
    runs = {n: [] for n, _ in MDRIVERS}
    for _ in range(rounds):
        for name, binary in bins:
            runs[name].append(ba.replay(binary, trace_dir))
    lines = ["| build | EXTRA_CFLAGS | util | Kops/s (mm) | Kops/s (glibc) "
             "| Kops vs plain | mm/glibc vs plain's |",
             "|---|---|---|---|---|---|---|"]

    def rel(name):
        return statistics.median(r["kops"] / r["glibc_kops"]
                                 for r in runs[name])
    plain = statistics.median(r["kops"] for r in runs["plain"])
    for name, flags in MDRIVERS:
        kops = statistics.median(r["kops"] for r in runs[name])
        lines.append("| %s | `%s` | %.1f%% | %.0f | %.0f | %.3f | %.3f |" % (
            name, flags, 100 * runs[name][0]["util"], kops,
            statistics.median(r["glibc_kops"] for r in runs[name]),
            kops / plain, rel(name) / rel("plain")))
    return lines


def single_thread_cpu(rounds):
    bins = [(n, build_bench_mt(n, f)) for n, f in MDRIVERS]
    runs = {n: [] for n, _ in bins}
    for _ in range(rounds):
        for name, binary in bins:
            runs[name].append(bench_mt(binary, 0, 4000000, 0))
    plain = statistics.median(x[0] for x in runs["plain"])
    lines = ["| build | Kops/s (mm) | Kops/s (glibc) | mm vs plain "
             "| mm / glibc |", "|---|---|---|---|---|"]
    for name, _ in bins:
        mm = statistics.median(x[0] for x in runs[name])
        lines.append("| %s | %.0f | %.0f | %.3f | %.2f |" % (
            name, mm, statistics.median(x[1] for x in runs[name]), mm / plain,
            statistics.median(x[0] / x[1] for x in runs[name])))
    return lines


def real_traces(trace_dir):
    """A folder with the suite's traces recorded from real programs."""
    out = os.path.join(OUTDIR, "bench-arenas-real")
    os.makedirs(out, exist_ok=True)
    names = sorted(n for n in os.listdir(trace_dir)
                   if n.startswith("real-") and n.endswith(".rep"))
    for n in names:
        shutil.copy(os.path.join(trace_dir, n), out)
    with open(os.path.join(out, "suite.txt"), "w") as f:
        f.write("\n".join(names) + "\n")
    return out


def instructions(binary, trace_dir):
    proc = subprocess.run(["valgrind", "--tool=callgrind",
                           "--callgrind-out-file=/dev/null",
                           "--toggle-collect=mm_*", binary, "-t", trace_dir,
                           "-n", "-d", "0"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    counts = [int(line.split()[-1]) for line in proc.stderr.splitlines()
              if "Collected :" in line]
    if proc.returncode != 0 or not counts:
        ba.fail("callgrind on %s failed:\n%s" % (binary, proc.stderr[-2000:]))
    return sum(counts)


def single_thread_instructions(trace_dir):
    if shutil.which("valgrind") is None:
        return ["(valgrind is missing: not measured)"]
    real = real_traces(trace_dir)
    counts = [(n, [instructions(os.path.join(OUTDIR, "bench-arenas-" + n), d)
                   for d in (trace_dir, real)]) for n, _ in MDRIVERS]
    lines = ["| build | instructions in mm_* (suite) | vs plain "
             "| (real-*.rep) | vs plain |", "|---|---|---|---|---|"]
    for name, n in counts:
        lines.append("| %s | %d | %.4f | %d | %.4f |" % (
            name, n[0], n[0] / counts[0][1][0], n[1], n[1] / counts[0][1][1]))
    return lines


def multi_threaded(rounds, ops):
    bins = [(n, build_bench_mt(n, f)) for n, f in MDRIVERS[1:]]
    cases = [(t, c) for c in CROSS for t in THREADS]
    figures = {(n, t, c): [] for n, _ in bins for t, c in cases}
    for _ in range(rounds):
        for t, c in cases:
            for name, binary in bins:
                figures[(name, t, c)].append(bench_mt(binary, t, ops, c))
    lines = ["| build | threads | remote frees | Kops/s (mm) | Kops/s (glibc)"
             " | mm / glibc | per CPU second: mm / glibc |",
             "|---|---|---|---|---|---|---|"]
    for name, _ in bins:
        for t, c in cases:
            f = figures[(name, t, c)]
            med = [statistics.median(x[i] for x in f) for i in range(4)]
            lines.append("| %s | %d | %s | %.0f | %.0f | %.2f | %.2f |" % (
                name, t, "1 in %d" % c if c else "none", med[0], med[1],
                statistics.median(x[0] / x[1] for x in f),
                statistics.median(x[2] / x[3] for x in f)))
    return lines


def replay_threads(binary, trace_dir, threads):
    proc = subprocess.run([binary, "-t", trace_dir, "-T", str(threads), "-j",
                           "-"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    try:
        result = json.loads(proc.stdout)
    except ValueError:
        result = None
    if proc.returncode != 0 or result is None or not result["valid"]:
        ba.fail("%s -T %d failed:\n%s" % (binary, threads,
                                          proc.stderr[-2000:]))
    return result


def suite_threads(rounds, trace_dir):
    binary = os.path.join(OUTDIR, "bench-arenas-bound")
    runs = {t: [] for t in THREADS}
    for _ in range(rounds):
        for t in THREADS:
            runs[t].append(replay_threads(binary, trace_dir, t))
    lines = ["| -T | util | Kops/s (mm) | Kops/s (glibc) | mm / glibc "
             "| mm vs -T 1 | glibc vs -T 1 |", "|---|---|---|---|---|---|---|"]
    one = [statistics.median(r[k] for r in runs[1])
           for k in ("kops", "glibc_kops")]
    for t in THREADS:
        mm = statistics.median(r["kops"] for r in runs[t])
        libc = statistics.median(r["glibc_kops"] for r in runs[t])
        lines.append("| %d | %.1f%% | %.0f | %.0f | %.2f | %.2f | %.2f |" % (
            t, 100 * runs[t][0]["util"], mm, libc,
            statistics.median(r["kops"] / r["glibc_kops"] for r in runs[t]),
            mm / one[0], libc / one[1]))
    return lines


def mt_suite_util(trace_dir):
    binary = os.path.join(OUTDIR, "bench-arenas-bound")
    mt_dir = os.path.join(trace_dir, "mt")
    runs = []
    for extra in ([], ["--serial"]):
        proc = subprocess.run([binary, "-t", mt_dir, "-n", "-j", "-"] + extra,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
        try:
            runs.append(json.loads(proc.stdout))
        except ValueError:
            ba.fail("%s -t %s failed:\n%s" % (binary, mt_dir,
                                              proc.stderr[-2000:]))
    lines = ["| trace | util, threaded | util, --serial | difference |",
             "|---|---|---|---|"]
    for mt, serial in zip(runs[0]["traces"], runs[1]["traces"]):
        lines.append("| %s | %.1f%% | %.1f%% | %+.1f |" % (
            mt["name"], 100 * mt["util"], 100 * serial["util"],
            100 * (mt["util"] - serial["util"])))
    lines.append("| total | %.1f%% | %.1f%% | %+.1f |" % (
        100 * runs[0]["util"], 100 * runs[1]["util"],
        100 * (runs[0]["util"] - runs[1]["util"])))
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--ops", type=int, default=2000000)
    ap.add_argument("--no-mt", action="store_true")
    ap.add_argument("--out")
    ap.add_argument("-t", dest="trace_dir",
                    default=os.path.join(ROOT, "traces"))
    args = ap.parse_args()
    if args.rounds < 1 or args.ops < 1:
        ba.fail("--rounds and --ops must be at least 1")
    os.makedirs(OUTDIR, exist_ok=True)
    text = ["## Single-threaded cost (the suite, median of %d rounds)" %
            args.rounds, ""] + single_threaded(args.rounds, args.trace_dir)
    text += ["", "## Single-threaded cost, instructions (callgrind, mdriver "
             "-n -d 0 on the suite)", ""]
    text += single_thread_instructions(args.trace_dir)
    text += ["", "## Single-threaded cost, CPU time (tools/bench_mt.c 0 "
             "4000000, median of %d rounds)" % args.rounds, ""]
    text += single_thread_cpu(args.rounds)
    if not args.no_mt:
        text += ["", "## tools/bench_mt.c (%d ops, median of %d rounds)" %
                 (args.ops, args.rounds), ""] + multi_threaded(args.rounds,
                                                               args.ops)
        text += ["", "## mdriver -T 1/2/4 on the suite (bound build, median "
                 "of %d rounds)" % args.rounds, ""]
        text += suite_threads(args.rounds, args.trace_dir)
        text += ["", "## The MT suite's util (traces/mt/, bound build, "
                 "mdriver -n), threaded and --serial", ""]
        text += mt_suite_util(args.trace_dir)
    report = "\n".join(text) + "\n"
    sys.stdout.write(report)
    if args.out:
        with open(args.out, "w") as f:
            f.write("Command: `%s`\n\n%s" % (" ".join(sys.argv), report))


if __name__ == "__main__":
    main()
