#!/usr/bin/env bash
# Adapted from the toolkit's shared broker scripts; carried here so that tests run anywhere.
# Stop the emulator started by start-pubsub-emulator.sh, by pidfile (the java process; its
# process group is signalled too).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
DATA=${PUBSUB_DATA:-/tmp/msgtk-brokers/pubsub}
PIDFILE=$DATA/emulator.pid
if pid_alive "$PIDFILE"; then
    pid=$(cat "$PIDFILE")
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
    echo "pubsub-emulator: stopped (pid $pid)"
else
    echo "pubsub-emulator: not running"
fi
rm -f "$PIDFILE"
exit 0
