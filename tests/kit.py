"""Shared helpers for the kit's tests (standard library only).

A test module is any tests/test_*.py; a test is any function in it whose
name starts with test_. A test passes when it returns, fails when it raises,
and is skipped when it raises kit.Skip (say why).
"""
import os
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MALLOC = os.path.join(ROOT, "malloc")
TRACES = os.path.join(ROOT, "traces")
TOOLS = os.path.join(ROOT, "tools")
BUILD = os.path.join(ROOT, "build")  # test-only binaries go here


class Skip(Exception):
    """Raised by a test that cannot run here; the message says why."""


def run(cmd, timeout=120, cwd=None, env=None, stdin=None):
    """Runs cmd (a list), returns CompletedProcess with text stdout/stderr."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    return subprocess.run(cmd, cwd=cwd or ROOT, env=full_env, timeout=timeout,
                          stdin=stdin if stdin is not None else subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, errors="replace")


def output(proc):
    """stdout and stderr of a finished process, as one string."""
    return proc.stdout + proc.stderr


def expect(cond, message, proc=None):
    """Fails the test with message (and the process's output) unless cond."""
    if not cond:
        if proc is not None:
            message += "\n--- exit %d, output:\n%s" % (proc.returncode,
                                                     output(proc)[-3000:])
        raise AssertionError(message)


def write_temp(text, suffix=".rep", binary=False):
    """Writes text to a new temporary file and returns its path."""
    fd, path = tempfile.mkstemp(suffix=suffix, prefix="mmtest-")
    with os.fdopen(fd, "wb" if binary else "w") as f:
        f.write(text)
    return path
