#!/usr/bin/env python3
"""seeds_bench: util/bound of the generated trace families over many seeds,
per mdriver, with paired differences between drivers (docs/tools.md).

Usage: tools/seeds_bench.py [--seeds 1-20] [--families a,b,...] [--jobs N]
           [--cache DIR] [--out FILE] [NAME=MDRIVER ...]
       make seeds-bench [SEEDS_BENCH_DRIVERS='NAME=MDRIVER ...']
                        [SEEDS_BENCH_BUILDS='NAME=FLAG[,FLAG...] ...']
                           (default: malloc/mdriver alone, seeds 1-20)

The default suite holds one seed (15213) of each generated family, and the
reference allocator's util/bound on one family moves by several points from
one seed to the next: a placement change judged on the suite's seed alone
can go the wrong way. This replays each family over many seeds instead.

For each seed S (and the suite's seed 15213, for comparison), the full
version of each generated family (not the -short versions, not the
hand-written or recorded traces) is written by
`tools/gen_traces.py --seed S --out DIR --only F.rep ...` into DIR =
build/seeds/S/ and reused by later runs for as long as gen_traces.py and
reptrace.py are unchanged (their sha256 is kept in DIR/generator). The
ideal bound of each trace (tools/tracestats.py, imported) is cached in
DIR/bounds.json, keyed on tracestats.py too. Each driver replays each seed
with `MDRIVER -n -t DIR -f DIR/F.rep ... -j -` (no timing: deterministic);
the seeds are spread over --jobs processes.

The report (markdown, on stdout): per family, util/bound in % for each
driver, the mean over the seeds with min..max, and its value on seed 15213
(not in the mean); the mean over the families, per seed, the same way.
Then the goals of the reference allocator (GOALS below: growing-block mean
>= 95% and no seed < 90%, binary mean >= 90%, the mean of all the families
>= 90%, no family's mean < 70%), one column per driver, each met or NOT
met with its figure (a goal on a family left out by --families, or on all
the families when some are left out, is "not measured"). With two or more
drivers, one table per driver after the first: per family and for the
mean of the families, its util/bound minus the first driver's on the same
seed (points of util/bound), mean and standard error over the seeds, and
on how many seeds it is better, worse, the same. --out FILE also writes
the report to FILE, after a preamble with the command line.

Exit status: 0 done; 1 a driver failed (a trace invalid, or no -j JSON) or
the generator failed; 2 bad usage (--seeds, --families, a driver that is
not NAME=MDRIVER or not an executable file). Errors are one line on stderr.
Standard library only.
"""
import argparse
import concurrent.futures
import fcntl
import hashlib
import json
import math
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

TOOLS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TOOLS)
sys.path.insert(0, TOOLS)
import gen_traces  # noqa: E402
import reptrace  # noqa: E402
import tracestats  # noqa: E402
import bench_allocator  # noqa: E402

SUITE_SEED = gen_traces.DEFAULT_SEED
FAMILIES = [name for name, _, _ in gen_traces.FAMILIES]
DEFAULT_SEEDS = "1-20"
DEFAULT_DRIVER = "default=" + os.path.relpath(
    os.path.join(ROOT, "malloc", "mdriver"))
MAX_SEED = (1 << 32) - 1  # gen_traces.seed_for shifts the seed by 32 bits
MAX_SEEDS = 10000
SAME = 1e-12  # two util/bound closer than this are the same
ALL = None  # a goal on every family

# The reference allocator's goals over the seeds (issue 8; docs/tools.md
# explains the block): (what, the family or ALL, the kind, the threshold).
# "mean": the mean over the seeds of the family (of the mean of the
# families, for ALL); "seeds": every seed of the family; "families": the
# mean of every family.
GOALS = [
    ("growing-block: mean >= 95%", "growing-block", "mean", 0.95),
    ("growing-block: no seed < 90%", "growing-block", "seeds", 0.90),
    ("binary: mean >= 90%", "binary", "mean", 0.90),
    ("mean of all the families >= 90%", ALL, "mean", 0.90),
    ("no family's mean < 70%", ALL, "families", 0.70),
]


class Failure(Exception):
    """A one-line error; status 1 (a run failed) or 2 (bad usage)."""

    def __init__(self, message, status=1):
        super().__init__(message, status)
        self.message, self.status = message, status


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise Failure("%s (usage: tools/seeds_bench.py [--seeds 1-20] "
                      "[--families a,b] [NAME=MDRIVER ...])" % message, 2)


# ------------------------------------------------------------ arguments

def parse_seeds(text):
    """'1-20', '7', '1-5,9': the seeds in order, without repeats."""
    expected = ("bad --seeds '%s': expected FIRST-LAST with 0 <= FIRST <= "
                "LAST <= %d (e.g. 1-20), or a comma-separated list of seeds "
                "and ranges (e.g. 1-5,9)" % (text, MAX_SEED))
    seeds, seen = [], set()
    for part in text.split(","):
        m = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        if not m:
            raise Failure(expected, 2)
        first = int(m.group(1))
        last = int(m.group(2)) if m.group(2) is not None else first
        if first > last or last > MAX_SEED:
            raise Failure(expected, 2)
        if last - first + 1 + len(seeds) > MAX_SEEDS:
            raise Failure("--seeds '%s': more than %d seeds" % (text,
                                                                MAX_SEEDS), 2)
        for seed in range(first, last + 1):
            if seed not in seen:
                seen.add(seed)
                seeds.append(seed)
    return seeds


def parse_families(text):
    """'realloc-large,tiny' (or with .rep): those families, in the
    generator's order."""
    wanted = set()
    for name in text.split(","):
        name = name.strip()
        name = name[:-4] if name.endswith(".rep") else name
        if name not in FAMILIES:
            raise Failure("unknown family '%s' in --families: expected a "
                          "comma-separated list of %s" % (
                              name, ", ".join(FAMILIES)), 2)
        wanted.add(name)
    return [name for name in FAMILIES if name in wanted]


def parse_drivers(specs):
    """NAME=MDRIVER strings -> [(name, path)]; each must be executable."""
    drivers = []
    for spec in specs:
        name, eq, path = spec.partition("=")
        if not eq or not re.fullmatch(r"[\w.+-]+", name) or not path:
            raise Failure("bad driver '%s': expected NAME=MDRIVER (e.g. "
                          "mine=build/mdriver-mine)" % spec, 2)
        if name in [n for n, _ in drivers]:
            raise Failure("driver name '%s' given twice: expected one "
                          "NAME=MDRIVER per name" % name, 2)
        if not os.path.isfile(path) or not os.access(path, os.X_OK):
            raise Failure("driver %s: no executable mdriver at %s (expected "
                          "a built mdriver, e.g. `make -C malloc` for "
                          "malloc/mdriver)" % (name, path), 2)
        drivers.append((name, path))
    return drivers


# ----------------------------------------------------- traces and bounds

def sha256_of(paths, extra=""):
    h = hashlib.sha256(extra.encode())
    for path in paths:
        with open(path, "rb") as f:
            h.update(os.path.basename(path).encode() + b"\0" + f.read())
    return h.hexdigest()


def cache_keys():
    """(generator key, bounds key): what the traces and the bounds were
    made with."""
    gen = sha256_of([os.path.join(TOOLS, "gen_traces.py"),
                     os.path.join(TOOLS, "reptrace.py")])
    return gen, sha256_of([os.path.join(TOOLS, "tracestats.py")], gen)


def _read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def _write_atomic(path, text):
    tmp = "%s.tmp%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def prepare(seed, families, cache, keys):
    """Makes sure cache/SEED/ holds the families' traces of this seed made
    by the current generator; returns ({family: bound}, generated count)."""
    gen_key, bound_key = keys
    outdir = os.path.join(cache, str(seed))
    os.makedirs(outdir, exist_ok=True)
    stamp = os.path.join(outdir, "generator")
    bounds_file = os.path.join(outdir, "bounds.json")
    with open(os.path.join(outdir, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another run on the same seed
        if _read(stamp) != gen_key:  # another generator: start afresh
            for name in os.listdir(outdir):
                if name.endswith(".rep") or name in ("bounds.json",
                                                     "generator"):
                    os.unlink(os.path.join(outdir, name))
        missing = [f for f in families
                   if not os.path.exists(os.path.join(outdir, f + ".rep"))]
        if missing:
            tmp = tempfile.mkdtemp(prefix=".gen-", dir=outdir)
            try:
                proc = subprocess.run(
                    [sys.executable, os.path.join(TOOLS, "gen_traces.py"),
                     "--seed", str(seed), "--out", tmp, "--only"]
                    + [f + ".rep" for f in missing],
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                    text=True, errors="replace")
                if proc.returncode != 0:
                    last = (proc.stderr.strip().splitlines() or ["no output"])
                    raise Failure("tools/gen_traces.py --seed %d failed (exit "
                                  "%d): %s" % (seed, proc.returncode,
                                               last[-1]))
                for f in missing:
                    os.replace(os.path.join(tmp, f + ".rep"),
                               os.path.join(outdir, f + ".rep"))
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            _write_atomic(stamp, gen_key + "\n")
        try:
            cached = json.loads(_read(bounds_file) or "{}")
        except ValueError:
            cached = {}
        bounds = cached.get("bounds", {}) if cached.get("key") == bound_key \
            else {}
        fresh = [f for f in families if f not in bounds]
        for f in fresh:
            trace = reptrace.parse(os.path.join(outdir, f + ".rep"))
            bounds[f] = tracestats.stats(trace)["bound"]
        if fresh:
            _write_atomic(bounds_file, json.dumps(
                {"key": bound_key, "bounds": bounds}, indent=1,
                sort_keys=True) + "\n")
    return {f: bounds[f] for f in families}, len(missing)


def replay(name, path, seed, families, cache):
    """`path -n -t DIR -f ... -j -` on one seed; returns {family: util}."""
    outdir = os.path.abspath(os.path.join(cache, str(seed)))
    cmd = [os.path.abspath(path), "-n", "-t", outdir]
    for f in families:
        cmd += ["-f", os.path.join(outdir, f + ".rep")]
    proc = subprocess.run(cmd + ["-j", "-"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, errors="replace")
    who = "driver %s (%s) on seed %d" % (name, path, seed)
    try:
        run = json.loads(proc.stdout)
        traces = {os.path.basename(t["name"]): t for t in run["traces"]}
    except (ValueError, KeyError, TypeError):
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise Failure("%s: expected `-j -` JSON on stdout, got none (exit "
                      "%d): %s" % (who, proc.returncode, last[:300]))
    utils = {}
    for f in families:
        t = traces.get(f + ".rep")
        if t is None:
            raise Failure("%s: expected a result for %s.rep in its JSON, "
                          "found none" % (who, f))
        if not t.get("valid"):
            error = t.get("error") or {}
            message = ((error.get("message") or "").splitlines() or [""])[0]
            raise Failure("%s: %s.rep failed: %s: %s" % (
                who, f, error.get("kind", "invalid"), message[:300]))
        utils[f] = float(t["util"])
    if proc.returncode != 0:
        raise Failure("%s: exit %d although every trace is valid" % (
            who, proc.returncode))
    return utils


def seed_job(seed, families, cache, keys, drivers):
    """One seed: its traces, bounds and every driver's utils.
    Returns (seed, {driver: {family: util/bound}}, traces generated)."""
    try:
        bounds, generated = prepare(seed, families, cache, keys)
        ratios = {}
        for name, path in drivers:
            utils = replay(name, path, seed, families, cache)
            ratios[name] = {f: utils[f] / bounds[f] for f in families}
        return seed, ratios, generated
    except Failure:
        raise
    except (OSError, reptrace.TraceError) as e:
        raise Failure("seed %d: %s" % (seed, str(e).splitlines()[0]))


def run_all(seeds, families, cache, drivers, jobs):
    """{driver: {seed: {family: util/bound}}}, traces generated."""
    keys = cache_keys()
    args = (families, cache, keys, drivers)
    if jobs <= 1 or len(seeds) <= 1:
        results = [seed_job(s, *args) for s in seeds]
    else:
        pool = concurrent.futures.ProcessPoolExecutor(
            max_workers=jobs, mp_context=multiprocessing.get_context("fork"))
        try:
            futures = [pool.submit(seed_job, s, *args) for s in seeds]
            results = [f.result() for f in futures]
        finally:
            pool.shutdown(cancel_futures=True)
    ratios = {name: {} for name, _ in drivers}
    for seed, per_driver, _ in results:
        for name in per_driver:
            ratios[name][seed] = per_driver[name]
    return ratios, sum(r[2] for r in results)


# ------------------------------------------------------------ statistics

def mean_of_families(per_seed, families):
    """{seed: {family: r}} -> {seed: mean over the families}."""
    return {s: sum(v[f] for f in families) / len(families)
            for s, v in per_seed.items()}


def spread(values):
    """(mean, min, max) of a non-empty list."""
    return sum(values) / len(values), min(values), max(values)


def paired(base, other):
    """Paired differences other - base over the same seeds (two lists):
    mean, standard error (None for one seed), better, worse, same, min,
    max."""
    diffs = [o - b for b, o in zip(base, other)]
    n = len(diffs)
    mean = sum(diffs) / n
    se = (math.sqrt(sum((d - mean) ** 2 for d in diffs) / (n - 1) / n)
          if n > 1 else None)
    better = sum(1 for d in diffs if d > SAME)
    worse = sum(1 for d in diffs if d < -SAME)
    return {"mean": mean, "se": se, "better": better, "worse": worse,
            "same": n - better - worse, "min": min(diffs), "max": max(diffs)}


# ---------------------------------------------------------------- report

def seeds_text(seeds):
    """[1, 2, 3, 7] -> '1-3,7'."""
    parts, start = [], None
    for i, s in enumerate(seeds):
        if start is None:
            start = s
        if i + 1 == len(seeds) or seeds[i + 1] != s + 1:
            parts.append(str(start) if start == s else "%d-%d" % (start, s))
            start = None
    return ",".join(parts)


def pct(r):
    return "%.1f" % (100 * r)


def pts(d):
    return "%+.2f" % (100 * d)


def report(drivers, seeds, families, ratios, suite=None):
    """The markdown report. ratios: {driver: {seed: {family: util/bound}}}
    over seeds; suite: the same for the suite's seed alone
    ({driver: {family: r}}), or None."""
    names = [n for n, _ in drivers]
    means = {n: mean_of_families(ratios[n], families) for n in names}
    suite_means = ({n: sum(suite[n][f] for f in families) / len(families)
                    for n in names} if suite else None)
    rows = [(f, {n: [ratios[n][s][f] for s in seeds] for n in names},
             {n: suite[n][f] for n in names} if suite else None)
            for f in families]
    rows.append(("**mean of the families**",
                 {n: [means[n][s] for s in seeds] for n in names},
                 suite_means))
    lines = ["## util/bound per family over seeds %s (%d seeds)"
             % (seeds_text(seeds), len(seeds)), "",
             "mdriver -n util / the ideal bound of tools/tracestats.py, "
             "in %% of the bound: the mean over the seeds (min..max)%s. "
             "Last row: per seed, the mean of the %d families. "
             "Drivers: %s." % (
                 "; @%d: on the suite's seed (the generated traces of "
                 "traces/), not in the mean" % SUITE_SEED if suite else "",
                 len(families),
                 "; ".join("%s = `%s`" % (n, p) for n, p in drivers)), ""]
    head = ["family"]
    for n in names:
        head += [n] + (["%s @%d" % (n, SUITE_SEED)] if suite else [])
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|---|" + "---:|" * (len(head) - 1))
    for label, values, at_suite in rows:
        row = [label]
        for n in names:
            mean, lo, hi = spread(values[n])
            row.append("%s (%s..%s)" % (pct(mean), pct(lo), pct(hi)))
            if suite:
                row.append(pct(at_suite[n]))
        lines.append("| " + " | ".join(row) + " |")
    lines += goals_table(names, seeds, families, ratios)
    base = names[0]
    for n in names[1:]:
        lines += ["", "## %s - %s, paired by seed (points of util/bound)"
                  % (n, base), "",
                  "Per seed, %s's util/bound minus %s's, in points (%% of the "
                  "bound): mean +- standard error over the %d seeds, the "
                  "seeds on which %s is better / worse / the same, the "
                  "smallest and largest difference%s." % (
                      n, base, len(seeds), n,
                      ", and the difference on seed %d" % SUITE_SEED
                      if suite else ""), ""]
        head = ["family", "mean +- s.e.", "better / worse / same",
                "min..max"] + (["@%d" % SUITE_SEED] if suite else [])
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|---|" + "---:|" * (len(head) - 1))
        for label, values, at_suite in rows:
            p = paired(values[base], values[n])
            row = [label, "%s +- %s" % (pts(p["mean"]), "%.2f" % (
                100 * p["se"]) if p["se"] is not None else "-"),
                "%d / %d / %d" % (p["better"], p["worse"], p["same"]),
                "%s..%s" % (pts(p["min"]), pts(p["max"]))]
            if suite:
                row.append(pts(at_suite[n] - at_suite[base]))
            lines.append("| " + " | ".join(row) + " |")
        p = paired(rows[-1][1][base], rows[-1][1][n])
        lines += ["", "- **%s - %s: %s points of util/bound** on the mean of "
                  "the %d families (%s over %d seeds), better on %d of the "
                  "seeds, worse on %d, the same on %d%s." % (
                      n, base, pts(p["mean"]), len(families),
                      "standard error %.2f" % (100 * p["se"])
                      if p["se"] is not None else "one seed: no error",
                      len(seeds), p["better"], p["worse"], p["same"],
                      "; on the suite's seed %d: %s" % (
                          SUITE_SEED, pts(suite_means[n] - suite_means[base]))
                      if suite else "")]
    return lines


def goal(kind, family, threshold, per_seed, seeds, families):
    """One goal for one driver: (met, what was measured). per_seed:
    {seed: {family: util/bound}}. met is None when the goal needs a family
    (or every family) that was not measured."""
    if family is ALL and len(families) < len(FAMILIES):
        return None, "not measured: %d of the %d families" % (
            len(families), len(FAMILIES))
    if family is not ALL and family not in families:
        return None, "not measured: no %s in --families" % family
    if kind == "families":
        means = {f: spread([per_seed[s][f] for s in seeds])[0]
                 for f in families}
        low = sorted((m, f) for f, m in means.items() if m < threshold)
        if not low:
            m, f = min((m, f) for f, m in means.items())
            return True, "met: the lowest is %s, %.2f%%" % (f, 100 * m)
        return False, "NOT met: " + ", ".join("%s %.2f%%" % (f, 100 * m)
                                              for m, f in low)
    if family is ALL:
        values = mean_of_families(per_seed, families)
    else:
        values = {s: per_seed[s][family] for s in seeds}
    if kind == "seeds":
        worst = min(seeds, key=lambda s: values[s])
        met = values[worst] >= threshold
        return met, "%s: the lowest is %.2f%% (seed %d)" % (
            "met" if met else "NOT met", 100 * values[worst], worst)
    mean = spread([values[s] for s in seeds])[0]
    met = mean >= threshold
    return met, "%s: %.2f%%" % ("met" if met else "NOT met", 100 * mean)


def goals_table(names, seeds, families, ratios):
    """The goals block: one row per goal, one column per driver, and a
    line that counts the goals each driver meets."""
    lines = ["", "## Goals over seeds %s" % seeds_text(seeds), "",
             "The reference allocator's goals (docs/tools.md), in % of "
             "the bound: a mean is over the seeds (for all the families: of "
             "the per-seed mean of the families, the last row above); "
             "\"no seed\" holds for every seed. Compared unrounded, shown "
             "to two decimals.", "",
             "| goal | " + " | ".join(names) + " |",
             "|---|" + "---|" * len(names)]
    met = {n: 0 for n in names}
    for label, family, kind, threshold in GOALS:
        cells = []
        for n in names:
            ok, text = goal(kind, family, threshold, ratios[n], seeds,
                            families)
            met[n] += ok is True
            cells.append(text)
        lines.append("| %s | %s |" % (label, " | ".join(cells)))
    lines += ["", "- Goals met: " + "; ".join(
        "%s %d of %d" % (n, met[n], len(GOALS)) for n in names) + "."]
    return lines


def preamble():
    return ("# util/bound over many seeds\n\n"
            "Written by `%s` at commit %s, %s UTC (tools/seeds_bench.py; "
            "`mdriver -n`: no timing, every figure is exact and "
            "reproducible).\n\n" % (
                " ".join(["python3 tools/seeds_bench.py"] + sys.argv[1:]),
                bench_allocator.git_head("malloc/"),
                time.strftime("%Y-%m-%d %H:%M", time.gmtime())))


def main(argv):
    ap = Parser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default=DEFAULT_SEEDS,
                    help="seeds and ranges, e.g. 1-20 or 1-5,9 "
                    "(default %(default)s)")
    ap.add_argument("--families", help="comma-separated families "
                    "(default: all %d)" % len(FAMILIES))
    ap.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1),
                    help="processes (default %(default)s)")
    ap.add_argument("--cache", default=os.path.join(ROOT, "build", "seeds"),
                    help="where the traces go (default build/seeds)")
    ap.add_argument("--out", help="also write the report to this file")
    ap.add_argument("drivers", nargs="*", metavar="NAME=MDRIVER")
    args = ap.parse_args(argv)
    seeds = parse_seeds(args.seeds)
    families = parse_families(args.families) if args.families else FAMILIES
    drivers = parse_drivers(args.drivers or [DEFAULT_DRIVER])
    start = time.time()
    run_seeds = seeds + ([SUITE_SEED] if SUITE_SEED not in seeds else [])
    ratios, generated = run_all(run_seeds, families, args.cache, drivers,
                                args.jobs)
    suite = {n: ratios[n][SUITE_SEED] for n, _ in drivers}
    if SUITE_SEED not in seeds:
        for n, _ in drivers:
            del ratios[n][SUITE_SEED]
    text = "\n".join(report(drivers, seeds, families, ratios, suite)) + "\n"
    sys.stdout.write(text)
    sys.stderr.write("seeds_bench: %d seeds (+%d) x %d families x %d "
                     "drivers in %.1f s (%d traces generated, the others "
                     "reused from %s)\n" % (
                         len(seeds), len(run_seeds) - len(seeds),
                         len(families), len(drivers), time.time() - start,
                         generated, os.path.relpath(args.cache)))
    if args.out:
        try:
            with open(args.out, "w") as f:
                f.write(preamble() + text)
        except OSError as e:
            raise Failure("cannot write --out %s: %s" % (args.out,
                                                         e.strerror))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Failure as e:
        sys.stderr.write("seeds_bench: ERROR: %s\n" % e.message)
        sys.exit(e.status)
