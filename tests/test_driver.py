"""mdriver catches every broken allocator of tests/broken/ at the right trace
line with the right KIND, and the correct allocators pass (docs/driver.md).

The broken allocators misbehave on a request of 777 bytes (TRIGGER_SIZE in
tests/broken/base.h), which BROKEN_TRACE makes on line 8.
"""
import json
import os
import re
import tempfile

import kit

MDRIVER = os.path.join(kit.MALLOC, "mdriver")
BROKEN_DIR = os.path.join(kit.BUILD, "broken")

BROKEN_TRACE = """\
# broken allocator test trace (line 1)
20000
4
9
1
a 0 64
a 1 32
a 2 777
r 1 200
c 3 4 8
r 3 0
f 0
f 1
f 2
"""
LINE_OF = {6: "a 0 64", 7: "a 1 32", 8: "a 2 777", 9: "r 1 200",
           10: "c 3 4 8", 11: "r 3 0", 12: "f 0", 13: "f 1", 14: "f 2"}


def broken(name):
    path = os.path.join(BROKEN_DIR, "mdriver-" + name)
    kit.expect(os.path.exists(path), "%s is missing: run `make test-deps`" % path)
    return path


def mdriver(binary, *args, trace_text=None, **kw):
    """Runs binary with the trace dir of the kit and args; -f a temp trace
    made of trace_text if given."""
    cmd = [binary, "-t", kit.TRACES] + list(args)
    if trace_text is not None:
        cmd += ["-f", kit.write_temp(trace_text)]
    return kit.run(cmd, **kw)


def expect_error(proc, kind, line, status=1):
    """The first ERROR line names the line, the op text of that line, KIND."""
    out = kit.output(proc)
    m = re.search(r'^ERROR \[trace [^,]+, line (\d+), op "([^"]*)"\]: ([^:]+):',
                  out, re.M)
    kit.expect(m is not None, "no ERROR [trace ...] line", proc)
    want_op = LINE_OF.get(line, "mm_init")
    kit.expect((int(m.group(1)), m.group(2), m.group(3)) == (line, want_op, kind),
               "expected line %d op %r kind %r, got %r" % (line, want_op, kind,
                                                           m.groups()), proc)
    kit.expect(proc.returncode == status,
               "expected exit status %d" % status, proc)
    return out


# ---- the broken-allocator catalogue ----

def test_broken_base_allocator_passes_the_trace():
    proc = mdriver(broken("ok"), "-n", trace_text=BROKEN_TRACE)
    kit.expect(proc.returncode == 0 and "ERROR" not in kit.output(proc),
               "the unbroken base allocator must pass", proc)


def test_broken_misaligned():
    out = expect_error(mdriver(broken("misaligned"), "-n", trace_text=BROKEN_TRACE),
                       "misaligned", 8)
    kit.expect("not a multiple of 16" in out, "says why", None)


def test_broken_outside_heap():
    expect_error(mdriver(broken("outside"), "-n", trace_text=BROKEN_TRACE),
                 "outside heap", 8)


def test_broken_overlap_names_the_other_block():
    out = expect_error(mdriver(broken("overlap"), "-n", trace_text=BROKEN_TRACE),
                       "overlap", 8)
    kit.expect("of id 1 (allocated on line 7)" in out,
               "the report names the overlapped block:\n" + out)


def test_broken_overwrite_found_at_next_verify_and_at_once_with_d2():
    out = expect_error(mdriver(broken("overwrite"), "-n", trace_text=BROKEN_TRACE),
                       "payload corrupted", 9)
    kit.expect("id 1's payload" in out, "names the damaged block:\n" + out)
    expect_error(mdriver(broken("overwrite"), "-n", "-d", "2",
                         trace_text=BROKEN_TRACE), "payload corrupted", 8)


def test_broken_realloc_loses_data():
    expect_error(mdriver(broken("reallocloss"), "-n", trace_text=BROKEN_TRACE),
                 "realloc lost data", 9)


def test_broken_calloc_not_zeroed():
    expect_error(mdriver(broken("calloc"), "-n", trace_text=BROKEN_TRACE),
                 "calloc not zeroed", 10)


def test_broken_realloc_zero_does_not_free():
    expect_error(mdriver(broken("realloc0"), "-n", trace_text=BROKEN_TRACE),
                 "realloc 0 not freed", 11)


def test_broken_null_return():
    out = expect_error(mdriver(broken("nullret"), "-n", trace_text=BROKEN_TRACE),
                       "null return", 8)
    kit.expect("heap limit was not reached" in out, "says why:\n" + out)


def test_broken_state_not_reset_fails_in_second_replay():
    out = expect_error(mdriver(broken("noreset"), "-n", trace_text=BROKEN_TRACE),
                       "crashed", 6)
    kit.expect("during replay 2 of 2" in out and "mm_init" in out,
               "the report says the first replay passed:\n" + out)


def test_broken_segfault_reported_and_next_trace_still_runs():
    proc = mdriver(broken("segv"), "-n", "-f", kit.write_temp(BROKEN_TRACE),
                   "-f", "short1-bal.rep")
    out = expect_error(proc, "crashed", 8)
    kit.expect("SIGSEGV" in out and "in mm_malloc" in out,
               "names the signal and the call:\n" + out)
    kit.expect(re.search(r"^short1-bal\.rep\s+1\s+yes", out, re.M),
               "the next trace is replayed and valid:\n" + out)
    kit.expect("    > line 8: a 2 777" in out and "      line 7: a 1 32" in out,
               "shows the ops before it:\n" + out)


def test_broken_exit_call_reported():
    out = expect_error(mdriver(broken("exit"), "-n", trace_text=BROKEN_TRACE),
                       "crashed", 8)
    kit.expect("exited with status 3" in out, out)


def test_broken_infinite_loop_times_out():
    proc = mdriver(broken("loop"), "-n", "-s", "1", trace_text=BROKEN_TRACE,
                   timeout=60)
    out = expect_error(proc, "timeout", 8)
    kit.expect("in mm_malloc" in out, out)


def test_broken_checker_complaint_is_shown_with_the_op():
    out = expect_error(mdriver(broken("checker"), "-n", trace_text=BROKEN_TRACE),
                       "checkheap failed", 14)
    kit.expect("| checkheap (line" in out and "invariant 7 broken" in out,
               "the checker's output is in the report:\n" + out)
    expect_error(mdriver(broken("checker"), "-n", "-d", "2",
                         trace_text=BROKEN_TRACE), "checkheap failed", 8)
    proc = mdriver(broken("checker"), "-n", "-d", "0", trace_text=BROKEN_TRACE)
    kit.expect(proc.returncode == 0, "-d 0 never calls mm_checkheap", proc)


def test_broken_init_fails():
    expect_error(mdriver(broken("initfail"), "-n", trace_text=BROKEN_TRACE),
                 "mm_init failed", 5)


def test_out_of_memory_under_the_heap_limit():
    trace = "20000\n2\n2\n1\na 0 1000\na 1 100000\n"
    proc = mdriver(broken("ok"), "-n", "-m", "64K", trace_text=trace)
    out = kit.output(proc)
    kit.expect(re.search(r'line 6, op "a 1 100000"\]: out of memory:', out)
               and proc.returncode == 1, "out of memory at line 6", proc)
    kit.expect("| ERROR: mem_sbrk failed" in out,
               "memlib's message is shown in the report:\n" + out)


def test_failed_trace_makes_index_zero_and_json_says_why():
    jpath = kit.write_temp("", suffix=".json")
    proc = mdriver(broken("misaligned"), "-j", jpath, "-f", "short1-bal.rep",
                   trace_text=BROKEN_TRACE)
    kit.expect(proc.returncode == 1 and "Perf index = 0/100" in proc.stdout,
               "index 0 when a trace failed", proc)
    with open(jpath) as f:
        doc = json.load(f)
    kit.expect(doc["valid"] is False and doc["failed"] == 1
               and doc["index"]["total"] == 0, "JSON totals: %r" % doc)
    err = doc["traces"][1]["error"]
    kit.expect(err["kind"] == "misaligned" and err["line"] == 8
               and err["op"] == "a 2 777", "JSON error: %r" % err)
    kit.expect(doc["traces"][0]["valid"] is True
               and doc["traces"][0]["error"] is None, "short1 valid: %r" % doc)
