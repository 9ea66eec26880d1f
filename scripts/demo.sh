#!/usr/bin/env bash
# The main job, in one command. For now a short dirq demo: producers spool messages into a
# directory queue, a consumer drains it, purge tidies up; a Normal queue carries structured
# elements as JSON. (Later: the full broker demo under simplevisor.)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --release -p dirq-cli
dirq=$PWD/target/release/dirq
work=$(mktemp -d "${TMPDIR:-/tmp}/dirq-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
q=$work/spool
say() { printf '\n>>> %s\n' "$*"; }

say "three producers add 1000 messages each, at the same time"
for p in 1 2 3; do
  seq 1000 | sed "s/^/producer $p message /" | "$dirq" add --path "$q" --lines --quiet &
done
wait
echo "queue holds $("$dirq" count --path "$q") elements"
echo "first three: $("$dirq" list --path "$q" | head -3 | tr '\n' ' ')"

say "a consumer locks one element, another consumer cannot have it"
first=$("$dirq" list --path "$q" | head -1)
"$dirq" lock --path "$q" "$first"
"$dirq" lock --path "$q" "$first" 2>&1 || echo "second lock refused with exit status $? (locked)"
"$dirq" unlock --path "$q" "$first"

say "two consumers drain the queue concurrently"
"$dirq" pop --path "$q" --count 0 --lines > "$work/a" &
"$dirq" pop --path "$q" --count 0 --lines > "$work/b" &
wait || true
distinct=$(sort "$work/a" "$work/b" | uniq | wc -l)
total=$(cat "$work/a" "$work/b" | wc -l)
left=$("$dirq" count --path "$q")
echo "consumer A got $(wc -l < "$work/a"), consumer B got $(wc -l < "$work/b"): $distinct distinct of 3000; left: $left"
if [ "$distinct" != 3000 ] || [ "$total" != 3000 ] || [ "$left" != 0 ]; then
  echo "demo FAILED: messages were lost or consumed twice" >&2
  exit 1
fi
"$dirq" pop --path "$q" || echo "pop on the empty queue: exit status $? (queue empty)"
"$dirq" purge --path "$q"

say "a Normal queue with a schema: structured elements in, JSON out"
n=$work/normal
s=(--type normal --schema 'body=binary,header=table?')
printf '%s\n' '{"body":"aGVsbG8=","header":{"destination":"/queue/demo","priority":"4"}}' \
  '{"body":"AP8="}' | "$dirq" add --path "$n" "${s[@]}" --lines
"$dirq" pop --path "$n" "${s[@]}" --count 0
echo
echo "demo done: every message produced was consumed exactly once"
