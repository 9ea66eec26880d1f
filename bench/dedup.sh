#!/usr/bin/env bash
# Benchmark: the cost of --dedup, in one run, for stompclt (RabbitMQ STOMP), amqpclt
# (RabbitMQ AMQP 1.0) and amsclt (the Pub/Sub emulator): N reliable 1 KiB messages queue →
# broker and broker → queue, without and with --dedup (the window beside the receiving
# spool, in a state directory for the sender), spools on tmpfs; then the window's memory at
# 1 000 000 ids.
# Usage: bench/dedup.sh [-n N] [-a "stompclt amqpclt amsclt"]
# Needs RabbitMQ (STOMP, AMQP 1.0) and the emulator listening (tests/brokers/ starts them).
# Prints msg/s and the ratio with/without each way.
set -euo pipefail
cd "$(dirname "$0")/.."
n=100000 agents="stompclt amqpclt amsclt"
while [ $# -gt 0 ]; do
  case "$1" in
    -n) n=$2; shift 2 ;;
    -a) agents=$2; shift 2 ;;
    *) echo "usage: $0 [-n N] [-a AGENTS]" >&2; exit 2 ;;
  esac
done
cargo build -q --release -p stompclt -p amqpclt -p amsclt -p dirq-cli -p transfer --examples --bins
bin=target/release
work=$(mktemp -d /dev/shm/dedup-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
stats_rate() { awk '/^processed/ { gsub(/[()]/, ""); print $(NF-2) * 1000 }'; }
auth="plain name=guest pass=guest"
# connect DIRECTION AGENT DEST: the broker options of one side
connect() {
  local d=$1
  case $2 in
    stompclt) echo "--$d-broker-uri stomp://127.0.0.1:61613 --$d-broker-connect host=/" ;;
    amqpclt) echo "--$d-broker-uri amqp://127.0.0.1:5672 --$d-broker-module amqp1" ;;
    amsclt) echo "--$d-broker-uri http://127.0.0.1:8085/v1/projects/bench" ;;
  esac
}
auth_args() { [ "$2" = amsclt ] || printf -- '--%s-broker-auth\n%s\n' "$1" "$auth"; }
printf '# --dedup benchmark: %d reliable 1 KiB messages per run, spools on tmpfs\n' "$n"
printf '%-9s %-14s %10s %10s %8s\n' agent direction plain dedup ratio
for a in $agents; do
  declare -A rate=()
  for mode in plain dedup; do
    tag=b$$-$a-$mode
    case $a in
      amsclt)
        dest=$tag
        curl -sf -X PUT -H 'Content-Type: application/json' -d '{}' \
          "http://127.0.0.1:8085/v1/projects/bench/topics/$dest" > /dev/null
        curl -sf -X PUT -H 'Content-Type: application/json' \
          -d "{\"topic\":\"projects/bench/topics/$dest\",\"ackDeadlineSeconds\":60}" \
          "http://127.0.0.1:8085/v1/projects/bench/subscriptions/$dest" > /dev/null ;;
      *) dest=/queue/bench.$tag ;;
    esac
    "$bin/dirq" generate -p "$work/$tag.out" -t dqs -c "$n" --text 1 --body-length 1024 \
      --body-entropy 2 --header "destination=$dest" --header persistent=true > /dev/null
    extra=()
    [ "$mode" = dedup ] && extra=(--dedup)
    mapfile -t oa < <(auth_args outgoing "$a")
    mapfile -t ia < <(auth_args incoming "$a")
    sender_state=()
    [ "$mode" = dedup ] && sender_state=(--dedup-state "$work/$tag.state")
    # shellcheck disable=SC2046
    rate[$mode.send]=$("$bin/$a" --incoming-queue "path=$work/$tag.out" --remove --reliable \
      --window 2000 $(connect outgoing "$a") "${oa[@]}" "${extra[@]}" "${sender_state[@]}" \
      --statistics | stats_rate)
    # shellcheck disable=SC2046
    rate[$mode.recv]=$("$bin/$a" $(connect incoming "$a") "${ia[@]}" --subscribe "destination=$dest" \
      --reliable --prefetch 1000 --count "$n" --outgoing-queue "path=$work/$tag.in" "${extra[@]}" \
      --statistics | stats_rate)
  done
  for dir in send recv; do
    label="queue -> broker"
    [ "$dir" = recv ] && label="broker -> queue"
    printf '%-9s %-14s %10.0f %10.0f %8.2f\n' "$a" "$label" "${rate[plain.$dir]}" "${rate[dedup.$dir]}" \
      "$(awk -v a="${rate[dedup.$dir]}" -v b="${rate[plain.$dir]}" 'BEGIN { print a / b }')"
  done
  unset rate
done
printf '# the window at 1 000 000 ids: '
"$bin/examples/dedup_memory" "$work/memory" 1000000
