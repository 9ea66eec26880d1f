#!/usr/bin/env bash
# The main job, in one command: messages travel producer → directory queue → stompclt →
# RabbitMQ → stompclt → directory queue → consumer, with at-least-once delivery, and every
# message is checked at the end. Installs and starts RabbitMQ on loopback if needed (Debian,
# root) and stops it afterwards if it started it. (Later issues put the agents under
# simplevisor.)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --release -p dirq-cli -p stompclt
bin=$PWD/target/release
work=$(mktemp -d "${TMPDIR:-/tmp}/msgtk-demo.XXXXXX")
export RMQ_DATA=${RMQ_DATA:-/tmp/msgtk-brokers/rabbitmq}
started=0
cleanup() {
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
broker=(--outgoing-broker-uri stomp://127.0.0.1:61613 --outgoing-broker-auth "plain name=guest pass=guest" --outgoing-broker-connect host=/)
from_broker=(--incoming-broker-uri stomp://127.0.0.1:61613 --incoming-broker-auth "plain name=guest pass=guest" --incoming-broker-connect host=/)
dest=/queue/msgtk.demo.$$

say "three producers spool 1000 messages each into a directory queue (DQS), at the same time"
for p in 1 2 3; do
  seq 1000 | awk -v p="$p" -v d="$dest" \
    '{ printf "{\"header\":{\"destination\":\"%s\",\"producer\":\"%s\"},\"body\":\"producer %s message %s\",\"text\":true}\n", d, p, p, $1 }' |
    "$bin/dirq" add --path "$work/outbox" --type dqs --lines --quiet &
done
wait
echo "outbox holds $("$bin/dirq" count --path "$work/outbox") messages"

say "stompclt sends the outbox to RabbitMQ (reliable: an element is removed only once the broker's receipt arrived)"
"$bin/stompclt" --incoming-queue "path=$work/outbox" --remove --reliable --window 500 "${broker[@]}" --statistics
echo "outbox now holds $("$bin/dirq" count --path "$work/outbox")"

say "stompclt drains RabbitMQ into an inbox (DQN), acknowledging each message once it is on disk"
"$bin/stompclt" "${from_broker[@]}" --subscribe "destination=$dest" --reliable \
  --outgoing-queue "path=$work/inbox type=DQN" --count 3000 --timeout-inactivity 10 --statistics

say "a consumer pops the inbox"
"$bin/dirq" pop --path "$work/inbox" --type dqn --count 0 > "$work/received"
head -2 "$work/received" | cut -c1-160
got=$(grep -c '"body":"producer' "$work/received" || true)
distinct=$(grep -o '"body":"producer [0-9]* message [0-9]*"' "$work/received" | sort -u | wc -l)
echo "received $got messages, $distinct distinct, inbox left: $("$bin/dirq" count --path "$work/inbox" --type dqn)"
if [ "$got" != 3000 ] || [ "$distinct" != 3000 ]; then
  echo "demo FAILED: messages were lost or duplicated" >&2
  exit 1
fi
echo
echo "demo done: 3000 messages went through RabbitMQ and arrived exactly once"
