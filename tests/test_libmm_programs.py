"""Real programs, the benchmark's programs and tools/bench_libmm.py under
LD_PRELOAD=build/libmm.so (issue 12; docs/bench-libmm.md).

Each real program (python3 with PYTHONMALLOC=malloc, gcc, git, sort,
sqlite3, perl, bash, make -j2; the commands are tools/bench_libmm.py's, at
its --quick sizes) must exit 0 and print the same bytes with the library
preloaded as without it (stdout, and stderr less the library's `mm: `
lines), and the library must have been in use: with MM_STATS_AT_EXIT=1 it
prints `mm: arena ` lines on stderr at exit. The workload programs and the
replay tool (build/libmm_bench/) must print the same checksum under glibc
and under the library, and catch a malloc that overwrites a live block.

The library is build/libmm.so (`make libmm`): these tests fail when it is
missing or not used. While developing, the environment variable LIBMM may
name another malloc library (e.g. jemalloc's, a stand-in); only then is the
`mm: arena ` check left out, since only libmm prints it.
"""
import importlib.util
import os
import re
import subprocess
import sys
import tempfile

import kit

spec = importlib.util.spec_from_file_location(
    "bench_libmm", os.path.join(kit.TOOLS, "bench_libmm.py"))
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)

LIBMM = os.path.abspath(os.environ.get("LIBMM") or
                        os.path.join(kit.BUILD, "libmm.so"))
IS_LIBMM = os.path.basename(LIBMM) == "libmm.so"
SCRIBBLE = os.path.join(bench.BENCH_DIR, "scribble.so")
TIMEOUT = 60  # seconds for one run (each takes well under a few)
CHECKSUM = re.compile(r"^\S+ threads=\d+ .*checksum=[0-9a-f]{16} errors=0$")


def need_lib():
    kit.expect(os.path.isfile(LIBMM), "%s is missing: `make libmm` builds it"
               % LIBMM)


def first_difference(a, b):
    """The first line where two outputs differ, for a message."""
    la, lb = a.splitlines(), b.splitlines()
    for i, (x, y) in enumerate(zip(la, lb)):
        if x != y:
            return "line %d: %r (glibc) vs %r" % (i + 1, x[:200], y[:200])
    return "glibc's has %d lines, the library's %d" % (len(la), len(lb))


def check_same_output(workload, workdir):
    """Runs workload without and with the library; both must exit 0 with
    the same output, and the library must say it was in use."""
    plain = bench.run(workload, None, workdir, timeout=TIMEOUT)
    kit.expect(plain.status == 0, "%s failed without the library: exit %d\n%s"
               % (workload.name, plain.status, plain.stderr[-2000:]))
    mine = bench.run(workload, LIBMM, workdir, {"MM_STATS_AT_EXIT": "1"},
                     timeout=TIMEOUT)
    kit.expect(mine.status == 0, "%s under %s: exit %d\n%s" % (
        workload.name, LIBMM, mine.status, mine.stderr[-2000:]))
    kit.expect(mine.output == plain.output, "%s under %s: output differs, %s"
               % (workload.name, LIBMM,
                  first_difference(plain.output, mine.output)))
    if IS_LIBMM:
        kit.expect(re.search(r"^mm: arena ", mine.stderr, re.M),
                   "%s: no `mm: arena ` line on stderr with MM_STATS_AT_EXIT=1:"
                   " was the library in use?\n%s" % (workload.name,
                                                     mine.stderr[-2000:]))
    return plain, mine


def real_program(name):
    need_lib()
    with tempfile.TemporaryDirectory(prefix="mmtest-libmm-") as workdir:
        loads = {w.name: w for w in bench.real_workloads(True, workdir)}
        plain, _ = check_same_output(loads[name], workdir)
    kit.expect(len(plain.output) > 40, "%s printed (almost) nothing: %r" % (
        name, plain.output))


def test_python_json_re_threads():
    real_program("python")


def test_gcc_compiles_mm_c():
    real_program("gcc")


def test_git_init_add_commit_log():
    real_program("git")


def test_sort_large_file():
    real_program("sort")


def test_sqlite3():
    real_program("sqlite3")


def test_perl():
    real_program("perl")


def test_bash():
    real_program("bash")


def test_make_j2():
    real_program("make-j2")


def test_workload_programs_same_checksum():
    need_lib()
    with tempfile.TemporaryDirectory(prefix="mmtest-libmm-") as workdir:
        for w in bench.kit_workloads(True):
            plain, mine = check_same_output(w, workdir)
            line = plain.output.decode().splitlines()[0]
            kit.expect(CHECKSUM.match(line), "%s: expected `NAME threads=T ... "
                       "checksum=HEX errors=0`, found %r" % (w.name, line))


def scribbled(argv):
    env = dict(os.environ, LD_PRELOAD=SCRIBBLE)
    return subprocess.run(argv, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=TIMEOUT)


def test_programs_catch_an_overwritten_block():
    reference = {}
    for w in bench.kit_workloads(True):
        if w.name in ("larson/1", "xmalloc/2", "replay-real/1"):
            good = kit.run(w.argv, timeout=TIMEOUT)
            bad = scribbled(w.argv)
            kit.expect(good.returncode == 0, "%s failed under glibc" % w.name,
                       good)
            kit.expect(bad.returncode == 1 and "errors=1" in bad.stdout and
                       "1 error(s)" in bad.stderr,
                       "%s under scribble.so: expected exit 1 and errors=1"
                       % w.name, bad)
            reference[w.name] = (good.stdout, bad.stdout)
    for name, (good, bad) in reference.items():
        kit.expect(good.split("checksum=")[1] != bad.split("checksum=")[1],
                   "%s: the checksum did not change" % name)


def test_replay_rejects_bad_usage_and_traces():
    replay = bench.bench_bin("replay")
    proc = kit.run([replay, "-T", "0", os.path.join(kit.TRACES,
                                                    "short1-bal.rep")])
    kit.expect(proc.returncode == 2 and "usage:" in proc.stderr,
               "-T 0 is bad usage", proc)
    bad = kit.write_temp("20000\n2\n3\n1\na 0 16\nx 1\nf 0\n")
    try:
        proc = kit.run([replay, bad])
    finally:
        os.unlink(bad)
    kit.expect(proc.returncode == 2 and ("%s:6]" % bad) in proc.stderr,
               "a bad op is reported at its file and line", proc)


# ------------------------------------------------- tools/bench_libmm.py

def fake(wall, rss=1000, output=b"same", status=0):
    return bench.Result(wall, wall, rss, status, output, "")


ALLOCS = [("glibc", None), ("libmm", "/x/libmm.so"), ("jemalloc", "/j"),
          ("mimalloc", "/m")]


def fake_results(times, rss=None):
    """times: {workload: {label: [wall per round]}}."""
    results = {}
    for name, per in times.items():
        for label, walls in per.items():
            results[(name, label)] = [
                fake(t, (rss or {}).get((name, label), 1000)) for t in walls]
    return results


def test_goals_follow_from_the_figures():
    loads = [bench.Workload("a", 1, [], {}), bench.Workload("b", 2, [], {})]
    results = fake_results({
        "a": {"glibc": [2.0, 2.0, 2.0], "libmm": [1.0, 1.0, 3.0],
              "jemalloc": [1.0] * 3, "mimalloc": [0.5] * 3},
        "b": {"glibc": [1.0] * 3, "libmm": [1.1] * 3,
              "jemalloc": [1.2] * 3, "mimalloc": [1.3] * 3}},
        rss={("b", "libmm"): 1300})
    lines = bench.goals(loads, results, ALLOCS, set())
    text = "\n".join(lines)
    kit.expect("**NOT met** (b 1.10x)" in lines[2],
               "a is 0.5x glibc (median of 0.5, 0.5, 1.5), b 1.1x\n" + text)
    kit.expect(lines[3].endswith("**NOT met** (a 0.50x of mimalloc)"),
               "a: mimalloc's 0.5 s over 1.0 s; b: glibc's 1.0 s over 1.1 s "
               "is 0.91x, not below 0.8x\n" + text)
    kit.expect(lines[4].endswith("**NOT met** (b 1.30x)"), text)


def test_goals_rss_and_failures():
    loads = [bench.Workload("a", 1, [], {})]
    results = fake_results({"a": {"glibc": [1.0], "libmm": [0.5],
                                  "jemalloc": [0.6], "mimalloc": [0.6]}},
                           rss={("a", "libmm"): 1300})
    lines = bench.goals(loads, results, ALLOCS, set())
    kit.expect(lines[2].endswith("**met**") and lines[3].endswith("**met**")
               and "**NOT met** (a 1.30x)" in lines[4], "\n".join(lines))
    results[("a", "libmm")] = [fake(0.5, output=b"other")]
    found = bench.problems(results, loads, ALLOCS)
    kit.expect([(n, l) for n, l, _ in found] == [("a", "libmm")],
               "a wrong output is a problem: %r" % found)
    text = "\n".join(bench.report(loads, results, ALLOCS, found))
    kit.expect("| libmm | FAILED |" in text and "a FAILED" in text and
               "## Failures" in text, text)


def test_bench_quick_output_shape():
    need_lib()
    only = "larson/2,replay-mt,sqlite3"
    proc = kit.run([sys.executable, os.path.join(kit.TOOLS, "bench_libmm.py"),
                    "--quick", "--lib", LIBMM, "--only", only], timeout=300)
    kit.expect(proc.returncode == 0, "bench_libmm.py --quick failed", proc)
    out = proc.stdout
    ours = bench.label_of(LIBMM)
    labels = ["glibc", ours] + [n for n in bench.PACKAGES if n not in LIBMM]
    for name in only.split(","):
        table = out.split("### %s (threads: " % name)
        kit.expect(len(table) == 2, "no table for %s\n%s" % (name, out))
        rows = [line.split("|")[1].strip() for line in
                table[1].split("\n\n")[1].splitlines()[2:]]
        kit.expect(rows == labels, "%s: rows %r, expected %r" % (
            name, rows, labels))
    for goal in ("faster than glibc", "best other allocator", "peak RSS"):
        kit.expect(re.search(r"^- .*%s.*: \*\*(met|NOT met)\*\*" % goal, out,
                             re.M), "no goal line for %r\n%s" % (goal, out))
    kit.expect("## Summary" in out and "round 1/1" in proc.stderr,
               "summary table and progress lines", proc)


def test_bench_refuses_a_missing_library():
    proc = kit.run([sys.executable, os.path.join(kit.TOOLS, "bench_libmm.py"),
                    "--quick", "--lib", "/nonexistent/libmm.so"])
    kit.expect(proc.returncode == 2 and "/nonexistent/libmm.so does not exist"
               in proc.stderr, "a clear error for a missing --lib", proc)
