#!/usr/bin/env python3
"""minimize: shrinks a trace on which an allocator fails under mdriver into
a much smaller trace that still fails the same way (docs/tools.md).

    python3 tools/minimize.py --driver malloc/mdriver big.rep -o small.rep

"Fails the same way": `DRIVER -n -s S -f CANDIDATE` prints, as its first
error, `ERROR [trace ...]: KIND: ...` with the KIND of the original trace
(docs/CONTRACTS.md section 4). A driver killed by a signal without an
ERROR line fails with the kind `signal N`.

Delta debugging (Zeller's ddmin) in two passes, then a third over sizes,
each on what the last left:
  1. over id lifetimes (an `a`/`c`, or `r` of a dead id, with the `r` and
     the `f` that follow it on that id): drops whole blocks at once;
  2. over single ops: drops reallocs, frees (the block then stays live to
     the end) and anything else not needed; dropping the op that starts a
     lifetime drops the lifetime's later ops too.
  3. over sizes: each remaining request is halved (a calloc's element
     count first) for as long as the trace still fails the same way.
Every candidate is made well formed before it is run: ops of dropped
lifetimes go, ids are renumbered densely (reused once dead), an `r` that
starts a lifetime (realloc(NULL, n)) reuses a dead id and becomes `a` when
there is none. The result is 1-minimal: removing any one op makes it pass
or fail differently (and so would halving any size). Runs are bounded by
--max-runs (a note says when the result is not minimal because of it);
candidates already run are not rerun.

Exit status: 0 when a smaller (or equally small) failing trace was
written, 1 when the original trace does not fail, 2 for bad usage, a bad
trace or a driver that cannot run.
"""
import argparse
import heapq
import os
import re
import shlex
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reptrace  # noqa: E402

ERROR_LINE = re.compile(r"^ERROR \[trace [^\n]*?\]: ([^:\n]+):", re.M)
MALFORMED = "rejected by the driver (exit 2)"


class Budget(Exception):
    """Raised when --max-runs driver runs have been made."""


class Driver:
    """Runs mdriver on candidate traces and remembers each verdict."""

    def __init__(self, path, timeout, debug, max_runs, folder):
        self.path, self.timeout, self.debug = path, timeout, debug
        self.max_runs, self.runs = max_runs, 0
        self.candidate = os.path.join(folder, "candidate.rep")
        self.cache = {}
        self.last_line = None

    def command(self, trace_path):
        cmd = [self.path, "-n", "-s", str(self.timeout)]
        if self.debug is not None:
            cmd += ["-d", str(self.debug)]
        return cmd + ["-f", trace_path]

    def run(self, trace_path):
        """The KIND of the first error of the driver on a file, or None."""
        self.runs += 1
        try:
            proc = subprocess.run(self.command(trace_path),
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL,
                                  timeout=2 * self.timeout + 10)
        except subprocess.TimeoutExpired:
            return "timeout"
        text = proc.stdout.decode("utf-8", errors="replace")
        match = ERROR_LINE.search(text)
        if match:
            self.last_line = text[match.start():].split("\n", 1)[0]
            return match.group(1).strip()
        if proc.returncode < 0:
            self.last_line = "(killed by signal %d)" % -proc.returncode
            return "signal %d" % -proc.returncode
        if proc.returncode == 2:
            self.last_line = text.strip().split("\n")[0] if text else ""
            return MALFORMED
        return None

    def kind_of(self, trace):
        """The KIND with which the driver fails on trace (cached)."""
        key = tuple(op.text() for op in trace.ops)
        if key not in self.cache:
            if self.max_runs and self.runs >= self.max_runs:
                raise Budget()
            reptrace.write(trace, self.candidate)
            self.cache[key] = self.run(self.candidate)
        return self.cache[key]


def lifetimes(ops):
    """life[i]: the lifetime (0, 1, ...) op i belongs to (None for `f -1`),
    and start[L]: the index of the op that starts lifetime L."""
    current, life, start = {}, [], []
    for index, op in enumerate(ops):
        if op.kind == "f" and op.id == -1:
            life.append(None)
            continue
        if op.kind in "ac" or (op.kind == "r" and op.id not in current):
            current[op.id] = len(start)
            start.append(index)
        life.append(current[op.id])
        if op.kind == "f" or (op.kind == "r" and op.size == 0):
            current.pop(op.id, None)
    return life, start


class Shrinker:
    """Builds well-formed candidate traces from subsets of the original's
    ops and asks the driver whether each fails with the original KIND."""

    def __init__(self, trace, driver, kind):
        self.trace, self.driver, self.kind = trace, driver, kind
        self.ops = list(trace.ops)  # pass 3 replaces ops with smaller ones
        self.life, self.start = lifetimes(self.ops)

    def build(self, kept):
        """The well-formed trace made of the ops at indices `kept`."""
        started = {self.life[i] for i in kept if self.life[i] is not None
                   and self.start[self.life[i]] == i}
        ids, dead, fresh, out = {}, [], [0], []
        for i in sorted(kept):
            op, life = self.ops[i], self.life[i]
            if life is None:
                out.append(op._replace(line=0))
                continue
            if life not in started:
                continue
            if life not in ids:
                op = self.first_op(op, dead)
                ids[life] = op.id if op.kind == "r" else take_id(dead, fresh)
            op = op._replace(id=ids[life], line=0)
            out.append(op)
            if op.kind == "f" or (op.kind == "r" and op.size == 0):
                heapq.heappush(dead, ids.pop(life))
        return reptrace.Trace(fresh[0], self.trace.weight, None, out,
                              path=self.trace.path)

    @staticmethod
    def first_op(op, dead):
        """The op starting a lifetime: realloc(NULL) needs a dead id."""
        if op.kind != "r":
            return op
        if dead:
            return op._replace(id=heapq.heappop(dead))
        return op._replace(kind="a")

    def fails(self, kept):
        return self.driver.kind_of(self.build(kept)) == self.kind


def take_id(dead, fresh):
    """The smallest dead id, else a new one (fresh[0] is the next new id)."""
    if dead:
        return heapq.heappop(dead)
    fresh[0] += 1
    return fresh[0] - 1


def ddmin(units, fails):
    """Zeller's ddmin: a 1-minimal sublist of units (lists of op indices)
    on which fails(indices) holds; fails(all units) must hold."""
    flat = lambda us: [i for u in us for i in u]  # noqa: E731
    n = 2
    while len(units) >= 2:
        size = len(units)
        chunks = [units[k * size // n:(k + 1) * size // n] for k in range(n)]
        for chunk in chunks:
            if fails(flat(chunk)):
                units, n = chunk, 2
                break
        else:
            for k in range(n if n > 2 else 0):
                rest = [u for j, c in enumerate(chunks) if j != k for u in c]
                if fails(flat(rest)):
                    units, n = rest, max(n - 1, 2)
                    break
            else:
                if n >= size:
                    break
                n = min(2 * n, size)
    return flat(units)


def shrink(shrinker, say):
    """The three passes; returns the kept op indices (the best found when
    the run budget ran out) and whether the budget stopped it."""
    kept = list(range(len(shrinker.ops)))
    passes = (("id lifetimes", by_lifetime), ("single ops", by_op))
    for name, units_of in passes:
        best = [kept]

        def fails(indices):
            if shrinker.fails(indices):
                if len(indices) < len(best[0]):
                    best[0] = indices
                return True
            return False

        try:
            kept = ddmin(units_of(shrinker, kept), fails)
        except Budget:
            say("stopped early: %d driver runs made (--max-runs)"
                % shrinker.driver.runs)
            return sorted(best[0]), True
        say("%s: %d ops left (%d driver runs so far)" % (
            name, len(shrinker.build(kept).ops), shrinker.driver.runs))
    try:
        shrink_sizes(shrinker, kept)
    except Budget:
        say("stopped early while shrinking sizes: %d driver runs made "
            "(--max-runs)" % shrinker.driver.runs)
        return sorted(kept), True
    say("sizes: halved while it still fails (%d driver runs so far)"
        % shrinker.driver.runs)
    return sorted(kept), False


def shrink_sizes(shrinker, kept):
    """Pass 3: halves each request (a calloc's nmemb first) for as long as
    the trace still fails the same way; sizes stay >= 1, so no `r` turns
    into a free."""
    for i in kept:
        for field in ("nmemb", "size"):
            op = shrinker.ops[i]
            if op.kind == "f" or (field == "nmemb" and op.kind != "c"):
                continue
            while getattr(op, field) > 1:
                trial = op._replace(**{field: getattr(op, field) // 2})
                shrinker.ops[i] = trial
                try:
                    smaller = shrinker.fails(kept)
                except Budget:
                    shrinker.ops[i] = op
                    raise
                if not smaller:
                    shrinker.ops[i] = op
                    break
                op = trial


def by_lifetime(shrinker, kept):
    groups = {}
    for i in kept:
        life = shrinker.life[i]
        groups.setdefault(("i", i) if life is None else ("l", life),
                          []).append(i)
    return sorted(groups.values())


def by_op(shrinker, kept):
    return [[i] for i in kept]


def empty_fails(shrinker):
    """Some failures (mm_init failed) need no op at all."""
    try:
        return shrinker.fails([])
    except Budget:
        return False


def error(message):
    print("minimize: ERROR: " + message, file=sys.stderr, flush=True)


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="tools/minimize.py",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("trace", help="the failing trace (.rep)")
    ap.add_argument("--driver", required=True,
                    help="mdriver built with the failing allocator")
    ap.add_argument("-o", dest="out", required=True, help="where to write "
                    "the small trace")
    ap.add_argument("--timeout", type=int, default=10, metavar="S",
                    help="mdriver -s: per-run timeout in seconds (10)")
    ap.add_argument("--debug", type=int, choices=(0, 1, 2), metavar="LEVEL",
                    help="mdriver -d LEVEL (default: the driver's own)")
    ap.add_argument("--max-runs", type=int, default=3000, metavar="N",
                    help="at most N driver runs (3000; 0: no limit)")
    args = ap.parse_args(argv)
    if args.timeout <= 0:
        ap.error("--timeout must be positive")
    return args


def load(args):
    """The original trace, or an error message."""
    if not (os.path.isfile(args.driver) and os.access(args.driver, os.X_OK)):
        return None, "%s: no such executable (build it first)" % args.driver
    folder = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(folder):
        return None, "%s: no such directory for -o" % folder
    try:
        trace = reptrace.parse(args.trace)
    except reptrace.TraceError as e:
        return None, str(e)
    problems = reptrace.validate(trace)
    return (None, problems[0]) if problems else (trace, None)


def write_result(small, args, original_ops, kind, line):
    small.comments = [
        "minimized by tools/minimize.py from %s (%d ops)"
        % (os.path.basename(args.trace), original_ops),
        "fails under %s with KIND '%s'" % (os.path.basename(args.driver),
                                          kind),
        line or "(the driver's error line goes here)",
    ]  # as many comment lines before and after: same line numbers
    reptrace.write(small, args.out)


def verify(driver, small, args, original_ops, kind):
    """Writes the result, runs the driver on that very file, and rewrites
    it with the driver's error line; False if it does not fail as wanted."""
    write_result(small, args, original_ops, kind, None)
    if driver.run(args.out) != kind:
        return False
    write_result(small, args, original_ops, kind, driver.last_line)
    return True


def main(argv):
    args = parse_args(argv)
    say = lambda m: print("minimize: " + m, flush=True)  # noqa: E731
    trace, problem = load(args)
    if problem:
        error(problem)
        return 2
    with tempfile.TemporaryDirectory(prefix="minimize-") as folder:
        driver = Driver(args.driver, args.timeout, args.debug, args.max_runs,
                        folder)
        kind = driver.run(args.trace)
        shown = " ".join(shlex.quote(a) for a in driver.command(args.trace))
        if kind is None:
            say("the original trace does not fail: `%s` reports no error; "
                "nothing to minimize" % shown)
            return 1
        if kind == MALFORMED:
            error("the driver rejects the original trace: %s"
                  % driver.last_line)
            return 2
        say("%s: %d ops, fails with KIND '%s'" % (args.trace, len(trace.ops),
                                                  kind))
        shrinker = Shrinker(trace, driver, kind)
        kept, early = ([], False) if empty_fails(shrinker) else shrink(
            shrinker, say)
        small = shrinker.build(kept)
        try:
            verified = verify(driver, small, args, len(trace.ops), kind)
        except OSError as e:
            error("cannot write %s: %s" % (args.out, e.strerror))
            return 2
        if not verified:
            error("%s does not fail the same way when run again (a flaky "
                  "failure?)" % args.out)
            return 2
    say("wrote %s: %d ops (from %d) in %d driver runs; fails with '%s'%s" % (
        args.out, len(small.ops), len(trace.ops), driver.runs, kind,
        " (not minimal: stopped early)" if early else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
