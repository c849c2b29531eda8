"""mdriver's trace parser: every malformed trace gets one line
`ERROR [path:line]: what was expected` and exit status 2, never a crash;
the legal corners of the format (CONTRACTS.md section 3) load."""
import json
import os
import random
import re

import kit

MDRIVER = os.path.join(kit.MALLOC, "mdriver")
OK = os.path.join(kit.BUILD, "broken", "mdriver-ok")
HEAD = "20000\n2\n%d\n1\n"  # the ops start on line 5

# (name, trace text, line of the error, words the message must contain)
MALFORMED = [
    ("no header", "a 0 10\n", 1, "expected header line 1"),
    ("short header", "20000\n2\n", 2, "expected header line 3 (number of ops), "
     "found the end of the file"),
    ("header not a number", "twenty\n2\n1\n1\n", 1, "found 'twenty'"),
    ("two numbers on a header line", "20000 2\n2\n1\n1\n", 1, "one number alone"),
    ("no weight in either dialect", "20000\n2\n1\n5000\n", 4,
     "expected a weight: 0..100 on header line 4"),
    ("ambiguous dialect", "2\n2\n1\n50\n", 4,
     "ambiguous header: line 1 (2) reads as a CMU weight class"),
    ("absurd number of ids", "20000\n999999999999\n1\n1\n", 2,
     "expected header line 2 (number of ids) of at most"),
    ("bad op letter", HEAD % 1 + "x 0 10\n", 5, "expected an op 'a', 'r', 'c' or 'f'"),
    ("op word", HEAD % 1 + "alloc 0 10\n", 5, "found 'alloc'"),
    ("id out of range", HEAD % 1 + "a 2 10\n", 5, "expected an id (0..1)"),
    ("negative id", HEAD % 1 + "a -3 10\n", 5, "negative number '-3'"),
    ("free of a dead id", HEAD % 3 + "a 0 10\nf 0\nf 0\n", 7, "already free"),
    ("free of an id never allocated", HEAD % 1 + "f 1\n", 5,
     "id 1 was never allocated"),
    ("realloc of an id never allocated", HEAD % 1 + "r 1 10\n", 5,
     "realloc of id 1, which was never allocated"),
    ("allocation of a live id", HEAD % 2 + "a 0 10\nc 0 1 1\n", 6,
     "id 0 is still live"),
    ("more ops than the header", HEAD % 1 + "a 0 10\nf 0\n", 6,
     "expected at most 1 ops (header line 3), found more"),
    ("fewer ops than the header", HEAD % 3 + "a 0 10\n", 5,
     "expected 3 ops (header line 3), found only 1"),
    ("non-numeric size", HEAD % 1 + "a 0 ten\n", 5,
     "expected a size (a decimal number), found 'ten'"),
    ("negative size", HEAD % 1 + "a 0 -5\n", 5, "the negative number '-5'"),
    ("absurd size", HEAD % 1 + "a 0 99999999999999999999999\n", 5,
     "expected a size of at most 4611686018427387904"),
    ("absurd calloc", HEAD % 1 + "c 0 4294967296 4294967296\n", 5,
     "expected NMEMB * SIZE <= 4611686018427387904"),
    ("junk after an op", HEAD % 2 + "a 0 10\nf 0 10\n", 6,
     "expected 'f ID' and nothing after it, found '10'"),
    ("comment after an op", HEAD % 1 + "a 0 10 # ten\n", 5,
     "nothing after it, found '#'"),
    ("truncated op", HEAD % 2 + "a 0 10\na 1", 6,
     "expected 'a ID SIZE', found too few fields"),
    ("truncated calloc", HEAD % 1 + "c 0 10\n", 5,
     "expected 'c ID NMEMB SIZE', found too few fields"),
    ("lone carriage return", HEAD % 1 + "a 0\r10\n", 5, "control byte 0x0d"),
    ("empty file", "", 1, "found the end of the file (the file is empty)"),
    ("only comments", "# nothing\n\n", 2, "expected header line 1"),
]


def check_malformed(path, line, words, binary=OK):
    proc = kit.run([binary, "-n", "-f", path])
    want = "ERROR [%s:%d]: " % (path, line)
    first = proc.stderr.splitlines()[0] if proc.stderr else ""
    kit.expect(proc.returncode == 2, "exit status 2 expected", proc)
    kit.expect(first.startswith(want) and words in first,
               "expected %r ... %r" % (want, words), proc)
    kit.expect("Results" not in proc.stdout, "nothing was replayed", proc)


def test_malformed_corpus():
    for name, text, line, words in MALFORMED:
        try:
            check_malformed(kit.write_temp(text), line, words)
        except AssertionError as e:
            raise AssertionError("case %r: %s" % (name, e))


def test_binary_junk():
    junk = bytes(random.Random(7).randrange(256) for _ in range(4096))
    check_malformed(kit.write_temp(b"\x7fELF\x02\x01" + junk, binary=True), 1,
                    "control byte 0x02")
    nul = (HEAD % 1).encode() + b"a 0 1\x000\n"
    check_malformed(kit.write_temp(nul, binary=True), 5, "NUL byte")


def test_missing_file_and_directory():
    proc = kit.run([OK, "-t", kit.TRACES, "-f", "no-such-trace.rep"])
    kit.expect(proc.returncode == 2 and proc.stderr.startswith(
        "ERROR [no-such-trace.rep]: no such trace file"), "missing file", proc)
    check_malformed(kit.TRACES, 0, "expected a readable trace file")


def test_fuzzed_traces_never_crash_the_driver():
    """Random byte edits of short2-bal.rep: every run ends with 0, 1 or 2,
    and a 2 always comes with an ERROR [path:line] line."""
    with open(os.path.join(kit.TRACES, "short2-bal.rep"), "rb") as f:
        seed_text = f.read()
    rng = random.Random(20261122)
    for i in range(150):
        data = bytearray(seed_text)
        for _ in range(rng.randrange(1, 4)):
            if not data:
                break
            pos = rng.randrange(len(data))
            action = rng.randrange(4)
            if action == 0:
                del data[pos]
            elif action == 1:
                data.insert(pos, rng.choice(b"0123456789 -\n\rarcfx\x00\xff#"))
            elif action == 2:
                data[pos] = rng.randrange(256)
            else:
                del data[pos:]
        path = kit.write_temp(bytes(data), binary=True)
        proc = kit.run([OK, "-n", "-d", "0", "-m", "16M", "-f", path])
        kit.expect(proc.returncode in (0, 1, 2),
                   "case %d: exit %d (a signal?)" % (i, proc.returncode), proc)
        if proc.returncode == 2:
            kit.expect(proc.stderr.startswith("ERROR [%s:" % path),
                       "case %d: no ERROR [path:line]" % i, proc)
        if proc.returncode == 1:
            kit.expect("ERROR [trace " in proc.stdout, "case %d" % i, proc)
        os.unlink(path)


# ---- the legal corners load ----

def replay(text, *args, binary=OK):
    path = kit.write_temp(text)
    proc = kit.run([binary, "-n", "-j", "-", "-f", path] + list(args))
    kit.expect(proc.returncode == 0, "the trace must load and pass", proc)
    return json.loads(proc.stdout)["traces"][0]


def test_header_dialects_a_and_b():
    ops = "a 0 100\nr 0 300\nf 0\n"
    a = replay("20000\n1\n3\n3\n" + ops)
    b = replay("2\n1\n3\n5000\n" + ops)
    kit.expect(a["weight"] == 3 and b["weight"] == 2,
               "weights %r %r" % (a["weight"], b["weight"]))
    kit.expect(a["peak_bytes"] == b["peak_bytes"] == 300, "same replay")


def test_comments_blank_lines_and_crlf():
    text = ("# a comment\n\n  # indented comment\n20000\n\n2\n3\n# between\n1\n"
            "a 0 10\n\n\t# tab comment\na 1 20\nf 0\n")
    kit.expect(replay(text)["ops"] == 3, "three ops")
    kit.expect(replay(text.replace("\n", "\r\n"))["ops"] == 3, "CRLF accepted")


def test_free_null_realloc_dead_id_and_zero_sizes():
    text = HEAD % 9 + ("a 0 10\nf 0\nr 0 20\nf -1\nr 0 0\nr 0 0\na 1 0\nf 1\n"
                       "c 0 0 5\n")
    t = replay(text)
    kit.expect(t["peak_bytes"] == 20, "r of a dead id allocates: %r" % t)
    t = replay(text, binary=MDRIVER)
    kit.expect(t["valid"], "the kit's mm.c too")


def test_huge_id_space_costs_only_the_ids_used():
    """60 million ids, two ops: the per-id tables are sized by the ids used
    and reset in O(live), so this replays (and is timed) well within -s 20."""
    text = "20000\n60000000\n2\n1\na 59999999 10\nf 59999999\n"
    proc = kit.run([MDRIVER, "-s", "20", "-j", "-", "-f", kit.write_temp(text)])
    kit.expect(proc.returncode == 0 and json.loads(proc.stdout)["valid"],
               "valid, timed", proc)


def test_trace_dir_and_suite():
    d = kit.write_temp("", suffix=".d")
    os.unlink(d)
    os.mkdir(d)
    for name in ("one.rep", "two.rep", "three.rep"):
        with open(os.path.join(d, name), "w") as f:
            f.write(HEAD % 2 + "a 0 8\nf 0\n")
    with open(os.path.join(d, "suite.txt"), "w") as f:
        f.write("# the suite\none.rep\n\n# two.rep\nthree.rep  # last\n")
    proc = kit.run([OK, "-n", "-t", d])
    names = re.findall(r"^(\S+\.rep)\s", proc.stdout, re.M)
    kit.expect(proc.returncode == 0 and names == ["one.rep", "three.rep"],
               "suite.txt honoured: %r" % names, proc)
    proc = kit.run([OK, "-n", "-t", d, "-f", "two.rep"], cwd="/")
    kit.expect(proc.returncode == 0 and "two.rep" in proc.stdout,
               "-f NAME found in -t DIR", proc)
