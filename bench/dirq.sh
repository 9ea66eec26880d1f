#!/usr/bin/env bash
# Benchmark: this crate against python dirq 1.8, same machine, same run, same directory.
# Usage: bench/dirq.sh [-d DIR] [-n N] [-s SIZE] [-r RUNS] [--million]
#   -d DIR     where the queues go (default: a new temp dir; try /dev/shm for tmpfs)
#   -n N       elements per run (default 10000), -s SIZE body bytes (default 1024)
#   -r RUNS    runs per implementation; medians are reported (default 3)
#   --million  also time count and purge of 1 000 000 Simple elements
# Prints, per kind and phase, the median rate of each and the ratio rust/python; then the
# floor (examples/dirq_floor: only the system calls of the crate's add and take, measured in
# the same run) beside the library (dirq_bench) and the `dirq` command adding and popping a
# Simple queue, and their ratios to it.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="" n=10000 size=1024 runs=3 million=0
while [ $# -gt 0 ]; do
  case "$1" in
    -d) dir=$2; shift 2 ;;
    -n) n=$2; shift 2 ;;
    -s) size=$2; shift 2 ;;
    -r) runs=$2; shift 2 ;;
    --million) million=1; shift ;;
    *) echo "usage: $0 [-d DIR] [-n N] [-s SIZE] [-r RUNS] [--million]" >&2; exit 2 ;;
  esac
done
scripts/setup-python.sh >&2
py=.venv/bin/python
cargo build -q --release -p dirq --example dirq_bench --example dirq_floor
cargo build -q --release -p dirq-cli
rust=target/release/examples/dirq_bench floor=target/release/examples/dirq_floor cmd=target/release/dirq
work=$(mktemp -d "${dir:-${TMPDIR:-/tmp}}/dirq-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
fs=$(stat -f -c %T "$work")
echo "# dirq benchmark: N=$n, size=$size, runs=$runs, filesystem $fs ($work)"
results=$work/results.jsonl
for kind in simple normal; do
  for r in $(seq "$runs"); do
    # alternate the order so neither side always runs on a warmer cache
    if [ $((r % 2)) -eq 1 ]; then order="rust python"; else order="python rust"; fi
    for impl in $order; do
      d=$work/$kind-$impl-$r; mkdir -p "$d"
      if [ "$impl" = rust ]; then "$rust" "$kind" "$d" "$n" "$size"
      else "$py" bench/dirq_bench.py "$kind" "$d" "$n" "$size"; fi |
        sed "s/^{/{\"kind\":\"$kind\",/" >> "$results"
      rm -rf "$d"
    done
  done
done
# the floor, the library and the command, in turn, at least seven rounds (best of each),
# of at least 50 000 elements (shorter phases are all noise here)
fn=$(( n < 50000 ? 50000 : n ))
awk -v n="$fn" -v s="$size" 'BEGIN { l = sprintf("%*s", s - 1, ""); gsub(/ /, "A", l)
  for (i = 0; i < n; i++) print l }' > "$work/lines"
ms() { date +%s%N; }
for r in $(seq "$(( runs < 7 ? 7 : runs ))"); do
  d=$work/floor-$r; mkdir -p "$d"
  "$floor" "$d" "$fn" "$size" | sed 's/^{/{"kind":"floor",/' >> "$results"
  "$rust" simple "$d" "$fn" "$size" | grep -E '"(add|consume)"' |
    sed 's/^{/{"kind":"floor",/; s/"impl":"rust"/"impl":"library"/' >> "$results"
  # what reading the command's input costs alone (cat, 128 KiB reads): part of its bound
  t0=$(ms); cat "$work/lines" > /dev/null; t1=$(ms)
  awk -v n="$fn" -v a="$t0" -v b="$t1" 'BEGIN { s = (b - a) / 1e9
    printf "{\"kind\":\"floor\",\"impl\":\"input\",\"phase\":\"add\",\"n\":%d,\"secs\":%.6f,\"rate\":%.1f}\n", n, s, n / s }' >> "$results"
  t0=$(ms); "$cmd" add -p "$d/cmd" --lines -q < "$work/lines"; t1=$(ms)
  "$cmd" pop -p "$d/cmd" -c 0 --lines > /dev/null; t2=$(ms)
  [ -z "$(find "$d/cmd" -type f)" ] || { echo "dirq pop left elements" >&2; exit 1; }
  for x in "add $t0 $t1" "consume $t1 $t2"; do
    set -- $x
    awk -v p="$1" -v n="$fn" -v a="$2" -v b="$3" 'BEGIN { s = (b - a) / 1e9
      printf "{\"kind\":\"floor\",\"impl\":\"command\",\"phase\":\"%s\",\"n\":%d,\"secs\":%.6f,\"rate\":%.1f}\n", p, n, s, n / s }'
  done >> "$results"
  rm -rf "$d"
done
if [ "$million" = 1 ]; then
  m=$work/million; mkdir -p "$m"
  cargo build -q --release -p dirq-cli
  echo "# filling a Simple queue with 1 000 000 elements (one directory per second)"
  seq 1000000 | target/release/dirq add -p "$m/q" --lines -q --granularity 1
  for r in $(seq "$runs"); do
    "$rust" count-purge simple "$m/q" | sed 's/^{/{"kind":"simple-1M",/' >> "$results"
    "$py" bench/dirq_bench.py count-purge simple "$m/q" | sed 's/^{/{"kind":"simple-1M",/' >> "$results"
  done
fi
"$py" bench/ratios.py "$results"
