#!/usr/bin/env python3
"""Benchmark of mm.c's arena mode (docs/bench-arenas.md, docs/design.md).

Usage: tools/bench_arenas.py [--rounds N] [--ops N] [--no-mt] [--out FILE]
                             [-t DIR]

1. Single-threaded cost: builds mdriver with the plain mm.c, with
   -DMM_ARENAS (threads bound at their first call) and with -DMM_ARENAS
   -DMM_ARENA_GETCPU (sched_getcpu() at every call) under
   build/allocator/bench-arenas-*, and replays the default suite with each,
   N rounds interleaved (plain, bound, getcpu, then again). Prints the median
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
   `mdriver -n -d 0` on the suite (one replay per trace) with each build;
   the instructions executed inside mm_* and their ratio to the plain
   build's (skipped when valgrind is missing).
4. Multi-threaded throughput: builds tools/bench_mt.c with both arena
   builds and runs it at 1, 2 and 4 threads, without and with remote frees
   (every 4th free is of a neighbour's block), N rounds interleaved; prints
   the median Kops of mm.c and of glibc in the same process (--no-mt: not
   run).
Prints markdown; --out FILE also writes it, with the command line, to FILE.
Standard library only.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys

import bench_allocator as ba

ROOT = ba.ROOT
OUTDIR = ba.OUTDIR
MDRIVERS = [("plain", ""), ("bound", "-DMM_ARENAS"),
            ("getcpu", "-DMM_ARENAS -DMM_ARENA_GETCPU")]
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
    proc = subprocess.run([binary, str(threads), str(ops), str(cross)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)
    words = proc.stdout.split()
    if proc.returncode != 0 or len(words) != 10:
        ba.fail("%s failed: %s" % (binary, proc.stderr))
    return float(words[7]), float(words[9])


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
    lines = ["| build | Kops/s (mm) | Kops/s (glibc) | mm vs plain |",
             "|---|---|---|---|"]
    for name, _ in bins:
        mm = statistics.median(x[0] for x in runs[name])
        lines.append("| %s | %.0f | %.0f | %.3f |" % (
            name, mm, statistics.median(x[1] for x in runs[name]), mm / plain))
    return lines


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
    counts = [(n, instructions(os.path.join(OUTDIR, "bench-arenas-" + n),
                               trace_dir)) for n, _ in MDRIVERS]
    lines = ["| build | instructions in mm_* | vs plain |", "|---|---|---|"]
    for name, n in counts:
        lines.append("| %s | %d | %.4f |" % (name, n, n / counts[0][1]))
    return lines


def multi_threaded(rounds, ops):
    bins = [(n, build_bench_mt(n, f)) for n, f in MDRIVERS[1:]]
    cases = [(t, c) for c in CROSS for t in THREADS]
    figures = {(n, t, c): [] for n, _ in bins for t, c in cases}
    for _ in range(rounds):
        for t, c in cases:
            for name, binary in bins:
                figures[(name, t, c)].append(bench_mt(binary, t, ops, c))
    lines = ["| binding | threads | remote frees | Kops/s (mm) | Kops/s (glibc)"
             " | mm / glibc |", "|---|---|---|---|---|---|"]
    for name, _ in bins:
        for t, c in cases:
            f = figures[(name, t, c)]
            mm = statistics.median(x[0] for x in f)
            libc = statistics.median(x[1] for x in f)
            lines.append("| %s | %d | %s | %.0f | %.0f | %.2f |" % (
                name, t, "1 in %d" % c if c else "none", mm, libc, mm / libc))
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
    report = "\n".join(text) + "\n"
    sys.stdout.write(report)
    if args.out:
        with open(args.out, "w") as f:
            f.write("Command: `%s`\n\n%s" % (" ".join(sys.argv), report))


if __name__ == "__main__":
    main()
