#!/usr/bin/env python3
"""compare: the comparison allocators and the reference, side by side on a
trace suite, as a markdown table (util and Kops per trace, then totals and
mdriver's performance index).

    make traces-bench                      builds the drivers, runs this
    python3 tools/allocators/compare.py [-t TRACE_DIR] [-r ROUNDS]
        [NAME=MDRIVER ...]

Default drivers: implicit=build/mdriver-implicit,
explicit_ff=build/mdriver-explicit_ff, reference=malloc/mdriver (built by
`make test-deps` / `make`). Each driver replays the whole default suite
(`mdriver -j`); with -r N each runs N times, interleaved, and the table
shows the median Kops of the N runs (util does not vary).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
import reptrace  # noqa: E402
import tracestats  # noqa: E402

DEFAULT_DRIVERS = [("implicit", "build/mdriver-implicit"),
                   ("explicit_ff", "build/mdriver-explicit_ff"),
                   ("reference", "malloc/mdriver")]


def run_driver(path, trace_dir):
    """Runs one driver over the suite; returns its -j JSON."""
    fd, out = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    try:
        proc = subprocess.run([path, "-t", trace_dir, "-j", out],
                              stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
        with open(out) as f:
            text = f.read()
        if not text:
            raise SystemExit("compare: %s wrote no JSON (exit %d): %s" % (
                path, proc.returncode, proc.stderr[-500:]))
        return json.loads(text)
    finally:
        os.unlink(out)


def bounds(trace_dir, names):
    result = {}
    for name in names:
        trace = reptrace.parse(os.path.join(trace_dir, name))
        result[name] = tracestats.stats(trace)["bound"]
    return result


def cell(t, kops):
    if not t["valid"]:
        return "FAIL | -"
    return "%.1f%% | %s" % (100 * t["util"], "%.0f" % kops)


def table(names, runs, trace_dir):
    """Markdown: one row per trace, util and median Kops per driver."""
    first = {name: rs[0] for name, rs in runs.items()}
    traces = [t["name"] for t in next(iter(first.values()))["traces"]]
    bound = bounds(trace_dir, traces)
    head = "| trace | bound | " + " | ".join(
        "%s util | %s Kops" % (n, n) for n in names) + " | glibc Kops |"
    lines = [head, "|" + "---|" * (3 + 2 * len(names))]
    for i, trace in enumerate(traces):
        row = ["%s" % trace, "%.1f%%" % (100 * bound[trace])]
        for n in names:
            kops = statistics.median(r["traces"][i]["kops"] or 0
                                     for r in runs[n])
            row.append(cell(first[n]["traces"][i], kops))
        glibc = statistics.median(r["traces"][i]["glibc_kops"] or 0
                                  for n in names for r in runs[n])
        row.append("%.0f" % glibc)
        lines.append("| " + " | ".join(row) + " |")
    total = ["**total**", ""]
    for n in names:
        kops = statistics.median(r["kops"] or 0 for r in runs[n])
        total.append("%.1f%% | %.0f" % (100 * first[n]["util"], kops))
    total.append("%.0f" % statistics.median(
        r["glibc_kops"] for n in names for r in runs[n]))
    lines.append("| " + " | ".join(total) + " |")
    lines.append("")
    for n in names:
        idx = [r["index"]["total"] for r in runs[n] if r.get("index")]
        parts = runs[n][0].get("index") or {}
        lines.append("- %s: perf index %s (util part %.1f, throughput part "
                     "%s, median of %d runs)" % (
                         n, "%.1f" % statistics.median(idx) if idx else "-",
                         parts.get("util_part", 0),
                         "%.1f" % statistics.median(
                             r["index"]["tput_part"] for r in runs[n])
                         if idx else "-", len(runs[n])))
    return "\n".join(lines)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-t", default=os.path.join(ROOT, "traces"),
                    help="trace dir (its suite.txt is replayed)")
    ap.add_argument("-r", type=int, default=3, help="runs per driver")
    ap.add_argument("drivers", nargs="*", metavar="NAME=MDRIVER")
    args = ap.parse_args(argv)
    pairs = [d.split("=", 1) for d in args.drivers] or [
        (n, os.path.join(ROOT, p)) for n, p in DEFAULT_DRIVERS]
    for name, path in pairs:
        if not os.access(path, os.X_OK):
            raise SystemExit("compare: %s: no driver %s (run `make "
                             "test-deps` and `make`)" % (name, path))
    runs = {name: [] for name, _ in pairs}
    for _ in range(args.r):  # interleaved, so load hits all alike
        for name, path in pairs:
            runs[name].append(run_driver(path, args.t))
    print(table([n for n, _ in pairs], runs, args.t))
    return 0 if all(r[0]["valid"] for r in runs.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
