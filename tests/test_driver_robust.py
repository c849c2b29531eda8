"""mdriver against hostile allocators and hostile input (issue 10): nothing
an mm.c or a file can do crashes or hangs the driver or leaves a process
behind; the builds follow the source and flags; the aids that find a bug
faster (the size-bug hint, -x, mm_checkheap's line, JSON errors) work.

The broken allocators are those of tests/broken/ (built by `make
test-deps`), on test_driver.BROKEN_TRACE: they misbehave on line 8.
"""
import json
import os
import re
import shutil
import subprocess
import tempfile

import kit
from test_driver import BROKEN_TRACE, MDRIVER, broken, expect_error, mdriver


def trace_file():
    return kit.write_temp(BROKEN_TRACE)


def processes_mentioning(word):
    """The pids of live processes whose command line contains word."""
    pids = []
    for pid in os.listdir("/proc"):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmd = f.read().decode(errors="replace")
        except OSError:
            continue
        if pid.isdigit() and word in cmd:
            pids.append(int(pid))
    return pids


# ---- hostile allocators ----

def test_overwritten_status_page_does_not_crash_the_driver():
    proc = mdriver(broken("statuspage"), "-n", "-f", trace_file(), "-f",
                   "short1-bal.rep")
    out = kit.output(proc)
    kit.expect(proc.returncode == 1 and re.search(
        r'^ERROR \[trace [^,]+, line 0, op "\?"\]: crashed: SIGABRT', out, re.M)
        and "the op is unknown" in out, "a clean report, exit 1", proc)
    kit.expect(re.search(r"^short1-bal\.rep\s+1\s+yes", out, re.M),
               "the next trace still runs", proc)


def test_forked_children_are_killed_and_never_waited_for():
    path = trace_file()
    for args in (["-n", "-s", "0"], ["-s", "30"]):
        proc = mdriver(broken("fork"), *args, "-f", path, timeout=90)
        kit.expect(proc.returncode == 0 and "ERROR" not in kit.output(proc),
                   "%s: the trace is valid, no timeout" % args, proc)
        left = processes_mentioning(path)
        kit.expect(left == [], "%s: processes left behind: %r" % (args, left))


def test_closing_every_descriptor_is_named_at_its_op():
    out = expect_error(mdriver(broken("closeall"), "-n", trace_text=BROKEN_TRACE,
                               timeout=60), "crashed", 8)
    kit.expect("closed the driver's result pipe" in out
               and "during replay 1 of 2 (checked), in mm_malloc" in out, out)


def test_sanitizer_abort_is_named():
    binary = os.path.join(kit.BUILD, "broken-san", "mdriver-ubsan")
    kit.expect(os.path.exists(binary), "run `make test-deps`")
    out = expect_error(mdriver(binary, "-n", trace_text=BROKEN_TRACE),
                       "crashed", 8)
    kit.expect("crashed: UndefinedBehaviorSanitizer: " in out
               and "runtime error: signed integer overflow" in out
               and "exit()" not in out, out)


# ---- the size-bug hint ----

def test_size_bug_hint_names_the_op_that_covered_a_header():
    jpath = kit.write_temp("", suffix=".json")
    proc = mdriver(broken("offbyone"), "-n", "-j", jpath, trace_text=BROKEN_TRACE)
    out = expect_error(proc, "payload corrupted", 14)
    want = "line 9, id 2's payload covers the word before id 1's payload: " \
           "a header?"
    kit.expect("    hint: " + want in out, out)
    with open(jpath) as f:
        err = json.load(f)["traces"][0]["error"]
    kit.expect(err["hint"].startswith(want), "JSON hint: %r" % err)


def test_no_hint_when_payloads_keep_clear_of_each_other():
    jpath = kit.write_temp("", suffix=".json")
    proc = mdriver(broken("misaligned"), "-n", "-j", jpath,
                   trace_text=BROKEN_TRACE)
    out = expect_error(proc, "misaligned", 8)
    with open(jpath) as f:
        err = json.load(f)["traces"][0]["error"]
    kit.expect("hint:" not in out and err["hint"] is None, out)


# ---- special files and suite.txt ----

def suite_dir(suite_text=None):
    d = tempfile.mkdtemp(prefix="mmtest-")
    with open(os.path.join(d, "one.rep"), "w") as f:
        f.write("20000\n2\n2\n1\na 0 8\nf 0\n")
    if suite_text is not None:
        with open(os.path.join(d, "suite.txt"), "w") as f:
            f.write(suite_text)
    return d


def test_fifo_as_trace_or_suite_is_refused_not_waited_on():
    d = suite_dir()
    os.mkfifo(os.path.join(d, "suite.txt"))
    os.mkfifo(os.path.join(d, "pipe.rep"))
    for args, where in ((["-f", os.path.join(d, "pipe.rep")], "pipe.rep:0]"),
                        ([], "suite.txt]")):
        proc = kit.run([broken("ok"), "-n", "-t", d] + args, timeout=20)
        kit.expect(proc.returncode == 2 and where in proc.stderr
                   and "a FIFO" in proc.stderr, "FIFO %r" % args, proc)


def test_dev_zero_and_a_file_too_big():
    proc = kit.run([broken("ok"), "-n", "-f", "/dev/zero"], timeout=20)
    kit.expect(proc.returncode == 2 and proc.stderr.startswith(
        "ERROR [/dev/zero:0]: expected a readable trace file, found a "
        "character device"), "/dev/zero", proc)
    big = kit.write_temp("20000\n1\n1\n1\na 0 1\n")
    os.truncate(big, (1 << 30) + 1)  # sparse: no disk used
    proc = kit.run([broken("ok"), "-n", "-f", big], timeout=20)
    os.unlink(big)
    kit.expect(proc.returncode == 2 and "expected a trace file of at most "
               "1073741824 bytes" in proc.stderr, "size cap", proc)


def test_suite_empty_absolute_and_long_lines():
    for text in ("", "# only a comment\n\n"):
        proc = kit.run([broken("ok"), "-n", "-t", suite_dir(text)])
        kit.expect(proc.returncode == 2 and "found none" in proc.stderr,
                   "an empty suite is an error: %r" % text, proc)
    d = suite_dir()
    with open(os.path.join(d, "suite.txt"), "w") as f:
        f.write("# %s\n%s\n" % ("x" * 5000, os.path.join(d, "one.rep")))
    proc = kit.run([broken("ok"), "-n", "-t", d], cwd="/")
    names = re.findall(r"^(\S+\.rep)\s", proc.stdout, re.M)
    kit.expect(proc.returncode == 0 and names == [os.path.join(d, "one.rep")],
               "a long comment line, then an absolute path: %r" % names, proc)


def test_json_write_failure_is_reported():
    for dest in ("/dev/full", "-"):
        cmd = [broken("ok"), "-n", "-t", kit.TRACES, "-f", "short1-bal.rep",
               "-j", dest]
        with open("/dev/full", "w") as full:
            proc = subprocess.run(cmd, stdout=full, stderr=subprocess.PIPE,
                                  text=True, timeout=60)
        kit.expect(proc.returncode == 2 and "cannot write the JSON file: No "
                   "space left on device" in proc.stderr,
                   "-j %s: exit 2 with a message (got %d: %r)"
                   % (dest, proc.returncode, proc.stderr))


# ---- finding the bug faster ----

def test_x_stops_at_the_first_failing_trace():
    proc = mdriver(broken("misaligned"), "-n", "-x", "-f", "short1-bal.rep",
                   "-f", trace_file(), "-f", "short2-bal.rep")
    out = kit.output(proc)
    kit.expect(proc.returncode == 1 and "1 of 3 traces not replayed" in out
               and "short2-bal.rep" not in out
               and re.search(r"^short1-bal\.rep\s+1\s+yes", out, re.M),
               "-x: the third trace is not replayed", proc)


def test_checkheap_gets_the_trace_line_just_replayed():
    out = kit.output(mdriver(broken("checker"), "-n", "-d", "2",
                             trace_text=BROKEN_TRACE))
    kit.expect("| checkheap (line 8): invariant 7 broken" in out, out)
    out = kit.output(mdriver(broken("checker"), "-n", trace_text=BROKEN_TRACE))
    kit.expect("| checkheap (line 14): invariant 7 broken" in out, out)


def test_tiny_run_index_is_flagged():
    proc = kit.run([MDRIVER, "-j", "-", "-f", "short1-bal.rep"])
    doc = json.loads(proc.stdout)
    kit.expect(proc.returncode == 0 and doc["index"]["few_ops"] is True,
               "few_ops: %r" % doc["index"], proc)
    proc = kit.run([MDRIVER, "-f", "short1-bal.rep"])
    kit.expect("this index is mostly noise" in proc.stdout, "the note", proc)
    proc = kit.run([MDRIVER, "-n", "-j", "-", "-f", "coalesce.rep"])
    kit.expect(json.loads(proc.stdout)["index"]["few_ops"] is False,
               "a real trace is not flagged", proc)


def test_json_error_has_function_context_and_checker_output():
    docs = []
    for name in ("segv", "checker"):
        jpath = kit.write_temp("", suffix=".json")
        mdriver(broken(name), "-n", "-j", jpath, trace_text=BROKEN_TRACE)
        with open(jpath) as f:
            docs.append(json.load(f)["traces"][0]["error"])
    segv, checker = docs
    kit.expect(segv["function"] == "mm_malloc" and segv["ops_before"] == [
        {"line": 6, "op": "a 0 64"}, {"line": 7, "op": "a 1 32"}],
        "segv: %r" % segv)
    kit.expect(checker["function"] == "mm_checkheap"
               and "invariant 7 broken" in checker["output"]
               and len(checker["ops_before"]) == 5, "checker: %r" % checker)


# ---- builds that follow the source and the flags ----

def make_driver(out, *args):
    proc = kit.run(["make", "-C", "malloc", "OUT=" + out] + list(args),
                   timeout=300)
    kit.expect(proc.returncode == 0, "make %s" % " ".join(args), proc)
    return "-o %s " % out in proc.stdout


def test_build_follows_the_allocator_and_the_flags():
    d = tempfile.mkdtemp(prefix="mmtest-build-")
    out = os.path.join(d, "fresh", "dir", "mdriver")  # made by the rule
    other = os.path.join(d, "student", "mm.c")
    os.makedirs(os.path.dirname(other))
    shutil.copy(os.path.join(kit.ROOT, "tools", "allocators", "implicit.c"),
                other)
    os.utime(other, (1, 1))  # older than any build: make alone would skip it
    kit.expect(make_driver(out), "first build into a new directory")
    kit.expect(not make_driver(out), "nothing changed: no rebuild")
    kit.expect(make_driver(out, "MM=" + other), "MM changed: rebuilt")
    proc = kit.run([out, "-n", "-t", kit.TRACES, "-j", "-", "-f",
                    "coalesce.rep"])
    util = json.loads(proc.stdout)["util"]
    kit.expect(make_driver(out, "MM=" + other, "EXTRA_CFLAGS=-DUNUSED_FLAG"),
               "EXTRA_CFLAGS changed: rebuilt")
    kit.expect(make_driver(out), "back to mm.c: rebuilt")
    proc = kit.run([out, "-n", "-t", kit.TRACES, "-j", "-", "-f",
                    "coalesce.rep"])
    kit.expect(json.loads(proc.stdout)["util"] != util,
               "the two builds are different allocators", proc)
    shutil.rmtree(d)


def test_readme_valgrind_command_fails_on_replay_errors():
    if not os.path.exists("/usr/bin/valgrind"):
        raise AssertionError("valgrind is missing: tools/setup.sh --test "
                             "installs it")
    with open(os.path.join(kit.ROOT, "README.md")) as f:
        m = re.search(r"`(valgrind [^`]*\./mdriver)([^`]*)`", f.read())
    kit.expect(m is not None, "README shows a valgrind command")
    cmd = m.group(1).split()[:-1] + [broken("uninit"), "-t", kit.TRACES,
                                     "-n", "-f", "short1-bal.rep"]
    proc = kit.run(cmd, timeout=300)
    kit.expect(proc.returncode != 0 and "uninitialised value" in proc.stderr,
               "%s must fail when memcheck found errors" % " ".join(cmd), proc)
