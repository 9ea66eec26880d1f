# Sourced by the agent benchmarks: the messages they move, and the best of their rounds.
# messages DIR DEST [persistent]: a DQS spool of $n 1 KiB text messages for DEST ($bin/dirq)
messages() {
  local extra=()
  [ "${3:-}" = persistent ] && extra=(--header persistent=true)
  "$bin/dirq" generate -p "$1" -t dqs -c "$n" --text 1 --body-length 1024 --body-entropy 2 \
    --header "destination=$2" "${extra[@]}" > /dev/null
}
# best A B: the higher of two rates (a machine's noise only ever slows a round down)
best() { awk -v a="$1" -v b="$2" 'BEGIN { print (b + 0 > a + 0) ? b : a }'; }
