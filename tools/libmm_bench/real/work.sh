# A bash workload for the libmm benchmark (tools/bench_libmm.py).
# Usage: bash work.sh N
# Associative and indexed arrays, string substitutions, printf -v, a
# function, here-strings and a few command substitutions (forks) over N
# items; prints counts and a checksum computed by bash itself. The output
# depends only on N.
set -eu
n=$1
words=(alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo
       lima mike november oscar papa quebec romeo sierra tango)
declare -A count=() first=()
lines=()
seed=15213
rnd() { seed=$(( (seed * 1103515245 + 12345) % 2147483648 )); r=$(( seed % $1 )); }
for (( i = 0; i < n; i++ )); do
    rnd ${#words[@]}; w=${words[r]}
    rnd 1000; printf -v key 'k%04d' "$r"
    line="$key:${w^^}:${w//a/4}:$i"
    lines+=("$line")
    count[$w]=$(( ${count[$w]:-0} + 1 ))
    [[ -v first[$key] ]] || first[$key]=$i
done
sum=0
for line in "${lines[@]}"; do
    IFS=: read -r k up sub idx <<< "$line"
    (( sum = (sum * 31 + ${#up} * 7 + ${#sub} + idx) % 1000000007 ))
done
for (( i = 0; i < n; i += n / 10 + 1 )); do
    echo "sub $i: $(echo "${lines[i]}" | tr ':' ' ')"
done
for w in $(printf '%s\n' "${!count[@]}" | sort); do
    echo "$w ${count[$w]}"
done
echo "keys ${#first[@]} lines ${#lines[@]} sum $sum"
