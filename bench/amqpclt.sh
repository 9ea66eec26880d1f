#!/usr/bin/env bash
# Benchmark: amqpclt against a minimal raw client (the broker's ceiling), the same client
# doing a spool's minimal work besides (raw+sp: the ceiling of an agent with a spool, from and
# into DQS spools, amqpclt's mapping) and a Python peer, in one run, queue → broker and broker → queue of N durable 1 KiB messages in reliable mode, the
# queue on tmpfs. AMQP 1.0 on RabbitMQ's listener ("rabbitmq") and the Qpid Proton C broker
# ("proton"): raw fe2o3-amqp (up to 1000 unsettled sends awaiting Accepted; credit 1000,
# accepting each), python3-qpid-proton + python messaging. AMQP 0-9-1 on RabbitMQ
# ("rabbitmq091"): raw lapin (publisher confirms, up to 1000 unconfirmed; prefetch 1000, an
# ack each), pika + python messaging (tests/python/pika_peer.py: a confirm per publish).
# Over 0-9-1 the raw client runs twice: with bare messages (a body and a delivery mode) and
# with the messages amqpclt publishes for the same spool (the reference's mapping: headers
# table, timestamp, content type, mandatory), which cost RabbitMQ more per message; the
# "raw=msg" rows compare amqpclt with the latter.
# Usage: bench/amqpclt.sh [-n N] [-b "rabbitmq proton rabbitmq091"] [-r ROUNDS]
# With -r, raw+sp and amqpclt run ROUNDS times in turn and each keeps its best round: the
# machine's noise only ever slows a run down, and the two compared see the same moments.
# Starts the brokers with tests/brokers/ (and stops those it started). Prints msg/s, the
# ratios amqpclt/raw, amqpclt/raw+sp and amqpclt/python, and the broker's busy cores during the amqpclt run;
# then amqpclt --batch 100 receiving (a multiple ack per 100 over 0-9-1, dispositions
# accepting ranges of 100 over AMQP 1.0) against the naive raw client accepting or acking
# each delivery.
set -euo pipefail
cd "$(dirname "$0")/.."
n=100000 which="rabbitmq proton rabbitmq091" rounds=1
while [ $# -gt 0 ]; do
  case "$1" in
    -n) n=$2; shift 2 ;;
    -b) which=$2; shift 2 ;;
    -r) rounds=$2; shift 2 ;;
    *) echo "usage: $0 [-n N] [-b BROKERS] [-r ROUNDS]" >&2; exit 2 ;;
  esac
done
scripts/setup-python.sh >&2
if ! /usr/bin/python3 -c 'import proton' 2> /dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-qpid-proton > /dev/null
fi
# Debian's interpreter (python3-qpid-proton) with python messaging from the .venv
py() { PYTHONPATH=$(echo .venv/lib/python3*/site-packages) /usr/bin/python3 "$@"; }
cargo build -q --release -p amqpclt -p dirq-cli --examples --bins
bin=target/release
export RMQ_DATA=${RMQ_DATA:-/tmp/msgtk-brokers/rabbitmq} PROTON_DATA=${PROTON_DATA:-/tmp/msgtk-brokers/proton}
started=()
work=$(mktemp -d /dev/shm/amqpclt-bench.XXXXXX)
cleanup() {
  rm -rf "$work" "${cpu_file:-}" "${cpu_file:-}.a"
  for b in "${started[@]}"; do "tests/brokers/stop-$b.sh" > /dev/null 2>&1 || true; done
}
trap cleanup EXIT
rate() { sed -n 's/.*"rate": *\([0-9.]*\).*/\1/p'; }
. bench/cores.sh
. bench/rounds.sh
broker_pid() {
  case $1 in
    proton) cat "$PROTON_DATA/proton-broker.pid" ;;
    *) cat "$RMQ_DATA/beam.pid" ;;
  esac
}
stats_rate() { awk '/^processed/ { gsub(/[()]/, ""); print $(NF-2) * 1000 }'; }
printf '# amqpclt benchmark: %d durable 1 KiB messages per run, reliable, queues on tmpfs\n' "$n"
printf '%-11s %-14s %10s %10s %10s %10s %8s %7s %8s %7s %5s\n' broker direction raw raw+sp amqpclt python "am/raw" "am/sp" "am/py" broker agent
for b in $which; do
  case $b in
    rabbitmq) port=5672 user=guest pass=guest script=rabbitmq module=amqp1 ;;
    proton) port=5673 user=- pass=- script=proton-broker module=amqp1 ;;
    rabbitmq091) port=5672 user=guest pass=guest script=rabbitmq module=pika ;;
    *) echo "unknown broker $b" >&2; exit 2 ;;
  esac
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2> /dev/null; then
    "tests/brokers/start-$script.sh" > /dev/null
    started+=("$script")
  fi
  url="amqp://127.0.0.1:$port" auth=()
  if [ "$user" != - ]; then
    url="amqp://$user:$pass@127.0.0.1:$port" auth=(plain "name=$user" "pass=$pass")
  fi
  oconn=(--outgoing-broker-module "$module" --outgoing-broker-uri "amqp://127.0.0.1:$port")
  iconn=(--incoming-broker-module "$module" --incoming-broker-uri "amqp://127.0.0.1:$port")
  if [ "$user" != - ]; then
    oconn+=(--outgoing-broker-auth "${auth[*]}") iconn+=(--incoming-broker-auth "${auth[*]}")
  fi
  dest=/queue/bench.$$.$b
  messages "$work/spool" "$dest" persistent
  cp -a "$work/spool" "$work/spool.py"
  # raw ceiling, both directions (its own address)
  if [ "$module" = pika ]; then
    queue=${dest#/queue/}
    raw_send=$("$bin/examples/lapin_raw" send "127.0.0.1:$port" "$user" "$pass" "$queue.raw" "$n" 1024 | rate)
    raw_recv=$("$bin/examples/lapin_raw" recv "127.0.0.1:$port" "$user" "$pass" "$queue.raw" "$n" 1000 | rate)
    rawm_send=$("$bin/examples/lapin_raw" send "127.0.0.1:$port" "$user" "$pass" "$queue.raw" "$n" 1024 mapped | rate)
    rawm_recv=$("$bin/examples/lapin_raw" recv "127.0.0.1:$port" "$user" "$pass" "$queue.raw" "$n" 1000 | rate)
  else
    raw_send=$("$bin/examples/amqp_raw" send "127.0.0.1:$port" "$user" "$pass" "$dest.raw" "$n" 1024 1000 | rate)
    raw_recv=$("$bin/examples/amqp_raw" recv "127.0.0.1:$port" "$user" "$pass" "$dest.raw" "$n" 1000 | rate)
  fi
  # the same clients with the spool's minimal work (from a spool of their own, into
  # another), and amqpclt, in turn for each round; each keeps its best
  sp_send=0 sp_recv=0 am_send=0 am_recv=0
  for round in $(seq "$rounds"); do
    if [ "$round" -gt 1 ]; then
      messages "$work/spool" "$dest" persistent
    fi
    messages "$work/rawspool" "$dest.sp" persistent
    if [ "$module" = pika ]; then
      r=$("$bin/examples/lapin_raw" send "127.0.0.1:$port" "$user" "$pass" "$queue.sp" "$n" 1024 "spool=$work/rawspool" | rate)
      sp_send=$(best "$sp_send" "$r")
      r=$("$bin/examples/lapin_raw" recv "127.0.0.1:$port" "$user" "$pass" "$queue.sp" "$n" 1000 "spool=$work/rawinbox" | rate)
      sp_recv=$(best "$sp_recv" "$r")
    else
      r=$("$bin/examples/amqp_raw" send "127.0.0.1:$port" "$user" "$pass" "$dest.sp" "$n" 1024 1000 "spool=$work/rawspool" | rate)
      sp_send=$(best "$sp_send" "$r")
      r=$("$bin/examples/amqp_raw" recv "127.0.0.1:$port" "$user" "$pass" "$dest.sp" "$n" 1000 "spool=$work/rawinbox" | rate)
      sp_recv=$(best "$sp_recv" "$r")
    fi
    rm -rf "$work/rawspool" "$work/rawinbox"
    timed "$(broker_pid "$b")" "$bin/amqpclt" --incoming-queue "path=$work/spool" --remove --reliable --window 1000 \
      "${oconn[@]}" --statistics > "$work/out"
    r=$(stats_rate < "$work/out")
    if [ "$(best "$am_send" "$r")" != "$am_send" ]; then am_send=$r cores_send=$cores agent_send=$agent; fi
    timed "$(broker_pid "$b")" "$bin/amqpclt" "${iconn[@]}" --subscribe "destination=$dest" --reliable --prefetch 1000 \
      --count "$n" --outgoing-queue "path=$work/inbox" --statistics > "$work/out"
    r=$(stats_rate < "$work/out")
    if [ "$(best "$am_recv" "$r")" != "$am_recv" ]; then am_recv=$r cores_recv=$cores agent_recv=$agent; fi
    rm -rf "$work/inbox" "$work/spool"
  done
  # --batch 100 (a multiple ack per 100 deliveries over 0-9-1, an Accepted disposition per
  # range of 100 over AMQP 1.0), against the raw client's ack each
  cp -a "$work/spool.py" "$work/spool.b"
  "$bin/amqpclt" --incoming-queue "path=$work/spool.b" --remove --reliable --window 1000 \
    "${oconn[@]}" > /dev/null
  timed "$(broker_pid "$b")" "$bin/amqpclt" "${iconn[@]}" --subscribe "destination=$dest" --reliable --prefetch 1000 \
    --batch 100 --count "$n" --outgoing-queue "path=$work/inbox" --statistics > "$work/out"
  am_recv_b=$(stats_rate < "$work/out") cores_recv_b=$cores agent_recv_b=$agent
  rm -rf "$work/inbox" "$work/spool.b"
  if [ "$module" = pika ]; then
    pytimed() { local t0 t1; t0=$(date +%s.%N); "$@" > /dev/null; t1=$(date +%s.%N)
      awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f\n", n / (b - a) }'; }
    pyurl="amqp://$user:$pass@127.0.0.1:$port/%2F"
    py_send=$(pytimed .venv/bin/python tests/python/pika_peer.py send "$pyurl" "$queue" "$work/spool.py")
    py_recv=$(pytimed .venv/bin/python tests/python/pika_peer.py recv "$pyurl" "$queue" "$n" "$work/inbox")
  else
    py_send=$(py bench/amqp_peer.py send "$url" "$dest" "$work/spool.py" 1000 | rate)
    py_recv=$(py bench/amqp_peer.py recv "$url" "$dest" "$n" "$work/inbox" 1000 | rate)
  fi
  rm -rf "$work/inbox" "$work/spool" "$work/spool.py"
  for dir in send recv; do
    eval "r=\$raw_$dir sp=\$sp_$dir s=\$am_$dir p=\$py_$dir c=\$cores_$dir a=\$agent_$dir"
    label="queue→broker" short="q→broker"
    [ "$dir" = recv ] && label="broker→queue" short="broker→q"
    awk -v b="$b" -v l="$label" -v r="$r" -v sp="$sp" -v s="$s" -v p="$p" -v c="$c" -v a="$a" 'BEGIN {
      printf "%-11s %-14s %10.0f %10.0f %10.0f %10.0f %7.0f%% %6.2fx %8.2f %7.2f %5.2f\n", b, l, r, sp, s, p, 100 * s / r, s / sp, s / p, c, a }'
    if [ "$module" = pika ]; then
      eval "r=\$rawm_$dir"
      awk -v b="$b" -v l="$short =msg" -v r="$r" -v sp="$sp" -v s="$s" -v c="$c" -v a="$a" 'BEGIN {
        printf "%-11s %-14s %10.0f %10.0f %10.0f %10s %7.0f%% %6.2fx %8s %7.2f %5.2f  (raw client sending amqpclt'"'"'s messages)\n", b, l, r, sp, s, "-", 100 * s / r, s / sp, "-", c, a }'
    fi
  done
  awk -v b="$b" -v r="$raw_recv" -v sp="$sp_recv" -v s="$am_recv_b" -v c="$cores_recv_b" -v a="$agent_recv_b" 'BEGIN {
    printf "%-11s %-14s %10.0f %10.0f %10.0f %10s %7.2fx %6.2fx %8s %7.2f %5.2f  (--batch 100 vs the naive raw client)\n", b, "broker→q b100", r, sp, s, "-", s / r, s / sp, "-", c, a }' 
done
