#!/usr/bin/env python3
"""Issue 11's multi-threaded benchmark of mm.c's arena mode (docs/bench-mt.md).

Usage: tools/bench_mt_suite.py [--rounds N] [--quick] [--mdriver PATH]
                               [-t DIR] [--mt-dir DIR] [--out FILE]

Runs mdriver (default build/mt/mdriver-arenas: mm.c -DMM_ARENAS, which it
first brings up to date with `make build/mt/mdriver-arenas`) with -j -, N
rounds (default 3) interleaved so that a noisy machine hurts every
configuration alike; each round runs:
  - the single-threaded suite (-t DIR, default traces/) with -T 1, -T 2
    and -T 4 (N copies of each trace, one per thread, at once);
  - the MT suite (--mt-dir, default traces/mt/) on its own threads, and
    the same traces --serial (one thread, in file order).
mdriver times glibc's malloc on the same traces in the same run, its
samples alternating with mm.c's, so every figure has glibc's beside it.
Prints markdown: per configuration the medians over the rounds of the
aggregate throughput (Kops/s of all the threads) of mm.c and of glibc,
mm/glibc (median of the per-run ratios) and util; the scaling -T 2 / -T 1
and -T 4 / -T 1 (median of the ratios of one round's runs) for mm.c and
glibc, and mdriver's own in-run scaling (each trace timed with N threads
and then with one, in one process); util in MT mode against single-
threaded util on the same work; the CPU share of the threaded runs
(mdriver's cpu_share: the threads' CPU time over threads x the timed
windows, weighted by each trace's time; 1 when every thread had a core
all along, 1/N when N threads took turns on one, lower when the machine
was busy with other work: a scaling figure means something only when
its CPU share is near 1); and the CPU-time scaling, an estimate that
depends less on the machine's load: mdriver's cpu_kops at -T N over its
cpu_kops at -T 1 (ops per CPU-second of each thread, times the threads:
the aggregate if every thread had a core of its own; the mean of the
replays that read the CPU clocks, not the best sample; with one thread,
from 16 untimed replays). It keeps what the threads cost each other (lock
waits spin; cache lines that move between cores) and drops the waits for
a core, not the caches that other processes empty; with more threads
than cores it is a figure for a machine with a core per thread. The
goals are judged on the measured figures only.
Then issue 11's three goals, each met or
NOT met with its numbers:
  1. -T 2 aggregate >= 1.7x -T 1 (mm.c);
  2. ahead of glibc at 1, 2 and 4 threads (mm/glibc > 1 at each);
  3. the MT suite's util (threaded) within 5 points of its util --serial.
--quick: one round on one short trace of each suite (seconds; for the
tests of the output's shape: its figures mean nothing). --out FILE also
writes the report, with the command line and the date, to FILE.
The report also gives the 1-minute load average read before each run
and after the last (min, median, max): on the kit's 2-core machine two
threads have two cores to themselves only at a load below 1.
Exit status 0 when it ran (goals met or not), 1 when mdriver failed.
Standard library only.
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MDRIVER = os.path.join(ROOT, "build", "mt", "mdriver-arenas")
THREADS = [1, 2, 4]
SCALING_GOAL = 1.7
UTIL_POINTS = 5.0
QUICK_ST = ["tiny-short.rep"]
QUICK_MT = ["mt-larson-short.rep"]


def fail(message):
    sys.stderr.write("bench_mt_suite: ERROR: %s\n" % message)
    sys.exit(1)


def run_mdriver(mdriver, args):
    """One mdriver run; its JSON (-j -)."""
    cmd = [mdriver] + args + ["-j", "-"]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)
    if proc.returncode != 0:
        fail("`%s` failed (exit %d):\n%s" % (" ".join(cmd), proc.returncode,
                                            proc.stderr[-2000:]))
    try:
        run = json.loads(proc.stdout)
    except ValueError:
        fail("`%s` printed no JSON" % " ".join(cmd))
    if not run.get("timed") or run.get("kops") is None:
        fail("`%s` was not timed" % " ".join(cmd))
    return run


def in_run_scaling(run, glibc, copies):
    """mdriver's own scaling of a run (all threads vs one, same process):
    aggregate ops/s over the one-thread replay's, weighted like its totals
    (copies: -T N's N, whose ops are N times the trace's; 1 for the MT
    suite)."""
    key = "glibc_" if glibc else ""
    ops = secs = ops1 = secs1 = 0.0
    for t in run["traces"]:
        tw = t["tput_weight"] or 1
        sec, sc = t[key + "secs"], t[key + "scaling"]
        if sec is None or sc is None or t["threads"] < 2:
            continue
        ops += tw * t["ops"]
        secs += tw * sec
        ops1 += tw * t["ops"] / copies
        secs1 += tw * sc * sec / copies
    return (ops / secs) / (ops1 / secs1) if secs > 0 and secs1 > 0 else None


def configs(args):
    """(name, mdriver arguments) of each run of a round."""
    st = ["-t", args.trace_dir]
    mt = ["-t", args.mt_dir]
    if args.quick:
        st += sum((["-f", n] for n in QUICK_ST), [])
        mt += sum((["-f", n] for n in QUICK_MT), [])
    out = [("T%d" % n, st + ["-T", str(n)]) for n in THREADS]
    return out + [("mt", mt), ("serial", mt + ["--serial"])]


def load_average():
    """The machine's 1-minute load average (None where unknown)."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def measure(args):
    """The runs of every round, and the load average before each run and
    after the last one."""
    runs = {name: [] for name, _ in configs(args)}
    loads = []
    for _ in range(args.rounds):
        for name, argv in configs(args):
            loads.append(load_average())
            runs[name].append(run_mdriver(args.mdriver, argv))
    loads.append(load_average())
    return runs, loads


def ratio(a, b):
    return a / b if a is not None and b else None


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fig(x, form="%.0f"):
    return "-" if x is None else form % x


def cpu_share(run, glibc):
    """The CPU share of a run's threads (mdriver's per trace: their CPU
    time over threads x their windows), weighted by each trace's time; None
    when no trace measured it (one thread)."""
    key = "glibc_" if glibc else ""
    num = den = 0.0
    for t in run["traces"]:
        share, sec = t.get(key + "cpu_share"), t[key + "secs"]
        if share is None or sec is None:
            continue
        tw = t["tput_weight"] or 1
        num += tw * sec * share
        den += tw * sec
    return num / den if den > 0 else None


def cpu_kops(run, glibc):
    """A run's aggregate of mdriver's cpu_kops (ops per CPU-second of each
    thread, times the threads: the Kops if every thread had a core of its
    own), weighted like its Kops; None when not measured."""
    key = "glibc_" if glibc else ""
    ops = secs = 0.0
    for t in run["traces"]:
        k = t.get(key + "cpu_kops")
        if not k:
            continue
        tw = t["tput_weight"] or 1
        ops += tw * t["ops"]
        secs += tw * t["ops"] / (1000 * k)
    return ops / secs / 1000 if secs > 0 else None


def summary(runs):
    """Per configuration: the medians of its figures."""
    s = {}
    for name, rs in runs.items():
        copies = int(name[1:]) if name.startswith("T") else 1
        s[name] = {
            "kops": med(r["kops"] for r in rs),
            "glibc": med(r["glibc_kops"] for r in rs),
            "ratio": med(r["kops"] / r["glibc_kops"] for r in rs),
            "util": med(r["util"] for r in rs),
            "in_run": med(in_run_scaling(r, False, copies) for r in rs),
            "glibc_in_run": med(in_run_scaling(r, True, copies)
                                for r in rs),
            "cpu": med(cpu_share(r, False) for r in rs),
            "glibc_cpu": med(cpu_share(r, True) for r in rs),
            "cpu_kops": med(cpu_kops(r, False) for r in rs),
            "glibc_cpu_kops": med(cpu_kops(r, True) for r in rs),
        }
    for n in THREADS[1:]:
        for key, field in (("scaling", "kops"), ("glibc_scaling",
                                                 "glibc_kops")):
            s["T%d" % n][key] = med(a[field] / b[field] for a, b in
                                    zip(runs["T%d" % n], runs["T1"]))
        for key, glibc in (("cpu_scaling", False),
                           ("glibc_cpu_scaling", True)):
            s["T%d" % n][key] = med(ratio(cpu_kops(a, glibc),
                                          cpu_kops(b, glibc))
                                    for a, b in zip(runs["T%d" % n],
                                                    runs["T1"]))
    return s


def throughput_table(s):
    lines = ["| run | Kops/s (mm) | Kops/s (glibc) | mm / glibc | util "
             "| scaling vs -T 1 (mm, glibc) | in-run scaling (mm, glibc) "
             "| CPU share (mm, glibc) | CPU-time scaling (mm, glibc) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    names = [("T%d" % n, "suite -T %d" % n) for n in THREADS]
    names += [("mt", "MT suite, its threads"), ("serial",
                                                "MT suite --serial")]
    for key, label in names:
        f = s[key]
        sc = ("%s, %s" % (fig(f.get("scaling"), "%.2fx"),
                          fig(f.get("glibc_scaling"), "%.2fx"))
              if "scaling" in f else "-")
        inrun = ("%s, %s" % (fig(f["in_run"], "%.2fx"),
                             fig(f["glibc_in_run"], "%.2fx"))
                 if f["in_run"] is not None else "-")
        cpu = ("%s, %s" % (fig(f.get("cpu"), "%.2f"),
                           fig(f.get("glibc_cpu"), "%.2f"))
               if f.get("cpu") is not None else "-")
        cpu_sc = ("%s, %s" % (fig(f.get("cpu_scaling"), "%.2fx"),
                              fig(f.get("glibc_cpu_scaling"), "%.2fx"))
                  if f.get("cpu_scaling") is not None else "-")
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            label, fig(f["kops"]), fig(f["glibc"]), fig(f["ratio"], "%.2f"),
            fig(100 * f["util"], "%.1f%%"), sc, inrun, cpu, cpu_sc))
    return lines


def goal_lines(s):
    """Issue 11's three goals, met or NOT met, with the numbers."""
    def verdict(ok):
        return "**met**" if ok else "**NOT met**"
    scaling = s["T2"]["scaling"]
    lines = ["- Goal 1, -T 2 aggregate >= %.1fx -T 1: %.2fx (mm; glibc "
             "%.2fx; in-run %.2fx; CPU share %s; CPU-time estimate %s): %s" % (
                 SCALING_GOAL, scaling, s["T2"]["glibc_scaling"],
                 s["T2"]["in_run"] or 0, fig(s["T2"].get("cpu"), "%.2f"),
                 fig(s["T2"].get("cpu_scaling"), "%.2fx"),
                 verdict(scaling >= SCALING_GOAL))]
    ratios = [(n, s["T%d" % n]["ratio"]) for n in THREADS]
    lines.append("- Goal 2, ahead of glibc at 1, 2 and 4 threads: mm / glibc "
                 "%s: %s" % (", ".join("%.2f at -T %d" % (r, n)
                                       for n, r in ratios),
                             verdict(all(r > 1 for _, r in ratios))))
    mt, serial = 100 * s["mt"]["util"], 100 * s["serial"]["util"]
    copies = ", ".join("-T %d %.1f%%" % (n, 100 * s["T%d" % n]["util"])
                       for n in THREADS)
    lines.append("- Goal 3, the MT suite's util within %.0f points of its "
                 "single-threaded util: %.1f%% threaded vs %.1f%% --serial "
                 "(%+.1f points): %s (copies of the suite: %s)" % (
                     UTIL_POINTS, mt, serial, mt - serial,
                     verdict(serial - mt <= UTIL_POINTS), copies))
    lines.append("- The MT suite on its threads vs glibc: %s Kops vs %s "
                 "(%.2fx)" % (fig(s["mt"]["kops"]), fig(s["mt"]["glibc"]),
                              s["mt"]["ratio"]))
    return lines


def load_line(loads):
    """The load averages seen during the runs: 2 cores shared with other
    work give two threads two cores only when the load is below 1."""
    known = [x for x in loads if x is not None]
    if not known:
        return "Load average (1 min) during the runs: unknown"
    return ("Load average (1 min) during the runs: min %.2f, median %.2f, "
            "max %.2f (%d readings, before each run and after the last)" % (
                min(known), statistics.median(known), max(known),
                len(known)))


def report(args, s, loads):
    what = ("%s and %s only" % (QUICK_ST[0], QUICK_MT[0]) if args.quick
            else "the suites")
    text = ["## mdriver -T 1/2/4 and the MT suite (%s, median of %d "
            "rounds)" % (what, args.rounds), "",
            "mdriver: `%s`" % os.path.relpath(args.mdriver, ROOT), "",
            load_line(loads), ""]
    text += throughput_table(s) + ["", "## Issue 11's goals", ""]
    text += goal_lines(s)
    return "\n".join(text) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--mdriver", default=MDRIVER)
    ap.add_argument("-t", dest="trace_dir",
                    default=os.path.join(ROOT, "traces"))
    ap.add_argument("--mt-dir", default=os.path.join(ROOT, "traces", "mt"))
    ap.add_argument("--out")
    args = ap.parse_args()
    if args.quick:
        args.rounds = 1
    if args.rounds < 1:
        fail("--rounds must be at least 1")
    if args.mdriver == MDRIVER:  # the default: never measure a stale build
        r = subprocess.run(["make", "-s", "-C", ROOT, "build/mt/mdriver-arenas"],
                           stdout=subprocess.DEVNULL)
        if r.returncode != 0:
            fail("`make build/mt/mdriver-arenas` failed (exit %d)" % r.returncode)
    if not os.access(args.mdriver, os.X_OK):
        fail("%s is missing: run `make build/mt/mdriver-arenas`" %
             args.mdriver)
    runs, loads = measure(args)
    text = report(args, summary(runs), loads)
    sys.stdout.write(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write("Command: `%s`, %s UTC\n\n%s" % (
                " ".join(["tools/bench_mt_suite.py"] + sys.argv[1:]),
                datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M"), text))


if __name__ == "__main__":
    main()
