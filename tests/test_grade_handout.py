"""The student handout (`make handout`, tools/grade_handout.py): no line of
the answers in it, its skeleton builds warning-free and fails politely, and
its own `make test` passes once a correct allocator is dropped in."""
import glob
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile

import kit

sys.path.insert(0, kit.TOOLS)
import grade_handout  # noqa: E402

ANSWERS = ["malloc/mm.c"] + sorted(
    os.path.relpath(p, kit.ROOT)
    for p in glob.glob(os.path.join(kit.ROOT, "tools", "allocators", "*")))
MIN_LINE = 8  # shorter lines ("return 0;") say nothing about their origin


def _tracked_files():
    proc = kit.run(["git", "ls-files"])
    kit.expect(proc.returncode == 0, "git ls-files", proc)
    return [f for f in proc.stdout.splitlines()
            if os.path.isfile(os.path.join(kit.ROOT, f))]


def _lines(path):
    with open(os.path.join(kit.ROOT, path), errors="replace") as f:
        return {l.strip() for l in f if len(l.strip()) >= MIN_LINE}


def answer_lines():
    """Lines of the answers found nowhere else in the kit (the driver, the
    tools, the tests), nor as a declaration of mm.h: theirs alone."""
    common = set()
    for f in _tracked_files():
        if f not in ANSWERS and not f.startswith("handout/"):
            common |= _lines(f)
    common |= {l.rstrip(";") for l in _lines("malloc/mm.h")}
    own = set()
    for f in ANSWERS:
        own |= _lines(f)
    return own - common


def build_handout(tmp):
    path = os.path.join(tmp, "handout.tar.gz")
    proc = kit.run([sys.executable, os.path.join(kit.TOOLS,
                                                 "grade_handout.py"), "-o",
                    path])
    kit.expect(proc.returncode == 0, "grade_handout.py failed", proc)
    return path


def extract(tarball, dst):
    with tarfile.open(tarball) as t:
        t.extractall(dst, filter="data")
    return os.path.join(dst, grade_handout.TOP)


def answer_hits(tarball, theirs):
    """(the lines of `theirs` found in the tarball, its file names)."""
    hits, names = [], []
    with tarfile.open(tarball) as t:
        for m in t.getmembers():
            if m.isfile():
                names.append(m.name)
                text = t.extractfile(m).read().decode(errors="replace")
                hits += ["%s: %s" % (m.name, l.strip())
                         for l in text.splitlines() if l.strip() in theirs]
    return hits, names


def test_handout_holds_no_line_of_the_answers():
    theirs = answer_lines()
    kit.expect(len(theirs) > 500, "too few answer lines (%d): the check "
               "would prove nothing" % len(theirs))
    with tempfile.TemporaryDirectory() as tmp:
        hits, names = answer_hits(build_handout(tmp), theirs)
    kit.expect(not hits, "lines of the answers in the handout:\n  "
               + "\n  ".join(hits[:20]))
    for must in ("malloc/mm.c", "malloc/memlib.c", "malloc/mdriver.c",
                 "README.md", "Makefile", "traces/suite.txt",
                 "tests/test_rules.py", "tools/grade_rules.py"):
        kit.expect("%s/%s" % (grade_handout.TOP, must) in names,
                   "%s is not in the handout" % must)
    kit.expect(not any("allocators" in n for n in names),
               "tools/allocators/ is in the handout")


def test_the_answer_check_catches_a_copied_line():
    theirs = answer_lines()
    with open(os.path.join(kit.ROOT, "tools", "allocators",
                           "explicit_ff.c")) as f:
        copied = [l for l in f if l.strip() in theirs][5]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "t.tar.gz")
        src = os.path.join(tmp, "mm.c")
        with open(src, "w") as f:
            f.write("int x;\n" + copied)
        with tarfile.open(path, "w:gz") as t:
            t.add(src, "h/malloc/mm.c")
        hits, _ = answer_hits(path, theirs)
    kit.expect(hits == ["h/malloc/mm.c: %s" % copied.strip()],
               "a copied line of explicit_ff.c is not caught: %r" % hits)


def test_handout_is_the_same_bytes_twice():
    with tempfile.TemporaryDirectory() as tmp:
        a = build_handout(tmp)
        with open(a, "rb") as f:
            first = f.read()
        with open(build_handout(tmp), "rb") as f:
            kit.expect(f.read() == first, "the tarball differs between runs")


def test_skeleton_builds_without_warnings_and_fails_politely():
    with tempfile.TemporaryDirectory() as tmp:
        top = extract(build_handout(tmp), tmp)
        proc = kit.run(["make", "-C", "malloc"], cwd=top)
        kit.expect(proc.returncode == 0 and "warning" not in proc.stderr,
                   "the skeleton must build with -Werror", proc)
        proc = kit.run(["./mdriver", "-n", "-f", "short1-bal.rep"],
                       cwd=os.path.join(top, "malloc"))
        out = kit.output(proc)
        kit.expect(proc.returncode == 1 and "null return" in out
                   and "crashed" not in out and "line 7" in out,
                   "the skeleton's stubs are reported as errors", proc)


def test_handout_make_test_passes_with_a_correct_allocator():
    with tempfile.TemporaryDirectory() as tmp:
        top = extract(build_handout(tmp), tmp)
        shutil.copy(os.path.join(kit.TOOLS, "allocators", "explicit_ff.c"),
                    os.path.join(top, "malloc", "mm.c"))
        # as a student runs it: not inside the kit's own make
        env = {k: v for k, v in os.environ.items()
               if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
        proc = subprocess.run(["make", "test"], cwd=top, env=env,
                              timeout=900, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, errors="replace")
        summary = re.findall(r"^(\d+) passed, (\d+) failed", proc.stdout,
                             re.M)
        kit.expect(proc.returncode == 0 and len(summary) == 1
                   and summary[0][1] == "0" and int(summary[0][0]) > 30
                   and "PASS test_rules." in proc.stdout,
                   "the handout's make test with explicit_ff as mm.c", proc)
        # the skeleton itself fails the lab's rules test (its checker is
        # silent on a corrupted heap): the test can fail.
        shutil.copy(os.path.join(kit.ROOT, "handout", "mm.c"),
                    os.path.join(top, "malloc", "mm.c"))
        subprocess.run(["make", "-s", "-C", "malloc"], cwd=top,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        proc = kit.run([sys.executable, "tests/run.py", "-k", "test_rules"],
                       cwd=top)
        kit.expect(proc.returncode != 0 and "FAIL test_rules.test_checker"
                   in proc.stdout, "the rules test fails the skeleton", proc)
