#!/usr/bin/env bash
# Benchmark: the cost of --dedup, in one run, for stompclt (RabbitMQ STOMP), amqpclt
# (RabbitMQ AMQP 1.0), mqttclt (Mosquitto, MQTT 5) and amsclt (the Pub/Sub emulator): N
# reliable 1 KiB messages queue → broker and broker → queue, without and with --dedup (the window beside the receiving
# spool, in a state directory for the sender), spools on tmpfs; then the window's memory at
# 1 000 000 ids. Beside them, the bound: the same messages each carrying an id where --dedup
# puts it (AMQP message-id, STOMP amqp-message-id, MQTT's user property and amsclt's
# attribute dedup-id), moved
# without --dedup: what the broker's carrying of an id costs, which no agent can avoid;
# and, receiving, what writing each message in two steps costs the spool (stage, then commit:
# no crash point may lose or duplicate a message while others pop the spool, see
# ARCHITECTURE.md), measured on the same tmpfs by dirq_bench. The bound is the rate with both
# (1 / (1 / with-ids + the staging's extra time an element)); "of bound" the agent against it.
# Usage: bench/dedup.sh [-n N] [-a "stompclt amqpclt mqttclt amsclt"] [-r ROUNDS]
# (rounds of the three modes in turn, 2 by default; the best rate of each is kept)
# Needs RabbitMQ (STOMP, AMQP 1.0), Mosquitto and the emulator listening (tests/brokers/
# starts them).
# Prints msg/s and the ratio with/without each way.
set -euo pipefail
cd "$(dirname "$0")/.."
n=100000 agents="stompclt amqpclt mqttclt amsclt" rounds=2
while [ $# -gt 0 ]; do
  case "$1" in
    -n) n=$2; shift 2 ;;
    -a) agents=$2; shift 2 ;;
    -r) rounds=$2; shift 2 ;;
    *) echo "usage: $0 [-n N] [-a AGENTS] [-r ROUNDS]" >&2; exit 2 ;;
  esac
done
cargo build -q --release -p stompclt -p amqpclt -p mqttclt -p amsclt -p dirq-cli -p transfer --examples --bins
bin=target/release
work=$(mktemp -d /dev/shm/dedup-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
# best KEY RATE: keeps the higher rate of KEY (rounds differ by the machine's noise)
best() { awk -v a="${rate[$1]:-0}" -v b="$2" 'BEGIN { exit !(b > a) }' && rate[$1]=$2 || true; }
stats_rate() { awk '/^processed/ { gsub(/[()]/, ""); print $(NF-2) * 1000 }'; }
auth="plain name=guest pass=guest"
# connect DIRECTION AGENT DEST: the broker options of one side
connect() {
  local d=$1
  case $2 in
    stompclt) echo "--$d-broker-uri stomp://127.0.0.1:61613 --$d-broker-connect host=/" ;;
    amqpclt) echo "--$d-broker-uri amqp://127.0.0.1:5672 --$d-broker-module amqp1" ;;
    amsclt) echo "--$d-broker-uri http://127.0.0.1:8085/v1/projects/bench" ;;
    # MQTT 5 (the id rides as a user property), a persistent session to receive from
    mqttclt)
      echo "--$d-broker-uri mqtt://127.0.0.1:1883"
      [ "$d" = outgoing ] || echo "--$d-broker-connect client-id=$3" ;;
  esac
}
auth_args() { [ "$2" = amsclt ] || [ "$2" = mqttclt ] || printf -- '--%s-broker-auth\n%s\n' "$1" "$auth"; }
printf '# --dedup benchmark: %d reliable 1 KiB messages per run, spools on tmpfs, best of %d rounds\n' "$n" "$rounds"
# the spool's extra time an element for writing in two steps, in seconds
"$bin/examples/dirq_bench" stage "$work" 50000 1100 > "$work/stage.json"
stage_extra=$(sed 's/.*"n":\([0-9]*\),"secs":\([0-9.]*\).*/\1 \2/' "$work/stage.json" |
  awk '{ n = $1; t[NR] = $2 } END { printf "%.9f", (t[2] - t[1]) / n }')
printf '# writing in two steps costs the spool %.1f µs more an element\n' "$(awk -v e="$stage_extra" 'BEGIN { print e * 1e6 }')"
printf '%-9s %-14s %8s %8s %8s %8s %8s %8s\n' agent direction plain with-ids dedup ratio bound "of bound"
for a in $agents; do
  declare -A rate=()
  # the header an agent's --dedup sends its ids in
  case $a in
    amqpclt) idh=message-id ;;
    stompclt) idh=amqp-message-id ;;
    *) idh=dedup-id ;;
  esac
  for mode in $(for _ in $(seq "$rounds"); do echo plain ids dedup; done); do
    tag=b$$-$a-$mode-$RANDOM
    case $a in
      amsclt)
        dest=$tag
        curl -sf -X PUT -H 'Content-Type: application/json' -d '{}' \
          "http://127.0.0.1:8085/v1/projects/bench/topics/$dest" > /dev/null
        curl -sf -X PUT -H 'Content-Type: application/json' \
          -d "{\"topic\":\"projects/bench/topics/$dest\",\"ackDeadlineSeconds\":60}" \
          "http://127.0.0.1:8085/v1/projects/bench/subscriptions/$dest" > /dev/null ;;
      # (subscribed before anything is published: MQTT keeps only what a session awaits)
      mqttclt)
        dest=bench/$tag
        "$bin/mqttclt" $(connect incoming mqttclt "$tag") --subscribe "topic=$dest qos=1" \
          --reliable --duration 1 --outgoing-queue type=NULL ;;
      *) dest=/queue/bench.$tag ;;
    esac
    sub="destination=$dest"
    [ "$a" = mqttclt ] && sub="topic=$dest qos=1"
    ids=()
    [ "$mode" = ids ] && ids=(--header-count 1 --header-name-prefix "$idh" --header-name-length 0
      --header-value-length 32 --header-value-entropy 1)
    "$bin/dirq" generate -p "$work/$tag.out" -t dqs -c "$n" --text 1 --body-length 1024 \
      --body-entropy 2 --header "destination=$dest" --header persistent=true "${ids[@]}" > /dev/null
    extra=()
    [ "$mode" = dedup ] && extra=(--dedup)
    mapfile -t oa < <(auth_args outgoing "$a")
    mapfile -t ia < <(auth_args incoming "$a")
    sender_state=()
    [ "$mode" = dedup ] && sender_state=(--dedup-state "$work/$tag.state")
    # shellcheck disable=SC2046
    r=$("$bin/$a" --incoming-queue "path=$work/$tag.out" --remove --reliable \
      --window 2000 $(connect outgoing "$a") "${oa[@]}" "${extra[@]}" "${sender_state[@]}" \
      --statistics | stats_rate)
    best "$mode.send" "$r"
    # shellcheck disable=SC2046
    r=$("$bin/$a" $(connect incoming "$a" "$tag") "${ia[@]}" --subscribe "$sub" \
      --reliable --prefetch 1000 --count "$n" --outgoing-queue "path=$work/$tag.in" "${extra[@]}" \
      --statistics | stats_rate)
    best "$mode.recv" "$r"
    rm -rf "$work/$tag".*
  done
  for dir in send recv; do
    label="queue -> broker"
    [ "$dir" = recv ] && label="broker -> queue"
    staging=0
    [ "$dir" = recv ] && staging=$stage_extra
    awk -v a="$a" -v l="$label" -v p="${rate[plain.$dir]}" -v i="${rate[ids.$dir]}" \
      -v d="${rate[dedup.$dir]}" -v e="$staging" 'BEGIN {
        b = 1 / (1 / i + e)
        printf "%-9s %-14s %8.0f %8.0f %8.0f %8.2f %8.2f %8.2f\n", a, l, p, i, d, d / p, b / p, d / b }'
  done
  unset rate
done
printf '# the window at 1 000 000 ids: '
"$bin/examples/dedup_memory" "$work/memory" 1000000
