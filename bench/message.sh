#!/usr/bin/env bash
# Benchmark: the message crate against python messaging 1.2, same machine, same run, same
# messages (1 KiB bodies, 5 header fields; a mix of compressible text, printable binary and
# random binary, made by the crate's generator).
# Usage: bench/message.sh [-d DIR] [-n N] [-r RUNS]
#   -d DIR   where the queues go (default: a new temp dir; /dev/shm for tmpfs)
#   -n N     messages (default 10000); -r RUNS runs per implementation (default 3)
# Prints encode+decode rates per compression and DQS/DQN add and consume rates, with the
# ratio rust/python.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="" n=10000 runs=3
while [ $# -gt 0 ]; do
  case "$1" in
    -d) dir=$2; shift 2 ;;
    -n) n=$2; shift 2 ;;
    -r) runs=$2; shift 2 ;;
    *) echo "usage: $0 [-d DIR] [-n N] [-r RUNS]" >&2; exit 2 ;;
  esac
done
scripts/setup-python.sh >&2
py=.venv/bin/python
cargo build -q --release -p message --example message_bench
rust=target/release/examples/message_bench
work=$(mktemp -d "${dir:-${TMPDIR:-/tmp}}/message-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "# message benchmark: N=$n, runs=$runs, queues on $(stat -f -c %T "$work") ($work)"
"$rust" make "$work/messages" "$n"
results=$work/results.jsonl
for r in $(seq "$runs"); do
  "$rust" codec "$work/messages" 3 >> "$results"
  "$py" bench/message_bench.py codec "$work/messages" 3 >> "$results"
  mkdir -p "$work/q$r"
  "$py" bench/message_bench.py queue "$work/messages" "$work/q$r" >> "$results"
  "$rust" queue "$work/messages" "$work/q$r" >> "$results"
  rm -rf "$work/q$r"
done
"$py" bench/ratios.py "$results"
