#!/usr/bin/env python3
"""libmm.so against glibc, jemalloc, tcmalloc and mimalloc (docs/bench-libmm.md).

Usage: tools/bench_libmm.py [--lib PATH] [--rounds N] [--quick]
                            [--only NAME[,NAME...]] [--out FILE] [--list]

  --lib PATH   the library measured as "ours" (default build/libmm.so,
               `make libmm`); any LD_PRELOAD malloc works, e.g. jemalloc's
               path as a stand-in (it is then not run a second time as a
               contender)
  --rounds N   interleaved rounds (default 3; --quick: 1)
  --quick      tiny sizes (each run well under a second): for the tests,
               the output's shape only, never its figures
  --only       the named workloads only (names as --list prints them)
  --out FILE   also write the report, with the command line, to FILE
  --list       print the workloads and exit

Contenders: glibc (nothing preloaded), ours (--lib), and the Debian
packages libjemalloc2, libtcmalloc-minimal4 and libmimalloc2.0, which
`tools/setup.sh --bench` installs (this script calls it) and whose .so
files are found with `dpkg -L`.

Workloads (each a fresh process, the allocator preloaded through
LD_PRELOAD): the kit's programs of tools/libmm_bench/ (larson, xmalloc,
cache-scratch, churn: each at 1 and 2 threads; the replay tool on the
recorded traces traces/real-*.rep at 1 and 2 copies, and on the MT suite
traces/mt/ with each trace's own threads), then real programs: python3
(PYTHONMALLOC=malloc: json, re, threads), gcc -O2 -S of malloc/mm.c, git
(init, commits, log), sort of a large file, sqlite3, perl, bash, make -j2
(the scripts are in tools/libmm_bench/real/). The kit's programs print
the time of their timed part (`bench: wall=... cpu=...`: the replay tool
times only its replay loops), which is used; for the real programs it is
the wall time from start to exit and the user+sys time of the process
tree (wait4). Peak RSS is wait4's ru_maxrss: the largest of the process
tree. Every run goes through build/libmm_bench/runner, which preloads the
library in its child only and measures it (a child of this script would
inherit this script's RSS as the floor of its ru_maxrss). A run that
takes more than TIMEOUT seconds is killed with its whole session (a
status of -1).

In each round every workload runs once under each allocator in turn (the
order rotates from round to round). A run's output (stdout and stderr,
without `bench:` and `mm: ` lines) must be the same as glibc's, and it
must exit 0: otherwise the cell says FAILED, the details are printed and
the exit status is 1. Printed: a table per workload (median time, CPU
time and peak RSS, and the median over rounds of each ratio to glibc's in
the same round), a summary of the ratios, and the issue's goals for ours,
each met or NOT met: faster than glibc on every workload; at least 0.8x
the speed of the best other allocator on each (its time / glibc over
ours, both medians of the per-round ratios); peak RSS at most 1.2x
glibc's.
Standard library only.
"""
import argparse
import collections
import datetime
import hashlib
import os
import random
import re
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH_DIR = os.path.join(ROOT, "build", "libmm_bench")
REAL_DIR = os.path.join(ROOT, "tools", "libmm_bench", "real")
DEFAULT_LIB = os.path.join(ROOT, "build", "libmm.so")
# name: (Debian package, the .so's file name in `dpkg -L`).
PACKAGES = collections.OrderedDict([
    ("jemalloc", ("libjemalloc2", "libjemalloc.so.2")),
    ("tcmalloc", ("libtcmalloc-minimal4", "libtcmalloc_minimal.so.4")),
    ("mimalloc", ("libmimalloc2.0", "libmimalloc.so.2")),
])
GOAL_VS_GLIBC = 1.0  # time / glibc's below this
GOAL_VS_BEST = 0.8  # best other's time / ours at least this
GOAL_RSS = 1.2  # peak RSS / glibc's at most this
TIMEOUT = 300  # seconds for one run
# Inherited by a child make, these would join it to the caller's jobs.
DROPPED_ENV = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES",
               "LD_PRELOAD", "PYTHONMALLOC", "MM_STATS_AT_EXIT")
BENCH_LINE = re.compile(r"^bench: wall=([0-9.]+) cpu=([0-9.]+)$", re.M)
IGNORED_LINE = re.compile(rb"^(bench|mm): .*\n?", re.M)

Workload = collections.namedtuple("Workload", "name threads argv env")
Result = collections.namedtuple("Result", "wall cpu rss_kib status output "
                                 "stderr")


def fail(message):
    print("bench_libmm: ERROR: " + message, file=sys.stderr)
    sys.exit(2)


# ------------------------------------------------------------ the contenders

def install_contenders():
    """Runs tools/setup.sh --bench; returns {name: .so path}."""
    proc = subprocess.run([os.path.join(ROOT, "tools", "setup.sh"), "--bench"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True)
    if proc.returncode != 0:
        fail("tools/setup.sh --bench failed:\n" + proc.stdout)
    return {name: library_path(pkg, so)
            for name, (pkg, so) in PACKAGES.items()}


def library_path(package, filename):
    """The path of `filename` among the files of an installed package."""
    proc = subprocess.run(["dpkg", "-L", package], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    for path in proc.stdout.splitlines():
        if os.path.basename(path) == filename and os.path.exists(path):
            return path
    fail("package %s has no %s (dpkg -L %s: %s)" % (
        package, filename, package, proc.stderr.strip() or "not listed"))
    return None


def label_of(lib):
    """How ours is named in the tables: libmm, or the stand-in's file."""
    name = os.path.basename(lib)
    return "libmm" if name == "libmm.so" else "ours=" + name


def allocators(lib, contenders):
    """[(label, path or None)]: glibc first, then ours, then the rest
    (a contender that is --lib itself is not repeated)."""
    ours = os.path.realpath(lib)
    rest = [(n, p) for n, p in contenders.items()
            if os.path.realpath(p) != ours]
    return [("glibc", None), (label_of(lib), os.path.abspath(lib))] + rest


# -------------------------------------------------------------- workloads

def build_programs():
    """Builds tools/libmm_bench/ into build/libmm_bench/ (make)."""
    proc = subprocess.run(["make", "-s", "-C", ROOT, "libmm-bench-deps"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, env=clean_env())
    if proc.returncode != 0:
        fail("make libmm-bench-deps failed:\n" + proc.stdout)


def kit_workloads(quick):
    """The kit's programs: each at 1 and 2 threads, and the replays."""
    scale = "1" if quick else "4"
    real = sorted(os.path.join(ROOT, "traces", n)
                  for n in os.listdir(os.path.join(ROOT, "traces"))
                  if n.startswith("real-") and n.endswith(".rep"))
    mt_dir = os.path.join(ROOT, "traces", "mt")
    with open(os.path.join(mt_dir, "suite.txt")) as f:
        mt = [os.path.join(mt_dir, line.strip()) for line in f
              if line.strip() and not line.lstrip().startswith("#")]
    out = []
    for prog in ("larson", "xmalloc", "cache_scratch", "churn"):
        for threads in (1, 2):
            out.append(Workload("%s/%d" % (prog.replace("_", "-"), threads),
                                threads, [bench_bin(prog), str(threads),
                                          scale], {}))
    for threads in (1, 2):
        out.append(Workload("replay-real/%d" % threads, threads,
                            [bench_bin("replay"), "-T", str(threads), "-r",
                             "2" if quick else "12"] + real, {}))
    out.append(Workload("replay-mt", "2-4", [bench_bin("replay"), "-r",
                                             "2" if quick else "12"] + mt, {}))
    return out


def bench_bin(name):
    return os.path.join(BENCH_DIR, name)


def real_workloads(quick, workdir):
    """The real programs; their inputs are made in workdir first."""
    sizes = {"python": 1000, "git": 3, "sort": 20000, "sqlite": 20000,
             "perl": 4000, "bash": 2000, "make": 40} if quick else {
        "python": 4000, "git": 4, "sort": 300000, "sqlite": 80000,
        "perl": 20000, "bash": 6000, "make": 150}
    sorted_input = os.path.join(workdir, "sort-input.txt")
    write_sort_input(sorted_input, sizes["sort"])
    sql = os.path.join(workdir, "work.sql")
    with open(os.path.join(REAL_DIR, "work.sql.in")) as f:
        text = f.read().replace("@N@", str(sizes["sqlite"]))
    with open(sql, "w") as f:
        f.write(text)
    script = lambda name: os.path.join(REAL_DIR, name)  # noqa: E731
    return [
        Workload("python", 2, [sys.executable, script("work.py"),
                               str(sizes["python"])],
                 {"PYTHONMALLOC": "malloc"}),
        Workload("gcc", 1, ["gcc", "-O2", "-S", "-o", "-", "-I",
                            os.path.join(ROOT, "malloc"),
                            os.path.join(ROOT, "malloc", "mm.c")], {}),
        Workload("git", 1, ["bash", script("git.sh"), str(sizes["git"]),
                            os.path.join(workdir, "git")], {}),
        Workload("sort", 2, ["sort", "-t", " ", "-k2,2n", "-k1,1",
                             sorted_input], {"LC_ALL": "C"}),
        Workload("sqlite3", 1, ["sqlite3", ":memory:", ".read " + sql], {}),
        Workload("perl", 1, ["perl", script("work.pl"), str(sizes["perl"])],
                 {}),
        Workload("bash", 1, ["bash", script("work.sh"), str(sizes["bash"])],
                 {}),
        Workload("make-j2", 2, ["make", "-s", "-B", "-j2", "-C", workdir,
                                "-f", script("jobs.mk"),
                                "N=%d" % sizes["make"]], {}),
    ]


def write_sort_input(path, lines):
    """`lines` lines of `word number word`, seeded."""
    rnd = random.Random(15213)
    words = ["w%x" % rnd.getrandbits(32) for _ in range(5000)]
    with open(path, "w") as f:
        for _ in range(lines):
            f.write("%s %d %s\n" % (rnd.choice(words), rnd.randrange(10 ** 6),
                                    rnd.choice(words)))


def workloads(quick, workdir, only=None):
    found = kit_workloads(quick) + real_workloads(quick, workdir)
    if not only:
        return found
    names = {w.name for w in found}
    unknown = [n for n in only if n not in names]
    if unknown:
        fail("no workload named %s (--list shows them)" % ", ".join(unknown))
    return [w for w in found if w.name in only]


# --------------------------------------------------------------- one run

def clean_env(extra=None):
    env = {k: v for k, v in os.environ.items() if k not in DROPPED_ENV}
    env.update(extra or {})
    return env


def filtered(data):
    """A run's output as compared between allocators."""
    return IGNORED_LINE.sub(b"", data)


def run(workload, lib, workdir, extra_env=None, timeout=TIMEOUT):
    """Runs a workload once with lib preloaded (None: glibc) -> Result,
    through build/libmm_bench/runner (its docstring says why). The process
    runs in a session of its own, killed whole at the end."""
    env = clean_env(dict(workload.env, **(extra_env or {})))
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile("r") as measured:
        argv = ([bench_bin("runner"), measured.name] +
                (["-p", lib] if lib else []) + ["--"] + workload.argv)
        proc = subprocess.Popen(argv, cwd=workdir, env=env,
                                stdin=subprocess.DEVNULL, stdout=out,
                                stderr=err, start_new_session=True)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
        finally:  # also on SIGINT, SIGTERM (main): nothing is left behind
            kill_group(proc.pid)
            proc.wait()
        fields = dict(word.split("=") for word in measured.read().split())
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0 or len(fields) != 4:
        fields = {"wall": 0, "cpu": 0, "maxrss_kib": 0, "status": -1}
    timed = BENCH_LINE.findall(stderr.decode("utf-8", "replace"))
    wall, cpu = float(fields["wall"]), float(fields["cpu"])
    if timed:
        wall, cpu = float(timed[-1][0]), float(timed[-1][1])
    return Result(wall, cpu, int(fields["maxrss_kib"]), int(fields["status"]),
                  filtered(stdout) + b"\n--- stderr:\n" + filtered(stderr),
                  stderr.decode("utf-8", "replace"))


def kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def digest(data):
    return hashlib.sha256(data).hexdigest()[:12]


# ------------------------------------------------------------ the rounds

def measure(loads, allocs, rounds, workdir, log=sys.stderr):
    """{(workload, label): [Result per round]}, interleaved."""
    results = collections.defaultdict(list)
    for r in range(rounds):
        for w in loads:
            shift = r % len(allocs)
            for label, lib in allocs[shift:] + allocs[:shift]:
                res = run(w, lib, workdir)
                results[(w.name, label)].append(res)
                print("round %d/%d %-16s %-22s %7.3f s %8.1f MiB exit %d" % (
                    r + 1, rounds, w.name, label, res.wall,
                    res.rss_kib / 1024, res.status), file=log, flush=True)
    return results


def problems(results, loads, allocs):
    """[(workload, label, message)]: non-zero exits and wrong outputs."""
    found = []
    for w in loads:
        expected = results[(w.name, "glibc")][0].output
        for label, _ in allocs:
            for res in results[(w.name, label)]:
                if res.status != 0:
                    found.append((w.name, label, "exit status %d: %s" % (
                        res.status, res.stderr[-600:])))
                    break
                if res.output != expected:
                    found.append((w.name, label, "output %s differs from "
                                  "glibc's %s" % (digest(res.output),
                                                  digest(expected))))
                    break
    return found


# ---------------------------------------------------------------- report

def median_ratio(mine, base, field):
    """Median over rounds of mine.field / base.field (same round)."""
    return statistics.median(getattr(m, field) / max(getattr(b, field), 1e-9)
                             for m, b in zip(mine, base))


def workload_table(w, results, allocs, failed):
    base = results[(w.name, "glibc")]
    lines = ["### %s (threads: %s)" % (w.name, w.threads), "",
             "| allocator | time (s) | time / glibc | CPU (s) | CPU / glibc "
             "| peak RSS (MiB) | RSS / glibc |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for label, _ in allocs:
        mine = results[(w.name, label)]
        if (w.name, label) in failed:
            lines.append("| %s | FAILED | | | | | |" % label)
            continue
        lines.append("| %s | %.3f | %.2fx | %.3f | %.2fx | %.1f | %.2fx |" % (
            label, statistics.median(r.wall for r in mine),
            median_ratio(mine, base, "wall"),
            statistics.median(r.cpu for r in mine),
            median_ratio(mine, base, "cpu"),
            statistics.median(r.rss_kib for r in mine) / 1024,
            median_ratio(mine, base, "rss_kib")))
    return lines + [""]


def summary_table(loads, results, allocs, failed):
    others = [label for label, _ in allocs[1:]]
    lines = ["## Summary: time / glibc, peak RSS / glibc (medians)", "",
             "| workload | " + " | ".join(others) + " |",
             "|---|" + "---:|" * len(others)]
    for w in loads:
        base = results[(w.name, "glibc")]
        cells = []
        for label in others:
            mine = results[(w.name, label)]
            cells.append("FAILED" if (w.name, label) in failed else
                         "%.2fx, %.2fx" % (median_ratio(mine, base, "wall"),
                                           median_ratio(mine, base, "rss_kib")))
        lines.append("| %s | %s |" % (w.name, " | ".join(cells)))
    return lines + [""]


def goal_figures(w, results, allocs, ours):
    """(time / glibc, best other's time / ours, RSS / glibc, best's name),
    all from the medians of the per-round ratios to glibc (the absolute
    times of a round swing with the machine's load)."""
    base = results[(w.name, "glibc")]
    speed = {label: median_ratio(results[(w.name, label)], base, "wall")
             for label, _ in allocs}
    best = min((label for label, _ in allocs if label != ours), key=speed.get)
    return (speed[ours], speed[best] / speed[ours],
            median_ratio(results[(w.name, ours)], base, "rss_kib"), best)


def verdict(misses):
    if not misses:
        return "**met**"
    return "**NOT met** (%s)" % "; ".join(misses)


def goals(loads, results, allocs, failed):
    ours = allocs[1][0]
    slow, behind, fat = [], [], []
    for w in loads:
        if any(name == w.name for name, _ in failed):
            slow.append(w.name + " FAILED")
            continue
        vs_glibc, vs_best, rss, best = goal_figures(w, results, allocs, ours)
        if vs_glibc >= GOAL_VS_GLIBC:
            slow.append("%s %.2fx" % (w.name, vs_glibc))
        if vs_best < GOAL_VS_BEST:
            behind.append("%s %.2fx of %s" % (w.name, vs_best, best))
        if rss > GOAL_RSS:
            fat.append("%s %.2fx" % (w.name, rss))
    return ["## Goals (%s)" % ours, "",
            "- faster than glibc on every workload (time / glibc < %.1f): %s"
            % (GOAL_VS_GLIBC, verdict(slow)),
            "- at least %.1fx the speed of the best other allocator on each: "
            "%s" % (GOAL_VS_BEST, verdict(behind)),
            "- peak RSS at most %.1fx glibc's on each: %s" % (
                GOAL_RSS, verdict(fat)), ""]


def report(loads, results, allocs, found):
    failed = {(name, label) for name, label, _ in found}
    lines = []
    for w in loads:
        lines += workload_table(w, results, allocs, failed)
    lines += summary_table(loads, results, allocs, failed)
    lines += goals(loads, results, allocs, {(n, l) for n, l in failed
                                             if l == allocs[1][0]})
    if found:
        lines += ["## Failures", ""] + ["- %s under %s: %s" % (
            name, label, message.replace("\n", " / ")) for name, label,
            message in found] + [""]
    return lines


def load_average():
    return " ".join("%.2f" % x for x in os.getloadavg())


def preamble(argv, allocs, started):
    """started: (UTC date, load average) when the rounds began."""
    lines = ["Command: `%s`" % " ".join(shlex.quote(a) for a in argv),
             "", "Started: %s UTC; load average then: %s" % started, ""]
    for label, lib in allocs:
        lines.append("- %s: %s" % (label, lib or "(nothing preloaded)"))
    return lines + [""]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lib", default=DEFAULT_LIB)
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", default="")
    ap.add_argument("--out")
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    rounds = args.rounds or (1 if args.quick else 3)
    if rounds < 1:
        fail("--rounds must be at least 1")
    with tempfile.TemporaryDirectory(prefix="bench-libmm-") as workdir:
        loads = workloads(args.quick, workdir,
                          [n for n in args.only.split(",") if n])
        if args.list:
            print("\n".join("%s\t%s" % (w.name, " ".join(w.argv[:3]))
                            for w in loads))
            return 0
        if not os.path.isfile(args.lib):
            fail("%s does not exist (make libmm builds it; --lib PATH "
                 "measures another library)" % args.lib)
        allocs = allocators(args.lib, install_contenders())
        build_programs()
        start = time.time()
        started = (datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M"),
                   load_average())
        results = measure(loads, allocs, rounds, workdir)
        found = problems(results, loads, allocs)
        lines = preamble(["python3"] + sys.argv, allocs, started)
        lines += report(loads, results, allocs, found)
        lines.append("Measured in %.0f s (%d rounds; load average after: %s)."
                     % (time.time() - start, rounds, load_average()))
    print("\n".join(lines))
    if args.out:
        with open(args.out, "w") as f:
            f.write("\n".join(lines) + "\n")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
