"""gdb commands for the malloc lab: look at the heap of a replay stopped in gdb.

Usage:
    cd malloc && gdb -x ../tools/mm-gdb.py --args ./mdriver -n -s 0 -f short1-bal.rep
    (gdb) break mm_free
    (gdb) run
    (gdb) mm-heap          every block: address, size, allocated/free, its list
    (gdb) mm-block ADDR    the block that contains ADDR (any expression)
    (gdb) mm-check         runs mm_checkheap and shows what it printed

mdriver replays each trace in a forked child: this file sets
`follow-fork-mode child` so that gdb follows the replay. Give `-s 0`, or the
parent kills the stopped replay when the time limit (-s) runs out, and `-n`,
so that the stop is in a checked replay (the timing replays do not update
the driver's table of live blocks).

The commands call helpers of the driver inside the stopped process
(mdriver_heap_listing, mdriver_check_listing in malloc/driver_heapmap.c).
When mm.c defines mm_heap_walk (mm.h), mm-heap lists the blocks it reports;
otherwise the driver's own view: the live payloads, by address.
Runs inside gdb only (its Python has the `gdb` module).
"""
import gdb  # noqa: E0401 (gdb's own module)

gdb.execute("set follow-fork-mode child")
gdb.execute("set detach-on-fork on")


def inferior_text(call):
    """Calls a driver helper that returns a malloc'd string; returns the
    text and frees the string inside the inferior."""
    if gdb.selected_inferior().pid == 0:
        raise gdb.GdbError("no process: `break mm_malloc`, then `run`, first")
    frame = gdb.selected_frame()
    try:
        value = gdb.parse_and_eval(call)
        addr = int(value)
        text = value.string() if addr else None
        if addr:
            gdb.parse_and_eval("((void (*)(void *))free)((void *)%d)" % addr)
    except gdb.error as e:
        raise gdb.GdbError("cannot call %s (%s): is this mdriver, built "
                           "with the kit's driver?" % (call, e))
    finally:
        # After a call gdb may select an inlined frame at the same pc:
        # back to the frame the user was in, so `mm-block ptr` still works.
        if frame.is_valid():
            frame.select()
    if text is None:
        raise gdb.GdbError("%s returned NULL (out of memory)" % call)
    return text


class MmHeap(gdb.Command):
    """mm-heap: every block of the heap: address, size, allocated/free, its
    free list (mm_heap_walk), or the live payloads (the driver's view)."""

    def __init__(self):
        super().__init__("mm-heap", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        if arg.strip():
            raise gdb.GdbError("mm-heap takes no argument (mm-block ADDR shows one)")
        gdb.write(inferior_text("mdriver_heap_listing(0)"))


class MmBlock(gdb.Command):
    """mm-block ADDR: the block that contains ADDR (an address or any
    expression, e.g. `mm-block ptr`)."""

    def __init__(self):
        super().__init__("mm-block", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        if not arg.strip():
            raise gdb.GdbError("usage: mm-block ADDR")
        addr = int(gdb.parse_and_eval(arg).cast(gdb.lookup_type("unsigned long")))
        if addr == 0:
            raise gdb.GdbError("mm-block: %s is NULL" % arg)
        gdb.write(inferior_text("mdriver_heap_listing(%d)" % addr))


class MmCheck(gdb.Command):
    """mm-check: runs mm_checkheap(line of the op in progress) and shows its
    verdict and what it printed."""

    def __init__(self):
        super().__init__("mm-check", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        gdb.write(inferior_text("mdriver_check_listing()"))


MmHeap()
MmBlock()
MmCheck()
