#!/usr/bin/env bash
# Benchmark: consume from all (one stompclt, all:(RabbitMQ,ActiveMQ)) against the manual setup
# it replaces (two stompclt processes side by side, one per broker), in one run: N persistent
# 1 KiB messages in reliable mode, half on each broker, drained into queues on tmpfs. Each
# setup runs R times, alternating; wall time from the agents' start to the last one's end.
# Usage: bench/scaleout.sh [-n N] [-r R]
# Starts the brokers with tests/brokers/ (and stops those it started). Prints msg/s and the
# ratio one process / two processes.
set -euo pipefail
cd "$(dirname "$0")/.."
n=100000 rounds=2
while [ $# -gt 0 ]; do
  case "$1" in
    -n) n=$2; shift 2 ;;
    -r) rounds=$2; shift 2 ;;
    *) echo "usage: $0 [-n N] [-r R]" >&2; exit 2 ;;
  esac
done
cargo build -q --release -p stompclt -p dirq-cli
bin=target/release
export RMQ_DATA=${RMQ_DATA:-/tmp/msgtk-brokers/rabbitmq} AMQ_DATA=${AMQ_DATA:-/tmp/msgtk-brokers/activemq}
started=()
work=$(mktemp -d /dev/shm/scaleout-bench.XXXXXX)
cleanup() {
  rm -rf "$work"
  for b in "${started[@]}"; do "tests/brokers/stop-$b.sh" > /dev/null 2>&1 || true; done
}
trap cleanup EXIT
for b in rabbitmq:61613 activemq:61614; do
  if ! (exec 3<>"/dev/tcp/127.0.0.1/${b#*:}") 2> /dev/null; then
    "tests/brokers/start-${b%:*}.sh" > /dev/null
    started+=("${b%:*}")
  fi
done
auth=(--incoming-broker-auth "plain name=guest pass=guest" --incoming-broker-connect host=/)
half=$((n / 2))
now() { date +%s.%N; }
# N/2 messages for $dest on each broker
fill() {
  for port in 61613 61614; do
    "$bin/dirq" generate -p "$work/spool" -t dqs -c "$half" --text 1 --body-length 1024 --body-entropy 2 \
      --header "destination=$dest" --header persistent=true
    "$bin/stompclt" --incoming-queue "path=$work/spool" --remove --reliable --window 1000 --batch 100 \
      --outgoing-broker-uri "stomp://127.0.0.1:$port" --outgoing-broker-auth "plain name=guest pass=guest" \
      --outgoing-broker-connect host=/
    rm -rf "$work/spool"
  done
}
consume() { # URI COUNT INBOX
  "$bin/stompclt" --incoming-broker-uri "$1" "${auth[@]}" --subscribe "destination=$dest" --reliable \
    --prefetch 1000 --count "$2" --outgoing-queue "path=$3"
}
printf '# consume from all: %d persistent 1 KiB messages, half on RabbitMQ, half on ActiveMQ\n' "$n"
printf '%-6s %12s %12s %8s\n' round "two procs" "one all:" "one/two"
for r in $(seq 1 "$rounds"); do
  dest=/queue/bench.scaleout.$$.$r
  fill
  t0=$(now)
  consume stomp://127.0.0.1:61613 "$half" "$work/in1" &
  p1=$!
  consume stomp://127.0.0.1:61614 "$half" "$work/in2" &
  p2=$!
  wait "$p1" "$p2"
  two=$(awk -v n="$n" -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.0f", n / (b - a) }')
  [ "$("$bin/dirq" count -p "$work/in1")" = "$half" ] && [ "$("$bin/dirq" count -p "$work/in2")" = "$half" ]
  rm -rf "$work/in1" "$work/in2"
  fill
  t0=$(now)
  consume "all:(stomp://127.0.0.1:61613,stomp://127.0.0.1:61614)" "$n" "$work/in"
  one=$(awk -v n="$n" -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.0f", n / (b - a) }')
  [ "$("$bin/dirq" count -p "$work/in")" = "$n" ]
  rm -rf "$work/in"
  awk -v r="$r" -v t="$two" -v o="$one" 'BEGIN { printf "%-6s %10d/s %10d/s %8.2f\n", r, t, o, o / t }'
done
