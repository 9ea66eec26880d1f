#!/usr/bin/env bash
# Adapted from the toolkit's shared broker scripts; carried here so that tests run anywhere.
# Start the Google Cloud Pub/Sub emulator (REST v1 + gRPC, in memory) on 127.0.0.1:${PUBSUB_PORT:-8085},
# logs under ${PUBSUB_DATA:-/tmp/msgtk-brokers/pubsub}. It is on this machine image; elsewhere it comes
# from Google's Cloud SDK apt repository (package google-cloud-cli-pubsub-emulator) and needs Java.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
EMU=${PUBSUB_EMULATOR:-/usr/lib/google-cloud-sdk/platform/pubsub-emulator/bin/cloud-pubsub-emulator}
if [ ! -x "$EMU" ]; then
    echo "pubsub-emulator: not installed ($EMU); install google-cloud-cli-pubsub-emulator from Google's Cloud SDK apt repository" >&2
    exit 1
fi
DATA=${PUBSUB_DATA:-/tmp/msgtk-brokers/pubsub}
PORT=${PUBSUB_PORT:-8085}
PIDFILE=$DATA/emulator.pid
mkdir -p "$DATA"
if pid_alive "$PIDFILE"; then
    echo "pubsub-emulator: already running (pid $(cat "$PIDFILE"))"
    exit 0
fi
if port_busy "$PORT"; then echo "pubsub-emulator: port $PORT busy; set PUBSUB_PORT" >&2; exit 1; fi
rm -f "$PIDFILE"
start=$(date +%s.%N)
# setsid -f forks, so $! would not be the emulator: the launcher execs java, whose pid is the
# session id of the new session; take it from there
(cd "$DATA" && setsid -f sh -c 'echo $$ > "$1"; exec "$2" --host=127.0.0.1 --port="$3"' sh "$PIDFILE" "$EMU" "$PORT" >"$DATA/emulator.log" 2>&1 </dev/null)
# the port opens before the service is ready: wait for its own word (the forked launcher
# writes its pid when it gets to run: a loaded machine may take a moment)
for _ in $(seq 1 600); do
    grep -q "Server started" "$DATA/emulator.log" 2>/dev/null && break
    if [ -s "$PIDFILE" ] && ! pid_alive "$PIDFILE"; then
        echo "pubsub-emulator: exited before it was ready" >&2
        tail -20 "$DATA/emulator.log" >&2
        exit 1
    fi
    sleep 0.1
done
grep -q "Server started" "$DATA/emulator.log" || { echo "pubsub-emulator: not ready after 60 s" >&2; exit 1; }
end=$(date +%s.%N)
echo "pubsub-emulator: listening on 127.0.0.1:$PORT (pid $(cat "$PIDFILE"), $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }') s); REST: http://127.0.0.1:$PORT/v1/projects/PROJECT/..."
