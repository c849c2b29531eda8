"""The peer (CMU 15-213 / CS:APP) kit's traces and allocators: dialect B
weights read by their meaning, the ambiguous header refused with its fix,
the --score ramps, giant traces over the sparse heap, and a CMU-style mm.c
(tests/peer/mm-cmu.c) built unmodified and run on the suite."""
import json
import os
import re
import sys

import kit

sys.path.insert(0, kit.TOOLS)
import reptrace  # noqa: E402

MDRIVER = os.path.join(kit.MALLOC, "mdriver")
PEER = os.path.join(kit.ROOT, "tests", "peer")
OUT = os.path.join(kit.BUILD, "peer")
CMU_TRACES = ["syn-array-short.rep", "syn-struct-short.rep",
              "syn-string-short.rep", "syn-ignored-short.rep"]
GIANT = os.path.join(PEER, "syn-giant-short.rep")


def peer(name):
    return os.path.join(PEER, name)


def run_json(driver, traces, *args):
    cmd = [driver, "-j", "-"] + list(args)
    for t in traces:
        cmd += ["-f", t]
    proc = kit.run(cmd, timeout=300)
    kit.expect(proc.returncode == 0, "every trace must pass", proc)
    return json.loads(proc.stdout)


def test_peer_weights_are_read_by_their_meaning():
    """CMU weights: 0 ignored, 1 util and throughput, 2 util only, 3
    throughput only; the suite's util is the plain mean of the util of the
    weight-1 and weight-2 traces (the old reading, weights as multipliers,
    gives another figure on these traces)."""
    d = run_json(MDRIVER, [peer(n) for n in CMU_TRACES], "-n")
    got = {os.path.basename(t["path"]): t for t in d["traces"]}
    want = {"syn-array-short.rep": (1, 1), "syn-struct-short.rep": (1, 0),
            "syn-string-short.rep": (0, 1), "syn-ignored-short.rep": (0, 0)}
    for name, (uw, tw) in want.items():
        t = got[name]
        kit.expect(t["dialect"] == "B" and (t["util_weight"],
                                            t["tput_weight"]) == (uw, tw),
                   "%s: %r" % (name, t))
        kit.expect(reptrace.weights(reptrace.parse(peer(name))) == (uw, tw),
                   "reptrace.weights agrees on %s" % name)
    utils = [got[n]["util"] for n in CMU_TRACES]
    mean = (utils[0] + utils[1]) / 2
    kit.expect(abs(d["util"] - mean) < 1e-9, "util %r, want the mean of "
               "the util-weighted traces %r" % (d["util"], mean))
    as_multipliers = (utils[0] + 2 * utils[1] + 3 * utils[2]) / 6
    kit.expect(abs(as_multipliers - mean) > 1e-3,
               "the traces must tell the two readings apart")


def test_peer_throughput_counts_only_throughput_weights():
    """Throughput = weighted ops / weighted seconds over the weight-1 and
    weight-3 traces only (arithmetic on the JSON's own figures)."""
    d = run_json(MDRIVER, [peer(n) for n in CMU_TRACES])
    ts = [t for t in d["traces"] if t["tput_weight"]]
    kit.expect(len(ts) == 2, "two throughput traces: %r" % ts)
    for key, secs in (("kops", "secs"), ("glibc_kops", "glibc_secs")):
        want = sum(t["ops"] for t in ts) / sum(t[secs] for t in ts) / 1000
        kit.expect(abs(d[key] - want) <= 1e-6 * want,
                   "%s %r, want %r" % (key, d[key], want))


def test_peer_ambiguous_header_is_an_error_that_says_the_fix():
    path = peer("syn-tiny-short.rep")
    proc = kit.run([MDRIVER, "-n", "-f", path])
    kit.expect(proc.returncode == 2 and proc.stderr.startswith(
        "ERROR [%s:4]: ambiguous header" % path)
        and "set line 4 (max bytes, not used) above 100" in proc.stderr
        and "set line 1 (suggested heap size, not used) above 3"
        in proc.stderr, "the ambiguous case names both fixes", proc)
    problems = reptrace.check_file(path)
    kit.expect(problems and problems[0].startswith(path + ":4: ambiguous"),
               "reptrace: %r" % problems)
    with open(path) as f:
        lines = f.read().split("\n")
    for fix, dialect, weight in ((3, "B", 1), (0, "A", 64)):
        fixed = list(lines)
        fixed[fix] = "101"
        t = run_json(MDRIVER, [kit.write_temp("\n".join(fixed))],
                     "-n")["traces"][0]
        kit.expect((t["dialect"], t["weight"]) == (dialect, weight),
                   "fixed line %d: %r" % (fix + 1, t))


def test_peer_score_ramps():
    traces = [os.path.join(kit.TRACES, "short1-bal.rep"),
              os.path.join(kit.TRACES, "coalesce-short.rep")]
    for spec, lo, hi in (("cap", 0.0, 0.9), ("ramp", 0.55, 0.80),
                         ("0.3,0.7,0.5,2", 0.3, 0.7)):
        d = run_json(MDRIVER, traces, "-n", "--score", spec)
        ix = d["index"]
        credit = min(1.0, max(0.0, (d["util"] - lo) / (hi - lo)))
        kit.expect((ix["util_min"], ix["util_full"]) == (lo, hi)
                   and abs(ix["util_part"] - 60 * credit) < 1e-6,
                   "--score %s: util %r, index %r" % (spec, d["util"], ix))
    d = run_json(MDRIVER, traces, "-n", "--score", "0.99,1,0,1")
    kit.expect(d["index"]["util_part"] == 0, "no credit below the minimum")
    for bad in ("cmu", "0.5,0.4,0,1", "1,2,3", "0.5,0.6,0,1,"):
        proc = kit.run([MDRIVER, "-n", "--score", bad, "-f", traces[0]])
        kit.expect(proc.returncode == 2 and "--score takes" in proc.stderr,
                   "--score %s refused" % bad, proc)


def build(name, cc="gcc"):
    """Builds mdriver with tests/peer/NAME.c as mm.c, with the kit's own
    malloc/Makefile; returns (path, the compiler's output)."""
    out = os.path.join(OUT, "mdriver-%s-%s" % (name, cc))
    os.makedirs(OUT, exist_ok=True)
    proc = kit.run(["make", "-s", "-C", kit.MALLOC, "-B", "CC=" + cc,
                    "MM=" + peer(name + ".c"), "OUT=" + out,
                    "EXTRA_CFLAGS=-I" + PEER, out], timeout=300)
    kit.expect(proc.returncode == 0, "%s builds with %s" % (name, cc), proc)
    return out, kit.output(proc)


def suite_traces():
    """The trace names of traces/suite.txt."""
    with open(os.path.join(kit.TRACES, "suite.txt")) as f:
        return [l.strip() for l in f if l.strip() and not l.startswith("#")]


def test_peer_cmu_style_mm_builds_unmodified_and_passes_the_suite():
    """mm-cmu.c as the 15-213 starter writes it (malloc, not mm_malloc,
    under -DDRIVER; memcpy is mem_memcpy; its dbg_ macros): gcc prints
    only -Wunused-value for the dbg_ macros, clang nothing, and the
    driver replays the whole suite with it at -d 1."""
    gcc, log = build("mm-cmu")
    kinds = set(re.findall(r"\[(-W[\w-]+)\]", log))
    kit.expect(kinds == {"-Wunused-value"}, "gcc's warnings: %r\n%s"
               % (kinds, log[-2000:]))
    clang, log = build("mm-cmu", "clang")
    kit.expect("warning" not in log, "clang is silent:\n" + log[-2000:])
    for driver in (gcc, clang):
        proc = kit.run([driver, "-n", "-t", kit.TRACES], timeout=300)
        kit.expect(proc.returncode == 0 and "ERROR" not in kit.output(proc)
                   and proc.stdout.count(" yes ") == len(suite_traces()),
                   "the suite passes", proc)


def test_peer_giant_trace_is_replayed_over_the_sparse_heap():
    """Requests up to 2^56: the kit's mm.c and the CMU-style one replay the
    sample at -d 2 (the CMU one serves 2 TiB of blocks over the sparse
    heap, copies with mem_memcpy); a 32-bit size bug is caught."""
    d = run_json(MDRIVER, [GIANT], "-n", "-d", "2")
    t = d["traces"][0]
    kit.expect(t["valid"] and t["heap_bytes"] >= 16 << 30,
               "the kit's mm.c serves the 8 and 16 GiB blocks: %r" % t)
    cmu, _ = build("mm-cmu")
    t = run_json(cmu, [GIANT], "-n", "-d", "2")["traces"][0]
    kit.expect(t["valid"] and t["peak_bytes"] > 2 << 40,
               "the CMU-style mm.c serves the 1 TiB blocks: %r" % t)
    bad, _ = build("mm-cmu-size32")
    proc = kit.run([bad, "-n", "-f", GIANT])
    kit.expect(proc.returncode == 1 and re.search(
        r'line 7, op "a 2 8589934592"\]: null return', proc.stdout),
        "a size truncated to 32 bits fails at the first giant request", proc)


def test_peer_sample_traces_are_valid():
    for name in CMU_TRACES + ["syn-giant-short.rep"]:
        kit.expect(reptrace.check_file(peer(name), balanced=True) == [],
                   "%s: %r" % (name, reptrace.check_file(peer(name))))


def test_peer_sparse_copies_keep_the_sampled_bytes():
    """mem_memcpy, mem_memset and mem_memmove (overlapping, both ways) on a
    3 GiB block of the sparse heap keep every sampled byte
    (tests/peer/sparse_copy.c; the wrong copy order fails it)."""
    os.makedirs(OUT, exist_ok=True)
    binary = os.path.join(OUT, "sparse_copy")
    proc = kit.run(["gcc", "-std=gnu99", "-Wall", "-Wextra", "-Werror",
                    "-O2", "-I" + kit.MALLOC, "-o", binary,
                    peer("sparse_copy.c"),
                    os.path.join(kit.MALLOC, "memlib.c")])
    kit.expect(proc.returncode == 0, "sparse_copy.c builds", proc)
    proc = kit.run([binary])
    kit.expect(proc.returncode == 0 and proc.stdout == "ok\n",
               "every sampled byte kept", proc)
