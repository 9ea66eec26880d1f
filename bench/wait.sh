#!/usr/bin/env bash
# Benchmark: the latency from `dirq add` to the element leaving the queue, with inotify
# (the default) and with the polling it replaces (DIRQ_WAIT=poll) in the same run: a
# `dirq pop --wait` consumer and a queue → queue `stompclt --loop`; median and 99th
# percentile over N adds at random intervals; and the CPU time an idle `stompclt --loop`
# uses over S seconds. Queues on tmpfs.
# Usage: bench/wait.sh [-n N] [-s SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
n=1000 secs=60
while [ $# -gt 0 ]; do
  case "$1" in
    -n) n=$2; shift 2 ;;
    -s) secs=$2; shift 2 ;;
    *) echo "usage: $0 [-n N] [-s SECONDS]" >&2; exit 2 ;;
  esac
done
scripts/setup-python.sh >&2
py=.venv/bin/python
cargo build -q --release -p stompclt -p dirq-cli
bin=$PWD/target/release
work=$(mktemp -d /dev/shm/wait-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
printf '# wait benchmark: %d adds at random intervals (0-20 ms); idle CPU over %s s\n' "$n" "$secs"
printf '%-26s %12s %12s\n' consumer median_ms p99_ms
for how in inotify poll; do
  export DIRQ_WAIT=$how
  [ "$how" = inotify ] && unset DIRQ_WAIT
  r=$("$py" bench/wait_bench.py pop "$bin/dirq" "$work/pop-$how" "$n")
  printf '%-26s %12.1f %12.1f\n' "dirq pop --wait ($how)" \
    "$(echo "$r" | sed 's/.*"median_ms": \([0-9.e-]*\).*/\1/')" "$(echo "$r" | sed 's/.*"p99_ms": \([0-9.e-]*\).*/\1/')"
  r=$("$py" bench/wait_bench.py agent "$bin/stompclt" "$work/in-$how" "$work/out-$how" "$n")
  printf '%-26s %12.1f %12.1f\n' "stompclt --loop ($how)" \
    "$(echo "$r" | sed 's/.*"median_ms": \([0-9.e-]*\).*/\1/')" "$(echo "$r" | sed 's/.*"p99_ms": \([0-9.e-]*\).*/\1/')"
  r=$("$py" bench/wait_bench.py idle "$bin/stompclt" "$work/idle-$how" "$work/idle-out-$how" "$secs")
  printf '%-26s %12s\n' "idle CPU s ($how)" "$(echo "$r" | sed 's/.*"cpu_s": \([0-9.e-]*\).*/\1/')"
done
