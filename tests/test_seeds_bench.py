"""tools/seeds_bench.py: the statistics (by hand and through fake mdrivers
that print canned -j JSON), one real run with malloc/mdriver, the trace
cache, and the one-line errors."""
import atexit
import importlib.util
import json
import os
import shutil
import sys
import tempfile

import kit

sys.path.insert(0, kit.TOOLS)
import reptrace  # noqa: E402
import tracestats  # noqa: E402

spec = importlib.util.spec_from_file_location(
    "seeds_bench", os.path.join(kit.TOOLS, "seeds_bench.py"))
seeds_bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(seeds_bench)

TOOL = os.path.join(kit.TOOLS, "seeds_bench.py")
MDRIVER = os.path.join(kit.MALLOC, "mdriver")
FAMILIES = ["realloc-large", "giant"]  # small and quick to generate
WORK = tempfile.mkdtemp(prefix="mmtest-seeds-")
CACHE = os.path.join(WORK, "cache")  # shared by the tests: generated once
atexit.register(shutil.rmtree, WORK, True)

# A fake mdriver: util of each -f trace from UTILS[seed][family], the seed
# being the name of the -t directory; MODE "invalid" fails the second
# trace, "nojson" prints no JSON.
FAKE = r'''#!%s
import json, os, sys
UTILS = %s
MODE = %r
args = sys.argv[1:]
seed = os.path.basename(args[args.index("-t") + 1])
files = [args[i + 1] for i, a in enumerate(args) if a == "-f"]
if MODE == "nojson":
    sys.stderr.write("fake: out of cheese\n")
    sys.exit(2)
traces = []
for i, path in enumerate(files):
    family = os.path.basename(path)[:-4]
    bad = MODE == "invalid" and i == 1
    traces.append({"name": path, "path": path, "weight": 1, "valid": not bad,
                   "error": {"kind": "overlap", "line": 7, "op": "a 1 5",
                             "phase": "replay 1", "message": "blocks overlap"
                             "\nsecond line"} if bad else None,
                   "util": UTILS[seed][family], "secs": None})
print(json.dumps({"version": 1, "valid": MODE != "invalid", "traces": traces,
                  "util": 0.5, "kops": None}))
sys.exit(1 if MODE == "invalid" else 0)
'''


def fake_driver(name, utils, mode="ok"):
    path = os.path.join(WORK, name)
    with open(path, "w") as f:
        f.write(FAKE % (sys.executable, json.dumps(utils), mode))
    os.chmod(path, 0o755)
    return path


def run_tool(*args):
    return kit.run([sys.executable, TOOL, "--cache", CACHE] + list(args),
                   timeout=120)


def bound(seed, family):
    return tracestats.stats(reptrace.parse(os.path.join(
        CACHE, str(seed), family + ".rep")))["bound"]


def table_rows(text):
    """{first cell: [other cells]} of every markdown table row."""
    rows = {}
    for line in text.splitlines():
        if line.startswith("| ") and not line.startswith("|---"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows.setdefault(cells[0], []).append(cells[1:])
    return rows


def one_error_line(proc, status, *words):
    lines = proc.stderr.strip().splitlines()
    kit.expect(proc.returncode == status, "expected exit %d" % status, proc)
    kit.expect(len(lines) == 1 and lines[0].startswith(
        "seeds_bench: ERROR: ") and "Traceback" not in proc.stderr,
        "expected one ERROR line on stderr", proc)
    for word in words:
        kit.expect(word in lines[0], "expected %r in the error" % word, proc)


def test_statistics_by_hand():
    p = seeds_bench.paired([0.80, 0.90, 0.70], [0.81, 0.88, 0.74])
    kit.expect(abs(p["mean"] - 0.01) < 1e-12 and
               abs(p["se"] - 0.03 / 3 ** 0.5) < 1e-12,
               "diffs +0.01 -0.02 +0.04: mean 0.01, sd 0.03, se 0.03/sqrt(3)"
               + repr(p))
    kit.expect((p["better"], p["worse"], p["same"]) == (2, 1, 0) and
               abs(p["min"] + 0.02) < 1e-12 and abs(p["max"] - 0.04) < 1e-12,
               "2 better, 1 worse, -0.02..+0.04: %r" % p)
    kit.expect(seeds_bench.paired([0.5], [0.5])["se"] is None and
               seeds_bench.paired([0.5], [0.5])["same"] == 1,
               "one seed: no standard error, the same")
    ratios = {"a": {1: {"x": 0.80, "y": 0.60}, 2: {"x": 0.90, "y": 0.70}},
              "b": {1: {"x": 0.85, "y": 0.60}, 2: {"x": 0.88, "y": 0.74}}}
    suite = {"a": {"x": 0.95, "y": 0.50}, "b": {"x": 0.96, "y": 0.50}}
    text = "\n".join(seeds_bench.report([("a", "pa"), ("b", "pb")], [1, 2],
                                        ["x", "y"], ratios, suite))
    rows = table_rows(text)
    kit.expect(rows["x"][0] == ["85.0 (80.0..90.0)", "95.0",
                                "86.5 (85.0..88.0)", "96.0"],
               "x: a 0.80 0.90, b 0.85 0.88, @15213 0.95 0.96\n" + text)
    # per seed means of the families: a 0.70 0.80, b 0.725 0.81
    kit.expect(rows["**mean of the families**"][0] == [
        "75.0 (70.0..80.0)", "72.5", "76.8 (72.5..81.0)", "73.0"],
        "the mean of the families per seed, then over seeds\n" + text)
    kit.expect(rows["x"][1] == ["+1.50 +- 3.50", "1 / 1 / 0",
                                "-2.00..+5.00", "+1.00"],
               "x: b - a = +5, -2 points\n" + text)
    kit.expect(rows["y"][1] == ["+2.00 +- 2.00", "1 / 0 / 1",
                                "+0.00..+4.00", "+0.00"],
               "y: b - a = 0, +4 points\n" + text)
    kit.expect(rows["**mean of the families**"][1][:2] == [
        "+1.75 +- 0.75", "2 / 0 / 0"], "means: +2.5, +1 points\n" + text)
    kit.expect("**b - a: +1.75 points of util/bound**" in text and
               "standard error 0.75 over 2 seeds" in text and
               "on the suite's seed 15213: +0.50" in text,
               "the summary line\n" + text)
    kit.expect(seeds_bench.seeds_text([1, 2, 3, 7, 9, 10]) == "1-3,7,9-10",
               "seeds_text")


def _goal_cells(ratios, families, seeds=(1, 2)):
    """{goal label: [cell per driver]} of report()'s goals table."""
    names = sorted(ratios)
    text = "\n".join(seeds_bench.report([(n, "p" + n) for n in names],
                                        list(seeds), families, ratios))
    rows = table_rows(text)
    return {label: rows[label][0] for label, _, _, _ in seeds_bench.GOALS}, \
        text


def test_goals_by_hand():
    every = seeds_bench.FAMILIES
    kit.expect({f for _, f, _, _ in seeds_bench.GOALS} - {None} <=
               set(every), "a goal names a family the generator lacks")

    def ratios(grow, binary, rest):
        """Per seed 1, 2: growing-block, binary, every other family."""
        return {s: {f: {"growing-block": grow[s - 1], "binary": binary[s - 1]
                        }.get(f, rest[s - 1]) for f in every} for s in (1, 2)}

    # a: every goal met; b: every goal missed (growing-block just below)
    cells, text = _goal_cells({
        "a": ratios([0.99, 0.92], [0.91, 0.93], [0.90, 0.92]),
        "b": ratios([0.9999, 0.8999], [0.60, 0.62], [0.72, 0.74])}, every)
    # the mean of all: a (14 * 0.90 + 0.99 + 0.91) / 16 = 0.90625 and
    # (14 * 0.92 + 0.92 + 0.93) / 16 = 0.920625; b 0.72999375, 0.74249375
    kit.expect(cells == {
        "growing-block: mean >= 95%": ["met: 95.50%", "NOT met: 94.99%"],
        "growing-block: no seed < 90%": [
            "met: the lowest is 92.00% (seed 2)",
            "NOT met: the lowest is 89.99% (seed 2)"],
        "binary: mean >= 90%": ["met: 92.00%", "NOT met: 61.00%"],
        "mean of all the families >= 90%": [
            "met: 91.34%", "NOT met: 73.62%"],
        "no family's mean < 70%": [
            "met: the lowest is calloc, 91.00%",
            "NOT met: binary 61.00%"]}, "a meets all, b none\n" + text)
    kit.expect("- Goals met: a 5 of 5; b 0 of 5." in text,
               "the count of goals met\n" + text)
    # a family goal is measured on its family alone; the goals on all the
    # families are not measured on a part of them
    cells, text = _goal_cells({"a": ratios([0.9, 0.9], [0.95, 0.97],
                                           [0.5, 0.5])}, ["binary", "tiny"])
    kit.expect(cells == {
        "growing-block: mean >= 95%": [
            "not measured: no growing-block in --families"],
        "growing-block: no seed < 90%": [
            "not measured: no growing-block in --families"],
        "binary: mean >= 90%": ["met: 96.00%"],
        "mean of all the families >= 90%": [
            "not measured: 2 of the %d families" % len(every)],
        "no family's mean < 70%": [
            "not measured: 2 of the %d families" % len(every)]},
        "binary and tiny only\n" + text)


def test_fake_drivers_means_and_paired_differences():
    utils_a = {"1": {"realloc-large": 0.60, "giant": 0.90},
               "2": {"realloc-large": 0.70, "giant": 0.95},
               "3": {"realloc-large": 0.65, "giant": 0.99},
               "15213": {"realloc-large": 0.70, "giant": 1.0}}
    utils_b = {"1": {"realloc-large": 0.62, "giant": 0.90},
               "2": {"realloc-large": 0.69, "giant": 0.95},
               "3": {"realloc-large": 0.70, "giant": 0.99},
               "15213": {"realloc-large": 0.71, "giant": 1.0}}
    a, b = fake_driver("fake-a", utils_a), fake_driver("fake-b", utils_b)
    proc = run_tool("--seeds", "1-3", "--families", "giant,realloc-large",
                    "A=" + a, "B=" + b)
    kit.expect(proc.returncode == 0, "two fake drivers", proc)
    rows = table_rows(proc.stdout)
    seeds = ["1", "2", "3"]
    ratio = {d: {s: {f: u[s][f] / bound(s, f) for f in FAMILIES}
                 for s in seeds + ["15213"]}
             for d, u in (("A", utils_a), ("B", utils_b))}
    for f in FAMILIES:
        for col, d in ((0, "A"), (2, "B")):
            values = [ratio[d][s][f] for s in seeds]
            want = "%.1f (%.1f..%.1f)" % (100 * sum(values) / 3,
                                          100 * min(values),
                                          100 * max(values))
            kit.expect(rows[f][0][col] == want and
                       rows[f][0][col + 1] == "%.1f" % (
                           100 * ratio[d]["15213"][f]),
                       "%s %s: expected %s\n%s" % (f, d, want, proc.stdout))
    diffs = [ratio["B"][s]["realloc-large"] - ratio["A"][s]["realloc-large"]
             for s in seeds]
    mean = sum(diffs) / 3
    se = (sum((d - mean) ** 2 for d in diffs) / 2 / 3) ** 0.5
    kit.expect(rows["realloc-large"][1] == [
        "%+.2f +- %.2f" % (100 * mean, 100 * se), "2 / 1 / 0",
        "%+.2f..%+.2f" % (100 * min(diffs), 100 * max(diffs)),
        "%+.2f" % (100 * (ratio["B"]["15213"]["realloc-large"] -
                          ratio["A"]["15213"]["realloc-large"]))],
        "realloc-large: B - A per seed %r\n%s" % (diffs, proc.stdout))
    kit.expect(rows["giant"][1][:2] == ["+0.00 +- 0.00", "0 / 0 / 3"],
               "giant: the same utils\n" + proc.stdout)
    kit.expect("%+.2f points" % (100 * mean / 2) in proc.stdout,
               "the mean of the 2 families: half realloc-large's\n"
               + proc.stdout)


def test_fake_driver_goals_on_the_classic_patterns():
    """The goals of a driver, from its util over the generated traces'
    bounds: growing-block met on seed 1 only, binary's mean met."""
    utils = {"1": {"growing-block": 0.999, "binary": 0.60},
             "2": {"growing-block": 0.85, "binary": 0.95},
             "15213": {"growing-block": 0.5, "binary": 0.5}}
    proc = run_tool("--seeds", "1-2", "--families", "growing-block,binary",
                    "A=" + fake_driver("fake-goals", utils))
    kit.expect(proc.returncode == 0, "a fake driver on the new families",
               proc)
    rows = table_rows(proc.stdout)
    r = {s: {f: utils[s][f] / bound(s, f) for f in utils[s]}
         for s in ("1", "2")}
    grow = [r["1"]["growing-block"], r["2"]["growing-block"]]
    binary = (r["1"]["binary"] + r["2"]["binary"]) / 2
    kit.expect(grow[0] >= 0.95 and grow[1] < 0.90 and
               sum(grow) / 2 < 0.95 and binary >= 0.90,
               "the bounds: growing-block near 100%%, binary %.4f, %.4f" % (
                   bound("1", "binary"), bound("2", "binary")))
    want = {"growing-block: mean >= 95%": "NOT met: %.2f%%" % (
                50 * sum(grow)),
            "growing-block: no seed < 90%":
                "NOT met: the lowest is %.2f%% (seed 2)" % (100 * grow[1]),
            "binary: mean >= 90%": "met: %.2f%%" % (100 * binary),
            "mean of all the families >= 90%":
                "not measured: 2 of the %d families" % len(
                    seeds_bench.FAMILIES)}
    for label, cell in want.items():
        kit.expect(rows[label][0] == [cell], "%s: expected %r\n%s" % (
            label, cell, proc.stdout))
    kit.expect("- Goals met: A 1 of 5." in proc.stdout, "one goal met\n"
               + proc.stdout)


def test_real_run_and_the_suite_seed():
    if not os.access(MDRIVER, os.X_OK):
        raise kit.Skip("malloc/mdriver is not built (make)")
    proc = run_tool("--seeds", "1-2", "--families", ",".join(FAMILIES),
                    "ref=" + MDRIVER)
    kit.expect(proc.returncode == 0, "malloc/mdriver on 2 seeds", proc)
    rows = table_rows(proc.stdout)
    goals = [label for label, _, _, _ in seeds_bench.GOALS]
    kit.expect(list(rows) == ["family"] + FAMILIES +
               ["**mean of the families**", "goal"] + goals,
               "one row per family and the mean, then the goals\n"
               + proc.stdout)
    kit.expect(all(rows[g][0][0].startswith("not measured: ") for g in goals),
               "no goal is measured on realloc-large and giant alone\n"
               + proc.stdout)
    for f in FAMILIES + ["**mean of the families**"]:
        mean, lo, hi, at_suite = [float(x) for x in rows[f][0][0].replace(
            "(", " ").replace(")", " ").replace("..", " ").split()
            + [rows[f][0][1]]]
        kit.expect(all(0 < v <= 101 for v in (mean, lo, hi, at_suite)) and
                   lo <= mean <= hi, "%s: util/bound in (0, 1.01]\n%s"
                   % (f, proc.stdout))
    # seed 15213 is the suite's: the same traces as traces/, the same ratio
    for f in FAMILIES:
        with open(os.path.join(CACHE, "15213", f + ".rep")) as g, \
                open(os.path.join(kit.TRACES, f + ".rep")) as t:
            kit.expect(g.read() == t.read(), "%s: seed 15213 is traces/" % f)
        run = json.loads(kit.run([MDRIVER, "-n", "-f", os.path.join(
            kit.TRACES, f + ".rep"), "-j", "-"]).stdout)
        want = run["traces"][0]["util"] / tracestats.stats(reptrace.parse(
            os.path.join(kit.TRACES, f + ".rep")))["bound"]
        kit.expect(rows[f][0][1] == "%.1f" % (100 * want),
                   "%s @15213 is %.1f\n%s" % (f, 100 * want, proc.stdout))


def test_cache_reused_and_renewed_with_the_generator():
    if not os.access(MDRIVER, os.X_OK):
        raise kit.Skip("malloc/mdriver is not built (make)")
    args = ("--seeds", "4", "--families", "giant", "ref=" + MDRIVER)
    first = run_tool(*args)
    kit.expect(first.returncode == 0 and ("(1 traces generated" in
                                          first.stderr or
                                          "(2 traces generated" in
                                          first.stderr),
               "seed 4 (and 15213 unless cached) generated", first)
    rep = os.path.join(CACHE, "4", "giant.rep")
    before = os.stat(rep).st_mtime_ns
    again = run_tool(*args)
    kit.expect(again.returncode == 0 and "(0 traces generated" in
               again.stderr and os.stat(rep).st_mtime_ns == before and
               again.stdout == first.stdout, "cached: nothing generated",
               again)
    with open(rep, "a") as f:  # would change the bound if it were reused
        f.write("# stale\n")
    with open(os.path.join(CACHE, "4", "generator"), "w") as f:
        f.write("an older generator\n")
    renewed = run_tool(*args)
    with open(rep) as f:
        kit.expect("# stale" not in f.read(), "regenerated", renewed)
    kit.expect(renewed.returncode == 0 and "(1 traces generated" in
               renewed.stderr and renewed.stdout == first.stdout,
               "another generator's traces are made again", renewed)


def test_errors_are_one_line():
    one_error_line(run_tool("--seeds", "20-1"), 2, "--seeds '20-1'",
                   "expected FIRST-LAST")
    one_error_line(run_tool("--seeds", "1-x"), 2, "expected FIRST-LAST")
    one_error_line(run_tool("--seeds", ""), 2, "expected FIRST-LAST")
    one_error_line(run_tool("--seeds", "1-99999999999"), 2, "<= 4294967295")
    one_error_line(run_tool("--families", "tiny,nope"), 2,
                   "unknown family 'nope'", "realloc-large")
    one_error_line(run_tool("--bogus"), 2, "--bogus", "usage")
    one_error_line(run_tool("--seeds", "1", "lowsmall"), 2,
                   "bad driver 'lowsmall'", "expected NAME=MDRIVER")
    missing = os.path.join(WORK, "no-such-mdriver")
    one_error_line(run_tool("--seeds", "1", "x=" + missing), 2,
                   "driver x: no executable mdriver at " + missing)
    utils = {s: {f: 0.5 for f in FAMILIES} for s in ("1", "2", "15213")}
    bad = fake_driver("fake-invalid", utils, "invalid")
    one_error_line(run_tool("--seeds", "1-2", "--families",
                            ",".join(FAMILIES), "bad=" + bad), 1,
                   "driver bad (%s) on seed" % bad,
                   "giant.rep failed: overlap: blocks overlap")
    mute = fake_driver("fake-nojson", utils, "nojson")
    one_error_line(run_tool("--seeds", "1", "--families", "giant",
                            "mute=" + mute), 1, "driver mute",
                   "expected `-j -` JSON", "(exit 2): fake: out of cheese")


def _seeds_bench_command(*variables):
    """The tools/seeds_bench.py command `make seeds-bench` would run, and
    the mdriver builds it would make (`make -n`: nothing is run)."""
    proc = kit.run(["make", "-n", "--no-print-directory", "seeds-bench"]
                   + list(variables))
    kit.expect(proc.returncode == 0, "make -n seeds-bench", proc)
    text = proc.stdout.replace("\\\n", " ")
    bench = [line.split() for line in text.splitlines()
             if "tools/seeds_bench.py" in line]
    builds = [cmd for cmd in text.replace("&&", "\n").splitlines()
              if "OUT=" in cmd]
    kit.expect(len(bench) == 1, "one seeds_bench command", proc)
    return bench[0][bench[0].index("--seeds"):], builds


def test_make_seeds_bench_drivers_and_builds():
    args, builds = _seeds_bench_command()
    kit.expect(args == ["--seeds", "1-20", "default=malloc/mdriver"] and
               not builds, "by default malloc/mdriver alone: %r" % args)
    args, builds = _seeds_bench_command(
        "SEEDS_BENCH_SEEDS=3-4",
        "SEEDS_BENCH_DRIVERS=old=build/x new=malloc/mdriver",
        "SEEDS_BENCH_BUILDS=nolow=-DMM_A=0,-DMM_B=1 plain=-O1")
    kit.expect(args == ["--seeds", "3-4", "old=build/x", "new=malloc/mdriver",
                        "nolow=build/mdriver-seeds-nolow",
                        "plain=build/mdriver-seeds-plain"],
               "the drivers, then the builds, in order: %r" % args)
    kit.expect(len(builds) == 2 and
               "OUT=../build/mdriver-seeds-nolow EXTRA_CFLAGS='-DMM_A=0 "
               "-DMM_B=1'" in builds[0] and
               "OUT=../build/mdriver-seeds-plain EXTRA_CFLAGS='-O1'"
               in builds[1], "one build per NAME=FLAGS: %r" % builds)
