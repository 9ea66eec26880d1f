#!/usr/bin/env bash
# Benchmark: mqttclt against a minimal raw client on the same codecs (window of 100
# PUBLISHes awaiting their PUBACK; receiving with a PUBACK each; no spool), the same client
# doing a spool's minimal work besides (raw+sp: from and into DQS spools, mqttclt's mapping:
# the ceiling of an agent with a spool) and against
# mosquitto_pub -l / mosquitto_sub, in one run, on Mosquitto: queue → broker and
# broker → queue of N 1 KiB messages at QoS 1 (mqttclt --reliable), the spool on tmpfs.
# Received messages wait in a persistent session made beforehand. mosquitto_pub -l exits at
# the end of its input without sending everything (measured: a third of 100 000 arrive): its
# rate counts what arrived, and the line before the table says how many.
# Then, from the same run, what the host allows any agent that keeps the spool: the spool
# alone (dirq_bench floor), and per message the spool's, the broker's and the raw client's own
# CPU added up against the host's cores.
# Usage: bench/mqttclt.sh [-n N] [-r ROUNDS]
# With -r, raw+sp and mqttclt run ROUNDS times in turn and each keeps its best round: the
# machine's noise only ever slows a run down, and the two compared see the same moments.
# Starts Mosquitto with tests/brokers/ if none listens on 1883 (and stops it). Prints msg/s
# and the ratios mqttclt/raw, mqttclt/raw+sp and mqttclt/mosquitto-clients.
set -euo pipefail
cd "$(dirname "$0")/.."
n=100000 rounds=1
while [ $# -gt 0 ]; do
  case "$1" in
    -n) n=$2; shift 2 ;;
    -r) rounds=$2; shift 2 ;;
    *) echo "usage: $0 [-n N] [-r ROUNDS]" >&2; exit 2 ;;
  esac
done
cargo build -q --release -p mqttclt -p dirq-cli -p dirq --examples --bins
bin=target/release
export MQTT_DATA=${MQTT_DATA:-/tmp/msgtk-brokers/mosquitto}
addr=127.0.0.1:1883
started=0
work=$(mktemp -d /dev/shm/mqttclt-bench.XXXXXX)
cleanup() {
  rm -rf "$work" "${cpu_file:-}" "${cpu_file:-}.a"
  [ "$started" = 1 ] && tests/brokers/stop-mosquitto.sh > /dev/null 2>&1 || true
}
trap cleanup EXIT
if ! (exec 3<>"/dev/tcp/127.0.0.1/1883") 2> /dev/null; then
  tests/brokers/start-mosquitto.sh > /dev/null
  started=1
fi
rate() { sed -n 's/.*"rate": *\([0-9.]*\).*/\1/p'; }
. bench/cores.sh
. bench/rounds.sh
stats_rate() { awk '/^processed/ { gsub(/[()]/, ""); print $(NF-2) * 1000 }'; }
t=bench/$$
awk -v n="$n" 'BEGIN { s = sprintf("%1024s", ""); gsub(/ /, "x", s); for (i = 0; i < n; i++) print s }' \
  > "$work/lines"
printf '# mqttclt benchmark: %d 1 KiB messages per run, QoS 1, reliable, spool on tmpfs\n' "$n"
printf '%-14s %10s %10s %10s %10s %8s %7s %8s %7s %5s\n' direction raw raw+sp mqttclt mosquitto "mq/raw" "mq/sp" "mq/mosq" broker agent
# a persistent session per client, made before anything is published
"$bin/examples/mqtt_raw" session "$addr" "$t/raw" "bench-raw-$$"
"$bin/examples/mqtt_raw" session "$addr" "$t/sp" "bench-sp-$$"
"$bin/mqttclt" --incoming-broker-uri "mqtt://$addr" --reliable --subscribe "topic=$t/am qos=1" \
  --incoming-broker-connect "client-id=bench-am-$$" --duration 1 --outgoing-queue type=NULL
for c in mosq pub; do
  timeout 5 mosquitto_sub -h 127.0.0.1 -p 1883 -t "$t/$c" -q 1 -c -i "bench-$c-$$" -E
done
timed "$(cat "$MQTT_DATA/mosquitto.pid")" "$bin/examples/mqtt_raw" send "$addr" "$t/raw" "$n" 1024 100 > "$work/out"
raw_send=$(rate < "$work/out") rbroker_send=$cores rcpu_send=$agent
# mosquitto_pub -l stops at the end of its input without waiting for what it has not sent
# yet: its rate counts what arrived in its session
s0=$(date +%s.%N)
mosquitto_pub -h 127.0.0.1 -p 1883 -t "$t/pub" -q 1 -l < "$work/lines"
s1=$(date +%s.%N)
got=$( (timeout 60 mosquitto_sub -h 127.0.0.1 -p 1883 -t "$t/pub" -q 1 -c -i "bench-pub-$$" \
  -C "$n" -W 10 2> /dev/null || true) | grep -c '^x' || true)
mq_send=$(awk -v a="$s0" -v b="$s1" -v g="$got" 'BEGIN { printf "%.1f", g / (b - a) }')
timed "$(cat "$MQTT_DATA/mosquitto.pid")" "$bin/examples/mqtt_raw" recv "$addr" "$t/raw" "$n" "bench-raw-$$" > "$work/out"
raw_recv=$(rate < "$work/out") rbroker_recv=$cores rcpu_recv=$agent
# raw+sp and mqttclt, each way, in turn for each round; each keeps its best
sp_send=0 sp_recv=0 am_send=0 am_recv=0
for round in $(seq "$rounds"); do
  messages "$work/spool" "$t/am"
  messages "$work/rawspool" "$t/sp"
  r=$("$bin/examples/mqtt_raw" send "$addr" "$t/sp" "$n" 1024 100 "spool=$work/rawspool" | rate)
  sp_send=$(best "$sp_send" "$r")
  timed "$(cat "$MQTT_DATA/mosquitto.pid")" "$bin/mqttclt" --incoming-queue "path=$work/spool" --remove --reliable --window 100 \
    --outgoing-broker-uri "mqtt://$addr" --statistics > "$work/out"
  r=$(stats_rate < "$work/out")
  if [ "$(best "$am_send" "$r")" != "$am_send" ]; then am_send=$r cores_send=$cores agent_send=$agent; fi
  r=$("$bin/examples/mqtt_raw" recv "$addr" "$t/sp" "$n" "bench-sp-$$" "spool=$work/rawinbox" | rate)
  sp_recv=$(best "$sp_recv" "$r")
  rm -rf "$work/rawinbox" "$work/rawspool"
  timed "$(cat "$MQTT_DATA/mosquitto.pid")" "$bin/mqttclt" --incoming-broker-uri "mqtt://$addr" --reliable \
    --subscribe "topic=$t/am qos=1" --incoming-broker-connect "client-id=bench-am-$$" \
    --count "$n" --outgoing-queue "path=$work/inbox" --statistics > "$work/out"
  r=$(stats_rate < "$work/out")
  if [ "$(best "$am_recv" "$r")" != "$am_recv" ]; then am_recv=$r cores_recv=$cores agent_recv=$agent; fi
  rm -rf "$work/inbox" "$work/spool"
done
# mosquitto_sub drains a session the raw client filled (all n there)
"$bin/examples/mqtt_raw" send "$addr" "$t/mosq" "$n" 1024 100 > /dev/null
r0=$(date +%s.%N)
mosquitto_sub -h 127.0.0.1 -p 1883 -t "$t/mosq" -q 1 -c -i "bench-mosq-$$" -C "$n" > /dev/null
r1=$(date +%s.%N)
mq_recv=$(awk -v a="$r0" -v b="$r1" -v n="$n" 'BEGIN { printf "%.1f", n / (b - a) }')
[ "$got" -lt "$n" ] && printf '# mosquitto_pub -l delivered %d of %d messages (it exits at the end of its input)\n' "$got" "$n"
for dir in send recv; do
  eval "r=\$raw_$dir sp=\$sp_$dir s=\$am_$dir m=\$mq_$dir c=\$cores_$dir a=\$agent_$dir"
  label="queue→broker"; [ "$dir" = recv ] && label="broker→queue"
  awk -v l="$label" -v r="$r" -v sp="$sp" -v s="$s" -v m="$m" -v c="$c" -v a="$a" 'BEGIN {
    printf "%-14s %10.0f %10.0f %10.0f %10.0f %7.0f%% %6.2fx %8.2f %7.2f %5.2f\n", l, r, sp, s, m, 100 * s / r, s / sp, s / m, c, a }'
done
# the ceiling the spool itself sets on this host, measured now: the raw client keeps no spool
spool_floor "$n" "$work"
printf '# the spool alone, no messaging (dirq_bench floor): adding %.0f msg/s on one core, %.0f on two;\n' "$floor_add1" "$floor_add2"
printf '#   taking (lock, read, remove) %.0f on one core, %.0f on two\n' "$floor_take1" "$floor_take2"
awk -v rs="$raw_send" -v rr="$raw_recv" -v s="$am_send" -v r="$am_recv" -v t1="$floor_take1" -v t2="$floor_take2" \
  -v a1="$floor_add1" -v a2="$floor_add2" 'BEGIN {
  printf "#   mqttclt sends at %.0f%% of the one-core taking rate, receives at %.0f%% of the one-core adding rate\n", 100 * s / t1, 100 * r / a1
  printf "#   the spool alone on both cores is %.0f%% (sending) and %.0f%% (receiving) of the raw client\n", 100 * t2 / rs, 100 * a2 / rr }'
# The most any agent keeping this spool could reach on this host: per message, the spool's
# work at its one-thread rate (the cheapest per core), the broker's at its cheaper measured
# cost (serving the raw client or mqttclt) and the raw client's own MQTT work (the least an
# MQTT client on these codecs does), all sharing the host's cores.
printf '# per message, in core-microseconds: spool + broker + the raw client'"'"'s own work; the most that allows on %d cores\n' "$(nproc)"
for dir in send recv; do
  eval "rr=\$raw_$dir rb=\$rbroker_$dir rc=\$rcpu_$dir s=\$am_$dir mb=\$cores_$dir"
  f=$floor_take1 label="queue→broker"
  [ "$dir" = recv ] && f=$floor_add1 label="broker→queue"
  awk -v l="$label" -v rr="$rr" -v rb="$rb" -v rc="$rc" -v s="$s" -v mb="$mb" -v f="$f" -v p="$(nproc)" 'BEGIN {
    spool = 1e6 / f; broker = 1e6 * rb / rr; if (1e6 * mb / s < broker) broker = 1e6 * mb / s
    client = 1e6 * rc / rr; max = p * 1e6 / (spool + broker + client)
    printf "#   %s: %.1f + %.1f + %.1f = %.1f us: at most %.0f msg/s, %.0f%% of the raw client\n",
      l, spool, broker, client, spool + broker + client, max, 100 * max / rr }'
done
