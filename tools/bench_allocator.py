#!/usr/bin/env python3
"""Benchmark of the reference allocator malloc/mm.c (docs/bench-allocator.md).

Usage: tools/bench_allocator.py [--rounds N] [--out FILE] [-t DIR]

Builds mdriver with mm.c in several variants (each placement policy,
coalescing off, footers in allocated blocks) under build/allocator/bench-*,
replays the default suite with each, RUNS rounds interleaved (variant A, B,
C, ..., then again) so that a noisy machine hurts them alike, and prints in
markdown:
  - per trace: util of the default build, the ideal bound of
    tools/tracestats.py, util/bound, glibc's util on the same trace
    (build/libc-util, `make libc-util`), and issue 8's goal on the recorded
    real-program traces (none below the first edition's util, FIRST_EDITION;
    the util goals over the generated families are seeds_bench.py's);
  - per variant: average util, throughput and glibc's throughput measured in
    the same mdriver run, and their ratio (median over the rounds), with the
    goal: at least THROUGHPUT_GOAL (1.2x) glibc's, the aim 2x.
--out FILE also writes the report, with the command line, to FILE.
Standard library only.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUTDIR = os.path.join(ROOT, "build", "allocator")
# Issue 8's goals that this suite measures (the util goals over seeds 1-20
# of the generated families are tools/seeds_bench.py's): the recorded
# real-program traces keep at least the first edition's util (mdriver -n
# with mm.c of commit 6b544d3), and throughput stays at least 1.2x glibc's.
FIRST_EDITION = {"real-python.rep": 0.9804471789, "real-gcc.rep": 0.9736951556,
                 "real-sqlite.rep": 0.775665603, "real-perl.rep": 0.9352867221,
                 "real-sort.rep": 0.9967093225}
THROUGHPUT_GOAL = 1.2
THROUGHPUT_AIM = 2.0

# name, EXTRA_CFLAGS, what it is
VARIANTS = [
    ("best", "-DMM_FIT=MM_FIT_BEST", "the default: bounded best fit"),
    ("first", "-DMM_FIT=MM_FIT_FIRST", "first fit"),
    ("next", "-DMM_FIT=MM_FIT_NEXT", "next fit (roving pointer)"),
    ("noquick", "-DMM_NO_QUICK", "best fit, no quick lists and no runs"),
    ("nocoalesce", "-DMM_NO_COALESCE", "best fit, coalescing off"),
    ("footer", "-DMM_ALLOC_FOOTER", "best fit, footers in allocated blocks"),
]


def fail(message):
    sys.stderr.write("bench_allocator: ERROR: %s\n" % message)
    sys.exit(1)


def build(name, flags):
    out = os.path.join(OUTDIR, "bench-" + name)
    cmd = ["make", "-s", "-C", os.path.join(ROOT, "malloc"), "-B",
           "OUT=" + out, "EXTRA_CFLAGS=" + flags]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True)
    if proc.returncode != 0:
        fail("building %s failed:\n%s" % (name, proc.stdout))
    return out


def replay(binary, trace_dir):
    proc = subprocess.run([binary, "-t", trace_dir, "-j", "-"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)
    if proc.returncode != 0:
        fail("%s failed (exit %d):\n%s" % (binary, proc.returncode,
                                            proc.stderr[-2000:]))
    try:
        return json.loads(proc.stdout)
    except ValueError:
        fail("%s -j - printed no JSON" % binary)


def bounds(paths):
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "tools",
                                                        "tracestats.py"),
                           "--bound"] + paths, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        fail("tracestats.py --bound failed:\n" + proc.stderr)
    result = {}
    for line in proc.stdout.splitlines():
        name, value = line.rsplit(None, 1)
        result[os.path.basename(name)] = float(value)
    return result


def libc_utils(paths):
    """glibc's util per trace name, from build/libc-util."""
    tool = os.path.join(ROOT, "build", "libc-util")
    if not os.access(tool, os.X_OK):
        fail("%s is missing: run `make libc-util`" % tool)
    proc = subprocess.run([tool] + paths, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        fail("libc-util failed:\n" + proc.stderr[-2000:])
    return {line.split()[0]: float(line.split()[1])
            for line in proc.stdout.splitlines()}


def weighted_mean(values, weights):
    total = sum(weights)
    return sum(v * w for v, w in zip(values, weights)) / total if total else 0.0


def trace_table(run, bound, glibc):
    lines = ["| trace | weight | util | bound | util/bound | glibc util |",
             "|---|---:|---:|---:|---:|---:|"]
    utils, bnds, glibcs, weights, worst = [], [], [], [], None
    for t in run["traces"]:
        b = bound[t["name"]]
        ratio = t["util"] / b
        g = glibc[t["name"]]
        lines.append("| %s | %d | %.1f%% | %.1f%% | %.2f | %.1f%% |"
                     % (t["name"], t["weight"], 100 * t["util"], 100 * b,
                        ratio, 100 * g))
        if t["weight"] > 0:
            utils.append(t["util"])
            bnds.append(b)
            glibcs.append(g)
            weights.append(t["weight"])
            if worst is None or ratio < worst[1]:
                worst = (t["name"], ratio)
    avg_u, avg_b = weighted_mean(utils, weights), weighted_mean(bnds, weights)
    lines.append("| **average** | | **%.1f%%** | **%.1f%%** | **%.2f** | "
                 "**%.1f%%** |" % (100 * avg_u, 100 * avg_b, avg_u / avg_b,
                                   100 * weighted_mean(glibcs, weights)))
    lines.append("")
    lines.append("- Average util: %.1f%% of the average bound; the lowest "
                 "trace is %s at %.0f%% of its bound (the util goals are "
                 "over seeds 1-20 of the generated families: "
                 "docs/bench-seeds.md)." % (100 * avg_u / avg_b, worst[0],
                                            100 * worst[1]))
    lines.append(real_trace_goal(run))
    return lines


def real_trace_goal(run):
    """Goal 1: no recorded real-program trace below the first edition's util
    (compared at 0.1 point, mdriver's precision)."""
    util = {t["name"]: t["util"] for t in run["traces"]}
    found = [n for n in sorted(FIRST_EDITION) if n in util]
    lost = ["%s %.1f%% < %.1f%%" % (n, 100 * util[n], 100 * FIRST_EDITION[n])
            for n in found
            if round(1000 * util[n]) < round(1000 * FIRST_EDITION[n])]
    if not found:
        return ("- Goal 1, the recorded real traces keep the first edition's "
                "util: **not measured** (none in the suite)")
    return ("- Goal 1, the recorded real traces keep the first edition's util "
            "(%d traces): **%s**" % (len(found), "met" if not lost else
                                     "not met: " + ", ".join(lost)))


def variant_table(runs):
    lines = ["| build | EXTRA_CFLAGS | avg util | Kops/s (mm) | Kops/s (glibc) "
             "| mm / glibc (median; min..max) |",
             "|---|---|---:|---:|---:|---:|"]
    for name, flags, what in VARIANTS:
        rs = runs[name]
        ratios = [r["kops"] / r["glibc_kops"] for r in rs]
        lines.append("| %s: %s | `%s` | %.1f%% | %.0f | %.0f | %.2fx (%.2f..%.2f) |"
                     % (name, what, flags, 100 * rs[0]["util"],
                        statistics.median(r["kops"] for r in rs),
                        statistics.median(r["glibc_kops"] for r in rs),
                        statistics.median(ratios), min(ratios), max(ratios)))
    name = VARIANTS[0][0]
    ratio = statistics.median(r["kops"] / r["glibc_kops"] for r in runs[name])
    lines.append("")
    lines.append("- Goal 2, throughput of the default build at least %.1fx "
                 "glibc's in the same run: %.2fx: **%s** (the aim, %.0fx: "
                 "**%s**)" % (THROUGHPUT_GOAL, ratio,
                              "met" if ratio >= THROUGHPUT_GOAL else "not met",
                              THROUGHPUT_AIM,
                              "met" if ratio >= THROUGHPUT_AIM else "not met"))
    return lines


def git_head(path="malloc/mm.c"):
    """The short commit, and whether path has uncommitted changes (the
    reports of this tool and of seeds_bench.py name it)."""
    proc = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          text=True)
    dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", path],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           text=True).stdout.strip()
    return proc.stdout.strip() + (" (%s modified)" % path if dirty else "")


def preamble(args, run):
    names = " ".join(t["name"] for t in run["traces"])
    return ("# Reference allocator benchmark\n\n"
            "Written by `%s` at commit %s, %s UTC, on this shared 2-core "
            "machine (other engineers' builds and tests ran at the same "
            "time: Kops are noisy, utilization is exact). Suite: the %d "
            "traces of `%s/suite.txt`: %s.\n\n"
            "Util is mdriver's (peak live payload / final heap size); the "
            "bound is tools/tracestats.py's ideal (8-byte header, 16-byte "
            "alignment, no fragmentation). glibc util is build/libc-util's "
            "(tools/libc_util.c: the same ratio for glibc malloc, without "
            "mmap and without top padding). Throughput is mdriver's weighted "
            "Kops for mm.c and for glibc in the same run (`-j -`), the "
            "median of the rounds.\n\n"
            % (" ".join(["tools/bench_allocator.py"] + sys.argv[1:]),
               git_head(), time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
               len(run["traces"]), os.path.relpath(args.trace_dir, ROOT),
               names))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", help="also write the report to this file")
    ap.add_argument("-t", dest="trace_dir", default=os.path.join(ROOT, "traces"))
    args = ap.parse_args()
    if args.rounds < 1:
        fail("--rounds must be at least 1")
    os.makedirs(OUTDIR, exist_ok=True)
    binaries = {name: build(name, flags) for name, flags, _ in VARIANTS}
    runs = {name: [] for name in binaries}
    for _ in range(args.rounds):
        for name, _, _ in VARIANTS:
            runs[name].append(replay(binaries[name], args.trace_dir))
    default = runs[VARIANTS[0][0]][0]
    paths = [t["path"] for t in default["traces"]]
    bound = bounds(paths)
    report = ["## Per trace: the default build (%s) against the ideal bound"
              " and glibc" % VARIANTS[0][0], ""]
    report += trace_table(default, bound, libc_utils(paths))
    report += ["", "## Build variants, side by side with glibc (%d rounds, "
               "interleaved)" % args.rounds, ""]
    report += variant_table(runs)
    text = "\n".join(report) + "\n"
    sys.stdout.write(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(preamble(args, default))
            f.write(text)


if __name__ == "__main__":
    main()
