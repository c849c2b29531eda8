#!/usr/bin/env python3
"""tracestats: what a trace asks of an allocator.

    python3 tools/tracestats.py FILE...            a report per trace
    python3 tools/tracestats.py --json FILE...     the same as JSON
    python3 tools/tracestats.py --bound FILE...    `name bound` lines only

Per trace: ops by kind, peak live blocks and peak live payload bytes, the
request sizes in power-of-two buckets, block lifetimes in ops (median, 90th
percentile, max), the cost of `mdriver -d 2` (sum over ops of the live
payload bytes it re-verifies), and the ideal utilization bound.

THE IDEAL UTILIZATION BOUND (utilization_bound() below; the reference
allocator's goals are stated against it). An allocator that puts an 8-byte
header in front of every payload and aligns blocks to 16 bytes, with no
other waste, needs for a request of SIZE > 0 bytes a block of
    ideal_block(SIZE) = max(16, round_up(SIZE + 8, 16))
(reptrace.ideal_block; a request of 0 bytes needs no block). Over the
trace, after every op, let P = the live payload bytes and H = the sum of
ideal_block over the live blocks. The bound is
    max over time of P  /  max over time of H
which is what mdriver's utilization (peak payload / final heap size)
would be for that ideal allocator: no real allocator of this kind
scores higher on the trace.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reptrace  # noqa: E402


def utilization_bound(peak_payload, peak_ideal):
    """The ideal utilization bound (see the module docstring); 1.0 for a
    trace that never holds a block."""
    return peak_payload / peak_ideal if peak_ideal else 1.0


def block_bytes(op):
    """Payload bytes of the block an allocating op leaves live (0 for
    `f`, `r ID 0` and requests of 0 bytes)."""
    return 0 if op.kind == "f" else op.bytes


def size_bucket(size):
    """Power-of-two bucket label of a request: '0', '1', '2', '3-4',
    '5-8', ... '2^(k-1)+1 - 2^k'."""
    if size <= 2:
        return str(size)
    high = 1 << (size - 1).bit_length()
    return "%d-%d" % (high // 2 + 1, high)


def _percentile(sorted_values, fraction):
    if not sorted_values:
        return 0
    index = min(len(sorted_values) - 1, int(fraction * len(sorted_values)))
    return sorted_values[index]


class Replay:
    """Walks a trace's ops, keeping the live blocks and the peaks."""

    def __init__(self):
        self.live = {}  # id -> payload bytes
        self.born = {}  # id -> index of the op that allocated it
        self.payload = self.ideal = 0
        self.peak_payload = self.peak_ideal = self.peak_blocks = 0
        self.live_byte_ops = 0
        self.lifetimes = []

    def drop(self, oid, now):
        size = self.live.pop(oid, None)
        if size is None:
            return
        self.payload -= size
        self.ideal -= reptrace.ideal_block(size) if size else 0
        self.lifetimes.append(now - self.born.pop(oid))

    def add(self, oid, size, now):
        if oid not in self.born:
            self.born[oid] = now
        self.live[oid] = size
        self.payload += size
        self.ideal += reptrace.ideal_block(size) if size else 0

    def step(self, index, op):
        if op.kind == "f":
            self.drop(op.id, index)
        elif op.kind == "r" and op.size == 0:
            self.drop(op.id, index)
        elif op.kind == "r" and op.id in self.live:
            born = self.born[op.id]
            self.drop(op.id, index)
            self.lifetimes.pop()  # a realloc continues the block's life
            self.born[op.id] = born
            self.add(op.id, op.size, index)
        else:
            self.add(op.id, block_bytes(op), index)
        self.peak_payload = max(self.peak_payload, self.payload)
        self.peak_ideal = max(self.peak_ideal, self.ideal)
        self.peak_blocks = max(self.peak_blocks, len(self.live))
        self.live_byte_ops += self.payload


def stats(trace):
    """The statistics of one parsed trace, as a dict."""
    kinds = {"a": 0, "c": 0, "r": 0, "f": 0, "free_null": 0}
    histogram = {}
    replay = Replay()
    for index, op in enumerate(trace.ops):
        kinds[op.kind] += 1
        if op.kind == "f" and op.id == -1:
            kinds["free_null"] += 1
        if op.kind != "f":
            bucket = size_bucket(op.bytes)
            histogram[bucket] = histogram.get(bucket, 0) + 1
        replay.step(index, op)
    for oid in list(replay.live):  # blocks never freed live to the end
        replay.drop(oid, len(trace.ops))
    lives = sorted(replay.lifetimes)
    order = sorted(histogram, key=lambda b: int(b.split("-")[-1]))
    return {
        "name": trace.name, "path": trace.path, "weight": trace.weight,
        "ids": trace.ids, "ops": len(trace.ops), "kinds": kinds,
        "peak_live_blocks": replay.peak_blocks,
        "peak_live_bytes": replay.peak_payload,
        "peak_ideal_heap": replay.peak_ideal,
        "live_byte_ops": replay.live_byte_ops,
        "size_histogram": [[b, histogram[b]] for b in order],
        "lifetime": {"blocks": len(lives), "median": _percentile(lives, 0.5),
                     "p90": _percentile(lives, 0.9),
                     "max": lives[-1] if lives else 0},
        "bound": round(utilization_bound(replay.peak_payload,
                                         replay.peak_ideal), 4),
    }


def format_report(s):
    """A human-readable report of one trace's stats()."""
    k, life = s["kinds"], s["lifetime"]
    lines = [
        "%s  (%d ops, %d ids, weight %d)" % (s["name"], s["ops"], s["ids"],
                                             s["weight"]),
        "  ops:        a %d  c %d  r %d  f %d (of which free(NULL) %d)" % (
            k["a"], k["c"], k["r"], k["f"], k["free_null"]),
        "  peak live:  %d blocks, %d payload bytes (ideal heap %d bytes)" % (
            s["peak_live_blocks"], s["peak_live_bytes"], s["peak_ideal_heap"]),
        "  lifetimes:  median %d, p90 %d, max %d ops (%d blocks)" % (
            life["median"], life["p90"], life["max"], life["blocks"]),
        "  -d 2 cost:  %d live payload bytes summed over ops" % (
            s["live_byte_ops"]),
        "  ideal utilization bound: %.4f" % s["bound"],
        "  request sizes (bytes: count):",
    ]
    width = max([len(b) for b, _ in s["size_histogram"]] + [1])
    most = max([n for _, n in s["size_histogram"]] + [1])
    for bucket, count in s["size_histogram"]:
        bar = "#" * max(1, count * 40 // most)
        lines.append("    %*s %7d %s" % (width, bucket, count, bar))
    return "\n".join(lines)


def main(argv):
    ap = argparse.ArgumentParser(description="Statistics of .rep traces.")
    ap.add_argument("files", nargs="+", metavar="FILE")
    group = ap.add_mutually_exclusive_group()
    group.add_argument("--json", action="store_true",
                       help="a JSON list of per-trace objects")
    group.add_argument("--bound", action="store_true",
                       help="only `name bound` lines")
    args = ap.parse_args(argv)
    results, failed = [], False
    for path in args.files:
        try:
            trace = reptrace.parse(path)
        except reptrace.TraceError as e:
            print(e, file=sys.stderr)
            failed = True
            continue
        problems = reptrace.validate(trace)
        if problems:
            print("\n".join(problems), file=sys.stderr)
            failed = True
            continue
        results.append(stats(trace))
    if args.json:
        print(json.dumps(results, indent=1))
    elif args.bound:
        for s in results:
            print("%s %.4f" % (s["name"], s["bound"]))
    else:
        print("\n\n".join(format_report(s) for s in results))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
