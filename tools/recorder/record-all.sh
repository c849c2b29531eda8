#!/usr/bin/env bash
# Re-records every traces/real-*.rep from the workloads in
# tools/recorder/workloads/ (traces/RECORDED.md lists the same commands).
#   tools/recorder/record-all.sh            into traces/
#   tools/recorder/record-all.sh DIR        into DIR
# Needs gcc, python3, perl, sqlite3 and sort (apt-get install sqlite3).
set -eu
cd "$(dirname "$0")/../.."
out=${1:-traces}
mkdir -p "$out"
w=tools/recorder/workloads
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

tools/record -o "$out/real-python.rep" \
  --comment "real-python.rep: CPython 3 (default allocator, no site) running json, re and sorting" \
  -- env PYTHONHASHSEED=0 python3 -S $w/python_work.py >/dev/null
tools/record -o "$out/real-gcc.rep" --process cc1 \
  --comment "real-gcc.rep: cc1 (GCC's compiler proper) compiling a 35-line C file at -O0" \
  -- gcc -c -O0 -o "$tmp/sample.o" $w/sample.c
tools/record -o "$out/real-sqlite.rep" \
  --comment "real-sqlite.rep: sqlite3 building, indexing, joining and updating two tables in memory" \
  -- sqlite3 :memory: -init /dev/null ".read $w/sqlite_work.sql" >/dev/null
tools/record -o "$out/real-perl.rep" \
  --comment "real-perl.rep: perl building a hash of joined strings, sorting it by value, regex, deletes" \
  -- env PERL_HASH_SEED=0 PERL_PERTURB_KEYS=0 perl $w/perl_work.pl >/dev/null
python3 -c "for i in range(1, 20001): print((i * 7919) % 20011, 'line', i)" \
  > "$tmp/sort-input.txt"
tools/record -o "$out/real-sort.rep" \
  --comment "real-sort.rep: GNU sort on 20,000 generated lines with a 256 KiB buffer: few, large blocks" \
  -- sort -S 256K --parallel=1 -k3,3 -k1,1n -o "$tmp/sorted.txt" "$tmp/sort-input.txt"
python3 tools/reptrace.py check --balanced "$out"/real-*.rep
