#!/usr/bin/env bash
# Installs what the kit needs on a fresh Debian machine, and nothing when it
# is all there already. Called by `make run`, `make test` and `make bench`.
#   tools/setup.sh            what building and running needs
#   tools/setup.sh --test     also what the tests need
#   tools/setup.sh --bench    also the mallocs tools/bench_libmm.py compares
#                             (it calls this itself)
set -eu
need=(gcc:gcc make:make python3:python3)
if [ "${1:-}" = "--test" ]; then
  # chromium: headless, for the browser test of mdriver --heap-map.
  # sqlite3, git, perl, bash, sort: the real programs run under libmm.so
  # (tests/test_libmm_programs.py).
  need+=(clang:clang clang-format:clang-format valgrind:valgrind gdb:gdb
         chromium:chromium sqlite3:sqlite3 git:git perl:perl bash:bash
         sort:coreutils)
fi
missing=()
for pair in "${need[@]}"; do
  cmd=${pair%%:*} pkg=${pair##*:}
  command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
done
# The other mallocs of the libmm benchmark: libraries, not commands.
if [ "${1:-}" = "--bench" ]; then
  for pkg in libjemalloc2 libtcmalloc-minimal4 libmimalloc2.0; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' ||
      missing+=("$pkg")
  done
fi
# valgrind/memcheck.h lets memlib tell memcheck about the heap's limits.
if [ "${1:-}" = "--test" ] && [ ! -f /usr/include/valgrind/memcheck.h ]; then
  missing+=(valgrind)
fi
[ ${#missing[@]} -eq 0 ] && exit 0
echo "setup: installing ${missing[*]}"
if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup: ERROR: no apt-get here; install these by hand: ${missing[*]}" >&2
  exit 1
fi
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${missing[@]}" libc6-dev >/dev/null
