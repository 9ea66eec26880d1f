#!/usr/bin/env bash
# The main job, in one command: messages travel producer → directory queue → stompclt →
# RabbitMQ → stompclt → directory queue → consumer, with at-least-once delivery, and every
# message is checked at the end. Both agents run under simplevisor, which restarts the
# receiver at once when the demo kills it with SIGKILL half-way. Installs and starts RabbitMQ on
# loopback if needed (Debian, root) and stops it afterwards if it started it.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --release -p dirq-cli -p stompclt -p simplevisor
bin=$PWD/target/release
work=$(mktemp -d "${TMPDIR:-/tmp}/msgtk-demo.XXXXXX")
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

say "simplevisor starts the two agents (foreground services it owns and restarts at once)"
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
    var_auth = plain%20name=guest%20pass=guest
    <children>
        <entry>
            type       = service
            name       = sender
            foreground = yes
            output     = $work/sender.log
            start      = \${var_bin}/stompclt --incoming-queue path=$work/outbox --loop --remove --reliable --window 500 --outgoing-broker-uri stomp://127.0.0.1:61613 --outgoing-broker-auth \${var_auth} --outgoing-broker-connect host=/
        </entry>
        <entry>
            type       = service
            name       = receiver
            foreground = yes
            output     = $work/receiver.log
            start      = \${var_bin}/stompclt --incoming-broker-uri stomp://127.0.0.1:61613 --incoming-broker-auth \${var_auth} --incoming-broker-connect host=/ --subscribe destination=$dest --reliable --outgoing-queue path=$work/inbox%20type=DQN
        </entry>
    </children>
</entry>
CONF
"$bin/simplevisor" --conf "$work/sv.conf" check_configuration
"$bin/simplevisor" --conf "$work/sv.conf" --daemon start
"$bin/simplevisor" --conf "$work/sv.conf" check

say "three producers spool 1000 messages each into the outbox (DQS), at the same time"
for p in 1 2 3; do
  seq 1000 | awk -v p="$p" -v d="$dest" \
    '{ printf "{\"header\":{\"destination\":\"%s\",\"producer\":\"%s\"},\"body\":\"producer %s message %s\",\"text\":true}\n", d, p, p, $1 }' |
    "$bin/dirq" add --path "$work/outbox" --type dqs --lines --quiet &
done
wait

inbox() { "$bin/dirq" count --path "$work/inbox" --type dqn 2> /dev/null || echo 0; }
receiver_pid() { "$bin/simplevisor" --conf "$work/sv.conf" status --json | grep -o '"name":"receiver","pid":[0-9]*' | grep -o '[0-9]*$'; }
say "while the agents move them: SIGKILL to the receiver half-way"
for _ in $(seq 600); do [ "$(inbox)" -ge 1000 ] && break; sleep 0.05; done
old=$(receiver_pid)
kill -9 "$old"
for _ in $(seq 100); do new=$(receiver_pid || true); [ -n "$new" ] && [ "$new" != "$old" ] && break; sleep 0.01; done
echo "receiver pid $old killed at $(inbox) messages; simplevisor restarted it as pid $new"
echo "(what it had received and not yet acknowledged, RabbitMQ delivers again)"
grep -E 'exited|restarted' "$work/sv.log" | tail -2

say "waiting for the inbox to hold every message"
outbox() { "$bin/dirq" count --path "$work/outbox" 2> /dev/null || echo 0; }
for _ in $(seq 1200); do [ "$(outbox)" = 0 ] && [ "$(inbox)" -ge 3000 ] && break; sleep 0.1; done
sleep 1
echo "outbox: $("$bin/dirq" count --path "$work/outbox"), inbox: $(inbox)"
"$bin/simplevisor" --conf "$work/sv.conf" stop


say "a consumer pops the inbox"
"$bin/dirq" pop --path "$work/inbox" --type dqn --count 0 > "$work/received"
head -2 "$work/received" | cut -c1-160
got=$(grep -c '"body":"producer' "$work/received" || true)
distinct=$(grep -o '"body":"producer [0-9]* message [0-9]*"' "$work/received" | sort -u | wc -l)
echo "received $got messages, $distinct distinct, inbox left: $("$bin/dirq" count --path "$work/inbox" --type dqn)"
if [ "$distinct" != 3000 ]; then
  echo "demo FAILED: messages were lost" >&2
  exit 1
fi
echo
echo "demo done: 3000 messages went through RabbitMQ under simplevisor, none lost, $((got - distinct)) duplicates (at-least-once: the SIGKILL may cost a few)"
