"""The trace suite: generator, validator (tools/reptrace.py), statistics,
the default suite's size budget, and the comparison allocators."""
import filecmp
import json
import os
import random
import shutil
import sys
import tempfile

import kit

sys.path.insert(0, kit.TOOLS)
import gen_traces  # noqa: E402
import reptrace  # noqa: E402
import tracestats  # noqa: E402

PY = sys.executable
REPTRACE = os.path.join(kit.TOOLS, "reptrace.py")
TRACESTATS = os.path.join(kit.TOOLS, "tracestats.py")
GENERATED = [name + suffix + ".rep" for name, _, _ in gen_traces.FAMILIES
             for suffix in ("", "-short")]
GENERATED_MT = ["mt/" + name + suffix + ".rep"
                for name, _, _ in gen_traces.MT_FAMILIES
                for suffix in ("", "-short")]

HEADER = "100\n4\n%d\n1\n"

# Malformed files: (name, text or bytes, line of the error, words of it).
# The same kinds as mdriver's malformed corpus.
MALFORMED = [
    ("no-header", "a 0 5\nf 0\n", 1, "header line 1"),
    ("short-header", "100\n4\n", 2, "truncated header"),
    ("empty", "", 1, "truncated header"),
    ("bad-op", HEADER % 2 + "a 0 5\nx 0\n", 6, "bad op"),
    ("extra-field", HEADER % 2 + "a 0 5 7\nf 0\n", 5, "bad op"),
    ("id-out-of-range", HEADER % 2 + "a 4 5\nf 4\n", 5, "id 4 out of range"),
    ("negative-id", HEADER % 1 + "a -1 5\n", 5, "negative"),
    ("free-dead-id", HEADER % 3 + "a 0 5\nf 0\nf 0\n", 7, "free of dead id"),
    ("free-never", HEADER % 1 + "f 2\n", 5, "never allocated"),
    ("realloc-never", HEADER % 2 + "a 0 5\nr 1 9\n", 6,
     "realloc of never-allocated id 1"),
    ("alloc-live", HEADER % 2 + "a 0 5\nc 0 1 1\n", 6, "already live"),
    ("too-few-ops", HEADER % 3 + "a 0 5\nf 0\n", 6, "op count mismatch"),
    ("too-many-ops", HEADER % 1 + "a 0 5\nf 0\n", 6, "op count mismatch"),
    ("negative-size", HEADER % 1 + "a 0 -5\n", 5, "negative number -5"),
    ("absurd-size", HEADER % 1 + "a 0 4611686018427387905\n", 5,
     "out of range"),
    ("absurd-calloc", HEADER % 1 + "c 0 4294967296 4294967296\n", 5,
     "absurd"),
    ("non-numeric-size", HEADER % 1 + "a 0 ten\n", 5, "decimal number"),
    ("no-weight", "1000\n4\n0\n5000\n", 4, "no weight"),
    ("ambiguous-dialect", "2\n4\n0\n50\n", 4, "ambiguous header"),
    ("ops-without-ids", "100\n0\n1\n1\nf -1\n", 5, "0 ids"),
    ("binary-junk", b"\x7fELF\x02\x01\x01\x00\x00junk\n", 1, "control byte"),
    ("control-in-comment", HEADER % 0 + "# a \x07 bell\n", 5, "control byte"),
    ("thread-no-blank", HEADER % 2 + "a 0 5\n1:f 0\n", 6, "thread prefix"),
    ("thread-not-decimal", HEADER % 2 + "a 0 5\nx: f 0\n", 6, "thread prefix"),
    ("thread-negative", HEADER % 2 + "a 0 5\n-1: f 0\n", 6, "thread prefix"),
    ("thread-too-big", HEADER % 2 + "a 0 5\n64: f 0\n", 6, "thread"),
    ("thread-alone", HEADER % 2 + "a 0 5\n2:\n", 6, "an op after"),
    ("thread-free-dead", HEADER % 3 + "a 0 5\n1: f 0\n2: f 0\n", 7,
     "free of dead id"),
]

VALID = [
    ("dialect-a", "20000\n3\n6\n1\na 0 10\nc 1 3 8\nr 0 100\nf 1\nf 0\n"
     "f -1\n"),
    ("dialect-b", "1\n2\n3\n5000\na 0 5\nr 0 0\nr 0 7\n"),
    ("comments-and-blanks", "# lead\n\n  # indented\n10\n\n1\n# mid\n2\n1\n"
     "\ta 0 0 \n\n# between\nf   0\n# tail\n"),
    ("crlf", "10\r\n1\r\n2\r\n1\r\na 0 5\r\nf 0\r\n"),
    ("id-reuse", HEADER % 4 + "a 0 5\nf 0\nc 0 2 2\nf 0\n"),
    ("no-trailing-newline", HEADER % 2 + "a 0 5\nf 0"),
    ("threads", HEADER % 7 + "a 0 5\n1: a 1 8\n1: f 0\n0: r 1 9\n"
     "63: c 2 1 1\n2: f 1\n3: f 2\n"),
]


def _write_cases(cases):
    folder = tempfile.mkdtemp(prefix="mmtest-traces-")
    paths = []
    for name, content, *_ in cases:
        path = os.path.join(folder, name + ".rep")
        with open(path, "wb") as f:
            f.write(content if isinstance(content, bytes) else
                    content.encode())
        paths.append(path)
    return folder, paths


def test_generator_regenerates_committed_traces_byte_for_byte():
    out = tempfile.mkdtemp(prefix="mmtest-gen-")
    try:
        proc = kit.run([PY, os.path.join(kit.TOOLS, "gen_traces.py"),
                        "--out", out])
        kit.expect(proc.returncode == 0, "gen_traces.py failed", proc)
        got = sorted(os.listdir(out)) + sorted(
            "mt/" + n for n in os.listdir(os.path.join(out, "mt")))
        kit.expect(got == sorted(GENERATED + ["mt"]) + sorted(GENERATED_MT),
                   "unexpected files: %s" % got)
        for name in GENERATED + GENERATED_MT:
            committed = os.path.join(kit.TRACES, name)
            kit.expect(os.path.exists(committed), "%s is not committed" % name)
            kit.expect(filecmp.cmp(os.path.join(out, name), committed,
                                   shallow=False),
                       "%s differs from its regeneration: run `make traces`"
                       % name)
    finally:
        shutil.rmtree(out)


def test_generator_seed_is_honoured():
    trace = gen_traces.make_trace("tiny", gen_traces.family_tiny, 1, 1, True)
    again = gen_traces.make_trace("tiny", gen_traces.family_tiny, 1, 1, True)
    other = gen_traces.make_trace("tiny", gen_traces.family_tiny, 1, 2, True)
    kit.expect(trace.ops == again.ops, "same seed, different ops")
    kit.expect(trace.ops != other.ops, "seeds 1 and 2 gave the same ops")
    rng = gen_traces.Rng(0)  # splitmix64's published first outputs
    kit.expect([rng.next64(), rng.next64()] ==
               [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4],
               "splitmix64 is wrong: every trace would change")


def test_generator_refuses_to_write_an_invalid_trace():
    def double_free(b, rng, short):
        oid = b.malloc(8)
        b.free(oid)
        b.ops.append(reptrace.Op("f", oid))

    def leak(b, rng, short):
        b.malloc(8)

    for family in (double_free, leak):
        family.__doc__ = "A broken family."
        try:
            gen_traces.make_trace("bad", family, 1, 1, True)
        except SystemExit as e:
            kit.expect("invalid trace" in str(e), "message: %s" % e)
        else:
            raise AssertionError("%s was written" % family.__name__)


SHAPE_SEEDS = list(range(1, 21)) + [gen_traces.DEFAULT_SEED]


def _family_trace(name, seed):
    family = {n: f for n, f, _ in gen_traces.FAMILIES}[name]
    return gen_traces.make_trace(name, family, 1, seed, False)


def _within_budget(name, seed, trace):
    """What docs/traces.md asks of a generated trace, on any seed."""
    s = tracestats.stats(trace)
    kit.expect(1000 <= s["ops"] <= 20000 and s["live_byte_ops"] < 1e9 and
               s["peak_live_bytes"] <= 400 * 1024,
               "%s seed %d: %d ops, -d 2 cost %d, peak live %d" % (
                   name, seed, s["ops"], s["live_byte_ops"],
                   s["peak_live_bytes"]))
    return s


def _growing_block_shape(trace):
    """(start, step, first small size) of a growing-block trace, after
    checking its shape: one block grows by a constant step; at most 3
    small blocks live at once."""
    grower = trace.ops[0].id
    sizes = [trace.ops[0].size] + [op.size for op in trace.ops
                                   if op.kind == "r"]
    kit.expect(all(op.id == grower for op in trace.ops if op.kind == "r"),
               "only the first block is reallocated")
    steps = {after - before for before, after in zip(sizes, sizes[1:])}
    kit.expect(len(steps) == 1 and 16 <= min(steps) <= 256 and
               256 <= sizes[0] <= 1024, "start %d, steps %s" % (
                   sizes[0], sorted(steps)[:5]))
    live, most, small = set(), 0, []
    for op in trace.ops[1:]:
        if op.id == grower:
            continue
        if op.kind == "a":
            live.add(op.id)
            small.append(op.size)
        elif op.kind == "f":
            live.remove(op.id)
        most = max(most, len(live))
    kit.expect(most <= 3 and 16 <= min(small) and max(small) <= 320,
               "small blocks: %d live at most, %d .. %d bytes" % (
                   most, min(small), max(small)))
    return sizes[0], min(steps), small[0]


def test_growing_block_family_over_seeds():
    """One block grows by realloc among small churn on every seed, sizes
    drawn per seed, within the size budget; its bound (what an allocator
    that grows the block in place reaches) is above 99.9%."""
    shapes = set()
    for seed in SHAPE_SEEDS:
        trace = _family_trace("growing-block", seed)
        s = _within_budget("growing-block", seed, trace)
        kit.expect(s["bound"] > 0.999, "seed %d: bound %.4f" % (
            seed, s["bound"]))
        shapes.add(_growing_block_shape(trace))
    kit.expect(len(shapes) == len(SHAPE_SEEDS),
               "sizes must be drawn per seed: %d distinct shapes over %d "
               "seeds" % (len(shapes), len(SHAPE_SEEDS)))


def _binary_shape(trace):
    """(small, large, larger) of a binary trace, after checking its
    shape: N small/large pairs, the N large ones freed, N larger ones
    allocated, everything freed."""
    ops = trace.ops
    n = len(ops) // 6
    kit.expect(len(ops) == 6 * n and n >= 100, "%d ops" % len(ops))
    small, large = ops[0].size, ops[1].size
    kit.expect(all(op.kind == "a" and op.size == (small, large)[i % 2]
                   for i, op in enumerate(ops[:2 * n])),
               "pairs of %d and %d bytes" % (small, large))
    larges = {op.id for op in ops[1:2 * n:2]}
    kit.expect({op.id for op in ops[2 * n:3 * n] if op.kind == "f"} ==
               larges, "every large block freed, and only those")
    larger = ops[3 * n].size
    kit.expect(all(op.kind == "a" and op.size == larger
                   for op in ops[3 * n:4 * n]) and
               all(op.kind == "f" for op in ops[4 * n:]),
               "then %d blocks of %d bytes, then the frees" % (n, larger))
    kit.expect(8 <= small <= 128 and 4 * small <= large <= 8 * small and
               16 <= larger - large <= max(16, small) and
               reptrace.ideal_block(larger) > reptrace.ideal_block(large),
               "sizes %d %d %d" % (small, large, larger))
    return small, large, larger


def test_binary_family_over_seeds():
    """Small/large pairs, the large ones freed, larger ones asked for, on
    every seed, sizes drawn per seed, within the size budget; the bound is
    that of the small blocks in one run and the larger ones in another,
    so an allocator that keeps them apart reaches it."""
    shapes = set()
    for seed in SHAPE_SEEDS:
        trace = _family_trace("binary", seed)
        s = _within_budget("binary", seed, trace)
        small, large, larger = _binary_shape(trace)
        n = len(trace.ops) // 6
        apart = n * (reptrace.ideal_block(small) +
                     reptrace.ideal_block(larger))
        kit.expect((s["peak_live_bytes"], s["peak_ideal_heap"]) == (
            n * (small + larger), apart), "seed %d: the bound's peaks %d / "
            "%d, expected %d small and larger blocks: %d / %d" % (
                seed, s["peak_live_bytes"], s["peak_ideal_heap"], n,
                n * (small + larger), apart))
        shapes.add((small, large, larger))
    kit.expect(len(shapes) == len(SHAPE_SEEDS),
               "sizes must be drawn per seed: %d distinct shapes over %d "
               "seeds" % (len(shapes), len(SHAPE_SEEDS)))
    again = _family_trace("binary", 7)
    kit.expect([o.text() for o in again.ops] ==
               [o.text() for o in _family_trace("binary", 7).ops],
               "the same seed must give the same ops")


def test_validator_rejects_each_kind_of_malformed_file():
    folder, paths = _write_cases(MALFORMED)
    try:
        for (name, _, line, words), path in zip(MALFORMED, paths):
            proc = kit.run([PY, REPTRACE, "check", path])
            kit.expect(proc.returncode == 1, "%s: check must exit 1" % name,
                       proc)
            first = proc.stdout.splitlines()[0] if proc.stdout else ""
            kit.expect(first.startswith("%s:%d: " % (path, line)),
                       "%s: expected a message at line %d, got %r" % (
                           name, line, first))
            kit.expect(words in first, "%s: %r not in %r" % (name, words,
                                                             first))
    finally:
        shutil.rmtree(folder)


def test_validator_accepts_dialects_comments_and_blank_lines():
    folder, paths = _write_cases(VALID)
    try:
        proc = kit.run([PY, REPTRACE, "check", "--balanced"] + paths[2:] +
                       paths[:1])
        kit.expect(proc.returncode == 0 and proc.stdout == "",
                   "valid traces rejected", proc)
        trace_b = reptrace.parse(paths[1])
        kit.expect(trace_b.weight == 1 and trace_b.ids == 2 and
                   len(trace_b.ops) == 3, "dialect B misread: %r" % trace_b)
        proc = kit.run([PY, REPTRACE, "check", "--balanced", paths[1]])
        kit.expect(proc.returncode == 1 and "not balanced" in proc.stdout,
                   "a block live at the end must fail --balanced", proc)
        ops = reptrace.parse(paths[2]).ops
        kit.expect([(op.kind, op.id, op.size, op.line) for op in ops] ==
                   [("a", 0, 0, 10), ("f", 0, 0, 13)],
                   "comment/blank lines miscounted: %r" % ops)
    finally:
        shutil.rmtree(folder)


def test_every_committed_trace_validates():
    names = sorted(n for n in os.listdir(kit.TRACES) if n.endswith(".rep"))
    kit.expect(len(names) >= len(GENERATED) + 2, "traces missing: %s" % names)
    paths = [os.path.join(kit.TRACES, n) for n in names]
    proc = kit.run([PY, REPTRACE, "check"] + paths)
    kit.expect(proc.returncode == 0 and proc.stdout == "",
               "committed traces are invalid", proc)
    for name in GENERATED:  # generated traces are balanced by construction
        trace = reptrace.parse(os.path.join(kit.TRACES, name))
        kit.expect(reptrace.validate(trace, balanced=True) == [],
                   "%s is not balanced" % name)


def test_write_recomputes_the_header():
    trace = reptrace.parse_text(HEADER % 3 + "a 2 5\nr 2 40\nf 2\n", "t.rep")
    del trace.ops[1]
    out = tempfile.mktemp(suffix=".rep")
    try:
        reptrace.write(trace, out)
        with open(out) as f:
            text = f.read()
        kit.expect(text == "16\n3\n2\n1\na 2 5\nf 2\n",
                   "write() output: %r" % text)
        again = reptrace.parse(out)
        kit.expect([o.text() for o in again.ops] == ["a 2 5", "f 2"],
                   "round trip lost ops")
    finally:
        os.unlink(out)


# A hand-computed trace for tracestats. Ideal blocks (8-byte header,
# 16-byte alignment, 16 least): 1 -> 16, 24 -> 32, 100 -> 112, 40 -> 48,
# 30 (c 3 10) -> 48.
#   op          live payload   live ideal
#   a 0 1             1            16
#   a 1 24           25            48
#   f 0              24            32
#   a 2 100         124           144   <- peak payload 124, peak ideal 144
#   r 1 40          140           160   <- peak payload 140, peak ideal 160
#   f 2              40            48
#   c 0 3 10         70            96
#   f 0, f 1          0             0
# bound = 140 / 160 = 0.875
STATS_TRACE = (HEADER % 9 + "a 0 1\na 1 24\nf 0\na 2 100\nr 1 40\nf 2\n"
               "c 0 3 10\nf 0\nf 1\n")


def test_tracestats_bound_is_right_on_a_hand_computed_trace():
    s = tracestats.stats(reptrace.parse_text(STATS_TRACE, "hand.rep"))
    kit.expect(s["bound"] == 0.875, "bound %r, expected 0.875" % s["bound"])
    kit.expect((s["peak_live_bytes"], s["peak_ideal_heap"],
                s["peak_live_blocks"]) == (140, 160, 2),
               "peaks: %r" % ((s["peak_live_bytes"], s["peak_ideal_heap"],
                               s["peak_live_blocks"]),))
    kit.expect(s["kinds"] == {"a": 3, "c": 1, "r": 1, "f": 4, "free_null": 0},
               "kinds: %r" % s["kinds"])
    kit.expect(s["size_histogram"] == [["1", 1], ["17-32", 2],
                                       ["33-64", 1], ["65-128", 1]],
               "histogram: %r" % s["size_histogram"])
    # lifetimes in ops: id0 0->2 = 2, id2 3->5 = 2, id0 6->7 = 1,
    # id1 1->8 = 7 (the realloc continues its life)
    kit.expect(s["lifetime"] == {"blocks": 4, "median": 2, "p90": 7,
                                 "max": 7}, "lifetimes: %r" % s["lifetime"])
    kit.expect(s["live_byte_ops"] == 1 + 25 + 24 + 124 + 140 + 40 + 70 + 40,
               "live byte ops: %r" % s["live_byte_ops"])


def test_tracestats_cli_bound_json_and_errors():
    path = kit.write_temp(STATS_TRACE)
    bad = kit.write_temp(HEADER % 1 + "f 0\n")
    try:
        proc = kit.run([PY, TRACESTATS, "--bound", path])
        kit.expect(proc.returncode == 0 and proc.stdout ==
                   "%s 0.8750\n" % os.path.basename(path), "--bound", proc)
        proc = kit.run([PY, TRACESTATS, "--json", path])
        kit.expect(json.loads(proc.stdout)[0]["bound"] == 0.875, "--json",
                   proc)
        proc = kit.run([PY, TRACESTATS, path, bad])
        kit.expect(proc.returncode == 1 and "%s:5:" % bad in proc.stderr and
                   "ideal utilization bound: 0.8750" in proc.stdout,
                   "an invalid trace must be reported and fail", proc)
    finally:
        os.unlink(path)
        os.unlink(bad)


def _suite():
    with open(os.path.join(kit.TRACES, "suite.txt")) as f:
        return [line.split("#")[0].strip() for line in f
                if line.split("#")[0].strip()]


def test_suite_covers_every_family_within_the_size_budget():
    names = _suite()
    kit.expect(15 <= len(names) <= 25, "suite has %d traces" % len(names))
    kit.expect(len(set(names)) == len(names), "a trace is listed twice")
    for family, _, _ in gen_traces.FAMILIES:
        kit.expect(family + ".rep" in names, "%s missing" % family)
    real = sorted(n for n in os.listdir(kit.TRACES) if n.startswith("real-"))
    total = 0
    for name in names:
        path = os.path.join(kit.TRACES, name)
        kit.expect(os.path.exists(path), "suite lists missing %s" % name)
        s = tracestats.stats(reptrace.parse(path))
        kit.expect(s["weight"] >= 1, "%s has weight 0" % name)
        kit.expect(s["ops"] <= 25000, "%s: %d ops" % (name, s["ops"]))
        # What `mdriver -d 2` re-verifies: generated traces stay well
        # under 1e9 bytes; recorded ones are allowed more (docs/traces.md).
        budget = 2e10 if name.startswith("real-") else 1e9
        kit.expect(s["live_byte_ops"] < budget, "%s: -d 2 would verify %d "
                   "bytes" % (name, s["live_byte_ops"]))
        total += s["live_byte_ops"]
        limit = 16 << 20 if name.startswith("giant") else 2 << 20
        kit.expect(s["peak_live_bytes"] <= limit, "%s: peak live %d" % (
            name, s["peak_live_bytes"]))
    kit.expect(total < 5e10, "the suite's -d 2 cost grew to %d bytes" % total)
    if real:
        kit.expect(any(n in names for n in real),
                   "recorded traces exist but none is in the suite")


def _mdriver(name):
    if not os.path.exists(os.path.join(kit.MALLOC, "mdriver.c")):
        raise kit.Skip("malloc/mdriver.c does not exist yet")
    path = os.path.join(kit.BUILD, "mdriver-" + name)
    kit.expect(os.path.exists(path), "%s missing: run `make test-deps`" % path)
    return path


def test_comparison_allocators_are_valid_on_the_short_traces():
    shorts = sorted(n for n in os.listdir(kit.TRACES)
                    if n.endswith("-short.rep") or n.startswith("short"))
    for name in ("implicit", "explicit_ff"):
        args = [_mdriver(name), "-n", "-d", "2", "-t", kit.TRACES]
        for trace in shorts:
            args += ["-f", trace]
        proc = kit.run(args, timeout=120)
        kit.expect(proc.returncode == 0, "%s fails a short trace" % name, proc)
        kit.expect(proc.stdout.count(" yes ") >= len(shorts),
                   "%s: not every trace reported valid" % name, proc)


def test_validator_agrees_with_mdriver_on_malformed_files():
    driver = os.path.join(kit.MALLOC, "mdriver")
    if not os.path.exists(os.path.join(kit.MALLOC, "mdriver.c")):
        raise kit.Skip("malloc/mdriver.c does not exist yet")
    kit.expect(os.path.exists(driver), "malloc/mdriver is not built")
    folder, paths = _write_cases(MALFORMED + VALID)
    try:
        for (name, _, *rest), path in zip(MALFORMED + VALID, paths):
            ours = reptrace.check_file(path, balanced=False)
            proc = kit.run([driver, "-n", "-d", "0", "-f", path])
            if rest:
                want = "ERROR [%s:%d]" % (path, rest[0])
                kit.expect(proc.returncode == 2 and want in proc.stderr,
                           "%s: mdriver should say %s" % (name, want), proc)
                kit.expect(ours and ours[0].startswith("%s:%d:" % (
                    path, rest[0])), "%s: reptrace says %r" % (name, ours))
            else:
                kit.expect(proc.returncode != 2 and not ours,
                           "%s: valid, but mdriver or reptrace rejects it: "
                           "%r" % (name, ours), proc)
    finally:
        shutil.rmtree(folder)


def _driver_verdict(driver, path):
    """(malformed?, error line) as mdriver sees the file."""
    proc = kit.run([driver, "-n", "-d", "0", "-m", "16M", "-f", path])
    kit.expect(proc.returncode in (0, 1, 2), "mdriver crashed", proc)
    if proc.returncode != 2:
        return False, None
    head = "ERROR [%s:" % path
    kit.expect(proc.stderr.startswith(head), "no ERROR [path:line]", proc)
    return True, int(proc.stderr[len(head):].split("]")[0])


def _our_verdict(path):
    problems = reptrace.check_file(path, balanced=False)
    if not problems:
        return False, None
    return True, int(problems[0][len(path) + 1:].split(":")[0])


def test_validator_agrees_with_mdriver_on_its_corpus_and_fuzzed_files():
    """The driver's own malformed corpus (tests/test_driver_traces.py) and
    random byte edits of short2-bal.rep: reptrace and mdriver reject the
    same files at the same line, and accept the same files."""
    driver = os.path.join(kit.MALLOC, "mdriver")
    if not os.path.exists(os.path.join(kit.MALLOC, "mdriver.c")):
        raise kit.Skip("malloc/mdriver.c does not exist yet")
    kit.expect(os.path.exists(driver), "malloc/mdriver is not built")
    import test_driver_traces
    cases = [(name, text) for name, text, _, _ in test_driver_traces.MALFORMED]
    with open(os.path.join(kit.TRACES, "short2-bal.rep"), "rb") as f:
        seed_text = f.read()
    rng = random.Random(15213)
    for i in range(120):
        data = bytearray(seed_text)
        for _ in range(rng.randrange(1, 4)):
            pos = rng.randrange(len(data))
            action = rng.randrange(3)
            if action == 0:
                del data[pos]
            elif action == 1:
                data.insert(pos, rng.choice(b"0123456789 -\n\rarcfx\t#"))
            else:
                data[pos] = rng.choice(b"0123456789 -\narcf\x00\xff")
        cases.append(("fuzz %d" % i, bytes(data)))
    for name, text in cases:
        path = kit.write_temp(text, binary=isinstance(text, bytes))
        try:
            theirs, ours = _driver_verdict(driver, path), _our_verdict(path)
            kit.expect(theirs == ours, "%s: mdriver (malformed, line) %r, "
                       "reptrace %r: %r" % (name, theirs, ours,
                                            reptrace.check_file(path)))
        finally:
            os.unlink(path)
