#!/usr/bin/env bash
# Benchmark: stompclt against a minimal raw STOMP client (the broker's ceiling), the same
# client doing a spool's minimal work besides (raw+sp: the ceiling of an agent with a spool)
# and a Python peer (stomp.py + python messaging), in one run, on RabbitMQ and ActiveMQ:
# queue → broker and broker → queue of N persistent 1 KiB messages in reliable mode, the
# queue on tmpfs.
# Usage: bench/stompclt.sh [-n N] [-b "rabbitmq activemq"] [-r ROUNDS]
# With -r, raw+sp and stompclt run ROUNDS times in turn and each keeps its best round: the
# machine's noise only ever slows a run down, and the two compared see the same moments.
# Starts the brokers with tests/brokers/ (and stops those it started). Prints msg/s and the
# ratios stompclt/raw, stompclt/raw+sp and stompclt/python, without and with --batch 100, stompclt --batch 100
# against the naive raw client (a receipt or ACK per message), and the broker's busy cores
# during the stompclt run (its CPU is the ceiling where batching cannot pay).
set -euo pipefail
cd "$(dirname "$0")/.."
n=100000 which="rabbitmq activemq" rounds=1
while [ $# -gt 0 ]; do
  case "$1" in
    -n) n=$2; shift 2 ;;
    -b) which=$2; shift 2 ;;
    -r) rounds=$2; shift 2 ;;
    *) echo "usage: $0 [-n N] [-b BROKERS] [-r ROUNDS]" >&2; exit 2 ;;
  esac
done
scripts/setup-python.sh >&2
py=.venv/bin/python
cargo build -q --release -p stompclt -p dirq-cli --examples --bins
bin=target/release
export RMQ_DATA=${RMQ_DATA:-/tmp/msgtk-brokers/rabbitmq} AMQ_DATA=${AMQ_DATA:-/tmp/msgtk-brokers/activemq}
started=()
work=$(mktemp -d /dev/shm/stompclt-bench.XXXXXX)
cleanup() {
  rm -rf "$work" "${cpu_file:-}" "${cpu_file:-}.a"
  for b in "${started[@]}"; do "tests/brokers/stop-$b.sh" > /dev/null 2>&1 || true; done
}
trap cleanup EXIT
. bench/cores.sh
. bench/rounds.sh
broker_pid() { case $1 in rabbitmq) cat "$RMQ_DATA/beam.pid" ;; activemq) cat "$AMQ_DATA/activemq.pid" ;; esac; }
rate() { sed -n 's/.*"rate": *\([0-9.]*\).*/\1/p'; }
stats_rate() { awk '/^processed/ { gsub(/[()]/, ""); print $(NF-2) * 1000 }'; }
printf '# stompclt benchmark: %d persistent 1 KiB messages per run, queues on tmpfs\n' "$n"
printf '%-9s %-18s %10s %10s %10s %10s %8s %7s %8s %9s %5s %5s\n' broker direction raw raw+sp stompclt python "st/raw" "st/sp" "st/py" "st/naive" "broker" agent
for b in $which; do
  case $b in
    rabbitmq) port=61613 vhost=/ ;;
    activemq) port=61614 vhost=localhost ;;
    *) echo "unknown broker $b" >&2; exit 2 ;;
  esac
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2> /dev/null; then
    "tests/brokers/start-$b.sh" > /dev/null
    started+=("$b")
  fi
  conn=(--outgoing-broker-uri "stomp://127.0.0.1:$port" --outgoing-broker-auth "plain name=guest pass=guest" --outgoing-broker-connect "host=$vhost")
  iconn=(--incoming-broker-uri "stomp://127.0.0.1:$port" --incoming-broker-auth "plain name=guest pass=guest" --incoming-broker-connect "host=$vhost")
  for batch in 1 100; do
    dest=/queue/bench.$$.$b.$batch
    messages "$work/spool" "$dest" persistent
    # raw ceiling, both directions (its own destination)
    raw_send=$("$bin/examples/raw" send "127.0.0.1:$port" "$vhost" "$dest.raw" "$n" 1024 1000 "$batch" | rate)
    raw_recv=$("$bin/examples/raw" recv "127.0.0.1:$port" "$vhost" "$dest.raw" "$n" 1000 "$batch" | rate)
    cp -a "$work/spool" "$work/spool.py"
    sp_send=0 sp_recv=0 st_send=0 st_recv=0
    for round in $(seq "$rounds"); do
      if [ "$round" -gt 1 ]; then
        messages "$work/spool" "$dest" persistent
      fi
      # the raw client with the spool's minimal work: from a spool of its own, into another
      messages "$work/rawspool" "$dest.sp" persistent
      r=$("$bin/examples/raw" send "127.0.0.1:$port" "$vhost" "$dest.sp" "$n" 1024 1000 "$batch" "spool=$work/rawspool" | rate)
      sp_send=$(best "$sp_send" "$r")
      r=$("$bin/examples/raw" recv "127.0.0.1:$port" "$vhost" "$dest.sp" "$n" 1000 "$batch" "spool=$work/rawinbox" | rate)
      sp_recv=$(best "$sp_recv" "$r")
      rm -rf "$work/rawspool" "$work/rawinbox"
      # stompclt
      timed "$(broker_pid "$b")" "$bin/stompclt" --incoming-queue "path=$work/spool" --remove --reliable --window 1000 \
        --batch "$batch" "${conn[@]}" --statistics > "$work/out"
      r=$(stats_rate < "$work/out")
      if [ "$(best "$st_send" "$r")" != "$st_send" ]; then st_send=$r cores_send=$cores agent_send=$agent; fi
      timed "$(broker_pid "$b")" "$bin/stompclt" "${iconn[@]}" --subscribe "destination=$dest" --reliable --prefetch 1000 \
        --batch "$batch" --count "$n" --outgoing-queue "path=$work/inbox" --statistics > "$work/out"
      r=$(stats_rate < "$work/out")
      if [ "$(best "$st_recv" "$r")" != "$st_recv" ]; then st_recv=$r cores_recv=$cores agent_recv=$agent; fi
      rm -rf "$work/inbox"
    done
    if [ "$batch" = 1 ]; then
      py_send=$("$py" bench/stomp_peer.py send 127.0.0.1 "$port" "$vhost" "$work/spool.py" 1000 | rate)
      py_recv=$("$py" bench/stomp_peer.py recv 127.0.0.1 "$port" "$vhost" "$dest" "$n" "$work/inbox" 1000 | rate)
      rm -rf "$work/inbox"
    else
      py_send=- py_recv=-
    fi
    rm -rf "$work/spool" "$work/spool.py"
    for dir in send recv; do
      eval "r=\$raw_$dir sp=\$sp_$dir s=\$st_$dir p=\$py_$dir c=\$cores_$dir a=\$agent_$dir"
      label="queue→broker"; [ "$dir" = recv ] && label="broker→queue"
      [ "$batch" != 1 ] && label="$label b100"
      # the naive raw client: a receipt (or an ACK) per message, the batch 1 run's raw
      [ "$batch" = 1 ] && eval "naive_$dir=\$r"
      eval "nv=\$naive_$dir"
      awk -v b="$b" -v l="$label" -v r="$r" -v sp="$sp" -v s="$s" -v p="$p" -v nv="$nv" -v c="$c" -v a="$a" 'BEGIN {
        pr = (p == "-") ? "-" : sprintf("%.2f", s / p)
        ps = (p == "-") ? "-" : sprintf("%.0f", p)
        printf "%-9s %-18s %10.0f %10.0f %10.0f %10s %7.0f%% %6.2fx %8s %8.2fx %5.2f %5.2f\n", b, l, r, sp, s, ps, 100 * s / r, s / sp, pr, s / nv, c, a }'
    done
  done
done
