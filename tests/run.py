#!/usr/bin/env python3
"""The kit's test runner: runs every test_* function of every tests/test_*.py.

Usage: python3 tests/run.py [-k SUBSTRING] [-v]
Prints PASS/FAIL/SKIP per test and ends with the line `N passed, N failed`
(and `, N skipped` when some were skipped). Exits non-zero on any failure.
"""
import argparse
import importlib.util
import inspect
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import kit  # noqa: E402


def load_modules():
    for name in sorted(os.listdir(HERE)):
        if name.startswith("test_") and name.endswith(".py"):
            spec = importlib.util.spec_from_file_location(name[:-3],
                                                          os.path.join(HERE, name))
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            yield module


def tests_of(module):
    funcs = [f for n, f in inspect.getmembers(module, inspect.isfunction)
             if n.startswith("test_") and f.__module__ == module.__name__]
    return sorted(funcs, key=lambda f: f.__code__.co_firstlineno)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-k", default="", help="run only tests whose name contains this")
    ap.add_argument("-v", action="store_true", help="print full tracebacks")
    args = ap.parse_args()
    passed = failed = skipped = 0
    for module in load_modules():
        for func in tests_of(module):
            name = "%s.%s" % (module.__name__, func.__name__)
            if args.k not in name:
                continue
            start = time.time()
            try:
                func()
            except kit.Skip as e:
                skipped += 1
                print("SKIP %s: %s" % (name, e), flush=True)
                continue
            except Exception as e:  # a failed assertion or anything else
                failed += 1
                print("FAIL %s (%.1fs)" % (name, time.time() - start))
                detail = traceback.format_exc() if args.v or not isinstance(
                    e, AssertionError) else str(e)
                for line in detail.rstrip().splitlines():
                    print("     " + line)
                sys.stdout.flush()
                continue
            passed += 1
            print("PASS %s (%.1fs)" % (name, time.time() - start), flush=True)
    tail = ", %d skipped" % skipped if skipped else ""
    print("%d passed, %d failed%s" % (passed, failed, tail))
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
