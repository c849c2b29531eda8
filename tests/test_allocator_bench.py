"""tools/bench_allocator.py: the goal lines follow from the figures (fake
mdriver runs, so no build and no timing)."""
import importlib.util
import os

import kit

spec = importlib.util.spec_from_file_location(
    "bench_allocator", os.path.join(kit.TOOLS, "bench_allocator.py"))
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def fake_run(utils, weights=None, kops=100.0, glibc=50.0):
    weights = weights or [1] * len(utils)
    return {"traces": [{"name": "t%d.rep" % i, "weight": w, "util": u}
                       for i, (u, w) in enumerate(zip(utils, weights))],
            "util": 0.0, "kops": kops, "glibc_kops": glibc}


def real_run(utils):
    return {"traces": [{"name": n, "weight": 1, "util": u}
                       for n, u in utils.items()],
            "util": 0.0, "kops": 100.0, "glibc_kops": 50.0}


def test_real_trace_goal_met_at_the_first_editions_util():
    utils = dict(bench.FIRST_EDITION)
    utils["real-gcc.rep"] += 0.01
    lines = bench.trace_table(real_run(utils), {n: 1.0 for n in utils},
                              {n: 0.5 for n in utils})
    text = "\n".join(lines)
    kit.expect("Goal 1" in lines[-1] and "**met**" in lines[-1]
               and "(5 traces)" in lines[-1],
               "every real trace at or above the first edition: met\n" + text)


def test_real_trace_goal_not_met_names_the_loss_and_weight_zero_ignored():
    utils = dict(bench.FIRST_EDITION)
    utils["real-sqlite.rep"] = 0.767
    utils["other.rep"] = 0.10
    run = real_run(utils)
    run["traces"][-1]["weight"] = 0
    lines = bench.trace_table(run, {n: 1.0 for n in utils},
                              {n: 0.5 for n in utils})
    text = "\n".join(lines)
    kit.expect("**not met: real-sqlite.rep 76.7% < 77.6%**" in lines[-1],
               "real-sqlite lost 0.9 point\n" + text)
    kit.expect("lowest trace is real-sqlite.rep at 77%" in lines[-2],
               "other.rep (weight 0) is not the lowest\n" + text)


def test_throughput_goal_line():
    runs = {name: [fake_run([0.9], kops=k, glibc=100.0) for k in (90, 120, 150)]
            for name, _, _ in bench.VARIANTS}
    lines = bench.variant_table(runs)
    kit.expect("at least 1.2x glibc's in the same run: 1.20x: **met** "
               "(the aim, 2x: **not met**)" in lines[-1],
               "median of 0.9, 1.2, 1.5 is 1.2\n" + "\n".join(lines))
    runs = {name: [fake_run([0.9], kops=k, glibc=100.0) for k in (90, 110, 150)]
            for name, _, _ in bench.VARIANTS}
    lines = bench.variant_table(runs)
    kit.expect("1.10x: **not met**" in lines[-1],
               "median 1.1 is under 1.2\n" + "\n".join(lines))


LIBC_UTIL = os.path.join(kit.ROOT, "build", "libc-util")


def test_libc_util_measures_glibc_like_mdriver():
    # short1-bal's peak live payload is 8144 bytes (mdriver says the same);
    # glibc's heap holds at least that, in whole pages of the brk heap.
    proc = kit.run([LIBC_UTIL, os.path.join(kit.TRACES, "short1-bal.rep"),
                    os.path.join(kit.TRACES, "giant.rep")])
    kit.expect(proc.returncode == 0, "libc-util failed\n" + proc.stderr)
    rows = [line.split() for line in proc.stdout.splitlines()]
    kit.expect([r[0] for r in rows] == ["short1-bal.rep", "giant.rep"],
               "one line per trace, in order\n" + proc.stdout)
    name, util, peak, heap = rows[0]
    kit.expect(int(peak) == 8144 and int(heap) >= 8144 and
               int(heap) % 4096 == 0 and
               abs(float(util) - 8144 / int(heap)) < 1e-4,
               "short1-bal: peak 8144, a heap of whole pages\n" + proc.stdout)
    kit.expect(float(rows[1][1]) > 0.99,
               "giant.rep (8 MiB blocks, no mmap): glibc near 100%\n"
               + proc.stdout)


def test_libc_util_rejects_bad_traces():
    proc = kit.run([LIBC_UTIL, "/nonexistent.rep"])
    kit.expect(proc.returncode == 1 and "ERROR [/nonexistent.rep" in
               proc.stderr, "a missing file: an ERROR line, exit 1\n"
               + proc.stderr)
    bad = kit.write_temp("20000\n1\n1\n1\nz 0 1\n")
    proc = kit.run([LIBC_UTIL, bad])
    kit.expect(proc.returncode == 1 and bad + ":5]" in proc.stderr,
               "a bad op: the file and line, exit 1\n" + proc.stderr)
