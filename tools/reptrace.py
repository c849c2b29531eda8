#!/usr/bin/env python3
"""reptrace: the one parser, validator and writer of `.rep` traces.

Every Python tool of the kit reads and writes traces through this module
(docs/CONTRACTS.md sections 3 and 5); the grammar is the one mdriver reads.

    import reptrace
    trace = reptrace.parse("traces/short1-bal.rep")   # raises TraceError
    problems = reptrace.validate(trace, balanced=True) # [] when valid
    reptrace.write(trace, "copy.rep")                  # header recomputed

Two steps, one verdict:
  parse()     the syntax: a four-line header (dialect A: heap size, ids,
              ops, weight 0..100; dialect B, the CMU kit's: weight class
              0..3, ids, ops, max bytes; a header that reads both ways is
              an error), then exactly header-line-3 ops, each `a ID SIZE`,
              `r ID SIZE`, `c ID NMEMB SIZE` or `f ID`, ids inside
              0 .. ids-1 (`f -1` is free(NULL)), sizes 0 .. 2^62,
              NMEMB * SIZE <= 2^62. An op may begin with a thread prefix
              `T: ` (T in 0 .. 63; none: thread 0), a multi-threaded trace
              (CONTRACTS.md section 3: an op waits for the previous op of
              its thread and the previous op on its id, both earlier in the
              file, so the file's order is a schedule and no MT trace can
              deadlock).
  validate()  the meaning: ids allocated before use (`a`/`c` need a dead id,
              `f` a live one, `r` an id allocated at least once), header
              counts right, and, when asked, balanced (nothing live at end).
A file is a valid trace when parse() succeeds and validate() returns [].
Error messages read `path:line: what was expected`.

Command line:
    python3 tools/reptrace.py check [--balanced] FILE...
prints one `file:line: message` per problem and exits 1 if there was any
(0 when every file is valid). Files named `*-bal.rep` must be balanced;
--balanced requires it of every file.
"""
import collections
import io
import os
import re
import sys

MAX_SIZE = 1 << 62  # largest request a trace may make (64-bit sizes)
DENSE_MAX_SIZE = 1 << 30  # above this mdriver replays over a sparse heap
MAX_WEIGHT = 100  # dialect A: header line 4 above this is not a weight
MAX_WEIGHT_B = 3  # dialect B (CMU): line 1 is a weight class 0..3
# Dialect B's weight classes: (util weight, throughput weight).
CLASSES_B = {0: (0, 0), 1: (1, 1), 2: (1, 0), 3: (0, 1)}
# Largest header numbers mdriver accepts (malloc/driver.h, driver_trace.c).
HEADER_LIMITS = (1 << 62, 1 << 26, 1 << 30, 1 << 62)
MAX_THREAD = 63  # highest thread prefix (mdriver: STATUS_SLOTS - 1)
KINDS = ("a", "r", "c", "f")
HEADER_NAMES = ("line 1", "line 2 (number of ids)", "line 3 (number of ops)",
                "line 4")
OP_SYNTAX = "expected 'a ID SIZE', 'r ID SIZE', 'c ID NMEMB SIZE' or 'f ID'"
_DECIMAL = re.compile(r"[0-9]+\Z")
_SIGNED = re.compile(r"-?[0-9]+\Z")
_BLANKS = re.compile(r"[ \t]+")
_CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f]")


class TraceError(Exception):
    """A malformed trace; str(e) is `path:line: message`."""

    def __init__(self, path, line, message):
        super().__init__("%s:%d: %s" % (path, line, message))
        self.path, self.line, self.message = path, line, message


class Op(collections.namedtuple("Op", "kind id size nmemb line thread")):
    """One operation. kind is a, r, c or f; id is -1 only for `f -1`.

    size is the request (the element size for `c`, 0 for `f`); nmemb is the
    element count of `c` and 1 otherwise; line is the line in the source
    file (0 for an op made in memory); thread is its `T: ` prefix (0 when
    there is none).
    """
    __slots__ = ()

    def __new__(cls, kind, id, size=0, nmemb=1, line=0, thread=0):
        return super().__new__(cls, kind, id, size, nmemb, line, thread)

    @property
    def bytes(self):
        """Bytes requested: size, or nmemb * size for calloc."""
        return self.size * self.nmemb

    def text(self):
        """The op as it is written in a .rep file."""
        prefix = "%d: " % self.thread if self.thread else ""
        if self.kind == "f":
            return prefix + "f %d" % self.id
        if self.kind == "c":
            return prefix + "c %d %d %d" % (self.id, self.nmemb, self.size)
        return prefix + "%s %d %d" % (self.kind, self.id, self.size)


class Trace:
    """A parsed trace.

    ids     number of ids (ids are 0 .. ids-1), header line 2
    weight  0 .. 100; 0 means replayed and checked but not scored
    header  the four header numbers as read (dialect A or B), or None
    ops     list of Op
    path    where it came from (used in messages)
    comments  comment lines (without the leading '# ') written by write()
    """

    def __init__(self, ids, weight, header, ops, path="<trace>",
                 comments=None):
        self.ids, self.weight, self.header, self.ops = ids, weight, header, ops
        self.path = path
        self.comments = list(comments or [])

    @property
    def name(self):
        return os.path.basename(self.path)

    def __repr__(self):
        return "Trace(%r, ids=%d, weight=%d, %d ops)" % (
            self.path, self.ids, self.weight, len(self.ops))


# ---------------------------------------------------------------- parsing

def _lines(path, data):
    """Yields (line number, text) of the meaningful lines of a file.
    A CRLF ending is accepted; any other control byte (but tab) is an
    error, in comments too, as in mdriver."""
    raws = data.split(b"\n")
    if raws and raws[-1] == b"":
        raws.pop()
    for number, raw in enumerate(raws, 1):
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        junk = _CONTROL.search(raw)
        if junk:
            raise TraceError(path, number, "expected a line of text, found "
                             "the control byte 0x%02x (is this a binary "
                             "file?)" % junk.group()[0])
        stripped = raw.decode("utf-8", errors="replace").strip(" \t")
        if stripped == "" or stripped.startswith("#"):
            continue
        yield number, stripped


def _last_line(data):
    return max(1, data.count(b"\n") + (0 if data.endswith(b"\n") else 1))


def _shown(text):
    """A line quoted in a message: printable and not too long."""
    text = "".join(ch if ch.isprintable() and ch < "\x7f" else "?"
                   for ch in text)
    return repr(text if len(text) <= 40 else text[:40] + "...")


def _header(path, lines, data):
    """Reads the four header numbers; returns (ids, weight, header)."""
    header = []
    for index in range(4):
        item = next(lines, None)
        if item is None:
            raise TraceError(path, _last_line(data),
                             "truncated header: expected 4 numbers (heap size "
                             "or weight, ids, ops, weight or max bytes), "
                             "found %d" % index)
        number, text = item
        if not _DECIMAL.match(text):
            raise TraceError(path, number,
                             "header %s: expected a non-negative decimal "
                             "number alone on its line, found %s" % (
                                 HEADER_NAMES[index], _shown(text)))
        if int(text) > HEADER_LIMITS[index]:
            raise TraceError(path, number, "header %s: %s is absurd (at "
                             "most %d)" % (HEADER_NAMES[index], text,
                                           HEADER_LIMITS[index]))
        header.append((number, int(text)))
    return _dialect(path, header)


def _dialect(path, header):
    """(ids, weight, header) by what the numbers mean: see dialect()."""
    (_, first), (_, ids), (_, nops), (line, fourth) = header
    a, b = fourth <= MAX_WEIGHT, first <= MAX_WEIGHT_B
    if a and b:
        raise TraceError(path, line, "ambiguous header: line 1 (%d) reads "
                         "as a CMU weight class (dialect B) and line 4 (%d) "
                         "as a weight (dialect A); for a CMU trace set line 4"
                         " (max bytes, not used) above %d, for dialect A set "
                         "line 1 (suggested heap size, not used) above %d" % (
                             first, fourth, MAX_WEIGHT, MAX_WEIGHT_B))
    if not a and not b:
        raise TraceError(path, line, "header: no weight: line 4 (dialect A) "
                         "must be <= %d or line 1 (dialect B, CMU) <= %d, "
                         "found %d and %d" % (MAX_WEIGHT, MAX_WEIGHT_B,
                                              fourth, first))
    return ids, fourth if a else first, tuple(value for _, value in header)


def dialect(header):
    """'A' or 'B' for four header numbers already accepted by parse().
    A: (suggested heap size, ids, ops, weight), the weight a multiplier
    0..100 of both util and throughput. B, the CMU kit's: (weight class,
    ids, ops, max bytes), class 0 ignored, 1 util and throughput, 2 util
    only, 3 throughput only (see weights())."""
    return "A" if header is None or header[3] <= MAX_WEIGHT else "B"


def weights(trace):
    """(util weight, throughput weight) of a trace, as mdriver scores it."""
    if dialect(trace.header) == "A":
        return trace.weight, trace.weight
    return CLASSES_B[trace.weight]


def _number(path, line, text, what, low, high):
    """A decimal in low .. high; low may be -1 (then only "-1" itself)."""
    if low < 0 and text == "-1":
        return -1
    if _SIGNED.match(text) and text.startswith("-"):
        raise TraceError(path, line, "%s: expected a non-negative decimal, "
                         "found the negative number %s" % (what, text))
    if not _DECIMAL.match(text):
        raise TraceError(path, line, "%s: expected a decimal number, found %s"
                         % (what, _shown(text)))
    value = int(text)
    if value > high:
        raise TraceError(path, line, "%s %s out of range (expected %d .. %d)"
                         % (what, text, max(low, 0), high))
    return value


def _thread(path, number, fields):
    """The thread prefix `T:` of an op's fields (taken off them), or 0."""
    first = fields[0]
    if ":" not in first:
        return 0
    if len(first) < 2 or not _DECIMAL.match(first[:-1]) or first[-1] != ":":
        raise TraceError(path, number, "expected a thread prefix 'T: ' (a "
                         "decimal and a colon, then a blank, then the op), "
                         "found %s" % _shown(first))
    thread = _number(path, number, first[:-1], "thread", 0, MAX_THREAD)
    if len(fields) == 1:
        raise TraceError(path, number, "expected an op after the thread "
                         "prefix %s" % first)
    del fields[0]
    return thread


def _op(path, number, text, ids):
    """Parses one op line against a trace of `ids` ids."""
    fields = _BLANKS.split(text)
    thread = _thread(path, number, fields)
    kind = fields[0]
    arity = {"a": 3, "r": 3, "c": 4, "f": 2}.get(kind)
    if arity is None or len(fields) != arity:
        raise TraceError(path, number, "bad op %s: %s" % (_shown(text),
                                                          OP_SYNTAX))
    if ids == 0:
        raise TraceError(path, number, "expected no ops: the header "
                         "declares 0 ids")
    low = -1 if kind == "f" else 0
    oid = _number(path, number, fields[1], "id", low, ids - 1)
    if kind == "f":
        return Op("f", oid, 0, 1, number, thread)
    size = _number(path, number, fields[-1], "size", 0, MAX_SIZE)
    if kind != "c":
        return Op(kind, oid, size, 1, number, thread)
    nmemb = _number(path, number, fields[2], "nmemb", 0, MAX_SIZE)
    if nmemb * size > MAX_SIZE:
        raise TraceError(path, number, "calloc of %d * %d bytes is absurd "
                         "(at most %d)" % (nmemb, size, MAX_SIZE))
    return Op("c", oid, size, nmemb, number, thread)


def parse_bytes(data, path="<trace>"):
    """Parses the bytes of a .rep file; see parse()."""
    lines = _lines(path, data)
    ids, weight, header = _header(path, lines, data)
    nops = header[2]
    ops = []
    try:
        for number, text in lines:
            if len(ops) == nops:
                raise TraceError(path, number, "op count mismatch: the header"
                                 " (line 3) declares %d ops, found more" % nops)
            ops.append(_op(path, number, text, ids))
        if len(ops) != nops:
            raise TraceError(path, _last_line(data), "op count mismatch: the "
                             "header (line 3) declares %d ops, found %d "
                             "(truncated?)" % (nops, len(ops)))
    except TraceError as e:
        e.partial = Trace(ids, weight, None, ops, path=path)  # see check_file
        raise
    return Trace(ids, weight, header, ops, path=path)


def parse_text(text, path="<trace>"):
    """Parses a .rep file given as a string; see parse()."""
    return parse_bytes(text.encode("utf-8"), path)


def parse(path):
    """Reads and parses a .rep file. Raises TraceError on a syntax error
    (including an unreadable file); validate() then checks its meaning."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise TraceError(path, 0, "cannot read: %s" % e.strerror) from None
    return parse_bytes(data, path)


# ------------------------------------------------------------- validating

def op_line(trace, index):
    """The line of op `index`: its source line, or where write() puts it."""
    line = trace.ops[index].line
    return line if line else len(trace.comments) + 4 + index + 1


def _check_op(op, live, seen):
    """The problem with op given the live and ever-allocated ids, or None.
    Updates live and seen."""
    if op.kind in ("a", "c"):
        if op.id in live:
            return "%s %d: id %d is already live (free it first)" % (
                op.kind, op.id, op.id)
        live.add(op.id)
        seen.add(op.id)
    elif op.kind == "f":
        if op.id == -1:
            return None
        if op.id not in live:
            what = "already freed" if op.id in seen else "never allocated"
            return "f %d: free of dead id %d (%s)" % (op.id, op.id, what)
        live.discard(op.id)
    else:  # r: realloc of a live id, or realloc(NULL, size) of a dead one
        if op.id not in seen:
            return "r %d: realloc of never-allocated id %d" % (op.id, op.id)
        if op.size == 0:
            live.discard(op.id)
        else:
            live.add(op.id)
    return None


def _check_header(trace):
    problems = []
    if trace.header is not None and trace.header[2] != len(trace.ops):
        problems.append("op count mismatch: header says %d ops, the trace "
                        "has %d" % (trace.header[2], len(trace.ops)))
    if not 0 <= trace.weight <= MAX_WEIGHT:
        problems.append("weight %d out of range (0 .. %d)" % (trace.weight,
                                                              MAX_WEIGHT))
    return problems


def validate(trace, balanced=False):
    """Checks a trace's meaning; returns a list of `path:line: message`
    (empty when valid). With balanced=True, every block must be freed by
    the end of the trace."""
    problems = ["%s:%d: %s" % (trace.path, 1, p) for p in _check_header(trace)]
    live, seen = set(), set()
    for index, op in enumerate(trace.ops):
        line = op_line(trace, index)
        if op.kind not in KINDS or not (-1 <= op.id < trace.ids):
            problems.append("%s:%d: bad op %r (ids are 0 .. %d)" % (
                trace.path, line, op, trace.ids - 1))
            continue
        if op.id == -1 and op.kind != "f":
            problems.append("%s:%d: id -1 is only for 'f -1'" % (trace.path,
                                                                 line))
            continue
        problem = _check_op(op, live, seen)
        if problem:
            problems.append("%s:%d: %s" % (trace.path, line, problem))
    if balanced and live:
        last = op_line(trace, len(trace.ops) - 1) if trace.ops else 1
        shown = " ".join(str(i) for i in sorted(live)[:8])
        problems.append("%s:%d: not balanced: %d block(s) still live at the "
                        "end (ids %s%s)" % (trace.path, last, len(live), shown,
                                            " ..." if len(live) > 8 else ""))
    return problems


def check_file(path, balanced=None):
    """All problems of one file, as `path:line: message` strings. balanced
    None means: required when the name ends with -bal.rep."""
    if balanced is None:
        balanced = path.endswith("-bal.rep")
    try:
        trace = parse(path)
    except TraceError as e:
        # mdriver reports the first problem in line order, whether syntax
        # or meaning: so do we, from the ops read before the syntax error.
        partial = getattr(e, "partial", None)
        earlier = validate(partial) if partial is not None else []
        return earlier + [str(e)]
    return validate(trace, balanced=balanced)


# ---------------------------------------------------------------- writing

def ideal_block(size):
    """Bytes of the smallest block holding `size` payload bytes with an
    8-byte header and 16-byte alignment (16 at least). The ideal
    utilization bound (tools/tracestats.py) is defined with it."""
    return max(16, (size + 8 + 15) // 16 * 16)


def suggested_heap(trace):
    """Header line 1 of dialect A: peak of the live ideal block bytes, at
    least MAX_WEIGHT_B + 1 so that the header never reads as dialect B."""
    live, total, peak = {}, 0, 0
    for op in trace.ops:
        if op.kind == "f" or (op.kind == "r" and op.size == 0):
            total -= live.pop(op.id, 0)
            continue
        total += ideal_block(op.bytes) - live.pop(op.id, 0)
        live[op.id] = ideal_block(op.bytes)
        peak = max(peak, total)
    return max(peak, MAX_WEIGHT_B + 1)


def write(trace, file):
    """Writes trace (dialect A) to a path or a text file object. The header
    counts are recomputed from the ops: suggested heap size, ids (max id
    + 1), number of ops; then the weight."""
    if isinstance(file, (str, os.PathLike)):
        with open(file, "w", newline="\n") as f:
            return write(trace, f)
    ids = max([op.id for op in trace.ops] + [-1]) + 1
    out = io.StringIO()
    for comment in trace.comments:
        out.write(("# " + comment).rstrip() + "\n")
    out.write("%d\n%d\n%d\n%d\n" % (suggested_heap(trace), ids,
                                    len(trace.ops), trace.weight))
    out.write("".join(op.text() + "\n" for op in trace.ops))
    file.write(out.getvalue())
    return None


def renumbered(trace, ops=None):
    """A copy of trace with `ops` (default: its own) in memory, header and
    line numbers cleared so validate() and write() compute them."""
    ops = trace.ops if ops is None else ops
    fresh = [op._replace(line=0) for op in ops]
    ids = max([op.id for op in fresh] + [-1]) + 1
    return Trace(ids, trace.weight, None, fresh, path=trace.path,
                 comments=trace.comments)


# ----------------------------------------------------------- command line

def main(argv):
    usage = "usage: reptrace.py check [--balanced] FILE..."
    if len(argv) < 1 or argv[0] != "check":
        print(usage, file=sys.stderr)
        return 2
    args = argv[1:]
    balanced = None
    if "--balanced" in args:
        balanced = True
        args = [a for a in args if a != "--balanced"]
    if not args:
        print(usage, file=sys.stderr)
        return 2
    bad = 0
    for path in args:
        problems = check_file(path, balanced)
        bad += bool(problems)
        for problem in problems:
            print(problem)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
