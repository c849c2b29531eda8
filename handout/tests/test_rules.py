"""The lab's rules on YOUR malloc/mm.c (the handout's own test; the grader,
tools/grade, checks the same rules and more): no warning under gcc or
clang with the lab's flags, at most 256 bytes of statics, memory only from
memlib, no function-like macro but dbg_*, and mm_checkheap silent on a good
heap but speaking when a block's header is corrupted."""
import json
import os
import sys

import kit

sys.path.insert(0, kit.TOOLS)
import grade_rules  # noqa: E402

MM_C = os.path.join(kit.MALLOC, "mm.c")
MDRIVER = os.path.join(kit.MALLOC, "mdriver")


def test_lab_rules_on_mm_c():
    found = grade_rules.check_source(MM_C, kit.MALLOC)
    kit.expect(not found, "malloc/mm.c breaks the lab's rules:\n  "
               + "\n  ".join(found))


def test_checker_silent_on_a_good_heap_and_speaks_on_a_corrupted_one():
    proc = kit.run([MDRIVER, "-n", "-d", "1", "--probe-checker", "-j", "-",
                    "-f", kit.write_temp(grade_rules.probe_trace())])
    kit.expect(proc.returncode == 0, "mm.c fails the probe trace", proc)
    probe = json.loads(proc.stdout)["traces"][0]["checker_probe"]
    kit.expect(probe == "ok", "mm_checkheap probe: %s (it must print nothing "
               "on a good heap, and speak when the word before a live "
               "payload is flipped)" % probe, proc)
