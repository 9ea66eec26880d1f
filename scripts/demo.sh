#!/usr/bin/env bash
# The main job, in one command, across two protocols: 100 000 generated messages travel
# spool → stompclt (STOMP) → RabbitMQ → amqpclt (AMQP 1.0) → inbox, exactly once (--dedup
# on both agents). Both agents run under simplevisor, which restarts the receiver when the
# demo kills it with SIGKILL half-way. Every message is checked at the end by the md5 of its
# body; duplicates are counted, and any fails the demo. Installs and starts RabbitMQ on loopback if needed (Debian, root)
# and stops it afterwards if it started it; leaves no process behind.
# DEMO_COUNT=N changes the number of messages; DEMO_BIN_DIR=DIR uses the binaries in DIR
# instead of building them.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${DEMO_COUNT:-100000}
# the release build the packages use too (scripts/build-packages.sh): one compilation
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target/dist}
if [ -n "${DEMO_BIN_DIR:-}" ]; then
  # binaries built already: scripts/test.sh passes those its packages were made of (rpmbuild
  # compiles them from a tarball of the checkout, which cargo would otherwise build again)
  bin=$(realpath "$DEMO_BIN_DIR")
  for b in dirq stompclt amqpclt simplevisor; do
    [ -x "$bin/$b" ] || { echo "demo: $bin/$b: no such program (DEMO_BIN_DIR)" >&2; exit 1; }
  done
else
  # the same packages as scripts/build-packages.sh (every tool of packaging/tools): the same
  # features, nothing rebuilt
  # shellcheck disable=SC2046
  cargo build --quiet --release $(. packaging/tools.sh && tool_packages)
  bin=$CARGO_TARGET_DIR/release
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/msgtk-demo.XXXXXX")
# the broker's password in a file only its owner reads: never on a command line
(umask 077 && echo guest > "$work/guest.pass")
export RMQ_DATA=${RMQ_DATA:-/tmp/msgtk-brokers/rabbitmq}
started=0
cleanup() {
  [ -s "$work/sv.pid" ] && "$bin/simplevisor" --conf "$work/sv.conf" stop > /dev/null 2>&1 || true
  [ "$started" = 1 ] && tests/brokers/stop-rabbitmq.sh > /dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
say() { printf '\n>>> %s\n' "$*"; }

say "RabbitMQ on 127.0.0.1:61613"
if ! (exec 3<>/dev/tcp/127.0.0.1/61613) 2> /dev/null; then
  tests/brokers/start-rabbitmq.sh | grep -E 'started|STOMP'
  started=1
else
  echo "already listening"
fi
dest=/queue/msgtk.demo.$$

say "$n generated messages (1 KiB text bodies) spooled for the sender"
"$bin/dirq" generate --path "$work/outbox" --type dqs --count "$n" --text 1 --body-length 1024 \
  --body-entropy 2 --header "destination=$dest" --header persistent=true
# what must arrive: the md5 of every body
md5s() { python3 -c '
import hashlib, json, sys
for line in sys.stdin:
    line = line.strip()
    if line:
        print(hashlib.md5(json.loads(line)["body"].encode()).hexdigest())
'; }
# the spool's elements, a line each, read in place (a DQS element is one file of JSON in an
# intermediate directory; .tmp and .lck are not): one process, not a cat per file
spooled() { python3 -c '
import os, sys
top = sys.argv[1]
for d in os.listdir(top):
    if os.path.isdir(os.path.join(top, d)):
        for f in os.listdir(os.path.join(top, d)):
            if not f.endswith((".tmp", ".lck")):
                with open(os.path.join(top, d, f)) as fh:
                    print(fh.read())
' "$1"; }
spooled "$work/outbox" | md5s | sort > "$work/sent.md5"
echo "$(wc -l < "$work/sent.md5") messages, $(sort -u "$work/sent.md5" | wc -l) distinct bodies"

say "simplevisor starts the two agents: stompclt sends over STOMP, amqpclt receives over AMQP 1.0"
cat > "$work/sv.conf" <<CONF
<simplevisor>
    pidfile  = $work/sv.pid
    store    = $work/sv.store
    interval = 10
    log      = file
    logfile  = $work/sv.log
    loglevel = info
</simplevisor>
<entry>
    type     = supervisor
    name     = agents
    var_bin  = $bin
    var_auth = plain%20name=guest%20pass-file=$work/guest.pass
    <children>
        <entry>
            type       = service
            name       = sender
            foreground = yes
            output     = $work/sender.log
            start      = \${var_bin}/stompclt --incoming-queue path=$work/outbox --loop --remove --reliable --window 1000 --outgoing-broker-uri stomp://127.0.0.1:61613 --outgoing-broker-auth \${var_auth} --outgoing-broker-connect host=/ --dedup --dedup-state $work/sender-dedup
        </entry>
        <entry>
            type       = service
            name       = receiver
            foreground = yes
            output     = $work/receiver.log
            start      = \${var_bin}/amqpclt --incoming-broker-module amqp1 --incoming-broker-uri amqp://127.0.0.1:5672 --incoming-broker-auth \${var_auth} --subscribe destination=$dest --reliable --prefetch 1000 --dedup --outgoing-queue path=$work/inbox%20type=DQN
        </entry>
    </children>
</entry>
CONF
"$bin/simplevisor" --conf "$work/sv.conf" check_configuration
t0=$(date +%s.%N)
"$bin/simplevisor" --conf "$work/sv.conf" --daemon start
"$bin/simplevisor" --conf "$work/sv.conf" check

inbox() { "$bin/dirq" count --path "$work/inbox" --type dqn 2> /dev/null || echo 0; }
outbox() { "$bin/dirq" count --path "$work/outbox" 2> /dev/null || echo 0; }
receiver_pid() { "$bin/simplevisor" --conf "$work/sv.conf" status --json | grep -o '"name":"receiver","pid":[0-9]*' | grep -o '[0-9]*$'; }
# one progress line, rewritten in place on a terminal (a line every 5 s otherwise)
tick=0
progress() {
  tick=$((tick + 1))
  local line
  line=$(printf '  outbox %7d   inbox %7d / %d   %4.0fs' "$(outbox)" "$(inbox)" "$n" \
    "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')")
  if [ -t 1 ]; then printf '\r%s' "$line"; elif [ $((tick % 5)) = 1 ]; then echo "$line"; fi
}
say "while the agents move them: SIGKILL to the receiver half-way"
for _ in $(seq 600); do
  progress
  [ "$(inbox)" -ge $((n / 2)) ] && break
  sleep 1
done
old=$(receiver_pid)
kill -9 "$old"
for _ in $(seq 100); do new=$(receiver_pid || true); [ -n "$new" ] && [ "$new" != "$old" ] && break; sleep 0.01; done
echo
echo "receiver (amqpclt) pid $old killed at $(inbox) messages; simplevisor restarted it as pid $new"
echo "(what it had received and not yet accepted, RabbitMQ delivers again: --dedup drops what it had written)"
grep -E 'exited|restarted' "$work/sv.log" | tail -2

say "waiting for the inbox to hold every message"
for _ in $(seq 600); do
  progress
  [ "$(outbox)" = 0 ] && [ "$(inbox)" -ge "$n" ] && break
  sleep 1
done
t1=$(date +%s.%N)
sleep 1
echo
"$bin/simplevisor" --conf "$work/sv.conf" stop
left=$(pgrep -f "$bin/(stompclt|amqpclt|simplevisor)" || true)
[ -z "$left" ] || { echo "demo FAILED: processes left behind: $left" >&2; exit 1; }

say "a consumer pops the inbox and checks every body's md5"
"$bin/dirq" pop --path "$work/inbox" --type dqn --count 0 --lines | md5s | sort > "$work/received.md5"
got=$(wc -l < "$work/received.md5")
lost=$(comm -23 <(sort -u "$work/sent.md5") <(sort -u "$work/received.md5") | wc -l)
extra=$(comm -13 <(sort -u "$work/sent.md5") <(sort -u "$work/received.md5") | wc -l)
distinct=$(sort -u "$work/received.md5" | wc -l)
rate=$(awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
echo "received $got messages, $distinct distinct, $lost lost, $extra unknown; inbox left: $(inbox)"
echo "throughput: $rate msg/s end to end ($n messages in $secs s, both agents and the broker on this machine)"
dups=$((got - distinct))
if [ "$lost" != 0 ] || [ "$extra" != 0 ] || [ "$dups" != 0 ]; then
  echo "demo FAILED: $lost messages lost, $extra unknown ones, $dups duplicates" >&2
  exit 1
fi
echo
echo "demo done: $n messages, STOMP in and AMQP 1.0 out of RabbitMQ under simplevisor, receiver SIGKILLed and restarted, none lost, $dups duplicates, $rate msg/s"
