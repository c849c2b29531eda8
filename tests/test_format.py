"""The kit's C sources follow the committed .clang-format (`make format` fixes)."""
import shutil
import subprocess

import kit


def test_c_sources_are_clang_formatted():
    if shutil.which("clang-format") is None:
        raise AssertionError("clang-format is missing: tools/setup.sh --test installs it")
    files = subprocess.run(["git", "ls-files", "*.c", "*.h"], cwd=kit.ROOT,
                           stdout=subprocess.PIPE, text=True).stdout.split()
    kit.expect(files, "git ls-files found no C sources")
    proc = kit.run(["clang-format", "--dry-run", "-Werror"] + files)
    bad = sorted({line.split(":")[0] for line in proc.stderr.splitlines()
                  if "-Wclang-format-violations" in line})
    kit.expect(proc.returncode == 0,
               "not clang-formatted (run `make format`): " + " ".join(bad))
