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
    kit.expect("| checkheap (line" in out and "invariant 7 broken" in out
               and "| checkheap: and this line went to stderr" in out,
               "the checker's stdout and stderr are in the report:\n" + out)
    expect_error(mdriver(broken("checker"), "-n", "-d", "2",
                         trace_text=BROKEN_TRACE), "checkheap failed", 8)
    proc = mdriver(broken("checker"), "-n", "-d", "0", trace_text=BROKEN_TRACE)
    kit.expect(proc.returncode == 0, "-d 0 never calls mm_checkheap", proc)


def test_broken_init_fails():
    expect_error(mdriver(broken("initfail"), "-n", trace_text=BROKEN_TRACE),
                 "mm_init failed", 5)


def test_allocator_output_outside_the_checker_is_a_note_not_a_failure():
    proc = mdriver(broken("chatty"), "-n", trace_text=BROKEN_TRACE)
    out = kit.output(proc)
    kit.expect(proc.returncode == 0 and "ERROR" not in out, "valid", proc)
    kit.expect(re.search(r"^note \[trace [^\]]+\]: mm.c printed \d+ bytes", out,
                         re.M) and "| debug: mm_malloc(777)" in out,
               "the output is shown after the trace:\n" + out)


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


# ---- the correct allocators pass; output modes ----

def test_kit_mm_passes_short_traces_at_every_debug_level():
    for level in ("0", "1", "2"):
        proc = kit.run([MDRIVER, "-n", "-d", level, "-f", "short1-bal.rep",
                        "-f", "short2-bal.rep"])
        kit.expect(proc.returncode == 0 and "ERROR" not in kit.output(proc),
                   "malloc/mdriver -d %s on the short traces" % level, proc)


def test_f_name_found_from_another_directory():
    proc = kit.run([MDRIVER, "-n", "-f", "short1-bal.rep"], cwd="/")
    kit.expect(proc.returncode == 0 and re.search(
        r"^short1-bal\.rep\s+1\s+yes", proc.stdout, re.M),
        "the kit's traces/ is found from the executable", proc)


def test_default_table_and_glibc_rows():
    proc = kit.run([MDRIVER, "-l", "-f", "short1-bal.rep"])
    out = proc.stdout
    kit.expect(proc.returncode == 0, "exit 0", proc)
    for words in ("Results for glibc malloc:", "Results for mm malloc:",
                  "valid", "util", "Kops", "Perf index = "):
        kit.expect(words in out, "missing %r" % words, proc)
    m = re.search(r"Perf index = ([\d.]+) \(util\) \+ ([\d.]+) \(thru\) = "
                  r"([\d.]+)/100", out)
    kit.expect(m and abs(float(m.group(1)) + float(m.group(2))
                         - float(m.group(3))) < 0.11, "index parts add up", proc)


def test_autograder_line_is_json():
    proc = kit.run([MDRIVER, "-g", "-f", "short1-bal.rep", "-f", "short2-bal.rep"])
    lines = proc.stdout.splitlines()
    kit.expect(proc.returncode == 0 and len(lines) == 1, "one line", proc)
    doc = json.loads(lines[0])
    kit.expect(doc["correct"] == 2 and doc["traces"] == 2 and doc["valid"]
               and 0 < doc["perfidx"] <= 100 and 0 < doc["util"] <= 1
               and doc["kops"] > 0 and doc["glibc_kops"] > 0, "fields: %r" % doc)


def test_json_file_has_every_figure():
    jpath = kit.write_temp("", suffix=".json")
    proc = kit.run([MDRIVER, "-j", jpath, "-f", "short1-bal.rep"])
    kit.expect(proc.returncode == 0 and "Results for mm malloc" in proc.stdout,
               "-j FILE keeps the table on stdout", proc)
    with open(jpath) as f:
        doc = json.load(f)
    t = doc["traces"][0]
    for key in ("name", "path", "weight", "valid", "error", "util", "heap_bytes",
                "peak_bytes", "ops", "secs", "kops", "glibc_secs", "glibc_kops"):
        kit.expect(key in t, "trace field %r missing: %r" % (key, t))
    kit.expect(t["name"] == "short1-bal.rep" and t["ops"] == 12 and t["valid"]
               and t["peak_bytes"] > 0 and t["kops"] > 0, "values: %r" % t)
    idx = doc["index"]
    kit.expect(doc["valid"] and abs(idx["util_part"] + idx["tput_part"]
                                    - idx["total"]) < 1e-3
               and idx["util_weight"] == 0.6, "index: %r" % idx)


def test_no_timing_json_has_null_speed():
    proc = kit.run([MDRIVER, "-n", "-j", "-", "-f", "short1-bal.rep"])
    doc = json.loads(proc.stdout)
    kit.expect(doc["timed"] is False and doc["traces"][0]["kops"] is None
               and doc["index"]["total"] is None, "no figures invented: %r" % doc)


def test_usage_errors_exit_2():
    for args in (["-d", "3"], ["-m", "lots"], ["-s", "-1"], ["-q"], ["-f"],
                 ["stray"], ["-t", "/no/such/dir"]):
        proc = kit.run([MDRIVER] + args)
        kit.expect(proc.returncode == 2 and proc.stderr.startswith("mdriver: "),
                   "mdriver %s: usage error" % " ".join(args), proc)
    proc = kit.run([MDRIVER, "-h"])
    kit.expect(proc.returncode == 0 and "--overhead" in proc.stdout, "-h", proc)


# ---- sanitizers and Valgrind ----

def test_debug_build_replays_short_traces_cleanly():
    binary = os.path.join(kit.MALLOC, "mdriver-debug")
    kit.expect(os.path.exists(binary), "run `make -C malloc mdriver-debug`")
    proc = kit.run([binary, "-n", "-d", "2", "-f", "short1-bal.rep", "-f",
                    "short2-bal.rep"], env={"ASAN_OPTIONS": "detect_leaks=0"})
    out = kit.output(proc)
    kit.expect(proc.returncode == 0 and "runtime error" not in out
               and "AddressSanitizer" not in out, "ASan+UBSan build", proc)


def test_debug_build_frees_everything_on_a_malformed_trace():
    # LeakSanitizer on: a leak on the usage-error path would turn exit
    # status 2 into 1.
    binary = os.path.join(kit.MALLOC, "mdriver-debug")
    kit.expect(os.path.exists(binary), "run `make -C malloc mdriver-debug`")
    bad = kit.write_temp("20000\n1\n1\n1\nz 0 1\n")
    for args in (["-f", bad], ["-t", kit.TRACES, "-f", "short1-bal.rep",
                               "-f", bad]):
        proc = kit.run([binary, "-n"] + args)
        out = kit.output(proc)
        kit.expect(proc.returncode == 2 and bad + ":5]" in out and
                   "LeakSanitizer" not in out,
                   "a malformed trace: exit 2, no leak", proc)


def test_clang_build_replays_short_traces():
    binary = os.path.join(kit.BUILD, "driver-clang", "mdriver")
    kit.expect(os.path.exists(binary), "run `make test-deps` (clang build)")
    proc = kit.run([binary, "-n", "-t", kit.TRACES, "-f", "short1-bal.rep",
                    "-f", "short2-bal.rep"])
    kit.expect(proc.returncode == 0 and "ERROR" not in kit.output(proc),
               "the clang-built driver", proc)


def valgrind(binary, trace_args):
    if not os.path.exists("/usr/bin/valgrind"):
        raise AssertionError("valgrind is missing: tools/setup.sh --test installs it")
    return kit.run(["valgrind", "-q", "--error-exitcode=99", binary, "-n",
                    "-t", kit.TRACES] + trace_args, timeout=300)


def test_valgrind_reports_reads_of_never_written_heap_bytes():
    proc = valgrind(broken("uninit"), ["-f", "short1-bal.rep"])
    kit.expect(proc.returncode == 99 and "uninitialised value" in proc.stderr
               and "mm_malloc (uninit.c" in proc.stderr,
               "memcheck must see the never-written word", proc)


def test_valgrind_reports_reads_just_past_the_break():
    proc = valgrind(broken("pastbrk"), ["-f", "short1-bal.rep"])
    kit.expect(proc.returncode == 99 and "Invalid read" in proc.stderr
               and "mm_malloc (pastbrk.c" in proc.stderr,
               "memcheck must see the read past the break, inside its page", proc)


def test_valgrind_finds_nothing_in_correct_allocators():
    short = ["-f", "short1-bal.rep", "-f", "short2-bal.rep"]
    for binary in (broken("ok"), MDRIVER):
        proc = valgrind(binary, short)
        kit.expect(proc.returncode == 0 and "==" not in proc.stderr,
                   "%s: zero Valgrind errors" % binary, proc)
