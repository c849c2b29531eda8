# A git workload for the libmm benchmark (tools/bench_libmm.py).
# Usage: bash git.sh N DIR
# In a fresh DIR (removed first): git init, then N commits, each changing
# and adding files, then git log with the stat of every commit and a
# diff. Identity, dates and configuration are fixed (no user or system
# config is read), so the output, commit hashes included, depends only
# on N.
set -eu
n=$1 dir=$2
rm -rf "$dir"
mkdir -p "$dir"
cd "$dir"
export HOME="$dir" GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export GIT_AUTHOR_NAME=Kit GIT_AUTHOR_EMAIL=kit@example.org
export GIT_COMMITTER_NAME=Kit GIT_COMMITTER_EMAIL=kit@example.org
export GIT_AUTHOR_DATE='2026-01-01T00:00:00+0000'
export GIT_COMMITTER_DATE='2026-01-01T00:00:00+0000'
git init -q -b main .
for (( c = 1; c <= n; c++ )); do
    seq "$c" $(( c * 3 + 4000 )) | split -l 200 -d -a 2 - file
    mkdir -p "dir$(( c % 5 ))"
    printf 'commit %d\n' "$c" > "dir$(( c % 5 ))/note$c.txt"
    git add -A
    git commit -q -m "commit $c: $(( c * 20 )) lines changed"
done
git log --stat --format='%H %an <%ae> %ad%n%s' --date=iso-strict
git diff HEAD~1 -- file03
git count-objects | sed 's/, [0-9]* kilobytes//'
