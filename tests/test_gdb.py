"""tools/mm-gdb.py: gdb in batch mode stops a replay mid-trace and the
mm-heap, mm-block and mm-check commands print what the heap holds
(README, "Debugging in gdb").

build/broken/mdriver-walk has mm_heap_walk (tests/broken/walk.c: a 16-byte
prologue, then blocks that are never reused, freed ones on list 0);
mdriver-ok has none; mdriver-checker's mm_checkheap complains once a
777-byte block exists.
"""
import os
import re
import shutil

import kit
from test_driver import BROKEN_TRACE, broken
from test_heapmap import MDRIVER, TRACE, reference_has_hook, run_in_group

SCRIPT = os.path.join(kit.TOOLS, "mm-gdb.py")


def gdb(binary, trace_text, *commands, trace_args=None):
    """Runs binary -n -s 0 on the trace under gdb -batch with mm-gdb.py and
    the commands; returns the output."""
    kit.expect(shutil.which("gdb") is not None,
               "gdb is missing: tools/setup.sh --test installs it")
    args = trace_args or ["-f", kit.write_temp(trace_text)]
    cmd = ["gdb", "-batch", "-nx", "-x", SCRIPT]
    for c in list(commands) + ["kill"]:
        cmd += ["-ex", c]
    cmd += ["--args", binary, "-t", kit.TRACES, "-n", "-s", "0"] + args
    status, out = run_in_group(cmd)
    kit.expect(status == 0 and "Python Exception" not in out and
               "Error occurred" not in out, "gdb or mm-gdb.py failed (%d):\n%s"
               % (status, out[-3000:]))
    return out


def block_lines(out):
    """(address, size, kind, list, id or None) of each listed block."""
    rows = re.findall(r"^  (0x[0-9a-f]+) +(\d+)  (\w+) +(-|\d+) *(?:id (\d+))?",
                      out, re.M)
    return [(int(a, 16), int(s), k, l, int(i) if i else None)
            for a, s, k, l, i in rows]


def test_gdb_mm_heap_lists_the_blocks_of_the_walk():
    # The 4th mm_malloc is `a 3 48` (line 9): ids 0 and 2 live, 1 freed.
    out = gdb(broken("walk"), TRACE, "break mm_malloc", "ignore 1 3", "run",
              "mm-heap")
    kit.expect("during op 4 (line 9: a 3 48)" in out, "names the op:\n" + out)
    rows = block_lines(out)
    kit.expect([(s, k, l, i) for _, s, k, l, i in rows] ==
               [(16, "overhead", "-", None), (80, "allocated", "-", 0),
                (48, "free", "0", None), (128, "allocated", "-", 2)],
               "the prologue, id 0, id 1's free block, id 2:\n" + out)
    kit.expect(all(a + s == b for (a, s, *_), (b, *_) in zip(rows, rows[1:])),
               "blocks in address order, each where the last ends:\n" + out)


def test_gdb_mm_heap_during_a_free():
    # Stopped in mm_free for `f 1` (line 8): the driver has let go of id 1,
    # mm.c still holds its block.
    out = gdb(broken("walk"), TRACE, "break mm_free", "run", "mm-heap")
    kit.expect("during op 3 (line 8: f 1)" in out, "names the op:\n" + out)
    kit.expect(re.search(r"^  0x[0-9a-f]+ +48  allocated  -     no live id "
                         r"\(the op in progress frees it\?\)$", out, re.M),
               "id 1's block, allocated in mm.c, no longer live:\n" + out)


def test_gdb_mm_block_and_mm_check():
    out = gdb(broken("walk"), TRACE, "break mm_malloc", "ignore 1 3", "run",
              "mm-heap")
    rows = block_lines(out)
    id2 = [r for r in rows if r[4] == 2][0]
    out = gdb(broken("walk"), TRACE, "break mm_malloc", "ignore 1 3", "run",
              "mm-block %d" % (id2[0] + 20), "mm-block 1", "mm-check")
    kit.expect(block_lines(out) == [id2], "mm-block ADDR shows the block that "
               "contains ADDR only:\n" + out)
    kit.expect("no block contains 0x1" in out, "an address in no block")
    kit.expect("mm_checkheap(9) returned true" in out,
               "mm-check runs the checker with the op's line:\n" + out)


def test_gdb_mm_check_shows_what_the_checker_printed():
    out = gdb(broken("checker"), BROKEN_TRACE, "break mm_free", "run", "mm-check")
    kit.expect("mm_checkheap(12) returned false" in out and
               "invariant 7 broken" in out and "went to stderr" in out,
               "the verdict and the checker's output:\n" + out)


def test_gdb_mm_heap_without_the_hook_shows_the_driver_view():
    out = gdb(broken("ok"), TRACE, "break mm_malloc", "ignore 1 3", "run",
              "mm-heap")
    kit.expect("defines no mm_heap_walk: the driver's view" in out,
               "says where the listing comes from:\n" + out)
    rows = block_lines(out)
    kit.expect([(s, k, i) for _, s, k, _, i in rows] ==
               [(64, "payload", 0), (100, "payload", 2)],
               "the live payloads, by address:\n" + out)


def test_gdb_mm_heap_of_the_reference_mm_c():
    if not reference_has_hook():
        raise kit.Skip("malloc/mm.c does not define mm_heap_walk (nm)")
    out = gdb(MDRIVER, None, "break mm_free", "ignore 1 20", "run", "mm-heap",
              trace_args=["-f", "random-uniform-short.rep"])
    rows = block_lines(out)
    kinds = {k for _, _, k, _, _ in rows}
    kit.expect({"allocated", "free"} <= kinds, "allocated and free blocks:\n" + out)
    kit.expect(any(i is not None for *_, i in rows),
               "allocated blocks name the driver's ids:\n" + out)
    kit.expect(all(l != "-" for _, _, k, l, _ in rows if k == "free"),
               "each free block names its list:\n" + out)
