#!/usr/bin/env bash
# Benchmark: does scraping slow a transfer? stompclt sends N persistent 1 KiB messages from a
# tmpfs queue to RabbitMQ (STOMP, reliable), alternately without metrics and with
# --metrics-listen scraped ten times a second (Prometheus scrapes every 15 s by default: this
# is 150 times harsher) and --metrics-file rewritten every second. Prints msg/s of each run
# and the ratio of the medians (1.00: no cost).
# Usage: bench/metrics.sh [-n N] [-r ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
n=100000 rounds=3
while [ $# -gt 0 ]; do
  case "$1" in
    -n) n=$2; shift 2 ;;
    -r) rounds=$2; shift 2 ;;
    *) echo "usage: $0 [-n N] [-r ROUNDS]" >&2; exit 2 ;;
  esac
done
cargo build -q --release -p stompclt -p dirq-cli
bin=target/release
export RMQ_DATA=${RMQ_DATA:-/tmp/msgtk-brokers/rabbitmq}
started=0
work=$(mktemp -d /dev/shm/metrics-bench.XXXXXX)
scraper=
cleanup() {
  [ -n "$scraper" ] && kill "$scraper" 2> /dev/null || true
  rm -rf "$work"
  [ "$started" = 1 ] && tests/brokers/stop-rabbitmq.sh > /dev/null 2>&1 || true
}
trap cleanup EXIT
if ! (exec 3<> /dev/tcp/127.0.0.1/61613) 2> /dev/null; then
  tests/brokers/start-rabbitmq.sh > /dev/null
  started=1
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
conn=(--outgoing-broker-uri stomp://127.0.0.1:61613 --outgoing-broker-auth "plain name=guest pass=guest"
  --outgoing-broker-connect host=/)
drain=(--incoming-broker-uri stomp://127.0.0.1:61613 --incoming-broker-auth "plain name=guest pass=guest"
  --incoming-broker-connect host=/ --outgoing-queue type=NULL --timeout-inactivity 2)
stats_rate() { awk '/^processed/ { gsub(/[()]/, ""); print $(NF-2) * 1000 }'; }
run() { # $1: plain|scraped
  local dest=/queue/bench.metrics.$$.$RANDOM extra=()
  "$bin/dirq" generate -p "$work/spool" -t dqs -c "$n" --text 1 --body-length 1024 --body-entropy 2 \
    --header "destination=$dest" --header persistent=true
  if [ "$1" = scraped ]; then
    extra=(--metrics-listen "$port" --metrics-file "$work/m.prom" --metrics-interval 1)
    (while :; do curl -s -o /dev/null "http://127.0.0.1:$port/metrics" || true; sleep 0.1; done) &
    scraper=$!
  fi
  "$bin/stompclt" --incoming-queue "path=$work/spool" --remove --reliable -s "${conn[@]}" "${extra[@]}" | stats_rate
  if [ -n "$scraper" ]; then kill "$scraper"; wait "$scraper" 2> /dev/null || true; scraper=; fi
  # empty the broker's queue, not timed
  "$bin/stompclt" "${drain[@]}" --subscribe "destination=$dest" > /dev/null
  rm -rf "$work/spool"
}
printf '# metrics benchmark: %d persistent 1 KiB messages per run, stompclt queue -> RabbitMQ (STOMP)\n' "$n"
plain=() scraped=()
for r in $(seq "$rounds"); do
  p=$(run plain) s=$(run scraped)
  printf 'round %d: without metrics %8.0f msg/s, scraped 10/s %8.0f msg/s\n' "$r" "$p" "$s"
  plain+=("$p") scraped+=("$s")
done
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
mp=$(median "${plain[@]}") ms=$(median "${scraped[@]}")
awk -v p="$mp" -v s="$ms" 'BEGIN { printf "median: without %.0f, scraped %.0f msg/s: ratio scraped/plain %.2f\n", p, s, s / p }'
