#!/usr/bin/env bash
# Benchmark: amsclt against a raw client on the same HTTP crate (crates/amsclt/examples/
# ams_raw.rs: publishes in requests of 1000, pulls 100 at a time and acknowledges each
# answer; no spool), the same client doing a spool's minimal work besides (raw+sp: from and
# into DQS spools, amsclt's mapping: the ceiling of an agent with a spool) and against
# python's own http.client doing the same, in one run, on
# Google's Pub/Sub emulator: queue → topic and subscription → queue of N 1 KiB messages
# (amsclt --reliable, the spool on tmpfs).
# Usage: bench/amsclt.sh [-n N] [-r ROUNDS]
# With -r, raw+sp and amsclt run ROUNDS times in turn and each keeps its best round: the
# machine's noise only ever slows a run down, and the two compared see the same moments.
# Starts the emulator with tests/brokers/ if none listens on 8085 (and stops it). Prints msg/s
# and the ratios amsclt/raw, amsclt/raw+sp and amsclt/python.
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
cargo build -q --release -p amsclt -p dirq-cli --examples --bins
bin=target/release
export PUBSUB_DATA=${PUBSUB_DATA:-/tmp/msgtk-brokers/pubsub} PUBSUB_PORT=8085
addr=127.0.0.1:8085
project=bench
started=0
work=$(mktemp -d /dev/shm/amsclt-bench.XXXXXX)
cleanup() {
  rm -rf "$work"
  [ "$started" = 1 ] && tests/brokers/stop-pubsub-emulator.sh > /dev/null 2>&1 || true
}
trap cleanup EXIT
if ! (exec 3<>"/dev/tcp/127.0.0.1/8085") 2> /dev/null; then
  tests/brokers/start-pubsub-emulator.sh > /dev/null
  started=1
fi
# a topic and a subscription per client
make() {
  curl -sf -X PUT -H 'Content-Type: application/json' -d '{}' \
    "http://$addr/v1/projects/$project/topics/$1" > /dev/null
  curl -sf -X PUT -H 'Content-Type: application/json' \
    -d "{\"topic\":\"projects/$project/topics/$1\",\"ackDeadlineSeconds\":60}" \
    "http://$addr/v1/projects/$project/subscriptions/$1" > /dev/null
}
t=b$$
for c in raw sp am py warm; do make "$t-$c"; done
rate() { sed -n 's/.*"rate": *\([0-9.]*\).*/\1/p'; }
stats_rate() { awk '/^processed/ { gsub(/[()]/, ""); print $(NF-2) * 1000 }'; }
. bench/rounds.sh
py() { # publish|pull NAME: python's http.client, one keep-alive connection
  python3 - "$1" "$addr" "$project" "$2" "$n" << 'PY'
import base64, http.client, json, sys, time
mode, addr, project, name, n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
c = http.client.HTTPConnection(addr)
h = {"Content-Type": "application/json"}
def post(path, body):
    c.request("POST", f"/v1/projects/{project}/{path}", json.dumps(body), h)
    r = c.getresponse(); data = r.read(); assert r.status == 200, data
    return json.loads(data or b"{}")
start, done = time.time(), 0
one = {"data": base64.b64encode(b"x" * 1024).decode()}
while done < n:
    if mode == "publish":
        k = min(1000, n - done); post(f"topics/{name}:publish", {"messages": [one] * k}); done += k
    else:
        got = post(f"subscriptions/{name}:pull", {"maxMessages": 100, "returnImmediately": True}).get("receivedMessages", [])
        if got:
            post(f"subscriptions/{name}:acknowledge", {"ackIds": [m["ackId"] for m in got]}); done += len(got)
s = time.time() - start
print(json.dumps({"messages": n, "seconds": round(s, 3), "rate": round(n / s)}))
PY
}
# the emulator is a JVM: warmed up first, so that the first client measured is not the one
# that pays for its compiler
"$bin/examples/ams_raw" publish "$addr" "$project" "$t-warm" "$n" 1024 1000 > /dev/null
"$bin/examples/ams_raw" pull "$addr" "$project" "$t-warm" "$n" > /dev/null
printf '# amsclt benchmark: %d 1 KiB messages per run, reliable, spool on tmpfs, Pub/Sub emulator\n' "$n"
printf '%-20s %10s %10s %10s %10s %8s %7s %8s\n' direction raw raw+sp amsclt python "am/raw" "am/sp" "am/py"
raw_send=$("$bin/examples/ams_raw" publish "$addr" "$project" "$t-raw" "$n" 1024 1000 | rate)
py_send=$(py publish "$t-py" | rate)
raw_recv=$("$bin/examples/ams_raw" pull "$addr" "$project" "$t-raw" "$n" | rate)
py_recv=$(py pull "$t-py" | rate)
# raw+sp and amsclt, each way, in turn for each round; each keeps its best
sp_send=0 sp_recv=0 am_send=0 am_recv=0
for round in $(seq "$rounds"); do
  messages "$work/spool" "$t-am"
  messages "$work/rawspool" "$t-sp"
  r=$("$bin/examples/ams_raw" publish "$addr" "$project" "$t-sp" "$n" 1024 1000 "spool=$work/rawspool" | rate)
  sp_send=$(best "$sp_send" "$r")
  r=$("$bin/amsclt" --incoming-queue "path=$work/spool" --remove --reliable --window 2000 \
    --outgoing-broker-uri "http://$addr/v1/projects/$project" --statistics | stats_rate)
  am_send=$(best "$am_send" "$r")
  r=$("$bin/examples/ams_raw" pull "$addr" "$project" "$t-sp" "$n" "spool=$work/rawin" | rate)
  sp_recv=$(best "$sp_recv" "$r")
  r=$("$bin/amsclt" --incoming-broker-uri "http://$addr/v1/projects/$project" --reliable \
    --subscribe "destination=$t-am" --outgoing-queue "path=$work/in" --count "$n" --statistics | stats_rate)
  am_recv=$(best "$am_recv" "$r")
  rm -rf "$work/spool" "$work/rawspool" "$work/rawin" "$work/in"
done
row() {
  awk -v d="$1" -v r="$2" -v sp="$3" -v a="$4" -v p="$5" \
    'BEGIN { printf "%-20s %10.0f %10.0f %10.0f %10.0f %8.2f %6.2fx %8.2f\n", d, r, sp, a, p, a / r, a / sp, a / p }'
}
row "queue -> topic" "$raw_send" "$sp_send" "$am_send" "$py_send"
row "subscription -> queue" "$raw_recv" "$sp_recv" "$am_recv" "$py_recv"
