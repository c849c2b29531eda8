"""The arena mode of malloc/mm.c (-DMM_ARENAS, docs/design.md "Arena mode"):
the lab's rules in the arena build, single-threaded stress and the trace
suite in the arena build, the multi-threaded stress harness
(tests/checker/stress_mt.c) with 2, 4 and 8 threads, under ThreadSanitizer
and under helgrind; the thread caches case by case (tests/checker/cache_mt.c,
also under ThreadSanitizer). The checker's negative tests for invariants
15 to 17 are in test_allocator.py (corrupt-arenas).

Binaries come from mk/allocator.mk (`make test-deps`) under build/allocator/.
"""
import os
import re
import shutil
import tempfile

import kit
import test_allocator as alloc

ARENA_FLAGS = ["-DMM_ARENAS"]


def test_arena_build_static_data_at_most_256_bytes():
    # The thread-local binding is counted too (nm shows .tbss as 'b').
    with tempfile.TemporaryDirectory() as tmp:
        obj = os.path.join(tmp, "mm.o")
        proc = alloc.compile_mm("gcc", ARENA_FLAGS, obj)
        kit.expect(proc.returncode == 0, "compile failed", proc)
        total, names = alloc.static_data_bytes(obj)
        kit.expect("thread_arena" in names,
                   "the thread-local binding is not seen by nm: %s" % names)
        kit.expect(total <= alloc.STATIC_LIMIT, "arena build: %d bytes of "
                   "static data (limit %d): %s"
                   % (total, alloc.STATIC_LIMIT, " ".join(names)))


def test_arena_build_uses_no_memory_function_but_memlib():
    with tempfile.TemporaryDirectory() as tmp:
        obj = os.path.join(tmp, "mm.o")
        kit.expect(alloc.compile_mm("gcc", ARENA_FLAGS, obj).returncode == 0,
                   "compile failed")
        undefined = set(alloc.grade_rules.undefined_symbols(obj))
        kit.expect({"mem_sbrk", "pthread_key_create"} <= undefined,
                   "arena build: mem_sbrk or pthread_key_create not used?")
        bad = sorted(undefined & set(alloc.FORBIDDEN))
        kit.expect(not bad, "arena build calls forbidden functions: %s" % bad)


def test_arena_build_single_threaded_stress():
    alloc._stress("arenas", range(1, 21), 4000)
    alloc._stress("arenas", range(1, 11), 4000, foreign=50)
    alloc._stress("arenas-debug2", range(1, 6), 3000, foreign=37)


def test_arena_build_suite_checkheap_every_op():
    proc = kit.run([alloc.binary("mdriver-arenas"), "-t", kit.TRACES, "-n",
                    "-d", "2"], timeout=180)
    alloc.suite_ok(proc, "mdriver-arenas -d 2 -n")


def stress_mt(variant, seed, threads, ops, rounds=4, slots=256, env=None,
              prefix=()):
    cmd = list(prefix) + [alloc.binary("stress_mt-" + variant), str(seed),
                          str(threads), str(ops), str(rounds), str(slots)]
    proc = kit.run(cmd, timeout=300, env=env)
    out = proc.stdout
    kit.expect(proc.returncode == 0 and "ops ok" in out,
               "stress_mt-%s seed %d, %d threads failed"
               % (variant, seed, threads), proc)
    m = re.search(r"\((\d+) cross-thread frees, (\d+) cross-thread reallocs",
                  out)
    kit.expect(m is not None and int(m.group(1)) > 0 and int(m.group(2)) > 0,
               "stress_mt-%s: no cross-thread free or realloc" % variant, proc)
    return proc


def test_stress_mt_2_4_8_threads():
    for threads in (2, 4, 8):
        for seed in (1, 2, 3):
            stress_mt("gcc", seed, threads, 40000)


def test_stress_mt_arena_per_call():
    # sched_getcpu() at every call: threads move between arenas, so most
    # frees are remote; mm_stats must count them.
    env = dict(os.environ, STRESS_MT_STATS="1")
    for threads in (2, 4, 8):
        proc = stress_mt("getcpu", 1, threads, 40000, env=env)
    remote = sum(int(n) for n in
                 re.findall(r"(\d+) remote frees", proc.stdout))
    arenas = re.findall(r"^stress_mt: arena (\d+):", proc.stdout, re.M)
    kit.expect(arenas, "mm_stats printed no arena", proc)
    kit.expect(len(arenas) == 1 or remote > 0,
               "several arenas but no remote free counted", proc)


def test_stress_mt_idle_arenas_first():
    # -DMM_ARENA_IDLE: a new thread claims an arena no live thread is bound
    # to (a count per arena, claimed by an exchange); also under TSan.
    for threads in (2, 4, 8):
        stress_mt("idle", 1, threads, 40000)
    for threads in (2, 4):
        tsan_clean(stress_mt("tsan-idle", 1, threads, 20000),
                   "stress_mt-tsan-idle, %d threads" % threads)


def test_stress_mt_checkheap_every_call():
    # MM_DEBUG=2: each call checks its own arena, under its lock.
    for threads in (2, 8):
        stress_mt("debug2", 1, threads, 4000, rounds=2, slots=64)


def tsan_clean(proc, what):
    kit.expect("WARNING: ThreadSanitizer" not in proc.stderr,
               what + ": ThreadSanitizer reported a race", proc)


def test_stress_mt_under_thread_sanitizer():
    for variant in ("tsan", "tsan-getcpu"):
        for threads in (2, 4, 8):
            proc = stress_mt(variant, threads, threads, 20000)
            tsan_clean(proc, "stress_mt-%s %d threads" % (variant, threads))


def test_stress_mt_under_helgrind():
    if shutil.which("valgrind") is None:
        raise AssertionError("valgrind is missing: tools/setup.sh --test")
    # A short run: helgrind serializes the threads and is ~100x slower.
    # Its build (stress_mt-helgrind) has the spinlock but no thread cache:
    # helgrind takes the caches' lock-free stores (relaxed atomics: plain
    # moves) for races; the ThreadSanitizer runs above check the caches.
    prefix = ["valgrind", "--tool=helgrind", "-q", "--error-exitcode=99"]
    for threads in (2, 4):
        proc = stress_mt("helgrind", 1, threads, 3000, rounds=2, slots=64,
                         prefix=prefix)
        kit.expect("Possible data race" not in proc.stderr and
                   "lock order" not in proc.stderr,
                   "helgrind reported a problem", proc)


def cache_mt(case, exe="cache_mt"):
    return kit.run([alloc.binary(exe), case], timeout=120)


def cache_case_passes(case):
    """The case passes in the gcc build and, with 0 reports, under TSan."""
    for exe in ("cache_mt", "cache_mt-tsan"):
        proc = cache_mt(case, exe)
        kit.expect(proc.returncode == 0 and case + " ok" in proc.stdout,
                   "%s %s failed" % (exe, case), proc)
        tsan_clean(proc, "%s %s" % (exe, case))


def test_thread_exits_with_a_full_cache_while_its_blocks_live_on():
    # tests/checker/cache_mt.c: its cache leaves the root's list, the
    # blocks it handed over keep their payloads; mm_checkheap after each step.
    cache_case_passes("exit-full")


def test_cross_thread_free_with_caches():
    # A producer thread's blocks of every cached size freed by a consumer
    # thread; mm_stats counts every op (the caches count theirs unlocked).
    cache_case_passes("cross-free")


def double_free_aborts(case, what):
    """cache_mt CASE must abort in mm_free, saying the block is not
    allocated."""
    proc = cache_mt(case)
    kit.expect(proc.returncode != 0 and re.search(
        r"^mm: free\(\): invalid pointer 0x[0-9a-f]+: not allocated",
        proc.stderr, re.M) is not None and "ok" not in proc.stdout,
               "a free of a block in %s must abort" % what, proc)


def test_free_of_a_block_in_another_threads_cache_aborts():
    double_free_aborts("double-free-other", "another thread's cache")


def test_remote_frees_from_many_threads_in_batches():
    # tests/checker/cache_mt.c: 4 threads free each other's blocks (of
    # another arena: remote batches), payloads checked; mm_checkheap with
    # batches pending (invariant 18) and after the threads exited with
    # them; mm_stats' remote frees equal those made.
    cache_case_passes("remote-many")


def test_free_of_a_block_in_a_remote_batch_aborts():
    double_free_aborts("double-free-remote", "a remote batch")


def test_frees_of_a_thread_without_a_cache_go_to_the_inbox():
    # A thread that only frees (no cache): its frees go onto the owner's
    # inbox (invariant 19 with it pending), mm_stats counts them, and the
    # owner's next mallocs take them back without growing the heap.
    cache_case_passes("free-only")


def test_fork_while_a_remote_batch_is_pending():
    cache_case_passes("fork-remote")


def test_cache_mt_bad_usage():
    proc = cache_mt("no-such-case")
    kit.expect(proc.returncode == 2 and "unknown case" in proc.stderr,
               "cache_mt with an unknown case must say so and exit 2", proc)


def test_stress_mt_bad_usage():
    proc = kit.run([alloc.binary("stress_mt-gcc"), "1", "0"])
    kit.expect(proc.returncode == 2 and "bad argument '0'" in proc.stderr,
               "stress_mt with 0 threads must say so and exit 2", proc)


def regions_mt(*args):
    return kit.run([alloc.binary("regions_mt")] + [str(a) for a in args],
                   timeout=120)


def test_regions_growing_block_with_threads_of_two_arenas():
    # tests/checker/regions_mt.c: threads pinned to different CPUs and bound
    # to different arenas grow one block each by realloc, in turn, so that
    # every growth finds another arena's region at the break. Before the
    # regions grew with the request (a realloc took a new region of
    # exactly what it lacked, one per step), 2 threads ran out of the
    # 100 MB heap (514 regions per arena); now 30% (docs/bench-mt.md).
    for threads in (2, 4):
        proc = regions_mt("growing", threads, 1360, 25)
        out = proc.stdout
        kit.expect(proc.returncode == 0, "regions_mt growing %d threads "
                   "failed (util floor 25%%)" % threads, proc)
        arenas = re.findall(r"arena (\d+): regions (\d+)", out)
        if len(os.sched_getaffinity(0)) >= 2:
            kit.expect(len(arenas) >= 2, "regions_mt: the threads did not "
                       "use two arenas", proc)
        kit.expect(all(int(r) <= 16 for _, r in arenas),
                   "regions_mt: an arena took more than 16 regions", proc)


def test_regions_mt_bad_usage():
    proc = regions_mt("growing", 0, 10)
    kit.expect(proc.returncode == 2 and "THREADS" in proc.stderr,
               "regions_mt with 0 threads must say so and exit 2", proc)


def bind_mt(case):
    """Runs tests/checker/bind_mt.c's case: it must print "CASE ok" and
    exit 0 (a skip, 77, where the process may not run on two CPUs)."""
    proc = kit.run([alloc.binary("bind_mt"), case], timeout=120)
    if proc.returncode == 77:
        raise kit.Skip(proc.stdout.strip())
    kit.expect(proc.returncode == 0 and case + " ok" in proc.stdout,
               "bind_mt %s failed" % case, proc)


def test_thread_meeting_contention_moves_to_its_cpus_arena():
    # tests/checker/bind_mt.c: a thread pinned to arena 2's CPU but bound
    # to arena 1 (as a new thread is, bound on its creator's CPU) waits for
    # arena 1's lock: it is bound to arena 2 before the lock is released,
    # and its next malloc comes from arena 2 (its cache moved); a thread
    # on its own arena's CPU stays. No timing: the main thread holds the
    # lock until it sees the move (or gives up after 60 s).
    bind_mt("contention")


def test_new_thread_claims_an_idle_arena_else_its_cpus():
    # tests/checker/bind_mt.c join: a new thread on arena 2's CPU makes its
    # CPU's arena 2 (arena 1 has the main thread); once that thread exited,
    # a new thread on arena 1's CPU claims arena 2 (made, idle) instead of
    # sharing arena 1.
    bind_mt("join")


def test_bind_mt_bad_usage():
    proc = kit.run([alloc.binary("bind_mt"), "no-such-case"])
    kit.expect(proc.returncode == 2 and "usage" in proc.stderr,
               "bind_mt with an unknown case must say so and exit 2", proc)
