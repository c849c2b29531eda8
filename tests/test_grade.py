"""tools/grade (docs/grading.md): the cheating allocators of tests/grade/
each lose against the honest allocator they wrap, scores are the same
every time, private traces defeat trace detection, git history is read,
and a hung submission costs only its time limit.

The grader runs on small trace sets (the kit's short traces) so that these
tests stay fast; docs/grading.md has the full-size batch measurement.
"""
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import kit

GRADE = os.path.join(kit.TOOLS, "grade")
CHEATS = os.path.join(kit.ROOT, "tests", "grade")
FF = os.path.join(kit.TOOLS, "allocators", "explicit_ff.c")
SKELETON = os.path.join(kit.ROOT, "handout", "mm.c")
README = os.path.join(kit.ROOT, "handout", "README.md")

MUTE_CHECKER = """#define mm_checkheap ff_checkheap
/*@ALLOCATOR@*/
#undef mm_checkheap

bool mm_checkheap(int line)
{
    (void)line;
    return true;
}
"""
LOOP = """#include "mm.h"
#include "memlib.h"
bool mm_init(void) { return true; }
void *mm_malloc(size_t n) { volatile size_t k = n; while (k) {} return 0; }
void mm_free(void *p) { (void)p; }
void *mm_realloc(void *p, size_t n) { (void)p; (void)n; return 0; }
void *mm_calloc(size_t a, size_t b) { (void)a; (void)b; return 0; }
bool mm_checkheap(int line) { (void)line; return true; }
"""


def written_readme():
    """The README template with every design section written."""
    with open(README) as f:
        return f.read().replace("TODO(design)", "Written: the design of "
                                "this part, in five words or more.")


def first_sizes(trace_dir, names):
    """The first request size of each trace (what cheat_names looks for)."""
    sizes = []
    for n in names:
        with open(os.path.join(trace_dir, n)) as f:
            for line in f:
                w = line.split()
                if w and w[0] in ("a", "r"):
                    sizes.append(int(w[2]))
                    break
                if w and w[0] == "c":
                    sizes.append(int(w[2]) * int(w[3]))
                    break
    return sizes


def short_suite(dst, src=kit.TRACES):
    """A trace dir of src's short traces, with its suite.txt."""
    os.makedirs(dst)
    names = sorted(n for n in os.listdir(src) if n.endswith("-short.rep"))
    if src == kit.TRACES:
        names += ["short1-bal.rep", "short2-bal.rep"]
    for n in names:
        shutil.copy(os.path.join(src, n), dst)
    with open(os.path.join(dst, "suite.txt"), "w") as f:
        f.write("\n".join(names) + "\n")
    return dst, names


def submission(root, name, mm_text, readme=True):
    d = os.path.join(root, name)
    os.makedirs(d)
    with open(os.path.join(d, "mm.c"), "w") as f:
        f.write(mm_text)
    if readme:
        with open(os.path.join(d, "README.md"), "w") as f:
            f.write(written_readme())
    return d


def wrap(cheat_text, public_first=()):
    with open(FF) as f:
        ff = f.read()
    return cheat_text.replace("/*@ALLOCATOR@*/", ff).replace(
        "/*@PUBLIC_FIRST@*/", ", ".join(str(s) for s in public_first))


def cheat(name, **kw):
    with open(os.path.join(CHEATS, name + ".c")) as f:
        return wrap(f.read(), **kw)


def policy_file(root, **changes):
    with open(os.path.join(kit.TOOLS, "grade_policy.json")) as f:
        policy = json.load(f)
    policy["wallclock"] = False  # the tests need no timing
    policy.update(changes)
    path = os.path.join(root, "policy.json")
    with open(path, "w") as f:
        json.dump(policy, f)
    return path


def grade(subs, traces, policy, *extra, timeout=600):
    """Runs tools/grade; returns (process, {name: result}, JSON doc)."""
    out = kit.write_temp("", suffix=".json")
    proc = kit.run([sys.executable, GRADE, "--jobs", "2", "--traces", traces,
                    "--policy", policy, "--json", out] + list(extra) + subs,
                   timeout=timeout)
    kit.expect(proc.returncode == 0, "tools/grade failed", proc)
    with open(out) as f:
        doc = json.load(f)
    os.unlink(out)
    return proc, {r["name"]: r for r in doc["submissions"]}, doc


def kinds(result):
    return {v.split(":")[0] for v in result["violations"]}


def test_cheating_allocators_each_lose():
    with tempfile.TemporaryDirectory() as tmp:
        traces, _ = short_suite(os.path.join(tmp, "traces"))
        subs = [submission(tmp, "ff", wrap("/*@ALLOCATOR@*/")),
                submission(tmp, "reset", cheat("cheat_reset")),
                submission(tmp, "malloc", cheat("cheat_malloc")),
                submission(tmp, "statics", cheat("cheat_statics")),
                submission(tmp, "mute", wrap(MUTE_CHECKER)),
                submission(tmp, "skeleton", open(SKELETON).read(),
                           readme=False)]
        proc, res, doc = grade(subs, traces, policy_file(tmp))
    ff = res["ff"]
    kit.expect(ff["valid"] and ff["violations"] == [] and ff["score"] > 50,
               "explicit_ff is an honest allocator: %r" % ff, proc)
    for name, kind, evidence in (
            ("reset", "driver_call", "mem_reset_brk"),
            ("malloc", "forbidden_symbol", "calls malloc"),
            ("statics", "statics", "mm_size_table 300 B"),
            ("mute", "checker_probe", "silent on a corrupted header")):
        r = res[name]
        kit.expect(kind in kinds(r) and any(evidence in v
                                            for v in r["violations"]),
                   "%s: expected a %s violation naming %r: %r"
                   % (name, kind, evidence, r["violations"]))
        kit.expect(r["score"] < ff["score"], "%s scores %.2f, explicit_ff "
                   "%.2f: the cheat must lose" % (name, r["score"],
                                                  ff["score"]))
    # util divides by the high-water mark: emptying the heap gains nothing
    for t in res["reset"]["traces"]:
        kit.expect(t["util"] <= 1.0, "util over 100%%: %r" % t)
    sk = res["skeleton"]
    kit.expect(not sk["valid"] and sk["score"] == 0 and "readme" in kinds(sk)
               and any("null return" in e for e in sk["trace_errors"]),
               "the skeleton: invalid, README missing: %r" % sk)
    for r in res.values():
        for key in ("name", "score", "valid", "violations"):
            kit.expect(key in r, "JSON submission without %r" % key)
    kit.expect(set(doc["reference_instructions"]) == {
        t["name"] for t in ff["traces"]}, "reference counts per trace")


def test_same_submission_graded_three_times_scores_the_same():
    with tempfile.TemporaryDirectory() as tmp:
        traces, _ = short_suite(os.path.join(tmp, "traces"))
        ff = submission(tmp, "ff", wrap("/*@ALLOCATOR@*/"))
        policy = policy_file(tmp)
        _, res, _ = grade([ff, ff], traces, policy)
        _, again, _ = grade([ff], traces, policy)
    runs = [res["ff"], res["ff#2"], again["ff"]]
    figures = [(r["score"], r["util"], r["instructions"]) for r in runs]
    kit.expect(len(set(figures)) == 1 and runs[0]["instructions"] > 0,
               "three gradings differ: %r" % figures)
    kit.expect(0 < runs[0]["tput_ratio"] < 1, "explicit_ff runs more "
               "instructions than the reference: %r" % runs[0]["tput_ratio"])


def test_trace_detection_gains_nothing_on_private_traces():
    with tempfile.TemporaryDirectory() as tmp:
        public, names = short_suite(os.path.join(tmp, "public"))
        gen = os.path.join(tmp, "gen")
        proc = kit.run([sys.executable, os.path.join(kit.TOOLS,
                                                     "gen_traces.py"),
                        "--seed", "4242", "--out", gen])
        kit.expect(proc.returncode == 0, "gen_traces.py", proc)
        private, _ = short_suite(os.path.join(tmp, "private"), gen)
        subs = [submission(tmp, "ff", wrap("/*@ALLOCATOR@*/")),
                submission(tmp, "names", cheat(
                    "cheat_names", public_first=first_sizes(public, names)))]
        policy = policy_file(tmp)
        _, pub, _ = grade(subs, public, policy)
        _, priv, _ = grade(subs, private, policy)
    kit.expect(pub["names"]["util"] == pub["ff"]["util"],
               "on the public traces the cheat is explicit_ff: %r %r"
               % (pub["names"]["util"], pub["ff"]["util"]))
    kit.expect(priv["names"]["score"] < priv["ff"]["score"] - 5,
               "on private traces the cheat must lose: %.2f vs %.2f"
               % (priv["names"]["score"], priv["ff"]["score"]))


def _git(repo, *args):
    subprocess.run(["git", "-C", repo, "-c", "user.name=t", "-c",
                    "user.email=t@t"] + list(args), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _commit(repo, files, message):
    for path, text in files.items():
        full = os.path.join(repo, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(text)
        _git(repo, "add", path)
    _git(repo, "commit", "-q", "-m", message)


def test_git_history_and_changed_kit_files():
    with tempfile.TemporaryDirectory() as tmp:
        traces, _ = short_suite(os.path.join(tmp, "traces"))
        repo = os.path.join(tmp, "student")
        os.makedirs(repo)
        _git(repo, "init", "-q")
        _commit(repo, {"README.md": written_readme(),
                       "malloc/mm.c": open(SKELETON).read()}, "design")
        with open(os.path.join(kit.MALLOC, "memlib.c")) as f:
            memlib = f.read().replace("(size_t)64 << 30", "(size_t)65 << 30")
        _commit(repo, {"malloc/mm.c": wrap("/*@ALLOCATOR@*/"),
                       "malloc/memlib.c": memlib}, "allocator")
        with open(os.path.join(repo, "malloc", "mm.c"), "w") as f:
            f.write("not committed: the grader reads HEAD\n")
        proc, res, _ = grade([repo], traces, policy_file(
            tmp, git_order="violation"))
    r = res["student"]
    git = r["git"]
    kit.expect(git["commits"] == 2 and git["design_before_allocator"]
               and not git["checker_before_allocator"]
               and git["checker_commit"] == git["allocator_commit"],
               "design first, checker with the allocator: %r" % git)
    kit.expect(r["valid"], "HEAD is graded, not the work tree: %r" % r)
    kit.expect(kinds(r) == {"changed_file", "git_order"}
               and any("malloc/memlib.c differs" in v
                       for v in r["violations"]),
               "memlib.c changed, checker late: %r" % r["violations"])
    kit.expect(proc.stdout.strip().splitlines()[-1].startswith(
        '{"scores": {"performance": '), "Autolab's line last", proc)


def _processes_under(path):
    found = []
    for pid in os.listdir("/proc"):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                if path.encode() in f.read():
                    found.append(pid)
        except OSError:
            pass
    return found


def test_endless_loop_costs_only_its_time_limit():
    with tempfile.TemporaryDirectory() as tmp:
        traces, _ = short_suite(os.path.join(tmp, "traces"))
        subs = [submission(tmp, "loop", LOOP),
                submission(tmp, "ff", wrap("/*@ALLOCATOR@*/"))]
        work = os.path.join(tmp, "work")
        csv_path = os.path.join(tmp, "out.csv")
        start = time.monotonic()
        proc, res, _ = grade(subs, traces, policy_file(
            tmp, time_limit_secs=20), "--work", work, "--csv", csv_path)
        secs = time.monotonic() - start
        left = _processes_under(work)
        with open(csv_path) as f:
            rows = list(csv.DictReader(f))
    kit.expect("time limit" in (res["loop"]["error"] or "")
               and res["loop"]["score"] == 0, "loop: %r" % res["loop"], proc)
    kit.expect(res["ff"]["valid"] and res["ff"]["score"] > 0,
               "the other submission is graded", proc)
    kit.expect(secs < 120, "the loop cost %.0fs (limit 20s)" % secs)
    kit.expect(not left, "processes left behind: %r" % left)
    kit.expect([r["name"] for r in rows] == ["loop", "ff"]
               and float(rows[1]["score"]) == res["ff"]["score"],
               "CSV rows: %r" % rows)


def test_bad_usage_exits_2_with_a_message():
    with tempfile.TemporaryDirectory() as tmp:
        bad = os.path.join(tmp, "policy.json")
        with open(bad, "w") as f:
            f.write('{"util_weight": 0.6}')
        for args, words in (
                (["/nonexistent/sub"], "not a folder"),
                (["--policy", bad, tmp], "missing keys"),
                (["--traces", tmp, tmp], "no suite.txt")):
            proc = kit.run([sys.executable, GRADE] + args)
            kit.expect(proc.returncode == 2 and words in proc.stderr,
                       "tools/grade %s: expected %r" % (args, words), proc)


def _grade_module():
    import importlib.machinery
    import importlib.util
    loader = importlib.machinery.SourceFileLoader("grade_tool", GRADE)
    spec = importlib.util.spec_from_loader("grade_tool", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_score_methods_linear_and_peer_ramp():
    g = _grade_module()
    with tempfile.TemporaryDirectory() as tmp:
        policy = g.load_policy(policy_file(tmp))
        kit.expect(g.linear_parts(policy, 0.45, 0.25) == (30.0, 20.0),
                   "linear: half of 0.90 util, half of 0.50 ratio")
        ramp = g.load_policy(policy_file(tmp, score={
            "method": "ramp", "util_min": 0.55, "util_max": 0.80,
            "tput_min_ratio": 0.25, "tput_max_ratio": 1.0}))
        parts = g.ramp_parts(ramp, 0.675, 0.25)
        kit.expect(abs(parts[0] - 30.0) < 1e-9 and parts[1] == 0.0,
                   "ramp: halfway in util, at the throughput minimum: %r"
                   % (parts,))
        kit.expect(g.ramp_parts(ramp, 0.5, 2.0) == (0.0, 40.0),
                   "ramp: below the minimum, above the maximum")
        bad = policy_file(tmp, score={"method": "ramp", "util_min": 0.8,
                                      "util_max": 0.5})
        proc = kit.run([sys.executable, GRADE, "--policy", bad, tmp])
        kit.expect(proc.returncode == 2 and "0 <= min < max" in proc.stderr,
                   "a bad ramp is a usage error", proc)
