"""Tests of build/libmm.so (docs/libmm.md): the exports, glibc's semantics
(glibc's own malloc tests re-implemented, each also run under glibc as the
control), threads and fork, the hardened free, no mixing with glibc's heap,
MM_STATS_AT_EXIT, Valgrind, UBSan and ThreadSanitizer.

Usage: python3 tests/run.py -k libmm   (make libmm-test-deps builds what
they run: the programs of tests/libmm/ in build/libmm-tests/)
Every run under the library checks that its malloc was the one in use
(the program names the object that defines malloc, or the library's
statistics show its calls).
"""
import os
import re
import shutil
import signal

import kit

LIB = os.path.join(kit.BUILD, "libmm.so")
UBSAN_LIB = os.path.join(kit.BUILD, "libmm-tests", "libmm-ubsan.so")
BIN = os.path.join(kit.BUILD, "libmm-tests")

EXPORTS = {"malloc", "free", "calloc", "realloc", "reallocarray",
           "posix_memalign", "aligned_alloc", "memalign", "valloc", "pvalloc",
           "malloc_usable_size", "malloc_stats", "mallinfo2", "mallinfo",
           "cfree", "__libc_malloc", "__libc_free", "__libc_calloc",
           "__libc_realloc", "__libc_memalign", "__libc_valloc",
           "__libc_pvalloc"}

GLIBC_TESTS = ["malloc", "calloc", "realloc", "memalign", "posix_memalign",
               "aligned_alloc", "too_large", "free_errno"]


def program(name):
    path = os.path.join(BIN, name)
    if not os.path.exists(path) or not os.path.exists(LIB):
        raise kit.Skip("run `make libmm-test-deps` first")
    return path


def run_under(lib, args, env=None, timeout=60):
    """Runs args with lib preloaded (None: glibc's malloc)."""
    full = dict(env or {})
    if lib is not None:
        full["LD_PRELOAD"] = lib
    return kit.run(args, env=full, timeout=timeout)


def expect_ok(proc, lib, what):
    """The run passed, under the allocator it was meant to use."""
    want = os.path.basename(lib) if lib else "libc.so"
    kit.expect(proc.returncode == 0 and "ok: 0 failures" in proc.stdout,
               "%s failed" % what, proc)
    kit.expect(re.search(r"^allocator: .*%s" % re.escape(want), proc.stderr,
                         re.M), "%s: not run under %s" % (what, want), proc)


def stats_ops(text):
    """The ops of every `mm: arena` line, summed."""
    return sum(int(n) for n in re.findall(r"^mm: arena \d+: ops (\d+),",
                                          text, re.M))


def test_libmm_exports_the_malloc_api_and_nothing_else():
    program("glibc_tests")
    proc = kit.run(["nm", "-D", "--defined-only", LIB])
    names = set(re.findall(r" [TWi] (\S+)$", proc.stdout, re.M))
    kit.expect(names == EXPORTS, "exports: extra %s, missing %s"
               % (sorted(names - EXPORTS), sorted(EXPORTS - names)), proc)


def test_libmm_glibc_malloc_tests_under_libmm_and_under_glibc():
    exe = program("glibc_tests")
    for name in GLIBC_TESTS:
        for lib in (LIB, None):
            expect_ok(run_under(lib, [exe, name]), lib, "glibc_tests " + name)


def test_libmm_semantics_match_glibc_line_for_line():
    exe = program("glibc_tests")
    mine = run_under(LIB, [exe, "semantics"])
    glibc = run_under(None, [exe, "semantics"])
    kit.expect(mine.returncode == 0 and glibc.returncode == 0 and
               mine.stdout.count("\n") > 40, "semantics did not run", mine)
    kit.expect("libmm.so" in mine.stderr, "not under libmm", mine)
    diff = [(a, b) for a, b in zip(mine.stdout.splitlines(),
                                   glibc.stdout.splitlines()) if a != b]
    kit.expect(not diff and mine.stdout == glibc.stdout,
               "libmm differs from glibc (libmm, glibc): %s" % diff[:5])


def test_libmm_ttest_threads_random_sizes_remote_frees():
    proc = run_under(LIB, [program("ttest"), "8", "10000"],
                     env={"MM_STATS_AT_EXIT": "1"})
    expect_ok(proc, LIB, "ttest")
    remote = sum(int(n) for n in re.findall(r"remote frees (\d+)",
                                            proc.stderr))
    kit.expect(remote > 0, "the t-test freed no block of another arena",
               proc)


def test_libmm_ttest_under_thread_sanitizer_has_no_report():
    exe = program("ttest-tsan")
    proc = kit.run([exe, "4", "3000"], timeout=120)
    kit.expect(proc.returncode == 0 and "ok: 0 failures" in proc.stdout and
               "ThreadSanitizer" not in proc.stderr,
               "ttest-tsan: TSan reported (or the test failed)", proc)


def test_libmm_fork_deadlock():
    expect_ok(run_under(LIB, [program("threads"), "fork_deadlock"]), LIB,
              "fork_deadlock")


def test_libmm_ftest_fork_while_threads_allocate_and_fork_exec():
    proc = run_under(LIB, [program("threads"), "ftest"])
    expect_ok(proc, LIB, "ftest")
    kit.expect(proc.stdout.count("ok: 0 failures") == 6,
               "ftest: the 5 exec'd children did not all report", proc)


def test_libmm_thread_exit_leaves_blocks_valid():
    for lib in (LIB, None):
        expect_ok(run_under(lib, [program("threads"), "thread_exit"]), lib,
                  "thread_exit")


def test_libmm_aligned_blocks_freed_on_another_thread():
    for lib in (LIB, None):
        expect_ok(run_under(lib, [program("threads"), "aligned_remote"]), lib,
                  "aligned_remote")


def test_libmm_thread_fail_out_of_memory_on_threads():
    proc = run_under(LIB, [program("threads"), "thread_fail"],
                     env={"MM_HEAP_CEILING": "64M"})
    expect_ok(proc, LIB, "thread_fail")


def test_libmm_rss_follows_live_bytes():
    expect_ok(run_under(LIB, [program("threads"), "rss"]), LIB, "rss")


def test_libmm_large_calloc_and_realloc_resident_memory():
    # under the library and under glibc (the control: its behaviour)
    for name in ["calloc_sparse", "calloc_zeroes", "realloc_grow",
                 "realloc_move"]:
        for lib in [LIB, None]:
            expect_ok(run_under(lib, [program("rss"), name]), lib, name)


HARDENED = [("double_free", "free", "not allocated (double free?)"),
            ("double_free_small", "free", "not allocated (double free?)"),
            ("stack", "free", "not inside the heap"),
            ("static", "free", "not inside the heap"),
            ("mmap", "free", "not inside the heap"),
            ("misaligned", "free", "not 16-byte aligned"),
            ("interior", "free", "not allocated (double free?)"),
            ("corrupt_header", "free", "not allocated (double free?)"),
            ("corrupt_size", "free", "corrupted header"),
            ("realloc_freed", "realloc", "not allocated (double free?)")]


def test_libmm_hardened_free_aborts_with_one_line():
    exe = program("hardened")
    for case, call, why in HARDENED:
        proc = run_under(LIB, [exe, case])
        m = re.search(r"^pointer (0x[0-9a-f]+)$", proc.stdout, re.M)
        kit.expect(m is not None, "%s: no pointer printed" % case, proc)
        lines = [l for l in proc.stderr.splitlines()
                 if not l.startswith("allocator: ")]
        want = "mm: %s(): invalid pointer %s: %s" % (call, m.group(1), why)
        kit.expect(proc.returncode == -signal.SIGABRT and lines == [want],
                   "%s: want SIGABRT and exactly %r" % (case, want), proc)
        kit.expect("libmm.so" in proc.stderr, "%s: not under libmm" % case,
                   proc)


def test_libmm_glibc_heap_never_mixes():
    expect_ok(run_under(LIB, [program("mixing")]), LIB, "mixing")


def test_libmm_stats_at_exit_even_when_stderr_is_closed():
    exe = program("ttest")
    proc = run_under(LIB, [exe, "2", "1000"], env={"MM_STATS_AT_EXIT": "1"})
    kit.expect(stats_ops(proc.stderr) > 2000,
               "MM_STATS_AT_EXIT=1: no `mm: arena` lines", proc)
    quiet = run_under(LIB, [exe, "2", "1000"])
    kit.expect("mm: arena" not in quiet.stderr, "stats without asking", quiet)
    # sort (coreutils) closes stderr before exit: the lines still come.
    data = kit.write_temp("".join("%d\n" % (i * 7 % 1000) for i in range(1000)),
                          suffix=".txt")
    try:
        proc = run_under(LIB, ["sort", data], env={"MM_STATS_AT_EXIT": "1"})
    finally:
        os.unlink(data)
    kit.expect(proc.returncode == 0 and stats_ops(proc.stderr) > 0,
               "sort: no statistics at exit", proc)


def test_libmm_allocator_tests_under_ubsan():
    if not os.path.exists(UBSAN_LIB):
        raise kit.Skip("run `make libmm-test-deps` first")
    env = {"UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1"}
    runs = [[program("glibc_tests"), n] for n in GLIBC_TESTS]
    runs += [[program("ttest"), "4", "5000"],
             [program("threads"), "aligned_remote"],
             [program("threads"), "thread_exit"]]
    for args in runs:
        proc = run_under(UBSAN_LIB, args, env=env)
        expect_ok(proc, UBSAN_LIB, " ".join(args[1:]) + " under UBSan")
        kit.expect("runtime error" not in proc.stderr, "UBSan report", proc)


def test_libmm_allocator_tests_under_valgrind():
    if shutil.which("valgrind") is None:
        raise kit.Skip("no valgrind")
    # Memcheck replaces the malloc of every library that exports one (ours
    # has no soname: NONE would match it); a pattern that matches no library
    # leaves ours in place, and the statistics at exit prove that it ran.
    vg = ["valgrind", "-q", "--error-exitcode=99", "--trace-children=yes",
          "--soname-synonyms=somalloc=nouserintercepts"]
    for args in ([program("glibc_tests"), "realloc"],
                 [program("glibc_tests"), "memalign"],
                 [program("ttest"), "2", "800"]):
        proc = kit.run(vg + ["env", "LD_PRELOAD=" + LIB,
                             "MM_STATS_AT_EXIT=1"] + args, timeout=120)
        kit.expect(proc.returncode == 0 and "ok: 0 failures" in proc.stdout,
                   "%s under valgrind" % args[1:], proc)
        kit.expect(stats_ops(proc.stderr) > 0,
                   "%s under valgrind: libmm did not run" % args[1:], proc)
