"""tools/bench_mt_suite.py (make mt-bench, docs/bench-mt.md): the goal lines
follow from the figures, --quick prints every row, the three goals and the
load average of the runs, a missing mdriver is a clear error. No timing is asserted."""
import importlib.util
import os
import re
import sys

import kit

TOOL = os.path.join(kit.TOOLS, "bench_mt_suite.py")
spec = importlib.util.spec_from_file_location("bench_mt_suite", TOOL)
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def fake_summary(scaling, ratios, mt_util, serial_util):
    s = {}
    for n, r in zip(bench.THREADS, ratios):
        s["T%d" % n] = {"kops": 100.0 * n, "glibc": 100.0 * n / r,
                        "ratio": r, "util": 0.8, "in_run": None,
                        "glibc_in_run": None}
    s["T2"].update(scaling=scaling, glibc_scaling=1.0, in_run=scaling)
    s["T4"].update(scaling=scaling, glibc_scaling=1.0, in_run=scaling)
    s["mt"] = {"kops": 50.0, "glibc": 40.0, "ratio": 1.25, "util": mt_util,
               "in_run": 0.5, "glibc_in_run": 0.4}
    s["serial"] = {"kops": 80.0, "glibc": 90.0, "ratio": 0.9,
                   "util": serial_util, "in_run": None, "glibc_in_run": None}
    return s


def test_goals_met_at_their_thresholds():
    lines = bench.goal_lines(fake_summary(1.7, [1.01, 1.2, 1.5], 0.75, 0.80))
    text = "\n".join(lines)
    kit.expect(all(line.endswith("**met**") or "**met** (" in line
                   for line in lines[:3]), text)
    kit.expect("1.70x" in lines[0] and "-5.0 points" in lines[2], text)


def test_goals_not_met_just_past_them():
    lines = bench.goal_lines(fake_summary(1.69, [1.5, 1.0, 2.0], 0.749,
                                          0.80))
    text = "\n".join(lines)
    kit.expect(all("**NOT met**" in line for line in lines[:3]), text)
    kit.expect("1.00 at -T 2" in lines[1], "a tie with glibc is not ahead\n"
               + text)


def test_quick_prints_every_row_and_the_goals():
    proc = kit.run([sys.executable, TOOL, "--quick"], timeout=300)
    out = kit.output(proc)
    kit.expect(proc.returncode == 0, proc)
    for label in ("suite -T 1", "suite -T 2", "suite -T 4",
                  "MT suite, its threads", "MT suite --serial"):
        kit.expect(re.search(r"^\| %s \| \d+ \| \d+ \| [\d.]+ \| [\d.]+%% \|"
                             % re.escape(label), out, re.M), label, out)
    for label in ("suite -T 2", "suite -T 4"):
        kit.expect(re.search(r"^\| %s \|.* \| [\d.]+, [\d.]+ \| "
                             r"[\d.]+x, [\d.]+x \|$" % re.escape(label),
                             out, re.M),
                   "%s: the CPU share and CPU-time scaling" % label, out)
    kit.expect(re.search(r"^\| MT suite, its threads \|.* \| [\d.]+, "
                         r"[\d.]+ \| - \|$", out, re.M),
               "the MT suite: its CPU share", out)
    kit.expect(re.search(r"^\| suite -T 1 \|.* \| - \| - \|$", out,
                         re.M), "-T 1: no CPU share or scaling", out)
    for goal in (1, 2, 3):
        kit.expect(re.search(r"^- Goal %d, .*: \*\*(met|NOT met)\*\*" % goal,
                             out, re.M), "goal %d" % goal, out)
    kit.expect(re.search(r"^- The MT suite on its threads vs glibc: \d+ Kops",
                         out, re.M), out)
    kit.expect(re.search(r"^Load average \(1 min\) during the runs: min "
                         r"[\d.]+, median [\d.]+, max [\d.]+ \(6 readings",
                         out, re.M), "the load of the 5 runs", out)


def test_cpu_share_is_weighted_by_each_traces_time():
    run = {"traces": [
        {"tput_weight": 1, "secs": 1.0, "cpu_share": 1.0,
         "glibc_secs": 2.0, "glibc_cpu_share": 0.5},
        {"tput_weight": 2, "secs": 1.0, "cpu_share": 0.25,
         "glibc_secs": 1.0, "glibc_cpu_share": 1.0},
        {"tput_weight": 1, "secs": 5.0, "cpu_share": None,
         "glibc_secs": 5.0, "glibc_cpu_share": None}]}
    kit.expect(abs(bench.cpu_share(run, False) - 0.5) < 1e-9,
               bench.cpu_share(run, False))
    kit.expect(abs(bench.cpu_share(run, True) - 0.75) < 1e-9,
               bench.cpu_share(run, True))
    for t in run["traces"]:
        t["cpu_share"] = t["glibc_cpu_share"] = None
    kit.expect(bench.cpu_share(run, False) is None, "no share: None")


def test_cpu_kops_is_weighted_like_kops():
    run = {"traces": [
        {"tput_weight": 1, "ops": 1000, "cpu_kops": 1000.0,
         "glibc_cpu_kops": None},
        {"tput_weight": 1, "ops": 3000, "cpu_kops": 3000.0,
         "glibc_cpu_kops": None}]}
    # 4000 ops in 1 ms + 1 ms of CPU per thread-core: 2000 Kops
    kit.expect(abs(bench.cpu_kops(run, False) - 2000.0) < 1e-6,
               bench.cpu_kops(run, False))
    kit.expect(bench.cpu_kops(run, True) is None, "glibc: not measured")


def test_load_line_states_the_spread_or_unknown():
    line = bench.load_line([3.0, None, 1.0, 2.5])
    kit.expect(line.endswith("min 1.00, median 2.50, max 3.00 (3 readings, "
                             "before each run and after the last)"), line)
    kit.expect(bench.load_line([None]).endswith("unknown"),
               bench.load_line([None]))


def test_missing_mdriver_is_a_clear_error():
    proc = kit.run([sys.executable, TOOL, "--quick", "--mdriver",
                    "/nonexistent/mdriver"])
    kit.expect(proc.returncode == 1 and "bench_mt_suite: ERROR: "
               "/nonexistent/mdriver is missing" in proc.stderr, proc)
