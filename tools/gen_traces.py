#!/usr/bin/env python3
"""gen_traces: the seeded generator of the kit's traces, and the spec of
the `.rep` format.

THE FORMAT. A trace is a text file; lines whose first non-blank character
is '#' and blank lines are ignored anywhere. Then come four header lines,
one non-negative decimal number each, and the ops:

    # frag-alt-short.rep: comments and blank lines are allowed anywhere
    3216       <- line 1: suggested heap size (dialect A)
    3          <- line 2: number of ids; ids are 0 .. 2
    7          <- line 3: number of ops that follow, exactly
    1          <- line 4: weight 0 .. 100 (0: replayed, checked, not scored)
    a 0 64     <- id 0 = malloc(64)
    a 1 448    <- id 1 = malloc(448)
    f 0        <- free(id 0): id 0 is dead now and may be reused
    c 2 4 20   <- id 2 = calloc(4, 20)
    r 1 600    <- id 1 = realloc(id 1, 600)
    f 2        <- free(id 2)
    r 1 0      <- realloc(id 1, 0) frees it too

  header  := N "\\n" N "\\n" N "\\n" N "\\n"   (dialect A: heap, ids, ops,
             weight; dialect B: weight, ids, ops, max bytes. It is A when
             line 4 <= 100, else B when line 1 <= 100, else an error)
  op      := "a" ID SIZE | "r" ID SIZE | "c" ID NMEMB SIZE | "f" ID | "f -1"
  ID      := 0 .. ids-1; SIZE, NMEMB := 0 .. 2^30, NMEMB * SIZE <= 2^30
  fields are separated by blanks (spaces or tabs), nothing else on a line.
  `a`/`c` need a dead id; `f ID` a live one (`f -1` is free(NULL));
  `r ID SIZE` on a live id is realloc, on a dead id that was allocated
  before it is realloc(NULL, SIZE); `r ID 0` frees. tools/reptrace.py is
  the parser and validator; docs/CONTRACTS.md section 3 the contract.

MT TRACES. An op may begin with a thread prefix `T: ` (0 .. 63; none:
thread 0): mt_* families write the MT suite into traces/mt/ (see
docs/CONTRACTS.md section 3 for the ordering rules).

WHAT IT WRITES. One function per workload family (family_* below, each
documented by what it stresses), in a full version for the default suite
(at most ~20,000 ops, ~1 MiB live, so `mdriver -d 2` stays quick) and a
short debug version `NAME-short.rep` (tens of ops). Every trace is
generated balanced (everything freed by the end) and validated with
tools/reptrace.py before it is written.

    python3 tools/gen_traces.py                 regenerate traces/ (= make traces)
    python3 tools/gen_traces.py --out DIR       the same into DIR
    python3 tools/gen_traces.py --big DIR       the benchmark set (>= 1M ops each)
    python3 tools/gen_traces.py --list          names and what each stresses

The same --seed gives byte-identical files on any machine: the random
numbers come from a small integer generator here (splitmix64), not from
Python's `random`, whose algorithms may change between versions.
"""
import argparse
import math
import os
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import reptrace  # noqa: E402

DEFAULT_SEED = 15213
TRACE_DIR = os.path.join(os.path.dirname(HERE), "traces")
KIB = 1024
MIB = 1024 * KIB
MASK64 = (1 << 64) - 1


class Rng:
    """splitmix64: integers only, the same sequence everywhere."""

    def __init__(self, seed):
        self.state = seed & MASK64

    def next64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def below(self, n):
        """Uniform in 0 .. n-1 (n >= 1), without modulo bias."""
        limit = (1 << 64) - (1 << 64) % n
        while True:
            x = self.next64()
            if x < limit:
                return x % n

    def between(self, lo, hi):
        """Uniform in lo .. hi, both included."""
        return lo + self.below(hi - lo + 1)

    def chance(self, percent):
        return self.below(100) < percent

    def choice(self, items):
        return items[self.below(len(items))]

    def shuffle(self, items):
        for i in range(len(items) - 1, 0, -1):
            j = self.below(i + 1)
            items[i], items[j] = items[j], items[i]

    def heavy_size(self, smallest_log2, largest_log2):
        """Heavy-tailed size: power-of-two class k with probability halving
        per class above smallest_log2, then uniform inside the class."""
        k = smallest_log2
        while k < largest_log2 and self.below(2) == 0:
            k += 1
        return self.between((1 << (k - 1)) + 1, 1 << k)


class Builder:
    """Records ops, keeps ids valid: picks ids (reusing dead ones, most
    recently freed first), remembers the live blocks and their sizes."""

    def __init__(self):
        self.thread = 0  # the thread of the ops made next (MT traces)
        self.ops = []
        self.live = {}  # id -> size of its live block
        self.live_list = []  # the live ids, to pick one at random in O(1)
        self.where = {}  # id -> its index in live_list
        self.dead_ids = []
        self.next_id = 0

    def _new_id(self):
        if self.dead_ids:
            return self.dead_ids.pop()
        self.next_id += 1
        return self.next_id - 1

    def malloc(self, size):
        oid = self._new_id()
        self.ops.append(reptrace.Op("a", oid, size, thread=self.thread))
        self._remember(oid, size)
        return oid

    def calloc(self, nmemb, size):
        oid = self._new_id()
        self.ops.append(reptrace.Op("c", oid, size, nmemb,
                                    thread=self.thread))
        self._remember(oid, nmemb * size)
        return oid

    def realloc(self, oid, size):
        self.ops.append(reptrace.Op("r", oid, size, thread=self.thread))
        if size == 0:
            self._forget(oid)
        elif oid in self.live:
            self.live[oid] = size
        else:
            self.dead_ids.remove(oid)
            self._remember(oid, size)

    def free(self, oid):
        self.ops.append(reptrace.Op("f", oid, thread=self.thread))
        self._forget(oid)

    def free_null(self):
        self.ops.append(reptrace.Op("f", -1, thread=self.thread))

    def _remember(self, oid, size):
        self.live[oid] = size
        self.where[oid] = len(self.live_list)
        self.live_list.append(oid)

    def _forget(self, oid):
        del self.live[oid]
        index = self.where.pop(oid)
        last = self.live_list.pop()
        if last != oid:
            self.live_list[index] = last
            self.where[last] = index
        self.dead_ids.append(oid)

    def free_all(self, rng=None):
        """Frees every live block: in id order, or shuffled with rng."""
        ids = sorted(self.live)
        if rng is not None:
            rng.shuffle(ids)
        for oid in ids:
            self.free(oid)

    def free_random(self, rng):
        """Frees one live block chosen at random."""
        self.free(self.random_live(rng))

    def random_live(self, rng):
        return self.live_list[rng.below(len(self.live_list))]


# ------------------------------------------------------- workload families
# Each family_NAME(b, rng, short) fills Builder b. `short` asks for the
# debug version. The docstring's first line is what the family stresses.

def family_frag_alt(b, rng, short):
    """Fragmentation by alternating sizes: blocks of two sizes alternate,
    one kind is freed, then slightly larger blocks (one 16-byte unit or
    more) are requested: the holes are too small, so a poor fit policy
    grows the heap, and a first fit over all blocks (the implicit list)
    walks every useless hole."""
    plan = [(3, 16, 64), (3, 96, 448)] if short else \
        [(700, 16, 64), (300, 96, 448), (700, 16, 64), (300, 96, 448)]
    keep = []
    for pairs, low, high in plan:
        small = rng.choice([16, 24, 32, 40, 48, 64])
        large = rng.between(low // 16, high // 16) * 16
        smalls, larges = [], []
        for _ in range(pairs):
            smalls.append(b.malloc(small))
            larges.append(b.malloc(large))
        for oid in smalls:
            b.free(oid)
        bigger = [b.malloc(small + rng.between(16, 32)) for _ in range(pairs)]
        for oid in larges:  # the other kind goes too: its holes coalesce
            b.free(oid)
        keep.append(bigger)
        if len(keep) > 1:
            for oid in keep.pop(0):
                b.free(oid)
    b.free_all()


def _free_in_order(b, rng, run, order):
    if order == "forward":
        seq = run
    elif order == "backward":
        seq = run[::-1]
    elif order == "middle-out":
        mid = len(run) // 2
        seq = [run[mid]] + [x for pair in zip(run[mid + 1:], run[:mid][::-1])
                            for x in pair]
        seq += [x for x in run if x not in seq]
    elif order == "alternate":
        seq = run[::2] + run[1::2]
    else:
        seq = list(run)
        rng.shuffle(seq)
    for oid in seq:
        b.free(oid)


def family_coalesce(b, rng, short):
    """Coalescing: runs of neighbouring blocks freed in every order
    (forward, backward, middle-out, alternate, random), then one request
    as large as the whole run, which fits in place only if every free
    merged with both neighbours; fences keep runs apart."""
    orders = ["forward", "backward", "middle-out", "alternate", "random"]
    rounds = 5 if short else 700
    fences = []
    for r in range(rounds):
        k = rng.between(2, 4 if short else 9)
        run = [b.malloc(rng.between(1, 20) * 16 - 8) for _ in range(k)]
        fences.append(b.malloc(rng.between(8, 64)))
        total = sum(b.live[x] + 8 for x in run)
        _free_in_order(b, rng, run, orders[r % len(orders)])
        merged = b.malloc(total - 8)
        if len(fences) > 30:
            b.free(fences.pop(rng.below(len(fences))))
        b.free(merged)
    b.free_all()


def _churn(b, rng, nops, target_live, size_fn):
    """Random mallocs and frees around target_live live blocks."""
    while len(b.ops) < nops:
        live = len(b.live)
        grow = live == 0 or rng.below(2 * target_live) >= live
        if grow:
            b.malloc(size_fn())
        else:
            b.free_random(rng)


def family_random_uniform(b, rng, short):
    """Random sizes, uniform in 1 .. 1000 bytes, random lifetimes around a
    steady live set: the average case of placement and splitting, plus a
    few malloc(0) and free(NULL)."""
    nops, live = (60, 8) if short else (12000, 80)
    _churn(b, rng, nops // 2, live, lambda: rng.between(1, 1000))
    b.malloc(0)
    b.free_null()
    _churn(b, rng, nops, live, lambda: rng.between(1, 1000))
    b.free_all(rng)


def family_random_heavy(b, rng, short):
    """Random heavy-tailed sizes: mostly 9 .. 64 bytes, each larger power
    of two half as likely, up to 16 KiB: a few big blocks among many small
    ones, the mix that separates segregated lists from one list."""
    nops, live = (60, 10) if short else (10000, 350)
    _churn(b, rng, nops, live, lambda: rng.heavy_size(6, 14))
    b.free_all(rng)


def _grow_chains(b, rng, chains, start, step_fn, limit, others):
    """Grows `chains` blocks by realloc until each passes `limit`; between
    reallocs, other blocks are allocated (and some freed) so the blocks
    rarely have free space after them."""
    grown = [b.malloc(start) for _ in range(chains)]
    side = []
    while grown:
        oid = grown[rng.below(len(grown))]
        b.realloc(oid, step_fn(b.live[oid]))
        for _ in range(others):
            side.append(b.malloc(rng.between(16, 128)))
        while len(side) > 40 or (side and rng.chance(30)):
            b.free(side.pop(rng.below(len(side))))
        if b.live[oid] >= limit:
            grown.remove(oid)
            b.free(oid)
    for oid in side[4:]:  # a few side blocks outlive the chains
        b.free(oid)


def family_realloc_small(b, rng, short):
    """Realloc growth in small steps (+1 .. 64 bytes) with other blocks
    allocated between the reallocs: rewards growing in place or into the
    next free block, punishes copying on every step."""
    if short:
        _grow_chains(b, rng, 2, 16, lambda s: s + rng.between(1, 64), 300, 1)
    else:
        for _ in range(5):
            _grow_chains(b, rng, 6, rng.between(1, 64),
                         lambda s: s + rng.between(1, 64), 4000, 1)
    b.free_all()


def family_realloc_large(b, rng, short):
    """Realloc growth in large steps (x1.5 .. x2) up to 64 KiB with other
    blocks interleaved, and some shrinking: the old blocks must be reused
    once freed, or the heap is a trail of abandoned copies."""
    chains, limit = (2, 4 * KIB) if short else (3, 64 * KIB)
    for _ in range(1 if short else 50):
        _grow_chains(b, rng, chains, rng.between(16, 256),
                     lambda s: s * rng.between(15, 20) // 10, limit, 2)
        oid = b.malloc(limit // 2)
        b.realloc(oid, limit // 8)  # a shrink
        b.realloc(oid, 0)  # realloc to 0 frees
    b.free_all()


def family_phases(b, rng, short):
    """Program-like phases: long-lived large objects (1 .. 8 KiB) made
    and dropped slowly, between bursts of many short-lived small objects
    (8 .. 128 bytes) that die together: short lives must not be trapped
    between long ones."""
    phases = 3 if short else 120
    longs = []
    for _ in range(phases):
        longs.append(b.malloc(rng.between(1, 8) * KIB - rng.below(64)))
        if len(longs) > 8:
            b.free(longs.pop(rng.below(len(longs))))
        burst = [b.malloc(rng.between(8, 128))
                 for _ in range(4 if short else rng.between(30, 90))]
        rng.shuffle(burst)
        survivors = burst[:len(burst) // 10]
        for oid in burst[len(burst) // 10:]:
            b.free(oid)
        for oid in survivors:  # the rest lives a little longer
            b.realloc(oid, b.live[oid] + rng.between(1, 32))
            b.free(oid)
    b.free_all()


def family_calloc(b, rng, short):
    """Calloc-heavy: most blocks come from calloc (arrays of 1 .. 512
    elements of 1 .. 64 bytes, sometimes 0 elements), so zeroing cost
    and nmemb * size handling matter."""
    nops, live = (40, 6) if short else (9000, 40)
    def array():
        return rng.choice([0, 1, 2, 3, 8, 16, 64, 100, 256, 512])
    while len(b.ops) < nops:
        if len(b.live) == 0 or rng.below(2 * live) >= len(b.live):
            if rng.chance(85):
                b.calloc(array(), rng.choice([1, 2, 4, 8, 12, 16, 24, 64]))
            else:
                b.malloc(rng.between(1, 2000))
        else:
            b.free_random(rng)
    b.free_all(rng)


def family_tiny(b, rng, short):
    """Many tiny blocks (1 .. 48 bytes), thousands live at once: the
    per-block overhead and the least block size decide utilization, and
    a search through every block is slow."""
    nops, live = (80, 12) if short else (13000, 1600)
    for _ in range(live):  # fill first, then churn, then drain
        b.malloc(rng.between(1, 48))
    _churn(b, rng, nops - live, live, lambda: rng.between(1, 48))
    b.free_all(rng)


def family_giant(b, rng, short):
    """A few giant blocks (1 .. 4 MiB, 32 KiB .. 160 KiB in the short
    version): extending the heap, reusing and coalescing huge free blocks,
    realloc of a giant block next to the end of the heap."""
    unit = 32 * KIB if short else MIB
    blocks = [b.malloc(rng.between(1, 4) * unit) for _ in range(3)]
    b.free(blocks[1])
    blocks[1] = b.malloc(unit // 2)  # fits in the hole
    b.realloc(blocks[2], b.live[blocks[2]] + unit)  # the last block grows
    b.free(blocks[0])
    b.free(blocks[1])
    big = b.malloc(2 * unit)  # fits only if the two holes coalesced
    b.free(blocks[2])
    b.realloc(big, 5 * unit)
    b.free(big)
    b.calloc(unit // 64, 64)
    b.free_all()


def family_sawtooth(b, rng, short):
    """Ramps: build up hundreds of blocks of one size range, free them all
    (in allocation order, reversed or at random), then ramp again with
    other sizes: the freed region must coalesce and be reused by the next
    ramp, or the heap grows by a whole ramp each time."""
    ramps, height = (3, 5) if short else (10, 500)
    for r in range(ramps):
        low = rng.choice([8, 16, 40, 100, 200])
        ramp = [b.malloc(rng.between(low, 2 * low)) for _ in range(height)]
        order = r % 3
        if order == 1:
            ramp.reverse()
        elif order == 2:
            rng.shuffle(ramp)
        for oid in ramp:
            b.free(oid)
    b.free_all()


def family_stack(b, rng, short):
    """Stack discipline, as in recursive code: blocks are freed in the
    reverse order of their allocation, the depth going up and down at
    random: the last block freed borders the top of the heap or the
    previous free, so immediate coalescing keeps the heap tiny."""
    nops = 40 if short else 12000
    stack = []
    while len(b.ops) < nops:
        if not stack or (len(stack) < 400 and rng.chance(55)):
            stack.append(b.malloc(rng.heavy_size(4, 11)))
        else:
            b.free(stack.pop())
    while stack:
        b.free(stack.pop())


def family_pow2(b, rng, short):
    """Power-of-two sizes (8 .. 4096 bytes), as programs round buffers,
    with random lifetimes: with an 8-byte header a 2^k request needs a
    2^k + 8 byte block, so size classes cut at powers of two waste the
    most here, and exact fits matter."""
    nops, live = (50, 8) if short else (10000, 80)
    _churn(b, rng, nops, live, lambda: 1 << rng.between(3, 12))
    b.free_all(rng)


def family_holes_first(b, rng, short):
    """Useless holes in front: medium blocks (40 .. 120 bytes) are freed,
    then many tiny blocks between live fences, then the medium sizes are
    asked for again: one LIFO free list walks past every tiny hole on
    each request (it is slow, not wasteful); size classes skip them."""
    mediums, tinies = (4, 8) if short else (900, 2400)
    fences = []
    medium = []
    for _ in range(mediums):
        medium.append(b.malloc(rng.between(40, 120)))
        fences.append(b.malloc(rng.between(1, 8)))
    tiny = []
    for _ in range(tinies):
        tiny.append(b.malloc(rng.between(1, 24)))
        fences.append(b.malloc(rng.between(1, 8)))
    sizes = [b.live[oid] for oid in medium]
    for oid in medium:
        b.free(oid)
    for oid in tiny:
        b.free(oid)
    rng.shuffle(sizes)
    again = [b.malloc(size) for size in sizes]
    for oid in again + fences:
        b.free(oid)


def _in_units(rng, low, high, unit):
    """Uniform in low .. high, rounded down to a multiple of unit (at
    least one unit)."""
    return max(unit, rng.between(low, high) // unit * unit)


def _steps_within(budget, per_square, most):
    """The largest n <= most with per_square * n * n <= budget: how many
    steps keep a trace whose live bytes grow linearly with its steps
    within `budget` bytes of `mdriver -d 2` re-verification (the size
    budget of docs/traces.md)."""
    return max(1, min(most, math.isqrt(budget // per_square)))


def family_growing_block(b, rng, short):
    """One growing block among small churn, as in CS:APP's realloc-bal
    and realloc2-bal: a block starts at 256 .. 1024 bytes and grows by
    realloc in constant steps of 16 .. 256 bytes; at each step a small
    block (16 .. 256 bytes, on some seeds up to a quarter more) is
    allocated and the one of the step before (or two steps before) is
    freed. Sizes are drawn per seed, in units of 1, 8, 16 or 64 bytes;
    the steps (up to 4,000) keep the trace in the -d 2 budget. The bound
    (above 99.9%) is reached only if the growing block ends up where it
    can grow in place, with the small blocks kept out of its way; else
    every step copies it and leaves a hole the next copy does not fit."""
    unit = rng.choice([1, 8, 16, 64])
    size = _in_units(rng, 256, 1024, unit)
    step = _in_units(rng, 16, 256, unit)
    small = _in_units(rng, 16, 256, unit)
    jitter = rng.choice([0, 0, small // 4])  # the small sizes vary this much
    lag = rng.choice([1, 1, 2])  # a small block lives this many steps
    # -d 2 re-verifies about 1.5 * step * steps^2 bytes: at most 4e8
    steps = 12 if short else _steps_within(8 * 10 ** 8, 3 * step, 4000)
    grower = b.malloc(size)
    smalls = [b.malloc(small + rng.below(jitter + 1))]
    for _ in range(steps):
        size += step
        b.realloc(grower, size)
        smalls.append(b.malloc(small + rng.below(jitter + 1)))
        if len(smalls) > lag:
            b.free(smalls.pop(0))
    b.free_all()


def family_binary(b, rng, short):
    """Small and large blocks alternately, then larger ones, as in CS:APP's
    binary-bal and binary2-bal: N pairs of a small block (8 .. 128 bytes)
    and a large one (4 .. 8 times the small), every large block freed
    (in order, reversed or at random), then N blocks a little larger than
    the freed ones (by 16 bytes .. the small size), then everything
    freed. Sizes are drawn per seed, in units of 1, 8 or 16 bytes; N (up
    to 2,000) keeps the trace in the -d 2 budget. The freed large blocks
    sit between live small ones and never merge: the bound is reached
    only if the small blocks were kept apart from the large ones, so that
    the freed large blocks merge into room for the larger ones."""
    unit = rng.choice([1, 8, 16])
    small = _in_units(rng, 8, 128, unit)
    large = _in_units(rng, 4 * small, 8 * small, unit)
    larger = large + _in_units(rng, 16, max(16, small), unit)
    # -d 2 re-verifies about pairs^2 * (4 small + 3 large + 2 delta)
    # bytes: at most 4e8
    pairs = 4 if short else _steps_within(
        4 * 10 ** 8, 4 * small + 3 * large + 2 * (larger - large), 2000)
    larges = []
    for _ in range(pairs):
        b.malloc(small)
        larges.append(b.malloc(large))
    _free_in_order(b, rng, larges, rng.choice(["forward", "backward",
                                                "random"]))
    for _ in range(pairs):
        b.malloc(larger)
    b.free_all()


# ------------------------------------------- multi-threaded families
# MT traces (traces/mt/): b.thread is the thread of the next ops; an op on
# an id waits for the previous op on it, whichever thread made it.

def mt_producer_consumer(b, rng, short):
    """Producer/consumer: thread 0 allocates (16 .. 1024 bytes), thread
    1 frees, oldest first, a queue of up to 64 blocks: every free is a
    remote free, and the producer's arena never gets its blocks back
    locally."""
    queue, nops = [], 40 if short else 16000
    while len(b.ops) < nops:
        b.thread = 0
        if len(queue) < 64 and (len(queue) < 8 or rng.chance(55)):
            queue.append(b.malloc(rng.between(16, 1024)))
        else:
            b.thread = 1
            b.free(queue.pop(0))
    b.thread = 1
    for oid in queue:
        b.free(oid)


def mt_larson(b, rng, short):
    """Larson-like server: 4 threads each allocate 16 .. 512 bytes and
    hand their blocks to each other at random: a free or realloc is done by
    a random thread, most often not the one that allocated the block."""
    nops, threads = 40 if short else 16000, 4
    while len(b.ops) < nops:
        b.thread = rng.below(threads)
        if len(b.live) < 200 and (len(b.live) < 20 or rng.chance(52)):
            b.malloc(rng.between(16, 512))
        elif rng.chance(15):
            b.realloc(b.random_live(rng), rng.between(16, 768))
        else:
            b.free_random(rng)
    b.thread = 0
    b.free_all(rng)


def mt_churn_pool(b, rng, short):
    """Per-thread churn over a shared long-lived pool: thread 0 allocates
    a pool (64 .. 4096 bytes per block) that lives to the end; threads 1 ..
    3 each churn blocks of their own (16 .. 256 bytes) around it; thread 0
    frees the pool last."""
    pool_n, nops = (6, 40) if short else (400, 16000)
    for _ in range(pool_n):
        b.malloc(rng.between(64, 4096))
    pool = set(b.live)
    mine = {1: [], 2: [], 3: []}
    while len(b.ops) < nops:
        b.thread = 1 + rng.below(3)
        own = mine[b.thread]
        if len(own) < 60 and (len(own) < 5 or rng.chance(50)):
            own.append(b.malloc(rng.between(16, 256)))
        else:
            b.free(own.pop(rng.below(len(own))))
    for t, own in mine.items():
        b.thread = t
        for oid in own:
            b.free(oid)
    b.thread = 0
    for oid in sorted(pool):
        b.free(oid)


MT_FAMILIES = [
    ("mt-producer-consumer", mt_producer_consumer, 1),
    ("mt-larson", mt_larson, 1),
    ("mt-churn-pool", mt_churn_pool, 1),
]
MT_DIR = "mt"  # the MT suite: traces/mt/, its own suite.txt


# -------------------------------------------------------------- the set

FAMILIES = [
    ("frag-alt", family_frag_alt, 1),
    ("coalesce", family_coalesce, 1),
    ("random-uniform", family_random_uniform, 1),
    ("random-heavy", family_random_heavy, 1),
    ("realloc-small", family_realloc_small, 1),
    ("realloc-large", family_realloc_large, 1),
    ("phases", family_phases, 1),
    ("calloc", family_calloc, 1),
    ("tiny", family_tiny, 1),
    ("giant", family_giant, 1),
    ("sawtooth", family_sawtooth, 1),
    ("stack", family_stack, 1),
    ("pow2", family_pow2, 1),
    ("holes-first", family_holes_first, 1),
    ("growing-block", family_growing_block, 1),
    ("binary", family_binary, 1),
]


def seed_for(seed, name):
    """A family's own seed: adding a family does not change the others."""
    return (seed << 32) ^ zlib.crc32(name.encode())


def make_trace(name, family, weight, seed, short):
    """Runs one family; returns a validated reptrace.Trace."""
    b = Builder()
    family(b, Rng(seed_for(seed, name + ("-short" if short else ""))), short)
    fname = name + ("-short" if short else "") + ".rep"
    doc = " ".join(family.__doc__.split())
    comments = ["%s: generated by tools/gen_traces.py --seed %d "
                "(do not edit; `make traces` rewrites it)" % (fname, seed),
                "family %s%s." % (family.__name__,
                                  ", short debug version" if short else "")]
    comments += _wrap(doc, 74)
    comments.append("Header: suggested heap size, ids, ops, weight.")
    trace = reptrace.renumbered(reptrace.Trace(0, weight, None, b.ops,
                                               path=fname, comments=comments))
    problems = reptrace.validate(trace, balanced=True)
    if problems:
        raise SystemExit("gen_traces: BUG: invalid trace:\n" + "\n".join(
            problems[:10]))
    return trace


def _wrap(text, width):
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = (line + " " + word).strip()
    return lines + ([line] if line else [])


def generate(outdir, seed, only=None):
    """Writes every generated trace (full and short) into outdir; returns
    the names written."""
    names = []
    os.makedirs(os.path.join(outdir, MT_DIR), exist_ok=True)
    sets = [(FAMILIES, ""), (MT_FAMILIES, MT_DIR + "/")]
    for families, sub in sets:
        for name, family, weight in families:
            for short in (False, True):
                fname = sub + name + ("-short" if short else "") + ".rep"
                if only and fname not in only and name not in only:
                    continue
                trace = make_trace(name, family, weight, seed, short)
                reptrace.write(trace, os.path.join(outdir, fname))
                names.append(fname)
    return names


# ------------------------------------------------------ the benchmark set

def big_10k_live(b, rng):
    """>= 1 million ops around 10,000 live blocks of 17 .. 4096 bytes
    (heavy-tailed): the cost per op of an allocator, and of mdriver's
    checker, at a steady, large live set."""
    for _ in range(10000):
        b.malloc(rng.heavy_size(5, 12))
    _churn(b, rng, 1000000, 10000, lambda: rng.heavy_size(5, 12))
    b.free_all(rng)


def big_1m_live(b, rng):
    """About 1 million live blocks at the peak (1 .. 32 bytes, so the heap
    stays near 32 MiB, inside the 100 MiB limit): 1,000,000 mallocs with
    a few frees and reallocs among them, then everything freed at random."""
    while len(b.live) < 1000000:
        b.malloc(rng.between(1, 32))
        if rng.chance(5):
            b.free_random(rng)
        elif rng.chance(2):
            oid = b.random_live(rng)
            b.realloc(oid, rng.between(1, 32))
    b.free_all(rng)


BIG = [("big-10k-live", big_10k_live), ("big-1m-live", big_1m_live)]


def generate_big(outdir, seed):
    """Writes the benchmark set into outdir; returns the names written."""
    os.makedirs(outdir, exist_ok=True)
    names = []
    for name, family in BIG:
        b = Builder()
        family(b, Rng(seed_for(seed, name)))
        fname = name + ".rep"
        comments = ["%s: generated by tools/gen_traces.py --big DIR --seed %d"
                    % (fname, seed)] + _wrap(" ".join(family.__doc__.split()),
                                             74)
        trace = reptrace.renumbered(reptrace.Trace(0, 1, None, b.ops,
                                                   path=fname,
                                                   comments=comments))
        problems = reptrace.validate(trace, balanced=True)
        if problems:
            raise SystemExit("gen_traces: BUG: invalid trace:\n" +
                             "\n".join(problems[:10]))
        reptrace.write(trace, os.path.join(outdir, fname))
        names.append(fname)
    return names


def print_list():
    """Every family and what it stresses (its docstring)."""
    entries = [(name, family) for name, family, _ in FAMILIES + MT_FAMILIES]
    entries += [(name + " (--big)", family) for name, family in BIG]
    for name, family in entries:
        print(name)
        for line in _wrap(" ".join(family.__doc__.split()), 72):
            print("    " + line)


def main(argv):
    ap = argparse.ArgumentParser(
        description="Regenerates the kit's generated traces from a seed.")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED,
                    help="the seed (default %(default)s, the committed set)")
    ap.add_argument("--out", default=TRACE_DIR,
                    help="where to write (default: the kit's traces/)")
    ap.add_argument("--big", metavar="OUTDIR",
                    help="write the benchmark set (not committed) into OUTDIR")
    ap.add_argument("--only", nargs="+", metavar="NAME",
                    help="only these traces (file or family names)")
    ap.add_argument("--list", action="store_true",
                    help="list the families and what each stresses")
    args = ap.parse_args(argv)
    if args.seed < 0:
        ap.error("--seed must be a non-negative integer")
    if args.list:
        print_list()
        return 0
    if args.big:
        names = generate_big(args.big, args.seed)
        outdir = args.big
    else:
        names = generate(args.out, args.seed, args.only)
        outdir = args.out
        if args.only and not names:
            ap.error("no trace is named %s (see --list)" % " ".join(args.only))
    print("gen_traces: wrote %d traces into %s (seed %d)" % (
        len(names), outdir, args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
