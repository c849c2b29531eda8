#!/usr/bin/env python3
"""The student handout: what goes in it, and the tarball (`make handout`).

Usage: python3 tools/grade_handout.py [-o build/malloclab-handout.tar.gz]
       python3 tools/grade_handout.py --list     the files, one a line

The handout (malloclab-handout/ inside the tarball) holds the driver,
memlib and mm.h (malloc/), the traces, the tools a student runs, the
driver's own tests with the broken allocators, a skeleton malloc/mm.c and a
README.md template (both from handout/), and a Makefile whose `make test`
runs the driver's tests and the lab's rules on the student's mm.c. Never
the reference malloc/mm.c nor tools/allocators/: tests/test_grade_handout.py
checks that no line of theirs is in the tarball.

As a module, manifest() gives {path in the handout: sha256}: tools/grade
hashes a submission's files against it (only malloc/mm.c and README.md may
differ).
"""
import argparse
import glob
import gzip
import hashlib
import io
import os
import sys
import tarfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOP = "malloclab-handout"

# (glob relative to the kit, excluding) -> the same path in the handout.
KIT_FILES = [
    "malloc/Makefile", "malloc/*.c", "malloc/*.h",
    "traces/*.rep", "traces/suite.txt", "traces/README.md",
    "tools/setup.sh", "tools/reptrace.py", "tools/tracestats.py",
    "tools/minimize.py", "tools/gen_traces.py", "tools/grade_rules.py",
    "tools/mm-gdb.py",
    "tests/run.py", "tests/kit.py", "tests/test_driver.py",
    "tests/test_driver_traces.py", "tests/broken/*.c", "tests/broken/*.h",
    "mk/driver.mk", "docs/driver.md", "docs/CONTRACTS.md", ".clang-format",
]
# Never in the handout: the answers.
EXCLUDED = {"malloc/mm.c"}
# Files of the handout that come from handout/ (template -> handout path).
TEMPLATES = {
    "handout/mm.c": "malloc/mm.c",
    "handout/README.md": "README.md",
    "handout/Makefile": "Makefile",
    "handout/tests/test_rules.py": "tests/test_rules.py",
}
# Files a student may change: the grader ignores their hashes.
STUDENT_FILES = {"malloc/mm.c", "README.md"}


def files():
    """[(source path relative to the kit, path in the handout)], sorted."""
    out = {}
    for pattern in KIT_FILES:
        for path in sorted(glob.glob(os.path.join(ROOT, pattern))):
            rel = os.path.relpath(path, ROOT)
            if rel not in EXCLUDED and os.path.isfile(path):
                out[rel] = rel
    for src, dst in TEMPLATES.items():
        out[src] = dst
    missing = [s for s in out if not os.path.isfile(os.path.join(ROOT, s))]
    if missing:
        raise SystemExit("grade_handout: missing kit files: %s" % missing)
    return sorted(out.items(), key=lambda p: p[1])


def _sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def manifest():
    """{path in the handout: sha256 of its content}."""
    return {dst: _sha256(os.path.join(ROOT, src)) for src, dst in files()}


def _add(tar, src, dst):
    """Adds one file with a fixed owner and time, so the tarball is the
    same bytes from the same sources."""
    path = os.path.join(ROOT, src)
    with open(path, "rb") as f:
        data = f.read()
    info = tarfile.TarInfo("%s/%s" % (TOP, dst))
    info.size = len(data)
    info.mode = 0o755 if os.access(path, os.X_OK) else 0o644
    info.mtime = 0
    info.uname = info.gname = "malloclab"
    tar.addfile(info, io.BytesIO(data))


def write(out):
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for src, dst in files():
            _add(tar, src, dst)
    with open(out, "wb") as f:
        f.write(gzip.compress(raw.getvalue(), mtime=0))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", default=os.path.join(ROOT, "build",
                                               "malloclab-handout.tar.gz"))
    ap.add_argument("--list", action="store_true", help="list the files")
    args = ap.parse_args()
    if args.list:
        for src, dst in files():
            print("%s\t<- %s" % (dst, src))
        return 0
    write(args.o)
    print("%s: %d files" % (os.path.relpath(args.o), len(files())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
