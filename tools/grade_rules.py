"""The lab's rules on one mm.c, shared by tools/grade and the handout's tests.

Usage (as a module): import grade_rules; each check returns a list of
violations, one string each, that quotes its evidence (the compiler's first
warning, the symbol and its size, the macro's line...); an empty list means
the rule holds.

    compile_warnings(cc, mm_c, include_dir)   gcc or clang, the lab's flags
    static_data(obj, limit)                   nm -S: statics over the limit
    static_symbols(obj)                       nm -S: each static, its size
    forbidden_symbols(obj, names, prefixes)   nm -u: memory from outside memlib
    function_like_macros(text)                 #define NAME( other than dbg_*
    readme_missing_sections(text)              the design sections of README.md

As a command (what the handout's `make test` runs through tests/):
    python3 tools/grade_rules.py [MM_C [INCLUDE_DIR]]
(default malloc/mm.c, its own directory for mm.h) prints every violation and exits 1 when there is one.
"""
import os
import re
import subprocess
import sys
import tempfile

# The lab's flags: what the kit's malloc/Makefile compiles mm.c with
# (-DDRIVER as the peer kit does), without -Werror: every warning is shown.
LAB_CFLAGS = ["-std=gnu99", "-Wall", "-Wextra", "-O2", "-g", "-DDRIVER"]
STATIC_LIMIT = 256
# Memory from outside memlib, and the driver's own memlib calls. The grader
# reads its lists from tools/grade_policy.json; these are the defaults.
FORBIDDEN_SYMBOLS = [
    "malloc", "calloc", "realloc", "free", "reallocarray", "posix_memalign",
    "aligned_alloc", "memalign", "valloc", "pvalloc", "strdup", "strndup",
    "asprintf", "vasprintf", "mmap", "mmap64", "munmap", "mremap", "mprotect",
    "sbrk", "brk", "syscall", "dlsym", "dlopen", "dlvsym",
    "mem_init", "mem_deinit", "mem_reset_brk", "mem_reset_peak",
    "mem_set_max_heap", "mem_set_timing_mode"]
FORBIDDEN_PREFIXES = ["__libc_"]

# The README's design sections: (heading words, what the section must say).
DESIGN_SECTIONS = [
    ("Block layout", "the header (and footer) words, bit by bit"),
    ("Minimum block size", "the smallest block and why"),
    ("Prologue and epilogue", "the heap's ends and the first mem_sbrk"),
    ("Primitives", "pseudo-code of the helpers"),
    ("Invariants", "each invariant and how mm_checkheap detects it"),
    ("Placement policies", "the fit policies implemented"),
    ("Coalescing", "phase 4 (optional)"),
]
# A section whose body still holds this text was not written.
TEMPLATE_MARK = "TODO(design)"

_MACRO = re.compile(r"^[ \t]*#[ \t]*define[ \t]+(\w+)\(", re.M)


def _run(cmd, timeout=60):
    return subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, errors="replace",
                          timeout=timeout)


def compile_warnings(cc, mm_c, include_dir, obj=None, timeout=60):
    """Compiles mm_c with the lab's flags (no -Werror: every warning is
    reported); returns (violations, compiled), obj written when given."""
    out = obj or os.devnull
    try:
        proc = _run([cc] + LAB_CFLAGS + ["-I", include_dir, "-c", mm_c, "-o",
                                         out], timeout)
    except FileNotFoundError:
        return ["%s is not installed: cannot check its warnings" % cc], False
    except subprocess.TimeoutExpired:
        return ["%s: compiling mm.c took over %ds" % (cc, timeout)], False
    text = proc.stderr.strip()
    if proc.returncode != 0:
        first = next((l for l in text.splitlines() if "error" in l), text[:300])
        return ["%s: mm.c does not compile: %s" % (cc, first.strip())], False
    warnings = [l.strip() for l in text.splitlines() if "warning:" in l]
    if warnings or text:
        return ["%s %s: %d warning(s), the first: %s" % (
            cc, " ".join(LAB_CFLAGS), len(warnings) or 1,
            (warnings or text.splitlines())[0])], True
    return [], True


def _nm(args, obj):
    proc = _run(["nm"] + args + [obj])
    if proc.returncode != 0:
        raise RuntimeError("nm %s failed: %s" % (obj, proc.stderr.strip()))
    return proc.stdout


def static_symbols(obj):
    """The statics of mm.o as (name, bytes): nm -S's initialized, zeroed,
    read-only and thread-local data with a size (string constants have
    none)."""
    found = []
    for line in _nm(["-S"], obj).splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[2] in "bBdDgGsSrRvV":
            found.append((parts[3], int(parts[1], 16)))
    return found


def static_data(obj, limit=STATIC_LIMIT):
    """Statics of mm.o (static_symbols) over `limit` bytes in total."""
    found = static_symbols(obj)
    total = sum(size for _, size in found)
    if total <= limit:
        return []
    found.sort(key=lambda p: -p[1])
    return ["%d bytes of static data (limit %d): %s" % (
        total, limit, ", ".join("%s %d B" % p for p in found[:8]))]


def undefined_symbols(obj):
    """The symbols mm.o uses but does not define (nm -u), versions cut."""
    return sorted({l.split()[-1].split("@")[0] for l in
                   _nm(["-u"], obj).splitlines() if l.strip()})


def forbidden_symbols(obj, names=None, prefixes=None):
    """Forbidden undefined symbols of mm.o, one violation each."""
    names = set(FORBIDDEN_SYMBOLS if names is None else names)
    prefixes = FORBIDDEN_PREFIXES if prefixes is None else prefixes
    return ["calls %s (nm -u mm.o): %s" % (
        s, "a driver-only memlib call" if s.startswith("mem_")
        else "memory or system calls from outside memlib")
        for s in undefined_symbols(obj)
        if s in names or any(s.startswith(p) for p in prefixes)]


def function_like_macros(text):
    """Function-like macros other than dbg_*, with their line numbers."""
    found = []
    for m in _MACRO.finditer(text):
        if not m.group(1).startswith("dbg_"):
            line = text.count("\n", 0, m.start()) + 1
            found.append("function-like macro %s on line %d of mm.c (use a "
                         "static inline function)" % (m.group(1), line))
    return found


def _sections(text):
    """{heading text: body} of the markdown headings (#, ##, ###)."""
    parts = re.split(r"^#{1,3}[ \t]+(.*)$", text, flags=re.M)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def readme_missing_sections(text):
    """Design sections missing from README.md, or still the template's."""
    if text is None:
        return ["README.md is missing: it holds the design document"]
    sections = _sections(text)
    missing = []
    for title, what in DESIGN_SECTIONS:
        body = next((b for h, b in sections.items()
                     if title.lower() in h.lower()), None)
        words = len(re.findall(r"\w+", body or ""))
        if body is None:
            missing.append("README.md has no section '%s' (%s)" % (title, what))
        elif TEMPLATE_MARK in body or words < 5:
            missing.append("README.md section '%s' is not written yet (%s)"
                           % (title, what))
    return missing


# The probe trace of mdriver --probe-checker: blocks of many sizes, a third
# of them freed, the rest live at the end (the probe corrupts one of them).
def probe_trace():
    ops = ["a %d %d" % (i, 8 + 37 * i) for i in range(24)]
    ops += ["f %d" % i for i in range(0, 24, 3)]
    ops += ["r 1 700", "c 3 10 12"]
    return "# checker probe trace (tools/grade_rules.py)\n20000\n24\n%d\n1\n%s\n" \
        % (len(ops), "\n".join(ops))


def check_source(mm_c, include_dir):
    """Every rule that needs no driver run, on one mm.c: the violations."""
    violations = []
    with tempfile.TemporaryDirectory(prefix="grade-rules-") as tmp:
        obj = os.path.join(tmp, "mm.o")
        found, ok = compile_warnings("gcc", mm_c, include_dir, obj)
        violations += found
        violations += compile_warnings("clang", mm_c, include_dir)[0]
        if ok:
            violations += static_data(obj) + forbidden_symbols(obj)
    with open(mm_c, errors="replace") as f:
        violations += function_like_macros(f.read())
    return violations


def main(argv):
    mm_c = argv[1] if len(argv) > 1 else os.path.join("malloc", "mm.c")
    include = argv[2] if len(argv) > 2 else os.path.dirname(
        os.path.abspath(mm_c))
    found = check_source(mm_c, include)
    for v in found:
        print("violation: %s" % v)
    print("%s: %d violation(s) of the lab's rules" % (mm_c, len(found)))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
