"""The trace minimizer (tools/minimize.py).

The unit tests run it against a fake driver (a small Python script standing
in for mdriver) that fails with a fixed KIND exactly when the trace has some
pattern, so the minimal result is known; the integration tests run it on the
driver engineer's broken allocators (build/broken/mdriver-*).
"""
import os
import random
import stat
import sys
import tempfile

import kit

sys.path.insert(0, kit.TOOLS)
import reptrace  # noqa: E402

MINIMIZE = os.path.join(kit.TOOLS, "minimize.py")

# Fails (exit 1, mdriver's ERROR line) when the pattern named by
# $FAKE_PATTERN occurs; exit 2 on a malformed or invalid trace; logs every
# run (and every malformed trace) to $FAKE_LOG.
FAKE_DRIVER = r'''#!%(python)s
import os, sys
sys.path.insert(0, %(tools)r)
import reptrace
path = sys.argv[sys.argv.index("-f") + 1]
log = open(os.environ["FAKE_LOG"], "a")
try:
    trace = reptrace.parse(path)
    problems = reptrace.validate(trace)
except reptrace.TraceError as e:
    problems = [str(e)]
if problems:
    log.write("malformed %%s\n" %% problems[0])
    print("ERROR [%%s]: malformed" %% problems[0])
    sys.exit(2)
log.write("run\n")
pattern, live, seen = os.environ["FAKE_PATTERN"], {}, set()
for op in trace.ops:
    hit = None
    if pattern == "free777" and op.kind == "f" and live.get(op.id) == 777:
        hit = "payload corrupted"
    if pattern == "calloc500" and op.kind == "c" and 500 in live.values():
        hit = "overlap"
    if pattern == "reallocnull" and op.kind == "r" and op.id not in live:
        hit = "null return"
    if hit:
        print("ERROR [trace %%s, line %%d, op \"%%s\"]: %%s: fake"
              %% (trace.name, op.line, op.text(), hit))
        print("    context line")
        sys.exit(1)
    if op.kind == "f" or (op.kind == "r" and op.size == 0):
        live.pop(op.id, None)
    elif op.id >= 0:
        live[op.id] = op.bytes
print("all traces valid")
'''


def random_trace(seed, nops, plant):
    """A valid random trace of about nops ops (ids reused) with `plant`
    ops inserted: plant maps an op position to a function(live, dead)
    returning the ops to insert there."""
    rng = random.Random(seed)
    live, dead, ops, next_id = {}, [], [], 0
    for position in range(nops):
        if position in plant:
            ops += plant[position](live, dead)
            continue
        roll = rng.random()
        if roll < 0.45 or not live:
            oid = dead.pop() if dead else next_id
            next_id = max(next_id, oid + 1)
            size = rng.choice([8, 24, 40, 100, 300, 1000, 4000])
            if rng.random() < 0.2:
                ops.append(reptrace.Op("c", oid, size // 4, 4))
            else:
                ops.append(reptrace.Op("a", oid, size))
            live[oid] = size
        elif roll < 0.6:
            oid = rng.choice(sorted(live))
            live[oid] = rng.choice([16, 200, 2000])
            ops.append(reptrace.Op("r", oid, live[oid]))
        else:
            oid = rng.choice(sorted(live))
            del live[oid]
            dead.append(oid)
            ops.append(reptrace.Op("f", oid))
    ops += [reptrace.Op("f", oid) for oid in sorted(live)]
    return reptrace.Trace(next_id, 1, None, ops)


def plant_block(size, free_at):
    """Plants `a X size` at position free_at[0] and `f X` at free_at[1]
    (kept out of `live`, so the random ops never touch it)."""
    state = {}

    def alloc(live, dead):  # not in live: the random ops leave it alone
        state["id"] = oid = 10000  # far from the random ids
        return [reptrace.Op("a", oid, size)]

    def free(live, dead):
        return [reptrace.Op("f", state["id"])]
    return {free_at[0]: alloc, free_at[1]: free}


def realloc_of_dead_id(live, dead):
    oid = dead.pop()
    live[oid] = 64
    return [reptrace.Op("r", oid, 64)]


def fake_driver(folder):
    path = os.path.join(folder, "fake-mdriver")
    with open(path, "w") as f:
        f.write(FAKE_DRIVER % {"python": sys.executable, "tools": kit.TOOLS})
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
    return path


def minimize(folder, trace, pattern, *extra):
    """Writes trace, minimizes it with the fake driver; returns (process,
    result ops as text or None, the fake driver's log lines)."""
    src, out = os.path.join(folder, "big.rep"), os.path.join(folder, "s.rep")
    log = os.path.join(folder, "log")
    reptrace.write(renumber(trace), src)
    kit.expect(reptrace.check_file(src) == [], "test trace invalid: %s"
               % reptrace.check_file(src)[:2])
    proc = kit.run([sys.executable, MINIMIZE, "--driver", fake_driver(folder),
                    src, "-o", out] + list(extra),
                   env={"FAKE_PATTERN": pattern, "FAKE_LOG": log})
    ops = None
    if os.path.exists(out):
        ops = [op.text() for op in reptrace.parse(out).ops]
    with open(log) if os.path.exists(log) else open(os.devnull) as f:
        lines = f.read().splitlines()
    malformed = [line for line in lines if line.startswith("malformed")]
    kit.expect(not malformed, "the minimizer ran malformed candidates: %s"
               % malformed[:3], proc)
    return proc, ops, lines


def renumber(trace):
    """Ids made dense (the planted id 10000 becomes the next free one)."""
    mapping = {-1: -1}
    ops = [op._replace(id=mapping.setdefault(op.id, len(mapping) - 1))
           for op in trace.ops]
    return reptrace.renumbered(trace, ops)


def test_shrinks_to_the_two_ops_that_matter():
    trace = random_trace(1, 1200, plant_block(777, (300, 900)))
    with tempfile.TemporaryDirectory() as folder:
        proc, ops, runs = minimize(folder, trace, "free777")
        kit.expect(proc.returncode == 0, "minimize failed", proc)
        kit.expect(ops == ["a 0 777", "f 0"],
                   "expected exactly ['a 0 777', 'f 0'], got %s" % ops, proc)
        kit.expect("payload corrupted" in proc.stdout and "2 ops" in
                   proc.stdout, "no progress/final report", proc)
        kit.expect(len(runs) < 400, "%d driver runs for 1200 ops" % len(runs))


def test_keeps_two_lifetimes_when_both_matter():
    trace = random_trace(2, 1000, plant_block(500, (200, 800)))
    with tempfile.TemporaryDirectory() as folder:
        proc, ops, _ = minimize(folder, trace, "calloc500")
        kit.expect(proc.returncode == 0, "minimize failed", proc)
        kit.expect(ops == ["a 0 500", "c 1 1 1"], "expected ['a 0 500', "
                   "'c 1 1 1'] (sizes halved), got %s" % ops, proc)


def test_keeps_realloc_of_a_dead_id_well_formed():
    trace = random_trace(3, 1000, {600: realloc_of_dead_id})
    kit.expect(any(op.kind == "r" and op.size == 64 for op in trace.ops),
               "the test trace lacks its planted realloc(NULL)")
    with tempfile.TemporaryDirectory() as folder:
        proc, ops, _ = minimize(folder, trace, "reallocnull")
        kit.expect(proc.returncode == 0, "minimize failed", proc)
        kit.expect(ops in (["a 0 1", "f 0", "r 0 1"],
                           ["c 0 1 1", "f 0", "r 0 1"]),
                   "expected [a 0 1, f 0, r 0 1], got %s" % ops, proc)


def test_original_that_passes_is_refused():
    trace = random_trace(4, 300, {})
    with tempfile.TemporaryDirectory() as folder:
        proc, ops, runs = minimize(folder, trace, "free777")
        kit.expect(proc.returncode == 1 and "does not fail" in proc.stdout,
                   "a passing trace must be refused with exit 1", proc)
        kit.expect(ops is None and len(runs) == 1,
                   "nothing may be written, one run only", proc)


def test_max_runs_stops_early_with_a_failing_result():
    trace = random_trace(5, 1000, plant_block(777, (100, 950)))
    with tempfile.TemporaryDirectory() as folder:
        proc, ops, runs = minimize(folder, trace, "free777", "--max-runs", "8")
        kit.expect(proc.returncode == 0 and "stopped early" in proc.stdout,
                   "--max-runs must stop it and say so", proc)
        kit.expect(len(runs) <= 9, "%d runs with --max-runs 8 (plus the "
                   "final check)" % len(runs), proc)
        kit.expect(ops is not None and any(
            o.startswith("a ") and o.endswith(" 777") for o in ops),
            "the result lost the failing block: %s" % ops, proc)
        kit.expect(len(ops) < len(trace.ops), "nothing was removed", proc)


def test_bad_input_is_a_clear_error():
    with tempfile.TemporaryDirectory() as folder:
        bad = os.path.join(folder, "bad.rep")
        with open(bad, "w") as f:
            f.write("20000\n1\n2\n1\na 0 10\nx 0\n")
        driver = fake_driver(folder)
        proc = kit.run([sys.executable, MINIMIZE, "--driver", driver, bad,
                        "-o", os.path.join(folder, "o.rep")])
        kit.expect(proc.returncode == 2 and bad + ":6:" in proc.stderr,
                   "a malformed trace needs file:line and exit 2", proc)
        proc = kit.run([sys.executable, MINIMIZE, "--driver",
                        os.path.join(folder, "nope"), bad, "-o", "x.rep"])
        kit.expect(proc.returncode == 2 and "no such executable" in
                   proc.stderr, "a missing driver must be a clear error", proc)


# ------------------------------------------- on the real broken allocators

def broken_driver(name):
    """build/broken/mdriver-NAME (tests/broken/NAME.c, mk/driver.mk); a
    missing one fails the test: `make test-deps` builds it."""
    path = os.path.join(kit.BUILD, "broken", "mdriver-" + name)
    kit.expect(os.access(path, os.X_OK), "%s is missing: run `make "
               "test-deps` (tests/broken/%s.c, mk/driver.mk)" % (path, name))
    return path


def first_kind(driver, path):
    """The KIND of the first ERROR line of `driver -n -f path`, or None."""
    proc = kit.run([driver, "-n", "-s", "20", "-f", path])
    for line in proc.stdout.splitlines() + proc.stderr.splitlines():
        if line.startswith("ERROR [trace "):
            return line.split("]: ", 1)[1].split(":", 1)[0]
    return None


def minimize_broken(name, trace, expected_kind):
    """Minimizes a generated 1,000+ op trace with the broken allocator
    `name`; checks the result is valid and fails with the same KIND;
    returns its ops as text."""
    driver = broken_driver(name)
    with tempfile.TemporaryDirectory() as folder:
        src, out = os.path.join(folder, "big.rep"), os.path.join(folder,
                                                                "s.rep")
        reptrace.write(renumber(trace), src)
        kit.expect(len(trace.ops) >= 1000, "test trace too small")
        kit.expect(first_kind(driver, src) == expected_kind, "the original "
                   "does not fail with %r under %s" % (expected_kind, name))
        proc = kit.run([sys.executable, MINIMIZE, "--driver", driver, src,
                        "-o", out, "--timeout", "20"], timeout=300)
        kit.expect(proc.returncode == 0, "minimize failed on %s" % name, proc)
        kit.expect(reptrace.check_file(out) == [], "invalid result: %s"
                   % reptrace.check_file(out)[:2], proc)
        kit.expect(first_kind(driver, out) == expected_kind,
                   "the result does not fail with %r" % expected_kind, proc)
        return [op.text() for op in reptrace.parse(out).ops]


def test_broken_overlap_shrinks_to_two_ops():
    trace = random_trace(11, 1500, plant_block(777, (600, 1300)))
    ops = minimize_broken("overlap", trace, "overlap")
    kit.expect(len(ops) == 2 and ops[0].startswith("a 0 ") and
               ops[1] == "a 1 777", "expected [a 0 N, a 1 777], got %s" % ops)


def test_broken_overwrite_shrinks_to_a_handful():
    def neighbours(live, dead):  # 96 bytes: its last word is the one hit
        return [reptrace.Op("a", 10001, 96), reptrace.Op("a", 10002, 777)]

    def free_them(live, dead):
        return [reptrace.Op("f", 10002), reptrace.Op("f", 10001)]
    trace = random_trace(12, 1500, {900: neighbours, 1400: free_them})
    ops = minimize_broken("overwrite", trace, "payload corrupted")
    kit.expect(2 <= len(ops) <= 5 and any(
        op.startswith("a ") and op.endswith(" 777") for op in ops),
        "expected a handful of ops with the 777 block, got %s" % ops)


def test_broken_reallocloss_shrinks_to_a_growing_realloc():
    ops = minimize_broken("reallocloss", random_trace(13, 1200, {}),
                          "realloc lost data")
    kit.expect(len(ops) == 2 and ops[1].startswith("r 0 ") and
               int(ops[1].split()[2]) > int(ops[0].split()[-1]),
               "expected [a 0 N, r 0 M] with M > N, got %s" % ops)


def test_broken_realloc0_keeps_the_realloc_to_zero():
    def realloc_to_zero(live, dead):
        oid = sorted(live)[0]
        del live[oid]
        dead.append(oid)
        return [reptrace.Op("r", oid, 0)]
    ops = minimize_broken("realloc0", random_trace(14, 1200, {
        800: realloc_to_zero}), "realloc 0 not freed")
    kit.expect(len(ops) == 2 and ops[1] == "r 0 0",
               "expected [a 0 N, r 0 0], got %s" % ops)
